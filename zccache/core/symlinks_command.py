"""`zccache symlinks DIR`: a directory of links named after the compilers on PATH, all
pointing at zccache, as distributions lay out /usr/lib/ccache. Put DIR first on PATH
and a build that runs plain `gcc` or `cc` (a Makefile with CC=gcc, a configure
script) compiles through the cache: each link runs the compiler of its name found
next on PATH (the masquerade in both clients)."""

from __future__ import annotations

import argparse
import os
import sys

from zccache.core.hookspecs import hookimpl

# Names linked when found: the C and C++ drivers, and their versioned and cross forms.
BASE_NAMES = ("cc", "c++", "gcc", "g++", "clang", "clang++")


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("symlinks", help="make DIR/gcc, DIR/cc ... link to zccache, for the compilers on "
                                               "PATH; put DIR first on PATH to cache builds that name plain gcc")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--force", action="store_true", help="replace files of those names already in DIR")
    p.set_defaults(func=_cmd_symlinks)


def compilers_on_path(path: str, own: set[str]) -> list[str]:
    """The compiler names found on PATH (gcc, gcc-12, x86_64-linux-gnu-g++ ...), not zccache's own."""
    from zccache.core.toolchains.gcc_options import COMPILER_NAME

    found: dict[str, None] = {}
    for directory in path.split(os.pathsep):
        try:
            names = sorted(os.listdir(directory or "."))
        except OSError:
            continue
        for name in names:
            full = os.path.join(directory or ".", name)
            if not COMPILER_NAME.match(name) or name.startswith(("emcc", "em++")) or name.endswith(("emcc", "em++")):
                continue
            if os.path.isfile(full) and os.access(full, os.X_OK) and os.path.realpath(full) not in own:
                found[name] = None
    return sorted(found)


def _cmd_symlinks(ns: argparse.Namespace) -> int:
    from zccache.core.launcher import zccache_command

    target = os.path.abspath(zccache_command())
    if not os.path.isfile(target):
        sys.stderr.write("zccache: cannot find the zccache command to link to\n")
        return 1
    directory = os.path.abspath(ns.directory)
    own = {os.path.realpath(target), os.path.realpath(directory)}
    path = [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep)
            if d and os.path.realpath(d) != os.path.realpath(directory)]
    names = compilers_on_path(os.pathsep.join(path), own | {os.path.realpath(os.path.join(directory, n))
                                                           for n in BASE_NAMES})
    if not names:
        sys.stderr.write("zccache: no compiler found on PATH\n")
        return 1
    os.makedirs(directory, exist_ok=True)
    made = []
    for name in names:
        link = os.path.join(directory, name)
        if os.path.lexists(link):
            if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(target):
                made.append(name)
                continue
            if not ns.force:
                sys.stderr.write(f"zccache: {link} exists (--force replaces it)\n")
                return 1
            os.unlink(link)
        os.symlink(target, link)
        made.append(name)
    print(f"{len(made)} links to {target} in {directory}: {' '.join(made)}")
    print(f"export PATH={directory}:$PATH")
    return 0
