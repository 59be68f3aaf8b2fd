"""A cache directory a group shares, and one that someone has tampered with.

What is tried is what a member of the group (or anyone who can write the cache
directory) could do: plant symlinks, rows naming files outside the cache, pickles,
entries restoring to paths the command line does not name. Nothing of it may read,
write, delete or run anything outside the cache, or give a wrong object."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import msgpack
import pytest

from support import compile_checked as compile_ok
from support import incompressible, write
from zccache.core import frames

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)

GROUP = 65534  # the cache's group
MEMBER = 65533  # a second user in it
OUTSIDER = 65532  # a user who is not
BIG = incompressible()  # a value file


def as_user(uid: int, gid: int, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), user=uid, group=gid, extra_groups=[], capture_output=True, cwd="/")


@pytest.mark.parametrize("mode", ["daemon", "in-process"])
def test_a_group_shares_the_cache_directory(zc, tmp_path, mode):
    """ZCCACHE_UMASK=007 on a setgid directory of the group: every file and directory
    zccache makes there is the group's to read and write and no one else's (the
    kernel's own answer, asked as a member and as an outsider), except each user's
    private memo of its plugins."""
    if os.geteuid() != 0:
        pytest.skip("users of a group need root to be (CI runs as root)")
    shared = Path(tempfile.mkdtemp(prefix="zc-group-"))
    try:
        shared.chmod(0o755)
        cache = shared / "cache"
        cache.mkdir()
        os.chown(cache, 0, GROUP)
        cache.chmod(0o2770)  # as an administrator sets up a shared cache
        env = {"ZCCACHE_CACHE_DIR": str(cache), "ZCCACHE_UMASK": "007"}
        if mode == "in-process":
            env["ZCCACHE_DAEMON"] = "0"
        write(tmp_path / "a.c", "int a(void) { return 1; }\n")
        write(tmp_path / "big.c", BIG)
        for source in ("a.c", "big.c", "a.c", "big.c"):
            compile_ok(zc, tmp_path, source, env)
        assert zc.run("stop", cwd=tmp_path, env=env).returncode == 0
        made = [Path(root, name) for root, dirs, files in os.walk(cache) for name in dirs + files]
        assert any(p.suffix == ".val" for p in made), "no value file: the test would not test them"
        for path in made:
            st = path.lstat()
            if path.name.startswith("entry-points-"):
                assert st.st_mode & 0o077 == 0, path  # a user's own, never another's to write
                continue
            assert st.st_gid == GROUP, path
            want = 0o770 if path.is_dir() else 0o660
            assert st.st_mode & 0o777 == want, (path, oct(st.st_mode))
        unreadable = as_user(MEMBER, GROUP, "find", str(cache), "!", "-name", "entry-points-*", "(", "!", "-readable",
                             "-o", "!", "-writable", ")", "-print")
        assert (unreadable.returncode, unreadable.stdout) == (0, b""), unreadable.stderr
        outsider = as_user(OUTSIDER, OUTSIDER, "find", str(cache), "-readable", "-type", "f", "-print")
        assert outsider.stdout == b"" and b"Permission denied" in outsider.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _rows(cache: Path) -> list[tuple[str, int, str | None]]:
    with sqlite3.connect(cache / "store" / "cache.db") as db:
        return [(str(k), m, f) for k, m, f in db.execute("SELECT key, mode, filename FROM Cache")]


def _update(cache: Path, sql: str, args: tuple) -> None:
    with sqlite3.connect(cache / "store" / "cache.db") as db:
        db.execute(sql, args)


class _Opens:
    """A pickle that, when loaded, creates the file it names."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_tampered_rows_are_refused(zc, tmp_path):
    """Rows changed by whoever can write the database: one names a file outside the
    cache as its value (to be read, then deleted as a damaged entry), the others
    hold pickles that would create a file when loaded. Each is a miss, recompiled
    right; the outside file is still there and no pickle ran."""
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    write(tmp_path / "big.c", BIG)
    for source in ("a.c", "big.c"):
        compile_ok(zc, tmp_path, source)
    assert zc.run("stop", cwd=tmp_path).returncode == 0  # no daemon holding values in memory
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    marker = tmp_path / "pickle-ran"
    rows = _rows(zc.cache_dir)
    files = [k for k, mode, name in rows if k.startswith("r:") and name]
    inline = [k for k, mode, name in rows if not name]
    assert files and inline
    _update(zc.cache_dir, "UPDATE Cache SET filename = ? WHERE key = ?", ("../../victim.txt", files[0]))
    for key in inline:  # manifests and small results alike
        _update(zc.cache_dir, "UPDATE Cache SET mode = 4, value = ? WHERE key = ?",
                (pickle.dumps(_Opens(str(marker))), key))
    zc.zero()
    for source in ("a.c", "big.c"):
        compile_ok(zc, tmp_path, source)
    assert victim.read_text() == "keep me\n"
    assert not marker.exists()
    stats = zc.stats()
    assert stats["misses"] == 2 and stats["hits"] == 0, json.dumps(stats)
    for source in ("a.c", "big.c"):
        compile_ok(zc, tmp_path, source)
    assert zc.stats()["hits"] == 2  # stored again, sound
    done = zc.run("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout


def test_planted_symlinks_are_not_followed(zc, tmp_path):
    """A value's sub-directory swapped for a symlink to somewhere else: the value is
    not read or deleted through it. And a store whose every sub-directory is such a
    symlink: nothing is written through them; the compile goes on, uncached."""
    write(tmp_path / "big.c", BIG)
    compile_ok(zc, tmp_path, "big.c")
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    store = zc.cache_dir / "store"
    (name,) = [n for k, _, n in _rows(zc.cache_dir) if k.startswith("r:") and n]
    top = name.split("/")[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (store / top).rename(elsewhere / top)
    (store / top).symlink_to(elsewhere / top)
    kept = elsewhere / name
    assert kept.is_file()
    compile_ok(zc, tmp_path, "big.c")
    assert kept.is_file(), "a value was deleted through a planted symlink"
    assert zc.stats()["corrupt_dropped"] >= 1

    # every first-level directory a symlink: a value file has nowhere safe to go
    fresh = tmp_path / "cache2"
    trap = tmp_path / "trap"
    (fresh / "store").mkdir(parents=True)
    trap.mkdir()
    for i in range(256):
        (fresh / "store" / f"{i:02x}").symlink_to(trap)
    env = {"ZCCACHE_CACHE_DIR": str(fresh)}
    err = compile_ok(zc, tmp_path, "big.c", env)
    assert len(err.splitlines()) <= 1
    compile_ok(zc, tmp_path, "big.c", env)
    assert list(trap.iterdir()) == []
    assert zc.run("stop", cwd=tmp_path, env=env).returncode == 0


def test_a_restore_writes_only_what_the_command_line_names(zc, tmp_path):
    """An entry rewritten by someone who can write valid entries (checksum and all),
    adding files named by absolute and by climbing paths: the stored roles no
    longer match the compile's outputs, so nothing is written from it; the compile
    runs and its object is the compiler's."""
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    compile_ok(zc, tmp_path, "a.c")
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    import diskcache

    cache = diskcache.Cache(str(zc.cache_dir / "store"))
    keys = [k for k in cache.iterkeys() if str(k).startswith("r:")]
    assert len(keys) == 1
    raw = cache.get(keys[0])
    result = msgpack.unpackb(frames.payload(raw), raw=False)
    assert isinstance(result, dict) and result.get("files")
    result["files"] = [*result["files"], [str(tmp_path / "abs-planted"), b"x"], ["../climbed-planted", b"x"],
                       ["object", b"not the object"]]
    payload = msgpack.packb(result, use_bin_type=True)
    cache.set(keys[0], frames.frame(payload, 1))
    cache.close()
    compile_ok(zc, tmp_path, "a.c")
    assert not (tmp_path / "abs-planted").exists() and not (tmp_path.parent / "climbed-planted").exists()
    assert zc.stats()["hits"] == 0
