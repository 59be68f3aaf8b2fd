"""Helpers every layer of the tests shares: the zccache command with a private cache
(Zc), the tools a test needs, and writing files the way a build edits them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.path.dirname(sys.executable)
ZCCACHE = shutil.which("zccache", path=BIN) or shutil.which("zccache")  # the native launcher, when built
ZCCACHE_PY = shutil.which("zccache-py", path=BIN) or shutil.which("zccache-py")  # the Python client
DEMO = ROOT / "examples" / "cmake-demo"
CLIENTS = ["native", "python"]  # for the tests of the clients themselves: parametrize("zc", CLIENTS, indirect=True)


def base_env(cache_dir: Path, runtime_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZCCACHE_", "CCACHE_"))}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["ZCCACHE_CACHE_DIR"] = str(cache_dir)
    env["ZCCACHE_RUNTIME_DIR"] = runtime_dir  # a daemon of the test's own, on a short socket path
    env["ZCCACHE_IDLE_TIMEOUT"] = "120"
    env["LC_ALL"] = "C"
    return env


@dataclass
class Zc:
    """The zccache command with a private cache, and the plain tools beside it."""

    cache_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    command: str = ""  # the zccache a build starts: the native launcher, or the Python client
    cc: str = "gcc"  # the C and C++ compilers a test drives (tests run for gcc and clang)
    cxx: str = "g++"

    def run(self, *args: str, cwd: Path | str, env: dict[str, str] | None = None, stdin=None) -> subprocess.CompletedProcess:
        settle()
        assert self.command, "the zccache command is not installed in this environment"
        return subprocess.run([self.command, *args], cwd=cwd, env={**self.env, **(env or {})}, capture_output=True, stdin=stdin)

    def plain(self, *args: str, cwd: Path | str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=cwd, env={**self.env, **(env or {})}, capture_output=True)

    def stats(self, env: dict[str, str] | None = None) -> dict:
        done = self.run("stats", "--json", cwd=self.cache_dir.parent, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def zero(self) -> None:
        assert self.run("stats", "--zero", cwd=self.cache_dir.parent).returncode == 0


def is_native(path: str | None) -> bool:
    try:
        with open(path or "", "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def need(tool: str, package: str) -> str:
    """The tool's path. Missing: CI installs it (.ci/run), so there it is a failure;
    on a developer's machine the test is skipped and says what to install."""
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed (.ci/run installs {package})")
        pytest.skip(f"{tool} is not installed: apt-get install {package}")
    return found


def compiler_pair(family: str) -> tuple[str, str]:
    """(C compiler, C++ compiler) of a family, skipped where clang is not installed."""
    if family == "clang":
        need("clang", "clang")
        return "clang", "clang++"
    return "gcc", "g++"


_last_write = 0.0
FILE_CLOCK_TICK = 0.015  # the kernel stamps files from a coarse clock (4 ms ticks here)


def write(path: Path, text: str) -> Path:
    global _last_write
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    _last_write = time.monotonic()
    return path


def settle() -> None:
    """Let the file clock tick past the last write before a compile starts, as any
    build does after an edit: a source written within the compile's own tick is
    (rightly) not stored, since it may be written again in the same tick unseen."""
    wait = _last_write + FILE_CLOCK_TICK - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in done.stderr and b"Traceback" not in done.stdout


def compile_checked(zc, cwd: Path, source: str = "a.c", env: dict[str, str] | None = None) -> bytes:
    """gcc -c source through zccache: it succeeds, with no traceback, and the object is
    byte for byte the one plain gcc makes. Returns zccache's stderr."""
    obj = source[:-2] + ".o"
    done = zc.run("gcc", "-c", source, "-o", obj, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    assert zc.plain("gcc", "-c", source, "-o", "ref.o", cwd=cwd).returncode == 0
    assert (cwd / obj).read_bytes() == (cwd / "ref.o").read_bytes()
    return done.stderr


def incompressible(name: str = "table", ints: int = 20000) -> str:
    """A C source whose object is large and does not compress (pseudo-random
    constants): stored compressed it still takes a value file of its own."""
    values = ",".join(str((i * 2654435761 + 12345) % 2**31) for i in range(ints))
    return f"const int {name}[{ints}] = {{{values}}};\nint {name}_at(int i) {{ return {name}[i]; }}\n"
