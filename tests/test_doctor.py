"""`zccache doctor` finds each misconfiguration it knows, one line with its fix each,
and says "all well" (exit 0) when there is none."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from support import BIN, DEMO, ZCCACHE_PY, write

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)


def doctor(zc, cwd: Path, *args: str, env=None) -> tuple[int, list[str]]:
    done = zc.run("doctor", *args, cwd=cwd, env=env)
    assert b"Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.decode().splitlines()


def fixes(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FIX")]


def test_all_well(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0  # a daemon of this version runs
    rc, lines = doctor(zc, tmp_path)
    assert (rc, fixes(lines), lines[-1]) == (0, [], "all well"), lines
    assert any("daemon" in line and "running" in line for line in lines)
    assert any("native launcher" in line for line in lines)


def test_each_misconfiguration_is_found(zc, tmp_path):
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    project = tmp_path / "proj"
    shutil.copytree(DEMO, project)
    plain = subprocess.run([cmake, "-G", "Ninja", "-S", str(project), "-B", str(project / "plain")],
                           env=zc.env, capture_output=True)
    assert plain.returncode == 0
    module = zc.run("cmake-module-dir", cwd=tmp_path).stdout.decode().strip()
    debug = subprocess.run([cmake, "-G", "Ninja", "-S", str(project), "-B", str(project / "debug"),
                            "-DCMAKE_BUILD_TYPE=Debug", f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module}/zccache.cmake"],
                           env=zc.env, capture_output=True)
    assert debug.returncode == 0
    write(project / "SConstruct", "Program('app', ['main.c'])\n")
    write(project / "stamp.c", 'const char *built = __DATE__ " " __TIME__;\n')
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    shim = tmp_path / "py-client"
    shim.mkdir()
    (shim / "zccache").symlink_to(ZCCACHE_PY)
    zc.cache_dir.mkdir(parents=True, exist_ok=True)
    (zc.cache_dir / "zccache.conf").write_text("ZCCACHE_DIRECT = 1\n")
    (zc.cache_dir / "zccache.conf").chmod(0o666)
    env = {"CCACHE_SLOPPINESS": "time_macros", "ZCCACHE_REMOTE": f"redis://127.0.0.1:{port}/0",
           "ZCCACHE_REMOTE_TIMEOUT": "0.5", "ZCCACHE_MAXSIZE": "8k",
           "PATH": f"{shim}{os.pathsep}{zc.env['PATH']}"}
    rc, lines = doctor(zc, project, "--compiler", "/bin/true", env=env)
    found = "\n".join(fixes(lines))
    assert rc == 1
    expected = {
        "zccache.conf": "is ignored: writable by others",
        "compiler": "/bin/true is not recognised",
        "full": "% full",
        "launcher": "is the Python client",
        "cmake without launcher": "CMake build plain does not launch compilers through zccache",
        "debug info": "CMake build debug has debug info (Debug)",
        "scons": "SConstruct does not use zccache",
        "remote": "does not answer",
        "ccache variable": "CCACHE_SLOPPINESS is set, but zccache reads ZCCACHE_SLOPPINESS",
        "time macros": "stamp.c uses __DATE__/__TIME__",
    }
    missing = [name for name, text in expected.items() if text not in found]
    assert not missing, found
    assert len(fixes(lines)) == len(expected), found  # and nothing else
    assert all(" -> " in line for line in fixes(lines))  # each with its fix
    assert lines[-1] == f"{len(expected)} things to fix"
    # ZCCACHE_BASEDIR answers the debug-info finding
    rc, lines = doctor(zc, project, env={**env, "ZCCACHE_BASEDIR": str(project)})
    assert not any("debug info" in line for line in fixes(lines))


def test_unusable_cache_directory(zc, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be\n")
    rc, lines = doctor(zc, tmp_path, env={"ZCCACHE_CACHE_DIR": str(blocker)})
    assert rc == 1 and any(line.startswith("FIX  cache directory unusable") for line in lines), lines
