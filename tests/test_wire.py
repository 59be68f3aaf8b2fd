"""The two clients are one client: the C launcher and zccache_client.py, run in their
dry-run mode (ZCCACHE_WIRE_DUMP) over a matrix of environments, name the same socket,
wait the same silence and write the same request bytes; and the launcher was built
from the definitions in zccache_wire.py (its header is generated, not kept)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import zccache_wire
from support import ROOT, ZCCACHE, ZCCACHE_PY, is_native

HOME = "/tmp/zc-wire-home"
CASES: dict[str, dict[str, str | None]] = {
    "absolute cache dir": {"ZCCACHE_CACHE_DIR": "/tmp/zc-wire/cache"},
    "relative cache dir": {"ZCCACHE_CACHE_DIR": "rel/cache"},
    "cache dir with dots": {"ZCCACHE_CACHE_DIR": "/tmp/zc-wire/../zc-wire/./cache/"},
    "home cache dir": {"ZCCACHE_CACHE_DIR": "~/zc"},
    "ZCCACHE_DIR": {"ZCCACHE_CACHE_DIR": None, "ZCCACHE_DIR": "/tmp/zc-wire/other"},
    "empty cache dir": {"ZCCACHE_CACHE_DIR": ""},
    "xdg cache home": {"ZCCACHE_CACHE_DIR": None, "XDG_CACHE_HOME": "/tmp/zc-wire/xdg/"},
    "default cache dir": {"ZCCACHE_CACHE_DIR": None, "XDG_CACHE_HOME": None},
    "relative runtime dir": {"ZCCACHE_RUNTIME_DIR": "run"},
    "xdg runtime dir": {"ZCCACHE_RUNTIME_DIR": None, "XDG_RUNTIME_DIR": "/tmp"},
    "missing xdg runtime dir": {"ZCCACHE_RUNTIME_DIR": None, "XDG_RUNTIME_DIR": "/nonexistent/run"},
    "timeout fraction": {"ZCCACHE_DAEMON_TIMEOUT": "0.5"},
    "timeout garbage": {"ZCCACHE_DAEMON_TIMEOUT": "abc"},
    "timeout empty": {"ZCCACHE_DAEMON_TIMEOUT": ""},
    "timeout negative": {"ZCCACHE_DAEMON_TIMEOUT": "-3"},
    "timeout exponent": {"ZCCACHE_DAEMON_TIMEOUT": "2e1"},
    "timeout hex": {"ZCCACHE_DAEMON_TIMEOUT": "0x10"},
    "timeout inf": {"ZCCACHE_DAEMON_TIMEOUT": "inf"},
    "timeout underscore": {"ZCCACHE_DAEMON_TIMEOUT": "1_0"},
    "timeout blanks": {"ZCCACHE_DAEMON_TIMEOUT": " 3 "},
    "timeout huge": {"ZCCACHE_DAEMON_TIMEOUT": "99999999"},
    "disable empty": {"ZCCACHE_DISABLE": ""},
    "disable 0": {"ZCCACHE_DISABLE": "0"},
    "disable off blanks": {"ZCCACHE_DISABLE": " Off "},
    "disable 1": {"ZCCACHE_DISABLE": "1"},
    "disable garbage": {"ZCCACHE_DISABLE": "maybe"},
    "daemon empty": {"ZCCACHE_DAEMON": ""},
    "daemon FALSE": {"ZCCACHE_DAEMON": "FALSE"},
    "daemon no blanks": {"ZCCACHE_DAEMON": " no"},
    "daemon yes": {"ZCCACHE_DAEMON": "yes"},
    "remote": {"ZCCACHE_REMOTE": "redis://127.0.0.1:1/0", "ZCCACHE_REMOTE_READONLY": "1"},
    "remote secret": {"ZCCACHE_REMOTE": "s3://b/p", "ZCCACHE_REMOTE_SECRET": "s3cr3t", "ZCCACHE_REMOTE_TIMEOUT": "1"},
    "remote empty": {"ZCCACHE_REMOTE": ""},
    "session": {"ZCCACHE_SESSION_ID": "abc-123"},
    "unicode and long values": {"ZC_NOTE": "é" * 40, "ZC_EMPTY": ""},
    "C locale": {"LC_ALL": None, "LANG": None, "LC_CTYPE": None},
    "LC_ALL": {"LC_ALL": "C"},
    "LC_CTYPE given": {"LC_CTYPE": "C.UTF-8"},
}
ARGS = [["-c", "a.c", "-o", "a.o"], ["-DLONG=" + "x" * 300, "-c", "sp ace.c", "-o", "é.o"], []]


def run_dry(client: str, env: dict[str, str], args: list[str], cwd: Path) -> bytes | None:
    dump = cwd / "dump"  # one name: it is in the environment both clients send
    dump.unlink(missing_ok=True)
    done = subprocess.run([client, "true", *args], cwd=cwd, env={**env, zccache_wire.DUMP_VAR: str(dump)},
                          capture_output=True, timeout=60)
    assert b"Traceback" not in done.stderr
    return dump.read_bytes() if dump.exists() else None


@pytest.fixture(scope="module")
def clients():
    if not is_native(ZCCACHE):
        pytest.fail("bin/zccache is not the native launcher")
    return ZCCACHE, ZCCACHE_PY


@pytest.mark.parametrize("case", list(CASES))
def test_both_clients_send_the_same_bytes_to_the_same_socket(clients, tmp_path, monkeypatch, case):
    native, python = clients
    env = {"PATH": os.environ["PATH"], "HOME": HOME, "ZCCACHE_CACHE_DIR": "/tmp/zc-wire/cache",
           "ZCCACHE_RUNTIME_DIR": "/tmp/zc-wire/run"}
    for name, value in CASES[case].items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    for args in ARGS:
        ours, theirs = run_dry(native, env, args, tmp_path), run_dry(python, env, args, tmp_path)
        assert ours == theirs, case
    wants = zccache_wire.client_wants_daemon(env)
    assert (ours is not None) == wants
    if ours is not None:
        sock, timeout, frame = ours.split(b"\n", 2)
        request = zccache_wire.unpack(frame[4:])
        assert request["compiler"] == "/usr/bin/true" or request["compiler"].endswith("/true")
        assert request["client_pid"] == 0 and request["args"] == ARGS[-1]
        assert timeout == b"timeout_ms=%d" % zccache_wire.timeout_ms(env)
        monkeypatch.chdir(tmp_path)  # relative directories are the client's cwd's
        monkeypatch.setenv("HOME", HOME)
        assert sock.decode() == zccache_wire.daemon_paths(env)[1]


def test_timeouts_mean_the_same(clients):
    cases = {"0.5": 500, "abc": 10000, "": 10000, "-3": 10000, "2e1": 20000, "0x10": 10000, "inf": 10000,
             "1_0": 10000, " 3 ": 3000, "0": 10000}
    for text, ms in cases.items():
        assert zccache_wire.timeout_ms({"ZCCACHE_DAEMON_TIMEOUT": text}) == ms, text


def test_switches_mean_the_same_to_config_and_clients():
    from zccache.core.config import Config

    for value, on in {"": False, "0": False, " Off ": False, "1": True, "maybe": True, "no": False}.items():
        env = {"ZCCACHE_DISABLE": value, "ZCCACHE_CACHE_DIR": "/tmp/zc-wire/cache"}
        assert Config.from_env(env).disabled == on == (not zccache_wire.client_wants_daemon(env)), value


def test_the_launcher_is_built_from_the_definitions():
    """The header the build generated is what zccache_wire.py says now."""
    header = ROOT / "build" / "c-launcher" / "zccache_wire.h"
    assert header.read_text() == zccache_wire.c_header()
    assert "COMMANDS[]" not in (ROOT / "c-launcher" / "zccache.c").read_text()  # no list kept by hand
    for word in zccache_wire.COMMANDS:
        assert f'"{word}"' in header.read_text()
