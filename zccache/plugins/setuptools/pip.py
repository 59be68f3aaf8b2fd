"""``zccache pip ...`` and ``zccache python ...``: run the command so that every C/C++
compiler a package build starts goes through zccache, build isolation included.

Nothing in the package needs to know. Two things make that work:

1. Compiler shims. A private directory first on PATH holds ``cc``, ``gcc``, ``c++``,
   ``g++``, ``clang``, ``clang++`` (those PATH has), each a two-line script that runs
   ``zccache <the real compiler>``. setuptools finds ``gcc`` through PATH, meson and
   CMake find ``cc``/``c++``, cargo's cc crate finds ``cc``. A CC or CXX the user set
   is kept and wrapped: its first word is replaced by a shim of the same name that
   runs the compiler it named.
2. Stable paths. pip builds every sdist in a fresh randomly named directory and its
   isolated build environment in another; gcc writes those names into debug info
   and ``__FILE__``. The build gets a TMPDIR of its own, and ZCCACHE_REMAP_TEMP tells
   the gcc family to add ``-ffile-prefix-map`` for the random directories below it
   (see toolchains/gcc.py), so objects no longer depend on the random names. A hit
   is then exactly what the compiler produces for the command zccache runs.

The exit code and output are pip's own.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from zccache.core.launcher import is_native, zccache_command

COMPILERS = ("cc", "gcc", "c++", "g++", "clang", "clang++")


def _shim(directory: str, name: str, real: str, zccache: str, native: bool | None = None) -> str:
    """A compiler shim: a shell line that runs the native launcher, which costs a
    hit about 2 ms of CPU. Without the launcher (an install that could not build
    it), Python started with -SI and this process's sys.path written in: no site
    processing, no shell, yet about 16 ms a run (pynacl's build runs the compiler
    about 500 times: configure's tests, libtool, make check). native: whether zccache
    is the launcher, when the caller knows it already."""
    path = os.path.join(directory, name)
    python = sys.executable
    shebang_python = bool(python) and os.path.isabs(python) and " " not in python and len(python) < 120
    if shebang_python and not (is_native(zccache) if native is None else native):
        import zccache as package  # (not `zccache`: that is the command's path here)

        roots = [os.path.dirname(os.path.dirname(os.path.abspath(package.__file__)))]
        search = [p for p in [*roots, *sys.path] if p and os.path.isabs(p)]
        # argv[0] names zccache, not the shim's compiler name: this is no masquerade
        text = (f"#!{python} -SI\nimport sys\nsys.path[:0] = {search!r}\nsys.argv[0:1] = [{zccache!r}, {real!r}]\n"
                "from zccache_client import main\nsys.exit(main())\n")
    else:
        text = f"#!/bin/sh\nexec {shlex.quote(zccache)} {shlex.quote(real)} \"$@\"\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def prepare_env(env: dict[str, str], work: str) -> dict[str, str]:
    """The environment for the wrapped command: shims first on PATH, a TMPDIR of
    our own whose random subdirectories the compiles map to stable names."""
    shims = os.path.join(work, "bin")
    tmp = os.path.join(work, "tmp")
    os.makedirs(shims, exist_ok=True)
    os.makedirs(tmp, exist_ok=True)
    zccache = zccache_command()
    native = is_native(zccache)  # read once for all the shims
    path = env.get("PATH", os.defpath)
    out = dict(env)
    for name in COMPILERS:
        real = shutil.which(name, path=path)
        if real:
            _shim(shims, name, os.path.abspath(real), zccache, native)
    for var in ("CC", "CXX"):
        words = shlex.split(env.get(var, ""))
        if not words:
            continue
        real = shutil.which(words[0], path=path)
        if real:
            shim = _shim(shims, os.path.basename(words[0]), os.path.abspath(real), zccache, native)
            out[var] = shlex.join([shim, *words[1:]])
    out["PATH"] = shims + os.pathsep + path
    out["TMPDIR"] = tmp
    out["ZCCACHE_REMAP_TEMP"] = tmp
    return out


def run_wrapped(command: list[str]) -> int:
    program = shutil.which(command[0])
    if program is None:
        sys.stderr.write(f"zccache: '{command[0]}' not found\n")
        return 127
    work = tempfile.mkdtemp(prefix="zccache-build-")
    try:
        env = prepare_env(dict(os.environ), work)
        try:
            return subprocess.call([program, *command[1:]], env=env)
        except KeyboardInterrupt:
            return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
