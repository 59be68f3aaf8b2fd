"""The package build's one native step: the `zccache` command as a small C launcher.

Every compile of a build starts the `zccache` command; as a Python script that is an
interpreter start-up (7-15 ms here) in front of a daemon that answers a hit in well
under a millisecond. So the command is c-launcher/zccache.c, compiled here with the
system C compiler; the Python client is installed beside it as `zccache-py`, which
the launcher execs for everything but a daemon's answer. Where no C compiler works,
`zccache` is the Python client itself, and the build says so in one line.

The launcher is linked statically where the C library allows it (glibc's libc.a,
musl): a dynamically linked one spent a quarter of a hit (0.26 ms of 1.40, by hand,
1,500 alternating runs) in the dynamic loader before main. Elsewhere it is linked
as usual.

ZCCACHE_NO_NATIVE=1 skips the launcher (the tests use it to check that install).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from distutils.command.build_scripts import build_scripts  # setuptools provides distutils

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join("c-launcher", "zccache.c")
OUTPUT = os.path.join("build", "c-launcher", "zccache")


def _wire():
    """zccache_wire.py, loaded from this tree: what the launcher shares with the Python client."""
    spec = importlib.util.spec_from_file_location("zccache_wire", os.path.join(HERE, "zccache_wire.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compiler() -> list[str] | None:
    chosen = os.environ.get("CC")
    if chosen:
        return shlex.split(chosen)
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def build_launcher() -> str | None:
    """The launcher's path, or None (with one line saying why) when it cannot be built."""
    if os.environ.get("ZCCACHE_NO_NATIVE", "").lower() in ("1", "true", "yes", "on"):
        print("zccache: ZCCACHE_NO_NATIVE is set: the zccache command is the Python client", file=sys.stderr)
        return None
    compiler = _compiler()
    if compiler is None:
        print("zccache: no C compiler found: the zccache command is the Python client", file=sys.stderr)
        return None
    out_dir = os.path.dirname(os.path.join(HERE, OUTPUT))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "zccache_wire.h"), "w", encoding="utf-8") as f:
        f.write(_wire().c_header())  # generated, never kept by hand
    command = [*compiler, "-std=c11", "-O2", "-Wall", "-Wextra", "-I", out_dir,
               os.path.join(HERE, SOURCE), "-o", os.path.join(HERE, OUTPUT)]
    try:
        done = subprocess.run([*command, "-static"], capture_output=True, text=True, check=False)
        if done.returncode != 0:  # no static C library here
            done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        print(f"zccache: cannot run the C compiler ({exc.strerror}): the zccache command is the Python client",
              file=sys.stderr)
        return None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        print(f"zccache: the C launcher did not build ({first}): the zccache command is the Python client",
              file=sys.stderr)
        return None
    return OUTPUT


class _CopyLauncher(build_scripts):
    """The launcher is a program, not a script: copied as it is (build_scripts would
    read it as Python text to rewrite a #! line)."""

    def copy_scripts(self):
        self.mkpath(self.build_dir)
        outfiles = []
        for script in self.scripts:
            out = os.path.join(self.build_dir, os.path.basename(script))
            self.copy_file(script, out)
            os.chmod(out, 0o755)
            outfiles.append(out)
        return outfiles, outfiles


class _Distribution(Distribution):
    def has_ext_modules(self) -> bool:  # a native program inside: the wheel is for this platform
        return LAUNCHER is not None


# build/scripts-*/ holds what install_scripts installs, all of it: never a launcher
# left from an earlier build when this one has none
for stale in os.listdir(os.path.join(HERE, "build")) if os.path.isdir(os.path.join(HERE, "build")) else []:
    if stale.startswith("scripts-"):
        shutil.rmtree(os.path.join(HERE, "build", stale), ignore_errors=True)
LAUNCHER = build_launcher()
scripts = ["zccache-py = zccache_client:main"]
if LAUNCHER is None:
    scripts.append("zccache = zccache_client:main")

setup(
    distclass=_Distribution,
    cmdclass={"build_scripts": _CopyLauncher},
    entry_points={"console_scripts": scripts},
    scripts=[LAUNCHER] if LAUNCHER else [],
)
