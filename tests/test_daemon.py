"""The daemon end to end: every request type through a real daemon process, bad
frames, crashes, stale sockets, permissions, sessions and journals, fingerprints."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgpack
import pytest

from support import BIN, DEMO, ZCCACHE_PY, no_traceback, settle, write
import zccache_wire
from zccache_wire import roundtrip
from zccache.core.daemon import peer_allowed

ALL_CLIENTS = True  # the clients are what these tests are about: each runs with both


def start(zc, **env) -> dict:
    done = zc.run("start", cwd=zc.cache_dir.parent, env=env)
    assert done.returncode == 0, done.stderr
    return status(zc)


def status(zc) -> dict:
    done = zc.run("status", "--json", cwd=zc.cache_dir.parent)
    return json.loads(done.stdout)


def sock_path(zc) -> str:
    return zccache_wire.daemon_paths(zc.env)[1]


def ask(zc, kind: str, **fields):
    return roundtrip(sock_path(zc), {"t": kind, **fields}, timeout=60)


def compile_request(cwd: Path, env, *args: str) -> dict:
    return {"client_pid": os.getpid(), "working_dir": str(cwd), "compiler": "/usr/bin/gcc", "args": list(args),
            "cwd": str(cwd), "env": [[k, v] for k, v in env.items()], "stdin": b""}


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.02)
    return False


def test_wire_codec_agrees_with_msgpack():
    sample = {"t": "CompileEphemeral", "n": [0, 1, 127, 128, 65535, 2**40, -1, -33, -2**40], "s": "é" * 40,
              "b": b"\x00\xff" * 300, "f": 1.5, "none": None, "yes": True, "no": False, "nested": {"a": [[], {}]}}
    assert msgpack.unpackb(zccache_wire.pack(sample), raw=False) == sample
    assert zccache_wire.unpack(msgpack.packb(sample, use_bin_type=True)) == sample
    with pytest.raises(zccache_wire.WireError):
        zccache_wire.unpack(zccache_wire.pack(sample)[:-3])


def test_every_request_type(zc, tmp_path):
    st = start(zc)
    assert st["running"] and st["cache_dir"] == str(zc.cache_dir)
    assert ask(zc, "Ping") == {"t": "Pong"}
    # Store / Lookup
    art = {"outputs": [["a.o", b"\x7fELF..."]], "stdout": b"", "stderr": b"w", "exit_code": 0}
    assert ask(zc, "Lookup", cache_key="k1") == {"t": "LookupResult", "found": False, "artifact": None}
    assert ask(zc, "Store", cache_key="k1", artifact=art)["t"] == "StoreResult"
    found = ask(zc, "Lookup", cache_key="k1")
    assert found["found"] and found["artifact"] == art
    assert ask(zc, "Store", cache_key="k2", artifact={"outputs": "nope"})["t"] == "Error"
    # CompileEphemeral: miss then hit, the object written by the daemon
    write(tmp_path / "a.c", "int a(void) { return 3; }\n")
    time.sleep(0.05)  # a source written in the compile's own clock tick is not stored (it may be mid-edit)
    req = compile_request(tmp_path, zc.env, "-c", "a.c", "-o", "a.o")
    first = ask(zc, "CompileEphemeral", **req)
    assert first["t"] == "CompileResult" and first["exit_code"] == 0 and first["cached"] is False
    obj = (tmp_path / "a.o").read_bytes()
    (tmp_path / "a.o").unlink()
    second = ask(zc, "CompileEphemeral", **req)
    assert second["cached"] is True and (tmp_path / "a.o").read_bytes() == obj
    # a passthrough is handed back to the client to exec
    pre = ask(zc, "CompileEphemeral", **compile_request(tmp_path, zc.env, "-E", "a.c", "-o", "a.i"))
    assert pre["passthrough"] is True and not (tmp_path / "a.i").exists()
    # sessions
    journal = tmp_path / "j.jsonl"
    started = ask(zc, "SessionStart", client_pid=os.getpid(), working_dir=str(tmp_path), log_file=None,
                  track_stats=True, journal_path=str(journal), profile=False, private_daemon=None)
    sid = started["session_id"]
    assert started["t"] == "SessionStarted" and started["journal_path"] == str(journal)
    assert ask(zc, "Compile", session_id=sid, args=["-c", "a.c", "-o", "a.o"], cwd=str(tmp_path),
               compiler="/usr/bin/gcc", env=[[k, v] for k, v in zc.env.items()], stdin=b"")["cached"] is True
    stats = ask(zc, "SessionStats", session_id=sid)["stats"]
    assert stats["compilations"] == 1 and stats["hits"] == 1
    ended = ask(zc, "SessionEnd", session_id=sid)
    assert ended["t"] == "SessionEnded" and ended["stats"]["hits"] == 1
    assert json.loads(journal.read_text().splitlines()[0])["result"] == "hit"
    assert ask(zc, "SessionEnd", session_id=sid)["t"] == "Error"
    assert ask(zc, "SessionStart", client_pid=1, working_dir=str(tmp_path), log_file=None, track_stats=True,
               journal_path=str(tmp_path / "j.txt"), profile=False, private_daemon=None)["t"] == "Error"
    # LinkEphemeral: an archive, then the same again from the cache
    time.sleep(0.05)  # a.o was just restored: an input newer than the run's start is not stored
    for cached in (False, True):
        (tmp_path / "liba.a").unlink(missing_ok=True)
        linked = ask(zc, "LinkEphemeral", client_pid=1, tool="/usr/bin/ar", args=["rcs", "liba.a", "a.o"],
                     cwd=str(tmp_path), env=None)
        assert linked["t"] == "LinkResult" and linked["exit_code"] == 0 and (tmp_path / "liba.a").is_file(), linked
        assert linked["cached"] is cached
    # fingerprints
    write(tmp_path / "src" / "x.c", "1")
    fp = dict(cache_file=str(tmp_path / "fp.json"), cache_type="hash", root=str(tmp_path / "src"), extensions=["c"],
              include_globs=[], exclude=[])
    assert ask(zc, "FingerprintCheck", **fp)["decision"] == "run"
    assert ask(zc, "FingerprintMarkSuccess", cache_file=fp["cache_file"]) == {"t": "FingerprintAck"}
    assert ask(zc, "FingerprintCheck", **fp)["decision"] == "skip"
    assert ask(zc, "FingerprintMarkFailure", cache_file=fp["cache_file"]) == {"t": "FingerprintAck"}
    assert ask(zc, "FingerprintCheck", **fp)["reason"] == "last run failed"
    assert ask(zc, "FingerprintInvalidate", cache_file=fp["cache_file"]) == {"t": "FingerprintAck"}
    assert ask(zc, "FingerprintCheck", **fp)["reason"] == "no previous success"
    assert ask(zc, "ListRustArtifacts") == {"t": "RustArtifactList", "artifacts": []}
    # GenericToolExec: a hit does not start the tool
    tool = write(tmp_path / "tool.sh", '#!/bin/sh\necho run >> log.txt\ntr a-z A-Z < in.txt > out.txt\necho done\n')
    tool.chmod(0o755)
    write(tmp_path / "in.txt", "abc\n")
    gen = dict(tool=str(tool), args=[], cwd=str(tmp_path), env=[], input_files=["in.txt"], input_extra=b"",
               output_streams={"stdout": True, "stderr": True}, output_files=["out.txt"], tool_hash=None,
               cache_policy="normal", cwd_in_key=False, include_scan_files=[], include_dirs=[],
               system_include_dirs=[], iquote_dirs=[], depfile=None, non_deterministic=False, key_args_filter=[])
    g1 = ask(zc, "GenericToolExec", **gen)
    (tmp_path / "out.txt").unlink()
    g2 = ask(zc, "GenericToolExec", **gen)
    assert (g1["cached"], g2["cached"]) == (False, True) and g2["stdout"] == b"done\n"
    assert (tmp_path / "out.txt").read_text() == "ABC\n" and (tmp_path / "log.txt").read_text() == "run\n"
    assert ask(zc, "GenericToolExec", **{**gen, "cache_policy": "sometimes"})["t"] == "Error"
    # the exec family's keys: a changed input misses; read_only never stores, write_only never reads
    write(tmp_path / "in.txt", "xyz\n")
    g3 = ask(zc, "GenericToolExec", **{**gen, "cache_policy": "read_only"})
    g4 = ask(zc, "GenericToolExec", **{**gen, "cache_policy": "read_only"})
    assert (g3["cached"], g4["cached"]) == (False, False) and (tmp_path / "out.txt").read_text() == "XYZ\n"
    g5 = ask(zc, "GenericToolExec", **{**gen, "cache_policy": "write_only"})
    g6 = ask(zc, "GenericToolExec", **gen)
    assert (g5["cached"], g6["cached"]) == (False, True) and (tmp_path / "log.txt").read_text() == "run\n" * 4
    # a depfile the tool writes lists what else it read
    dep_tool = write(tmp_path / "dep.sh", '#!/bin/sh\ncat in.txt extra.txt > out2.txt\necho "out2.txt: extra.txt" > out2.d\n')
    dep_tool.chmod(0o755)
    write(tmp_path / "extra.txt", "one\n")
    dep = {**gen, "tool": str(dep_tool), "output_files": ["out2.txt"], "depfile": "out2.d"}
    settle()  # as a build does after an edit: the run after the tick of the last write
    assert [ask(zc, "GenericToolExec", **dep)["cached"] for _ in range(2)] == [False, True]
    write(tmp_path / "extra.txt", "two\n")
    settle()
    assert ask(zc, "GenericToolExec", **dep)["cached"] is False
    assert (tmp_path / "out2.txt").read_text() == "xyz\ntwo\n"
    # ReleaseWorktreeHandles
    s2 = ask(zc, "SessionStart", client_pid=1, working_dir=str(tmp_path / "wt"), log_file=None, track_stats=False,
             journal_path=None, profile=False, private_daemon=None)["session_id"]
    released = ask(zc, "ReleaseWorktreeHandles", path=str(tmp_path / "wt"))
    assert released["sessions_dropped"] == [s2] and released["released"] == 1
    assert ask(zc, "ReleaseWorktreeHandles", path=str(zc.cache_dir.parent))["t"] == "Error"
    # Clear
    cleared = ask(zc, "Clear")
    assert cleared["t"] == "Cleared" and cleared["artifacts_removed"] > 0
    assert ask(zc, "Lookup", cache_key="k1")["found"] is False
    # unknown and malformed messages
    assert ask(zc, "Frobnicate")["t"] == "Error"
    assert ask(zc, "Lookup")["message"] == "Lookup: missing field 'cache_key'"
    # Shutdown
    pid = st["pid"]
    assert ask(zc, "Shutdown") == {"t": "ShuttingDown"}
    assert wait_gone(pid)
    assert not os.path.exists(sock_path(zc))


def raw(zc, data: bytes) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path(zc))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    s.close()
    return out


def test_bad_frames_never_kill_the_daemon(zc):
    pid = start(zc)["pid"]
    answer = raw(zc, zccache_wire.frame(b"\xc1\xc1 not msgpack"))
    assert zccache_wire.unpack(answer[4:])["t"] == "Error"
    answer = raw(zc, (2**31).to_bytes(4, "big") + b"xx")  # oversized
    assert b"over the limit" in answer
    assert raw(zc, (100).to_bytes(4, "big") + b"short") == b""  # truncated: closed
    assert raw(zc, zccache_wire.frame(zccache_wire.pack([1, 2, 3])))[4:] and True
    assert raw(zc, b"\x00") == b""
    assert ask(zc, "Ping") == {"t": "Pong"}
    st = status(zc)
    assert st["pid"] == pid and st["bad_frames"] >= 3


def test_socket_dir_and_socket_are_private(zc, tmp_path):
    start(zc)
    directory, sock = zccache_wire.daemon_paths(zc.env)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(sock).st_mode) & 0o077 == 0
    assert os.stat(directory).st_uid == os.getuid()


def test_shared_runtime_dir_is_not_trusted(zc, tmp_path):
    runtime = tmp_path / "open"
    runtime.mkdir()
    runtime.chmod(0o777)
    write(tmp_path / "a.c", "int a;\n")
    env = {"ZCCACHE_RUNTIME_DIR": str(runtime)}
    for _ in range(2):
        done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env)
        assert done.returncode == 0 and done.stderr == b""
    assert list(runtime.iterdir()) == []  # no daemon, no socket in a directory others can write
    assert zc.stats()["hits"] == 1  # compiled in process, still cached


def test_peer_uid_check():
    me = os.getuid()
    assert peer_allowed(struct.pack("3i", 1, me, 0), me)
    assert not peer_allowed(struct.pack("3i", 1, me + 1, 0), me)
    assert not peer_allowed(b"", me)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
def test_other_users_are_refused(zc, tmp_path):
    """A real connection from another uid (nobody) is closed unanswered."""
    start(zc)
    listener_dir = Path(zccache_wire.daemon_paths(zc.env)[0])
    os.chmod(listener_dir, 0o711)  # let nobody reach the socket at all, to see the uid check itself
    os.chmod(sock_path(zc), 0o777)
    try:
        child = subprocess.run(
            [sys.executable, "-c", f"""
import os, socket
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect({sock_path(zc)!r})
import time; time.sleep(0.3)
try:
    s.sendall(bytes.fromhex('00000004') + b'\\x81\\xa1t\\xc0')
    data = s.recv(100)
except (ConnectionResetError, BrokenPipeError):
    data = b''
print('answer', len(data))
"""], capture_output=True, text=True, timeout=30)
        assert child.returncode == 0, child.stderr
        assert child.stdout.strip() == "answer 0"
    finally:
        os.chmod(listener_dir, 0o700)
    assert status(zc)["rejected_peers"] >= 1


def test_stale_socket_from_crashed_daemon_is_recovered(zc, tmp_path):
    pid = start(zc)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert wait_gone(pid)
    assert os.path.exists(sock_path(zc))  # left behind
    write(tmp_path / "a.c", "int a;\n")
    done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not status(zc).get("running"):
        time.sleep(0.1)
    st = status(zc)
    assert st["running"] and st["pid"] != pid


def test_idle_daemon_stops_itself(zc, tmp_path):
    pid = start(zc, ZCCACHE_IDLE_TIMEOUT="1")["pid"]
    assert wait_gone(pid, 15)


def test_backpressure_is_honoured(zc, tmp_path):
    start(zc, ZCCACHE_MAX_JOBS="1")
    n = 6
    for i in range(n):
        write(tmp_path / f"s{i}.c", f"int s{i}(int x) {{ return x * {i}; }}\n" + "int pad%d;\n" % i * 200)

    def one(i):
        return zc.run("gcc", "-O2", "-c", f"s{i}.c", "-o", f"s{i}.o", cwd=tmp_path)

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    assert all(r.returncode == 0 and r.stderr == b"" for r in results)
    st = status(zc)
    assert st["backpressure"] >= 1 and st["misses"] == n


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the Python client's side: test_launcher's stopped daemon
def test_daemon_killed_during_parallel_build(zc, tmp_path):
    cmake = next(p for p in (os.path.join(BIN, "cmake"), "/usr/bin/cmake") if os.path.exists(p))
    build = tmp_path / "b"
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(DEMO), "-B", str(build), *launch], env=zc.env,
                          capture_output=True).returncode == 0
    pid = start(zc)["pid"]
    proc = subprocess.Popen([cmake, "--build", str(build), "-j", "2"], env=zc.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    time.sleep(0.8)
    os.kill(pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    plain = tmp_path / "plain"
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(DEMO), "-B", str(plain)], env=zc.env,
                          capture_output=True).returncode == 0
    assert subprocess.run([cmake, "--build", str(plain), "-j", "2"], env=zc.env, capture_output=True).returncode == 0
    objects = sorted(p.relative_to(plain) for p in plain.rglob("*.o"))
    assert len(objects) == 26
    for rel in objects:
        assert (build / rel).read_bytes() == (plain / rel).read_bytes(), rel
    assert subprocess.run([str(build / "app" / "zdemo")], capture_output=True).stdout.endswith(b"checksum 25240\n")


def test_session_journal_and_analyze(zc, tmp_path):
    journal = tmp_path / "build.jsonl"
    done = zc.run("session-start", "--journal", str(journal), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sid, export = done.stdout.decode().splitlines()
    assert export == f"export ZCCACHE_SESSION_ID={sid}"
    env = {"ZCCACHE_SESSION_ID": sid}
    write(tmp_path / "a.c", "int a;\n")
    write(tmp_path / "t.c", "const char *t = __TIME__;\n")
    for args in (["-c", "a.c", "-o", "a.o"], ["-c", "a.c", "-o", "a.o"], ["-c", "t.c", "-o", "t.o"]):
        assert zc.run("gcc", *args, cwd=tmp_path, env=env).returncode == 0
    stats = json.loads(zc.run("session-stats", sid, "--json", cwd=tmp_path).stdout)
    assert (stats["compilations"], stats["hits"], stats["misses"], stats["uncacheable"]) == (3, 1, 1, 1)
    shown = zc.run("session-stats", sid, cwd=tmp_path, env={"COLUMNS": "200"}).stdout.decode()
    assert "Hit rate" in shown and "50.0 %" in shown  # a table, as zccache stats prints
    ended = zc.run("session-end", sid, "--json", cwd=tmp_path)
    assert ended.returncode == 0 and json.loads(ended.stdout)["hits"] == 1
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [line["result"] for line in lines] == ["miss", "hit", "passthrough"]
    assert lines[0]["cache_key"] == lines[1]["cache_key"] and lines[2]["reason"] == "time macros"
    report = zc.run("analyze", str(journal), cwd=tmp_path, env={"COLUMNS": "300"})
    assert report.returncode == 0
    text = report.stdout.decode()
    assert "50.0 %" in text and "passthrough: time macros" in text and str(tmp_path / "a.c") in text
    assert zc.run("session-stats", sid, cwd=tmp_path).returncode == 1
    missing = zc.run("analyze", str(tmp_path / "none.jsonl"), cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith(b"zccache: cannot read")
    no_traceback(missing)


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # `zccache fp` is the CLI's under either client
@pytest.mark.parametrize("mode", ["daemon", "in-process"])
@pytest.mark.parametrize("kind", ["hash", "two-layer"])
def test_fingerprint_decisions(zc, tmp_path, kind, mode):
    env = {"ZCCACHE_DAEMON": "0"} if mode == "in-process" else {}
    root = tmp_path / "src"
    write(root / "a.c", "a")
    write(root / "b.h", "b")
    write(root / "skip.txt", "x")
    write(root / "build" / "gen.c", "ignored")
    cache = str(tmp_path / ".cache" / "lint.json")

    def check():
        done = zc.run("fp", "check", "--root", str(root), "--ext", "c,h", "--exclude", "build", "--cache-file", cache,
                      "--type", kind, "--json", cwd=tmp_path, env=env)
        no_traceback(done)
        result = json.loads(done.stdout)
        assert done.returncode == (0 if result["decision"] == "skip" else 1)
        return result

    def success():
        assert zc.run("fp", "mark-success", "--cache-file", cache, cwd=tmp_path, env=env).returncode == 0

    first = check()
    assert first["decision"] == "run" and first["changed_files"] == ["a.c", "b.h"]
    success()
    assert check()["decision"] == "skip"
    (root / "skip.txt").write_text("changed, but not selected")
    assert check()["decision"] == "skip"
    (root / "a.c").write_text("A")  # edit, same size
    assert check() == {"decision": "run", "reason": "files changed", "changed_files": ["a.c"]}
    success()
    write(root / "sub" / "new.c", "n")  # addition
    assert check()["changed_files"] == ["sub/new.c"]
    success()
    (root / "b.h").unlink()  # deletion
    assert check()["changed_files"] == ["b.h"]
    success()
    (root / "sub" / "new.c").rename(root / "sub" / "moved.c")  # rename
    assert check()["changed_files"] == ["sub/moved.c", "sub/new.c"]
    assert zc.run("fp", "mark-failure", "--cache-file", cache, cwd=tmp_path, env=env).returncode == 0
    assert check()["reason"] == "last run failed"
    success()
    assert check()["decision"] == "skip"
    assert zc.run("fp", "invalidate", "--cache-file", cache, cwd=tmp_path, env=env).returncode == 0
    assert check()["reason"] == "no previous success"


def test_hit_path_imports_nothing_heavy(zc, tmp_path):
    start(zc)
    write(tmp_path / "a.c", "int a;\n")
    for _ in range(2):
        assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    python = os.path.join(BIN, "python")
    done = subprocess.run([python, "-X", "importtime", ZCCACHE_PY, "gcc", "-c", "a.c", "-o", "a.o"], cwd=tmp_path,
                          env=zc.env, capture_output=True)
    assert done.returncode == 0
    imported = {line.split("|")[-1].strip() for line in done.stderr.decode().splitlines() if "|" in line}
    assert {"zccache_client", "zccache_wire"} <= imported
    for heavy in ("pluggy", "diskcache", "rich", "msgpack", "sqlite3", "zccache.core.engine", "zccache.core.cli",
                  "subprocess", "typing"):
        assert heavy not in imported, heavy
    assert status(zc)["hits"] >= 2


def test_manifest_held_in_memory_yields_to_one_written_by_another_process(zc, tmp_path):
    """The daemon keeps manifests in memory; an entry another process added since
    (here a compile with ZCCACHE_DAEMON=0) must still give a hit, and the right bytes."""
    start(zc)
    write(tmp_path / "h.h", "#define V 1\n")
    write(tmp_path / "a.c", '#include "h.h"\nint a(void) { return V; }\n')
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0  # daemon: miss, manifest [v1]
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0  # daemon: hit, manifest held
    time.sleep(0.01)
    write(tmp_path / "h.h", "#define V 2\n")
    in_process = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env={"ZCCACHE_DAEMON": "0"})
    assert in_process.returncode == 0, in_process.stderr  # miss in process: manifest [v2, v1] on disk
    before = status(zc)
    (tmp_path / "a.o").unlink()
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    after = status(zc)
    assert after["hits"] == before["hits"] + 1 and after["misses"] == before["misses"]
    assert zc.plain("gcc", "-c", "a.c", "-o", "ref.o", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.o").read_bytes() == (tmp_path / "ref.o").read_bytes()


def test_clear_reaches_a_running_daemon_even_when_not_using_it(zc, tmp_path):
    """The daemon holds results in memory: a clear must empty that too, or it would
    go on serving what the user just cleared."""
    start(zc)
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    for _ in range(2):
        assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert status(zc)["hits"] == 1  # the result is now held in memory
    done = zc.run("clear", cwd=tmp_path, env={"ZCCACHE_DAEMON": "0"})
    assert done.returncode == 0, done.stderr
    before = status(zc)
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    after = status(zc)
    assert after["misses"] == before["misses"] + 1 and after["hits"] == before["hits"]


def test_a_relative_cache_dir_is_the_commands_cwds(zc, tmp_path):
    """ZCCACHE_CACHE_DIR=rel: the daemon's cache (it runs in /), the CLI's and the
    socket's name are all <the command's cwd>/rel, so stop finds the daemon."""
    work = tmp_path / "work"
    write(work / "a.c", "int a;\n")
    env = {"ZCCACHE_CACHE_DIR": "rel"}
    for _ in range(2):
        done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=work, env=env)
        assert (done.returncode, done.stderr) == (0, b"")
    assert (work / "rel" / "store").is_dir() and not Path("/rel").exists()
    stats = json.loads(zc.run("stats", "--json", cwd=work, env=env).stdout)
    assert (stats["misses"], stats["hits"]) == (1, 1)
    assert zc.run("stop", cwd=work, env=env).stdout == b"zccache daemon stopped\n"


def test_the_daemon_a_compile_starts_holds_none_of_the_builds_pipes(zc, tmp_path):
    """configure scripts keep their stdout open as fd 6 (`exec 6>&1`): the daemon the
    first compile starts must not inherit it, or the build waits for its idle exit."""
    write(tmp_path / "a.c", "int a;\n")
    script = f'exec 6>&1; exec 7>&2; "{zc.command}" gcc -c a.c -o a.o'
    started = time.monotonic()
    done = subprocess.run(["sh", "-c", script], cwd=tmp_path, env=zc.env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30  # the daemon idles for 120 s in the tests
    assert json.loads(zc.run("status", "--json", cwd=tmp_path).stdout)["running"] is True


def test_zeroing_the_statistics_zeroes_the_daemons_own(zc, tmp_path):
    """`zccache -z`, as ccache's: `zccache status` no longer shows the old hits either."""
    write(tmp_path / "a.c", "int a;\n")
    for _ in range(2):
        assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert status(zc)["hits"] == 1
    assert zc.run("-z", cwd=tmp_path).stdout == b"Statistics zeroed\n"
    assert (status(zc)["hits"], status(zc)["compiles"]) == (0, 0)
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (0, 0)
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert (status(zc)["hits"], zc.stats()["hits"]) == (1, 1)


def test_a_daemon_whose_first_tmpdir_is_gone_still_serves_misses(zc, tmp_path):
    """`zccache pip` starts the daemon with a TMPDIR of its own, removed when pip is
    done, and the daemon outlives it. Its misses must not need that directory: they
    failed, and every miss of the next build fell back to the slow in-process client
    (PyNaCl's warm build took longer than its cold one)."""
    gone = tmp_path / "pip-tmp"
    gone.mkdir()
    write(tmp_path / "a.c", "int a;\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env={"TMPDIR": str(gone)}).returncode == 0
    shutil.rmtree(gone)
    for name in ("b", "c"):
        write(tmp_path / f"{name}.c", f"int {name};\n")
        done = zc.run("gcc", "-c", f"{name}.c", "-o", f"{name}.o", cwd=tmp_path, env={"TMPDIR": str(gone)})
        assert done.returncode == 0 and (tmp_path / f"{name}.o").exists()
    write(tmp_path / "m.c", "int main(void) { return 0; }\n")
    assert zc.run("gcc", "-c", "m.c", "-o", "m.o", cwd=tmp_path).returncode == 0
    assert zc.run("gcc", "a.o", "m.o", "-o", "app", cwd=tmp_path).returncode == 0  # a link: its LTO scratch dir
    st = status(zc)
    assert st["compiles"] == 5, st  # every one served by the daemon, none by the fallback
    assert zc.stats()["links"]["misses"] == 1
    log = next(Path(zc.env["ZCCACHE_RUNTIME_DIR"]).glob("d-*.log")).read_text()
    assert "failed" not in log, log


def test_a_client_waits_for_a_daemon_that_is_starting_instead_of_starting_another(zc, tmp_path):
    """A daemon takes its lock before its imports. A client that finds the lock held
    waits for the socket; another daemon spawned then would only find the lock taken,
    after an interpreter and imports that slowed the one starting. When the holder
    lets go without serving, the waiting client starts one itself."""
    import fcntl

    directory, sock = zccache_wire.daemon_paths(zc.env)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    log = sock[: -len(".sock")] + ".log"
    wait = [sys.executable, "-c", f"import zccache_wire; print(zccache_wire.start_and_wait({sock!r}, {{}}))"]
    held = os.open(sock + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = subprocess.run([*wait[:2], wait[2].format(0.5)], env=zc.env, capture_output=True, text=True)
        assert done.stdout.strip() == "False", done.stderr
        assert not os.path.exists(log)  # no daemon was spawned (its log is opened first)
        waiting = subprocess.Popen([*wait[:2], wait[2].format(30)], env=zc.env, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert waiting.poll() is None  # still waiting for the one that holds the lock
    finally:
        os.close(held)  # gone without serving: the waiting client starts a daemon
    assert waiting.communicate(timeout=60)[0].strip() == "True"
    assert status(zc)["running"]
