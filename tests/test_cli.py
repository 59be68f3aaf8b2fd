"""The command line itself: usage, errors, sub-commands."""

from __future__ import annotations

import json
import re

import pytest

from support import no_traceback, write


def test_no_arguments_prints_usage_and_exits_2(zc, tmp_path):
    done = zc.run(cwd=tmp_path)
    assert done.returncode == 2
    assert b"usage: zccache" in done.stderr
    no_traceback(done)


def test_version_and_help(zc, tmp_path):
    done = zc.run("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"zccache ")
    done = zc.run("--help", cwd=tmp_path)
    assert done.returncode == 0
    for command in (b"stats", b"clear", b"cmake-module-dir"):
        assert command in done.stdout


def test_unknown_compiler_exits_127_with_one_line(zc, tmp_path):
    done = zc.run("no-such-cc-xyz", "-c", "a.c", cwd=tmp_path)
    assert done.returncode == 127
    assert done.stderr == b"zccache: compiler 'no-such-cc-xyz' not found\n"


def test_zccache_named_as_its_own_compiler_is_refused(zc, tmp_path):
    """`zccache zccache gcc ...` (a launcher and a CC both set to zccache) must not run
    the command as a compiler: one clear line, with and without the daemon."""
    from support import ZCCACHE

    write(tmp_path / "a.c", "int a;\n")
    for env in ({}, {"ZCCACHE_DAEMON": "0"}):
        done = zc.run(ZCCACHE, "gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env)
        assert done.returncode == 127
        assert done.stderr.endswith(b"is zccache itself; name the real compiler\n")
        assert not (tmp_path / "a.o").exists()


def test_missing_source_gives_compilers_own_message(zc, tmp_path):
    plain = zc.plain("gcc", "-c", "missing.c", "-o", "m.o", cwd=tmp_path)
    done = zc.run("gcc", "-c", "missing.c", "-o", "m.o", cwd=tmp_path)
    assert done.returncode == plain.returncode != 0
    assert done.stderr == plain.stderr
    no_traceback(done)


def test_stats_zero_and_clear(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (1, 1)
    assert stats["cache_size"] > 0 and stats["entries"] > 0
    human = zc.run("stats", cwd=tmp_path)
    assert human.returncode == 0 and b"Hits" in human.stdout and b"Misses" in human.stdout
    zc.zero()
    assert zc.stats()["hits"] == 0
    cleared = zc.run("clear", cwd=tmp_path)
    assert cleared.returncode == 0 and cleared.stdout.startswith(b"Cleared ")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.stats()["misses"] == 1


def test_cmake_module_dir_holds_the_module(zc, tmp_path):
    done = zc.run("cmake-module-dir", cwd=tmp_path)
    assert done.returncode == 0
    from pathlib import Path

    assert (Path(done.stdout.decode().strip()) / "zccache.cmake").is_file()


def test_bad_maxsize_still_compiles(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env={"ZCCACHE_MAXSIZE": "lots"})
    assert done.returncode == 0 and (tmp_path / "a.o").is_file()
    assert done.stderr == b"zccache: ZCCACHE_MAXSIZE='lots' is not a size, such as 500MB, 5GiB or 20 (GiB); using 5GiB\n"
    again = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env={"ZCCACHE_MAXSIZE": "lots"})
    assert (again.returncode, again.stderr) == (0, b"")  # said once per daemon start
    assert zc.stats(env={"ZCCACHE_MAXSIZE": "lots"})["max_size"] == 5 << 30


def test_ccache_flags_mean_what_they_mean_in_ccache(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    shown = zc.run("-s", cwd=tmp_path)
    assert shown.returncode == 0 and b"Hit rate" in shown.stdout and b"50.0 %" in shown.stdout
    assert zc.run("--show-stats", cwd=tmp_path).stdout == shown.stdout
    assert zc.run("-z", cwd=tmp_path).returncode == 0
    assert zc.stats()["hits"] == 0
    assert zc.run("-C", cwd=tmp_path).stdout.startswith(b"Cleared ")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.stats()["misses"] == 1  # cleared: the compile ran again
    # -M writes the limit to zccache.conf in the cache directory, where -p finds it;
    # G is decimal as in ccache (10 GB), GiB binary, a bare number GiB
    assert zc.run("-M", "10G", cwd=tmp_path).returncode == 0
    assert (zc.cache_dir / "zccache.conf").read_text() == "ZCCACHE_MAXSIZE = 10G\n"
    config = zc.run("-p", cwd=tmp_path).stdout.decode()
    assert "(zccache.conf) ZCCACHE_MAXSIZE = 10G" in config and "(default) ZCCACHE_DIRECT = 1" in config
    assert zc.stats()["max_size"] == 10 * 10**9
    for given, meant in (("10", 10 << 30), ("1.5GiB", 3 << 29), ("500MB", 500 * 10**6), ("200KiB", 200 << 10)):
        done = zc.run("-M", given, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout.startswith(b"Set cache size limit to "), done
        assert zc.stats()["max_size"] == meant, given
    overridden = zc.run("-p", cwd=tmp_path, env={"ZCCACHE_MAXSIZE": "1G"}).stdout.decode()
    assert "(environment) ZCCACHE_MAXSIZE = 1G" in overridden  # the environment wins, as in ccache
    assert zc.run("--max-size=0", cwd=tmp_path).returncode == 0
    assert b"no limit" in zc.run("-s", cwd=tmp_path).stdout
    assert b"Compression: zstd level 1 (the default)" in zc.run("-x", cwd=tmp_path).stdout
    bad = zc.run("-M", cwd=tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    bad = zc.run("-M", "lots", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr == b"zccache: 'lots' is not a size, such as 500MB, 5GiB or 20 (GiB)\n"
    no_traceback(bad)


def _compiled_and_linked_under(zc, tmp_path, settings: str):
    """a.c compiled and linked once with zccache.conf (mode 0644) holding settings."""
    write(tmp_path / "a.c", "int main(void) { return 0; }\n")
    zc.cache_dir.mkdir(parents=True, exist_ok=True)
    conf = zc.cache_dir / "zccache.conf"
    conf.write_text(settings)
    conf.chmod(0o644)
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.run("gcc", "a.o", "-o", "app", cwd=tmp_path).returncode == 0
    return conf


def test_settings_file_reaches_the_families_and_is_trusted_only_when_private(zc, tmp_path):
    """ZCCACHE_LINKS = 0 in zccache.conf: the link family (which reads its settings
    from the environment it is given, here the daemon's request) runs links plainly.
    The same file writable by others is ignored, with one line."""
    conf = _compiled_and_linked_under(zc, tmp_path, "# the team's settings\nZCCACHE_LINKS = 0\n")
    links = zc.stats()["links"]
    assert links["misses"] == 0 and links["uncacheable_total"] == 1
    conf.chmod(0o666)
    shown = zc.run("-p", cwd=tmp_path)
    assert b"(default) ZCCACHE_LINKS = 1" in shown.stdout
    assert shown.stderr.count(b"ignoring") == 1 and b"writable by others" in shown.stderr
    conf.write_text("ZCCACHE_CACHE_DIR = /elsewhere\n")
    conf.chmod(0o644)
    shown = zc.run("-p", cwd=tmp_path)
    assert b"# bad setting: " in shown.stdout and b"ZCCACHE_CACHE_DIR is read before this file" in shown.stdout


@pytest.mark.parametrize("zc", ["native"], indirect=True)
def test_a_running_daemon_sees_zccache_conf_change(zc, tmp_path):
    """The daemon keeps the settings a request's env gives while zccache.conf keeps
    its stat signature: a rewrite of the same size (0 to 1) between two links of the
    same daemon still reaches the second."""
    import time

    conf = _compiled_and_linked_under(zc, tmp_path, "ZCCACHE_LINKS = 0\n")
    assert zc.stats()["links"]["uncacheable"] == {"link caching off (ZCCACHE_LINKS=0)": 1}
    time.sleep(0.05)  # past the file clock's tick: a new mtime
    conf.write_text("ZCCACHE_LINKS = 1\n")
    assert zc.run("gcc", "a.o", "-o", "app", cwd=tmp_path).returncode == 0
    links = zc.stats()["links"]
    assert links["misses"] == 1 and links["uncacheable_total"] == 1


def test_ccache_key_value_form_sets_the_variables_for_the_compile(zc, tmp_path):
    """`zccache KEY=VALUE ... compiler args`, as ccache: here the time_macros
    sloppiness makes a __DATE__ user cacheable, and only for these compiles."""
    write(tmp_path / "t.c", 'const char *when = __DATE__;\n')
    for _ in range(2):
        done = zc.run("ZCCACHE_SLOPPINESS=time_macros", "LC_ALL=C", "gcc", "-c", "t.c", "-o", "t.o", cwd=tmp_path)
        assert (done.returncode, done.stderr) == (0, b"")
    assert zc.run("gcc", "-c", "t.c", "-o", "t.o", cwd=tmp_path).returncode == 0
    stats = zc.stats()
    assert (stats["misses"], stats["hits"], stats["uncacheable"]) == (1, 1, {"time macros": 1})
    done = zc.run("ZCCACHE_DISABLE=1", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, b"zccache: name the compiler after the KEY=VALUE settings\n")


def test_output_shows_effective_values_in_units_people_read(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    config = zc.run("config", cwd=tmp_path, env={"ZCCACHE_RUNTIME_DIR": ""}).stdout.decode()
    runtime = re.search(r"^\(default\) ZCCACHE_RUNTIME_DIR = (.+)$", config, re.M)
    assert runtime and runtime.group(1).strip().startswith("/")  # the effective value, not blank
    assert re.search(r"^\(default\) ZCCACHE_MAX_JOBS = \d+$", config, re.M)
    doctor = zc.run("doctor", "--compiler", "gcc", cwd=tmp_path).stdout.decode()
    assert re.search(r"writable, \d+\.\d KiB of 5\.0 GiB", doctor), doctor  # not "0 MiB"
    status = zc.run("status", cwd=tmp_path, env={"COLUMNS": "200"}).stdout.decode()
    assert re.search(r"Uptime\s+│\s+\d+ s\s+│", status), status  # not "8.844"
    assert re.search(r"Held in memory\s+│\s+[\d.]+ (B|KiB) of 256\.0 MiB\s+│", status), status  # the result just written
    held = json.loads(zc.run("status", "--json", cwd=tmp_path, env={"ZCCACHE_DAEMON_MEMORY_MB": "1"}).stdout)
    assert 0 < held["memory_tier_bytes"] <= held["memory_tier_limit"] == 256 << 20  # the daemon's, not the client's
