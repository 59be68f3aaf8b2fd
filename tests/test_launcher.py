"""The native launcher: what `pip install` makes of it (with and without a C
compiler), what it hands to the Python client, and a daemon that stops answering."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

from support import BIN, DEMO, ROOT, base_env, is_native, write

SITE_PACKAGES = sysconfig.get_paths()["purelib"]

ALL_CLIENTS = True  # the clients are what these tests are about: each runs with both


def source_copy(dest: Path) -> Path:
    """The checkout's files, without its environments and build products."""
    skip = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".venvs", ".downloads",
                                  "results", ".pytest_cache")
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


def build_wheel(source: Path, dest: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    """`pip wheel .`, as `pip install .` builds it."""
    return subprocess.run([sys.executable, "-m", "pip", "wheel", *extra, "--no-deps", "--no-build-isolation", "-w",
                           str(dest), str(source)], env=env, capture_output=True, text=True)


def the_wheel(source: Path, dest: Path, env: dict[str, str]) -> Path:
    done = build_wheel(source, dest, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = dest.glob("pyzccache-*.whl")
    return wheel


def fresh_venv(where: Path, wheel: Path) -> Path:
    """A new environment elsewhere holding the wheel; its dependencies come from this
    environment's site-packages (a .pth after its own), so nothing is downloaded."""
    venv.create(where, with_pip=False)
    site = next((where / "lib").glob("python3*/site-packages"))
    (site / "zz-deps.pth").write_text(SITE_PACKAGES + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(where / "bin" / "python"), "install",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return where / "bin"


def compile_twice(bin_dir: Path, tmp_path: Path) -> list[subprocess.CompletedProcess]:
    env = base_env(tmp_path / "cache", str(tmp_path / "run"))
    os.makedirs(tmp_path / "run", mode=0o700)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    write(tmp_path / "src" / "a.c", "int a(void) { return 5; }\n")
    done = []
    try:
        for _ in range(2):
            done.append(subprocess.run([str(bin_dir / "zccache"), "gcc", "-c", "a.c", "-o", "a.o"],
                                       cwd=tmp_path / "src", env=env, capture_output=True))
        done.append(subprocess.run([str(bin_dir / "zccache"), "stats", "--json"], env=env, capture_output=True))
        done.append(subprocess.run([str(bin_dir / "zccache"), "--version"], env=env, capture_output=True))
    finally:
        subprocess.run([str(bin_dir / "zccache"), "stop"], env=env, capture_output=True)
    return done


@pytest.mark.parametrize("how", ["with a C compiler", "without a C compiler"])
def test_wheel_installed_elsewhere(tmp_path, how):
    """A wheel built here and installed into another environment: with a C compiler
    `zccache` is the native launcher and finds zccache-py beside it; without one it
    is the Python client, and the build said so in one line."""
    env = dict(os.environ)
    if how == "without a C compiler":
        env["CC"] = str(tmp_path / "no-such-cc")
    source = source_copy(tmp_path / "checkout")
    wheel = the_wheel(source, tmp_path / "wheel", env)
    assert ("linux" in wheel.name) == (how == "with a C compiler")  # a native program makes a platform wheel
    bin_dir = fresh_venv(tmp_path / "elsewhere", wheel)
    assert is_native(str(bin_dir / "zccache")) == (how == "with a C compiler")
    assert (bin_dir / "zccache-py").is_file()
    first, second, stats, version = compile_twice(bin_dir, tmp_path)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert b'"hits": 1' in stats.stdout and b'"misses": 1' in stats.stdout
    launcher = b"native" if how == "with a C compiler" else b"python"
    assert b"launcher: " + launcher in version.stdout
    if how == "without a C compiler":
        log = build_wheel(source, tmp_path / "again", env, "-v")
        said = [line for line in (log.stdout + log.stderr).splitlines() if "the zccache command is the Python client" in line]
        assert said and "cannot run the C compiler" in said[0]


def test_version_names_the_launcher_and_the_daemon(zc, tmp_path):
    write(tmp_path / "a.c", "int a;\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0  # starts the daemon
    version = zc.run("--version", cwd=tmp_path)
    assert version.returncode == 0
    expected = b"launcher: native" if is_native(zc.command) else b"launcher: python"
    assert expected in version.stdout and b"; daemon 0." in version.stdout


def test_subcommands_and_passthrough_go_where_the_python_client_sends_them(zc, tmp_path):
    """The launcher decides nothing: a sub-command, an -E, a link all come out as
    with the Python client."""
    write(tmp_path / "a.c", "int main(void) { return 0; }\n")
    assert zc.run("gcc", "-E", "a.c", cwd=tmp_path).stdout == zc.plain("gcc", "-E", "a.c", cwd=tmp_path).stdout
    assert zc.run("gcc", "a.c", "-o", "prog", cwd=tmp_path).returncode == 0
    assert subprocess.run([str(tmp_path / "prog")]).returncode == 0
    stats = zc.stats()
    assert stats["uncacheable"] == {"preprocess only (-E)": 1}
    assert stats["links"]["uncacheable"] == {"compile and link": 1}
    assert zc.run("cmake-module-dir", cwd=tmp_path).stdout.strip().endswith(b"cmake")


# -- a daemon that stops answering --------------------------------------------------------


def test_stopped_daemon_never_hangs_a_build(zc, tmp_path):
    """SIGSTOP the daemon mid-build: every compile still finishes (each gives up after
    ZCCACHE_DAEMON_TIMEOUT of silence and compiles plainly), and the program is right.
    The limit is a fraction of a second: both clients read it as one (zccache_wire.seconds)."""
    cmake = shutil.which("cmake", path=BIN) or shutil.which("cmake")
    env = {**zc.env, "ZCCACHE_DAEMON_TIMEOUT": "0.3"}
    build = tmp_path / "b"
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(DEMO), "-B", str(build), *launch], env=env,
                          capture_output=True).returncode == 0
    assert zc.run("start", cwd=tmp_path, env=env).returncode == 0
    pid = json.loads(zc.run("status", "--json", cwd=tmp_path).stdout)["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        done = subprocess.run([cmake, "--build", str(build), "-j", "2"], env=env, capture_output=True, timeout=600)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert done.returncode == 0, done.stdout[-2000:]
    assert done.stdout.count(b"the daemon sent nothing for 0.3 s; compiling without it") == 26
    program = subprocess.run([str(build / "app" / "zdemo")], capture_output=True)
    assert program.returncode == 0 and program.stdout.endswith(b"checksum 25240\n")
    # resumed, the daemon finds 26 requests whose clients are gone: it runs none of them
    # (a late compile would write into a build that has moved on)
    deadline = time.monotonic() + 30
    while json.loads(zc.run("status", "--json", cwd=tmp_path).stdout).get("abandoned", 0) < 26:
        assert time.monotonic() < deadline, "the resumed daemon did not drop the abandoned requests"
        time.sleep(0.2)
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (0, 0)


def test_long_compile_through_a_healthy_daemon_is_not_cut_short(zc, tmp_path):
    """A 4 s compile with a 2.5 s silence limit: the daemon's KeepAlive frames (one a
    second) keep the client waiting, and the result is the daemon's (a miss, stored)."""
    gcc = shutil.which("gcc")
    slow = tmp_path / "bin" / "slow-cc"
    write(slow, f'#!/bin/sh\ncase " $* " in *" a.c "*) sleep 4;; esac\nexec {gcc} "$@"\n')  # the compile only
    slow.chmod(0o755)
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    env = {"ZCCACHE_DAEMON_TIMEOUT": "2.5"}
    done = zc.run(str(slow), "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env)
    assert (done.returncode, done.stderr) == (0, b"")
    assert zc.plain(gcc, "-c", "a.c", "-o", "ref.o", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.o").read_bytes() == (tmp_path / "ref.o").read_bytes()
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (1, 0)


