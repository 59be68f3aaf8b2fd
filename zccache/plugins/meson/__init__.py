"""meson adapter: a native file that puts zccache in front of meson's compilers.

meson-python builds need nothing (``zccache pip install ./pkg`` puts compiler shims
on PATH, which meson's own compiler search finds). For meson used directly::

    meson setup build --native-file "$(zccache meson-native-file)"

The file names zccache and the real compilers as command lists, the form meson's
``[binaries]`` section takes for compiler wrappers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from zccache.core.hookspecs import hookimpl


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("meson-native-file",
                                   help="write a meson native file that compiles through zccache; print its path")
    parser.add_argument("--output", "-o", help="where to write it (default: in the cache directory)")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler (default: $CC or cc)")
    parser.add_argument("--cxx", default=os.environ.get("CXX", "c++"), help="C++ compiler (default: $CXX or c++)")
    parser.set_defaults(func=_write_native_file)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _write_native_file(ns: argparse.Namespace) -> int:
    import zccache_wire
    from zccache.core.launcher import zccache_command

    zccache = zccache_command()
    lines = ["[binaries]"]
    for key, compiler in (("c", ns.cc), ("cpp", ns.cxx)):
        real = shutil.which(compiler.split()[0]) if compiler else None
        if real is None:
            sys.stderr.write(f"zccache: compiler '{compiler}' not found; leaving {key} to meson\n")
            continue
        words = [zccache, os.path.abspath(real), *compiler.split()[1:]]
        lines.append(f"{key} = [{', '.join(_quote(w) for w in words)}]")
    output = ns.output or os.path.join(zccache_wire.cache_dir(os.environ), "meson-native.ini")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(os.path.abspath(output))
    return 0
