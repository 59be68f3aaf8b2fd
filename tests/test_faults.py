"""Injected faults: the build succeeds with the compiler's own objects, and the cache
is consistent afterwards (`zccache check`). A full disk, a cache directory removed
under a running daemon, sources dated in the future or edited within the compile's
clock tick, a daemon stopped by SIGTERM mid-build, a damaged store."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support import ROOT, no_traceback, write

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)


def compile_ok(zc, cwd: Path, source: str = "a.c", obj: str = "a.o", env=None) -> bytes:
    done = zc.run("gcc", "-c", source, "-o", obj, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    reference = zc.plain("gcc", "-c", source, "-o", "ref.o", cwd=cwd)
    assert reference.returncode == 0
    assert (cwd / obj).read_bytes() == (cwd / "ref.o").read_bytes()
    return done.stderr


def daemon_pid(zc, cwd: Path) -> int | None:
    done = zc.run("status", "--json", cwd=cwd)
    return json.loads(done.stdout).get("pid") if done.returncode == 0 else None


def test_cache_dir_removed_under_a_running_daemon(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    compile_ok(zc, tmp_path)
    first = daemon_pid(zc, tmp_path)
    assert first is not None
    subprocess.run(["rm", "-rf", str(zc.cache_dir)], check=True)
    compile_ok(zc, tmp_path)  # the daemon sees it is gone, stops, the compile goes on
    deadline = time.monotonic() + 10
    while daemon_pid(zc, tmp_path) == first:
        assert time.monotonic() < deadline, "the daemon kept serving a removed cache directory"
        time.sleep(0.2)
    compile_ok(zc, tmp_path)  # a new daemon, a new store
    compile_ok(zc, tmp_path)
    stats = zc.stats()
    assert stats["hits"] >= 1
    assert zc.run("check", cwd=tmp_path).returncode == 0


def test_sources_dated_in_the_future_and_edits_within_a_clock_tick(zc, tmp_path):
    source = tmp_path / "a.c"
    future = time.time() + 3600
    for value in (1, 2, 3):
        write(source, f"int a(void) {{ return {value}; }}\n")  # same size each time
        os.utime(source, (future, future))
        compile_ok(zc, tmp_path)
        compile_ok(zc, tmp_path)
    # edits with no pause at all: each compile sees the bytes it compiles
    for value in range(4, 9):
        source.write_text(f"int a(void) {{ return {value}; }}\n")
        compile_ok(zc, tmp_path)
    header = tmp_path / "h.h"
    for value in range(5):
        header.write_text(f"#define V {value}\n")
        source.write_text('#include "h.h"\nint a(void) { return V; }\n')
        compile_ok(zc, tmp_path)
    assert zc.run("check", cwd=tmp_path).returncode == 0


def test_an_input_written_in_the_tick_the_run_begins_in_is_still_stored(zc, tmp_path):
    """A link that starts a moment after the build wrote its object (CI saw it: a
    daemon-served archive, then the link, within one 4 ms tick) used to pass through
    as "modified during the run". Dated a little ahead, the object stands for that."""
    write(tmp_path / "a.c", "int main(void) { return 0; }\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.run("gcc", "a.o", "-o", "warm", cwd=tmp_path).returncode == 0  # the linker asked about itself
    zc.zero()
    soon = time.time() + 0.04
    os.utime(tmp_path / "a.o", (soon, soon))
    done = zc.run("gcc", "a.o", "-o", "app", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    stats = zc.stats()
    assert (stats["links"]["misses"], stats["uncacheable"]) == (1, {}), json.dumps(stats)
    first = (tmp_path / "app").read_bytes()
    (tmp_path / "app").unlink()
    assert zc.run("gcc", "a.o", "-o", "app", cwd=tmp_path).returncode == 0
    assert zc.stats()["links"]["hits"] == 1
    assert (tmp_path / "app").read_bytes() == first


def test_sigterm_to_the_daemon_during_a_build(zc, tmp_path):
    """The daemon stopped (SIGTERM, as a shutdown or an OOM killer's polite form) while
    a -j2 build stores results: the build finishes, the objects are the compiler's,
    and every entry left in the store is sound."""
    import shutil

    cmake = shutil.which("cmake", path=os.path.dirname(zc.command)) or shutil.which("cmake")
    build = tmp_path / "b"
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(ROOT / "examples" / "cmake-demo"), "-B", str(build),
                           *launch], env=zc.env, capture_output=True).returncode == 0
    assert zc.run("start", cwd=tmp_path).returncode == 0
    pid = daemon_pid(zc, tmp_path)
    proc = subprocess.Popen([cmake, "--build", str(build), "-j", "2"], env=zc.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    time.sleep(1.0)
    os.kill(pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    ran = subprocess.run([str(build / "app" / "zdemo")], capture_output=True)
    assert ran.returncode == 0 and ran.stdout.endswith(b"checksum 25240\n")
    done = zc.run("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rb"\d+ entries checked, 0 bad", done.stdout)


def test_check_finds_and_repair_drops_damaged_entries(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    compile_ok(zc, tmp_path)
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    import diskcache

    cache = diskcache.Cache(str(zc.cache_dir / "store"))
    keys = [k for k in cache.iterkeys() if str(k).startswith("r:")]
    assert keys
    cache.set(keys[0], b"ZC1\0" + b"\0" * 32 + b"not the payload the checksum names")
    cache.close()
    found = zc.run("check", cwd=tmp_path)
    assert found.returncode == 1 and b"1 bad" in found.stdout, found.stdout
    repaired = zc.run("check", "--repair", cwd=tmp_path)
    assert repaired.returncode == 0 and b"dropped" in repaired.stdout
    assert zc.run("check", cwd=tmp_path).returncode == 0
    compile_ok(zc, tmp_path)  # recompiled, stored again


def test_full_disk_while_storing_and_restoring(zc, tmp_path):
    """A cache directory (and then a build directory) on a 1 MiB tmpfs: the compile
    that cannot be stored succeeds with one warning line, the objects are the
    compiler's, and a restore that cannot write falls back to the compiler."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        env = {"ZCCACHE_CACHE_DIR": str(small / "cache"), "ZCCACHE_DAEMON": "0"}
        body = "".join(f"int f{i}(int x) {{ return x * {i} + {i % 7}; }}\n" for i in range(4000))
        write(tmp_path / "big.c", body)
        err = b""
        for _ in range(2):
            err += compile_ok(zc, tmp_path, "big.c", "big.o", env=env)
        try:
            (small / "fill").write_bytes(b"\0" * (1 << 20))  # whatever is left: full
        except OSError:
            pass
        write(tmp_path / "big.c", body + "int last;\n")
        err = compile_ok(zc, tmp_path, "big.c", "big.o", env=env)
        assert len(err.splitlines()) <= 1
        # the build directory itself full: the compiler's own error, as without zccache
        (small / "fill").unlink()
        write(small / "a.c", "int a(void) { return 1; }\n")
        try:
            (small / "fill").write_bytes(b"\0" * (1 << 20))
        except OSError:
            pass  # full now
        done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=small, env=env)
        plain = zc.plain("gcc", "-c", "a.c", "-o", "a.o", cwd=small)
        assert done.returncode == plain.returncode != 0
        no_traceback(done)
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_cache_dir_made_read_only_under_a_running_daemon(zc, tmp_path):
    """The cache directory remounted read-only (a full quota, an NFS export turned
    read-only) while the daemon holds it open: compiles go on with the compiler's
    objects and at most one warning line each; once writable again, the store is sound."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root); root ignores modes")
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    compile_ok(zc, tmp_path)
    cache = str(zc.cache_dir)
    subprocess.run(["mount", "--bind", cache, cache], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", cache], check=True)
        with pytest.raises(OSError):
            (zc.cache_dir / "probe").write_bytes(b"")
        for value in (1, 2, 3):
            write(tmp_path / "a.c", f"int a(void) {{ return {value}; }}\n")
            err = compile_ok(zc, tmp_path)
            assert len(err.splitlines()) <= 1, err
    finally:
        # writable again in place, as the administrator would; the daemon's open
        # files are on the bind mount, so it is detached lazily
        subprocess.run(["mount", "-o", "remount,bind,rw", cache], check=False)
        subprocess.run(["umount", "-l", cache], check=False)
    write(tmp_path / "a.c", "int a(void) { return 4; }\n")
    compile_ok(zc, tmp_path)
    compile_ok(zc, tmp_path)
    assert zc.stats()["hits"] >= 1  # the daemon that met the read-only store recovered with it
    done = zc.run("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sigterm_while_a_request_is_in_flight(zc, tmp_path):
    """SIGTERM lands while the daemon runs a compile for a client (the compiler sends
    it to its parent, the daemon, as it starts): the daemon finishes that compile and
    its store, answers, and only then stops. The result is in the store: a new
    daemon serves the same compile as a hit."""
    import shutil

    gcc = shutil.which("gcc")
    cc = tmp_path / "bin" / "term-cc"
    write(cc, f'#!/bin/sh\ncase " $* " in *" a.c "*) kill -TERM $PPID; sleep 1;; esac\nexec {gcc} "$@"\n')
    cc.chmod(0o755)
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.run("start", cwd=tmp_path).returncode == 0
    pid = daemon_pid(zc, tmp_path)
    done = zc.run(str(cc), "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    deadline = time.monotonic() + 10
    while daemon_pid(zc, tmp_path) == pid:
        assert time.monotonic() < deadline, "the daemon did not stop after SIGTERM"
        time.sleep(0.1)
    assert zc.stats()["misses"] == 1  # the daemon's own count: it served the request
    (tmp_path / "a.o").unlink()
    again = zc.run(str(cc), "-c", "a.c", "-o", "a.o", cwd=tmp_path)  # a hit from the new daemon: no compiler runs
    assert again.returncode == 0
    assert zc.stats()["hits"] == 1
    assert zc.plain(gcc, "-c", "a.c", "-o", "ref.o", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.o").read_bytes() == (tmp_path / "ref.o").read_bytes()
    assert zc.run("check", cwd=tmp_path).returncode == 0


def test_two_daemons_of_different_versions_on_one_cache_dir(zc, tmp_path):
    """After an upgrade, clients of the new version start a daemon of their own while
    the old one still serves the old clients: both use one cache directory at once."""
    import shutil
    import sys

    other = tmp_path / "other-version"
    shutil.copytree(ROOT / "zccache", other / "zccache", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "zccache_client.py", other / "zccache_client.py")
    wire = (ROOT / "zccache_wire.py").read_text()
    assert '__version__ = "' in wire
    (other / "zccache_wire.py").write_text(re.sub(r'__version__ = "([^"]+)"', r'__version__ = "\1+other"', wire))
    old = {"PYTHONPATH": str(other)}

    def old_zccache(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(other / "zccache_client.py"), *args], cwd=tmp_path,
                              env={**zc.env, **old}, capture_output=True)

    sources = {name: f"int {name}(void) {{ return {i}; }}\n" for i, name in enumerate(("a", "b", "c", "d"))}
    for name, text in sources.items():
        write(tmp_path / f"{name}.c", text)
    compile_ok(zc, tmp_path, "a.c", "a.o")
    done = old_zccache("gcc", "-c", "b.c", "-o", "b.o")
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    ours = json.loads(zc.run("status", "--json", cwd=tmp_path).stdout)
    theirs = json.loads(old_zccache("status", "--json").stdout)
    assert ours["pid"] != theirs["pid"] and theirs["version"].endswith("+other")
    # both at once, each compiling what the other stored and something new
    procs = [subprocess.Popen([zc.command, "gcc", "-c", f"{n}.c", "-o", f"{n}-new.o"], cwd=tmp_path, env=zc.env)
             for n in ("b", "c")]
    procs += [subprocess.Popen([sys.executable, str(other / "zccache_client.py"), "gcc", "-c", f"{n}.c", "-o", f"{n}-old.o"],
                               cwd=tmp_path, env={**zc.env, **old}) for n in ("a", "d")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    for obj in ("b-new", "c-new", "a-old", "d-old"):
        source = obj.split("-")[0] + ".c"
        assert zc.plain("gcc", "-c", source, "-o", "ref.o", cwd=tmp_path).returncode == 0
        assert (tmp_path / f"{obj}.o").read_bytes() == (tmp_path / "ref.o").read_bytes(), obj
    assert old_zccache("stop").returncode == 0  # its buffered counters flushed as it stops
    stats = zc.stats()
    assert stats["hits"] + stats["misses"] == 6 and stats["uncacheable"] == {}
    done = zc.run("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_socket_dir_replaced_by_someone_elses(zc, tmp_path):
    """The runtime directory swapped for another user's (world-writable, with a
    listening socket at our socket's name) while the daemon runs: no client talks
    to that socket, compiles go on in process with the compiler's objects, and the
    old daemon, unreachable now, stops."""
    import socket as sk

    if os.geteuid() != 0:
        pytest.skip("a directory of another user needs root to make (CI runs as root)")
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    compile_ok(zc, tmp_path)
    pid = daemon_pid(zc, tmp_path)
    runtime = Path(zc.env["ZCCACHE_RUNTIME_DIR"])
    sock_name = next(p.name for p in runtime.iterdir() if p.name.endswith(".sock"))
    runtime.rename(tmp_path / "moved-runtime")
    runtime.mkdir()
    os.chown(runtime, 65534, 65534)
    runtime.chmod(0o777)
    trap = sk.socket(sk.AF_UNIX, sk.SOCK_STREAM)
    trap.bind(str(runtime / sock_name))
    os.chown(runtime / sock_name, 65534, 65534)
    trap.listen(16)
    trap.setblocking(False)
    try:
        for value in (2, 3):
            write(tmp_path / "a.c", f"int a(void) {{ return {value}; }}\n")
            err = compile_ok(zc, tmp_path)
            assert len(err.splitlines()) <= 1, err
        with pytest.raises(BlockingIOError):
            trap.accept()  # nobody connected to the planted socket
    finally:
        trap.close()
    deadline = time.monotonic() + 10
    while running(pid):
        assert time.monotonic() < deadline, "the daemon went on serving an unreachable socket"
        time.sleep(0.2)


def running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may be slow to reap)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_a_broken_install_still_builds(zc, tmp_path):
    """A dependency that will not import (a half-upgraded venv): each compile says so
    in one line and runs the compiler itself; the object is the compiler's."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "zstandard.py").write_text("raise ImportError('zstandard is half installed')\n")
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.plain("gcc", "-c", "a.c", "-o", "ref.o", cwd=tmp_path).returncode == 0
    for daemon in ("1", "0"):
        env = {"PYTHONPATH": str(broken), "ZCCACHE_DAEMON": daemon}
        done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "a.o").read_bytes() == (tmp_path / "ref.o").read_bytes()
        assert b"zstandard is half installed" in done.stderr and b"Traceback" not in done.stderr
        (tmp_path / "a.o").unlink()
