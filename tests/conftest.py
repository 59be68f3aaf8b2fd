"""The fixture every end-to-end test uses: the real ``zccache`` command of this
environment with a cache directory and a daemon of its own. The helpers it builds
on are in tests/support/."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from support import CLIENTS, ZCCACHE, ZCCACHE_PY, Zc, base_env, is_native


@pytest.fixture(params=["native"])
def zc(request, tmp_path: Path):
    """zccache as users run it: the first compile starts the daemon, the rest use it.

    The tests run the native launcher (bin/zccache). Where the client is what is
    tested (test_launcher, test_daemon) they run the Python client too
    (bin/zccache-py, put first on PATH as `zccache`, so that CMake's launcher,
    RUSTC_WRAPPER and the pip shims run it): ``@pytest.mark.parametrize("zc",
    CLIENTS, indirect=True)``. Both clients send the same bytes (tests/test_wire.py),
    so the rest need not run twice. "in-process" runs with ZCCACHE_DAEMON=0."""
    cache = tmp_path / "cache"
    runtime = tempfile.mkdtemp(prefix="zct-", dir="/tmp")
    z = Zc(cache_dir=cache, env=base_env(cache, runtime), command=ZCCACHE or "")
    if request.param == "python":
        shim_dir = tmp_path / "python-client"
        shim_dir.mkdir()
        (shim_dir / "zccache").symlink_to(ZCCACHE_PY)
        z.command = str(shim_dir / "zccache")
        z.env["PATH"] = f"{shim_dir}{os.pathsep}{z.env['PATH']}"
    elif request.param == "native":
        assert is_native(ZCCACHE), "bin/zccache is not the native launcher (no C compiler at install?)"
    if request.param == "in-process":
        z.env["ZCCACHE_DAEMON"] = "0"
    yield z
    subprocess.run([z.command, "stop"], env=z.env, capture_output=True, timeout=60)
    shutil.rmtree(runtime, ignore_errors=True)




@pytest.hookimpl(tryfirst=True)  # before the fixture's own params are applied
def pytest_generate_tests(metafunc):
    """A module that tests the clients themselves says so (``ALL_CLIENTS = True``):
    each of its tests runs with every client."""
    if getattr(metafunc.module, "ALL_CLIENTS", False) and "zc" in metafunc.fixturenames:
        if not any("zc" in marker.args[0] for marker in metafunc.definition.iter_markers("parametrize")):
            metafunc.definition.add_marker(pytest.mark.parametrize("zc", CLIENTS, indirect=True))


# The longest tests (tens of seconds each: whole cargo, pip, CMake and SCons builds, the
# soak) start first, so that the two workers finish together instead of one waiting
# out the other's last long test.
LONG_FIRST = ("test_cargo.py", "test_soak.py", "test_packaging.py", "test_benchmarks.py", "test_scons.py",
              "test_cmake.py", "test_tool_probes.py", "test_remote.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order
