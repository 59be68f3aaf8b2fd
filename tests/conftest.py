"""Shared fixtures: every test gets a cache directory of its own and runs the real
``zccache`` command of this environment against the real compilers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = os.path.dirname(sys.executable)
ZCCACHE = shutil.which("zccache", path=BIN) or shutil.which("zccache")
DEMO = ROOT / "examples" / "cmake-demo"


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
    cc: str = "gcc"  # the C and C++ compilers a test drives (tests run for gcc and clang)
    cxx: str = "g++"

    def run(self, *args: str, cwd: Path | str, env: dict[str, str] | None = None, stdin=None) -> subprocess.CompletedProcess:
        assert ZCCACHE, "the zccache command is not installed in this environment"
        return subprocess.run([ZCCACHE, *args], cwd=cwd, env={**self.env, **(env or {})}, capture_output=True, stdin=stdin)

    def plain(self, *args: str, cwd: Path | str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=cwd, env={**self.env, **(env or {})}, capture_output=True)

    def stats(self, env: dict[str, str] | None = None) -> dict:
        done = self.run("stats", "--json", cwd=self.cache_dir.parent, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def zero(self) -> None:
        assert self.run("stats", "--zero", cwd=self.cache_dir.parent).returncode == 0


@pytest.fixture(params=["daemon"])
def zc(request, tmp_path: Path):
    """zccache as users run it: the first compile starts the daemon, the rest use it.
    Tests parametrised with "in-process" run the same checks with ZCCACHE_DAEMON=0."""
    cache = tmp_path / "cache"
    runtime = tempfile.mkdtemp(prefix="zct-", dir="/tmp")
    z = Zc(cache_dir=cache, env=base_env(cache, runtime))
    if request.param == "in-process":
        z.env["ZCCACHE_DAEMON"] = "0"
    yield z
    subprocess.run([ZCCACHE, "stop"], env=z.env, capture_output=True, timeout=60)
    shutil.rmtree(runtime, ignore_errors=True)


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


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in done.stderr and b"Traceback" not in done.stdout
