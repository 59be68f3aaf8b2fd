"""A ccache user's habits, end to end: ccache's options with ccache's meanings, bad
settings said once, an unusable remote said once, limits that hold, a runtime
directory that keeps only what runs."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from support import CLIENTS, no_traceback, write


BIG = "".join(f"int big_@_{i}(int x) {{ return x * {i} + {i % 7}; }}\n" for i in range(400))


def compile_ok(zc, cwd: Path, source: str, env=None) -> bytes:
    done = zc.run("gcc", "-c", source, "-o", source[:-2] + ".o", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return done.stderr


def sources(cwd: Path, n: int, body: str = "int f@(void) { return @; }\n") -> list[str]:
    names = []
    for i in range(n):
        write(cwd / f"s{i}.c", body.replace("@", str(i)))
        names.append(f"s{i}.c")
    return names


@pytest.mark.parametrize("zc", CLIENTS, indirect=True)  # what the daemon says reaches the user through either client
def test_bad_settings_are_said_once_per_daemon_start_and_the_build_goes_on(zc, tmp_path):
    bad = {"ZCCACHE_DAEMON_TIMEOUT": "abc", "ZCCACHE_IDLE_TIMEOUT": "soon", "ZCCACHE_DIRECT": "maybe",
           "ZCCACHE_SLOPPINESS": "bogus", "ZCCACHE_MAX_JOBS": "-3", "ZCCACHE_BASEDIR": "relative"}
    names = sources(tmp_path, 3)
    said = compile_ok(zc, tmp_path, names[0], env=bad).decode().splitlines()
    assert len(said) == len(bad), said
    for name, value in bad.items():
        assert any(line.startswith(f"zccache: {name}={value!r} is not ") for line in said), name
    assert compile_ok(zc, tmp_path, names[1], env=bad) == b""  # the same daemon: said already
    assert compile_ok(zc, tmp_path, names[0], env=bad) == b""
    assert zc.stats()["hits"] == 1  # the bad values were replaced, and caching went on
    config = zc.run("config", cwd=tmp_path, env=bad).stdout.decode()
    assert sum(line.startswith("# bad setting: ") for line in config.splitlines()) == len(bad)
    doctor = zc.run("doctor", "--compiler", "gcc", cwd=tmp_path, env=bad)
    assert doctor.returncode == 1
    assert sum(line.startswith("FIX  bad setting: ") for line in doctor.stdout.decode().splitlines()) == len(bad)
    # a passthrough compile hears them too (a new daemon: stopped first)
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    done = zc.run("gcc", "-E", names[2], cwd=tmp_path, env=bad)
    assert done.returncode == 0 and b"f2" in done.stdout
    assert done.stderr.count(b"zccache: ") == len(bad)


def test_a_misspelled_key_in_zccache_conf_is_named(zc, tmp_path):
    zc.cache_dir.mkdir(parents=True, exist_ok=True)
    conf = zc.cache_dir / "zccache.conf"
    conf.write_text("max_size = 2GiB\nZCCACHE_MAXSZIE = 1G\n")
    conf.chmod(0o644)
    names = sources(tmp_path, 2)
    said = compile_ok(zc, tmp_path, names[0])
    assert said == f"zccache: {conf}:2: unknown setting ZCCACHE_MAXSZIE (ignored)\n".encode()
    assert compile_ok(zc, tmp_path, names[1]) == b""
    assert zc.stats()["max_size"] == 2 << 30  # ccache's name on line 1 counts


def test_an_unusable_remote_is_said_once_and_costs_one_request(zc, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    names = sources(tmp_path, 4)
    for url, expected in (("nonsense", b"unknown scheme"), (f"redis://127.0.0.1:{port}/0", b"failed")):
        env = {"ZCCACHE_REMOTE": url, "ZCCACHE_REMOTE_TIMEOUT": "1"}
        zc.run("-C", cwd=tmp_path, env=env)
        zc.zero()
        said = compile_ok(zc, tmp_path, names[0], env=env)
        assert said.count(b"\n") == 1 and expected in said and b"going on with the local cache" in said, said
        for name in names[1:]:
            assert compile_ok(zc, tmp_path, name, env=env) == b""
        remote = zc.stats(env=env)["remote"]
        # a remote that never answered: its first failure opens the breaker
        assert remote["errors"] <= 1 and (remote["errors"] == 0 or remote["skipped"] >= 3), remote


def test_ccache_options_run_in_ccache_order(zc, tmp_path):
    other = tmp_path / "other-cache"
    names = sources(tmp_path, 2)
    compile_ok(zc, tmp_path, names[0])
    compile_ok(zc, tmp_path, names[0])
    shown = zc.run("-z", "-s", cwd=tmp_path)  # zeroed, then shown
    assert shown.returncode == 0 and b"Hit rate" in shown.stdout and b"0.0 %" in shown.stdout
    # -d is taken first, wherever it stands
    done = zc.run("-M", "1GiB", "-F", "50", "-s", "-d", str(other), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [b"Set cache size limit to 1.0 GiB", b"Set cache file limit to 50"]
    assert b"Cache directory" in done.stdout
    assert zc.run("-d", str(other), "-k", "max_files", cwd=tmp_path).stdout == b"50\n"
    assert (other / "zccache.conf").read_text() == "ZCCACHE_MAXSIZE = 1GiB\nZCCACHE_MAXFILES = 50\n"
    assert not (zc.cache_dir / "zccache.conf").exists()
    # -o and -k with ccache's names and ours; --config-path names another file
    assert zc.run("-o", "max_size=20G", "-o", "ZCCACHE_DIRECT=false", cwd=tmp_path).returncode == 0
    assert zc.run("-k", "max_size", cwd=tmp_path).stdout == b"20G\n"
    assert zc.run("-k", "direct_mode", cwd=tmp_path).stdout == b"false\n"
    assert zc.run("-k", "base_dir", cwd=tmp_path).stdout == b"\n"
    elsewhere = tmp_path / "team.conf"
    assert zc.run("--config-path", str(elsewhere), "-o", "sloppiness=time_macros", cwd=tmp_path).returncode == 0
    assert elsewhere.read_text() == "ZCCACHE_SLOPPINESS = time_macros\n"
    verbose = zc.run("-s", "-v", cwd=tmp_path)
    assert b"Settings file" in verbose.stdout and b"Entries limit" in verbose.stdout
    printed = zc.run("--print-stats", cwd=tmp_path).stdout.decode().splitlines()
    assert "cache_miss\t0" in printed and any(line.startswith("files_in_cache\t") for line in printed)
    assert zc.run("--print-version", cwd=tmp_path).stdout.strip().count(b".") == 2
    # refused, or wrong: one line, never a traceback
    for args, rc, text in ((["-X", "fast"], 1, b"is not a zstd level"), (["--inspect", "x"], 1, b"not files"),
                           (["-o", "compiler_check=content"], 1, b"no setting like ccache's compiler_check"),
                           (["-o", "max_size=lots"], 1, b"is not a size"), (["--evict-older-than", "7w"], 1, b"7d"),
                           (["-M"], 2, b"-M needs SIZE"), (["--frobnicate"], 2, b"unknown option --frobnicate")):
        done = zc.run(*args, cwd=tmp_path)
        assert done.returncode == rc and text in done.stderr, (args, done.stderr)
        assert done.stderr.count(b"\n") <= 2
        no_traceback(done)


def test_file_limit_and_age_evict(zc, tmp_path):
    names = sources(tmp_path, 6)
    assert zc.run("-F", "4", cwd=tmp_path).returncode == 0
    for name in names:
        compile_ok(zc, tmp_path, name)
        assert zc.stats()["entries"] <= 4  # a daemon started before -F reads it with the next request
    compile_ok(zc, tmp_path, names[-1])
    assert zc.stats()["hits"] == 1  # the newest stays
    assert zc.run("-F", "0", cwd=tmp_path).stdout == b"Unset cache file limit\n"
    # the daemon holds in memory what it wrote (a copy that stays right): what is tested is the disk
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    for name in names:
        compile_ok(zc, tmp_path, name)
    held = zc.stats()["entries"]
    assert held > 4
    time.sleep(2.1)
    dry = zc.run("--evict-older-than", "1s", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0 and dry.stdout.startswith(b"Would evict ") and zc.stats()["entries"] == held
    done = zc.run("--evict-older-than", "1s", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"Evicted ")
    assert zc.stats()["entries"] < held
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    zc.zero()
    compile_ok(zc, tmp_path, names[0])
    assert zc.stats()["misses"] == 1


def test_a_small_size_limit_is_met_after_every_miss(zc, tmp_path):
    env = {"ZCCACHE_MAXSIZE": "100KiB"}
    names = sources(tmp_path, 8, BIG)
    for name in names:
        compile_ok(zc, tmp_path, name, env=env)
        stats = zc.stats(env=env)
        assert stats["cache_size"] <= 100 << 10, stats["cache_size"]
    assert zc.run("-c", cwd=tmp_path, env=env).returncode == 0


def _files(runtime: Path) -> list[str]:
    return sorted(p.name for p in runtime.iterdir())


def test_the_runtime_directory_keeps_only_running_daemons(zc, tmp_path):
    runtime = Path(zc.env["ZCCACHE_RUNTIME_DIR"])
    names = sources(tmp_path, 1)
    compile_ok(zc, tmp_path, names[0])
    assert len(_files(runtime)) == 3  # socket, lock, log
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    assert _files(runtime) == []  # a daemon that stops takes its files with it
    # one killed leaves its files; the next daemon to start removes them
    compile_ok(zc, tmp_path, names[0], env={"ZCCACHE_CACHE_DIR": str(tmp_path / "c1")})
    status = zc.run("status", "--json", cwd=tmp_path, env={"ZCCACHE_CACHE_DIR": str(tmp_path / "c1")})
    pid = int(status.stdout.decode().split('"pid": ')[1].split(",")[0])
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    dead = _files(runtime)
    assert len(dead) == 3
    old = time.time() - 3600
    for name in dead:
        os.utime(runtime / name, (old, old), follow_symlinks=False)
    compile_ok(zc, tmp_path, names[0])  # another cache directory: a new daemon
    assert not set(dead) & set(_files(runtime)) and len(_files(runtime)) == 3
    # stop --all: every daemon of the user, whatever its cache directory or remote
    compile_ok(zc, tmp_path, names[0], env={"ZCCACHE_CACHE_DIR": str(tmp_path / "c2")})
    assert len(_files(runtime)) == 6
    done = zc.run("stop", "--all", cwd=tmp_path)
    assert done.stdout == b"Stopped 2 zccache daemons\n" and _files(runtime) == []
    assert zc.run("--stop-storage-helpers", cwd=tmp_path).stdout == b"Stopped 0 zccache daemons\n"
