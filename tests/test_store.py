"""The store under damage and pressure: corrupt entries, eviction, broken directories."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support import incompressible, no_traceback, write

BIG = incompressible("big")


def compile_ok(zc, cwd: Path, src: str, obj: str, env=None):
    done = zc.run("gcc", "-c", src, "-o", obj, cwd=cwd, env=env)
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    return done


def reference(zc, cwd: Path, src: str) -> bytes:
    assert zc.plain("gcc", "-c", src, "-o", "ref.o", cwd=cwd).returncode == 0
    return (cwd / "ref.o").read_bytes()


def test_corrupt_value_file_is_dropped_and_recompiled(zc, tmp_path):
    write(tmp_path / "big.c", BIG)
    expected = reference(zc, tmp_path, "big.c")
    compile_ok(zc, tmp_path, "big.c", "big.o")
    files = list((zc.cache_dir / "store").rglob("*.val"))
    assert files, "a large object is stored as a file of its own"
    assert zc.run("stop", cwd=tmp_path).returncode == 0  # the daemon's memory holds the copy it wrote
    for f in files:
        data = f.read_bytes()
        f.write_bytes(data[: len(data) // 2])  # a torn write
    compile_ok(zc, tmp_path, "big.c", "big.o")
    assert (tmp_path / "big.o").read_bytes() == expected
    stats = zc.stats()
    assert stats["hits"] == 0 and stats["misses"] == 2 and stats["corrupt_dropped"] >= 1
    compile_ok(zc, tmp_path, "big.c", "big.o")  # stored again, now whole
    assert (tmp_path / "big.o").read_bytes() == expected
    assert zc.stats()["hits"] == 1


def test_corrupt_inline_value_is_dropped(zc, tmp_path):
    write(tmp_path / "s.c", "int s(void) { return 42; }\n")
    expected = reference(zc, tmp_path, "s.c")
    compile_ok(zc, tmp_path, "s.c", "s.o")
    assert zc.run("stop", cwd=tmp_path).returncode == 0  # the daemon's memory holds the copy it wrote
    db = sqlite3.connect(zc.cache_dir / "store" / "cache.db")
    rows = db.execute("SELECT rowid, value FROM Cache WHERE key LIKE 'r:%' AND value IS NOT NULL").fetchall()
    assert rows, "small results live inside the index"
    for rowid, value in rows:
        flipped = bytearray(value)
        flipped[len(flipped) // 2] ^= 0xFF
        db.execute("UPDATE Cache SET value = ? WHERE rowid = ?", (bytes(flipped), rowid))
    db.commit()
    db.close()
    compile_ok(zc, tmp_path, "s.c", "s.o")
    assert (tmp_path / "s.o").read_bytes() == expected
    stats = zc.stats()
    assert stats["hits"] == 0 and stats["corrupt_dropped"] >= 1


def test_size_limit_evicts_least_recently_used(zc, tmp_path):
    env = {"ZCCACHE_MAXSIZE": "400KiB"}
    n = 12
    for i in range(n):
        write(tmp_path / f"b{i}.c", incompressible(f"big{i}"))
        compile_ok(zc, tmp_path, f"b{i}.c", f"b{i}.o", env=env)
    stats = zc.stats(env=env)
    assert stats["max_size"] == 400 * 1024
    assert stats["cache_size"] <= 400 * 1024 + 128 * 1024  # diskcache culls after each store
    assert zc.run("stop", cwd=tmp_path).returncode == 0  # the daemon's memory holds what it wrote last
    # the most recent one is still there, the first ones are gone and recompile correctly
    compile_ok(zc, tmp_path, f"b{n - 1}.c", f"b{n - 1}.o", env=env)
    assert zc.stats(env=env)["hits"] == 1
    expected = reference(zc, tmp_path, "b0.c")
    compile_ok(zc, tmp_path, "b0.c", "b0.o", env=env)
    assert (tmp_path / "b0.o").read_bytes() == expected
    assert zc.stats(env=env)["misses"] == n + 1


def test_unusable_cache_dir_warns_once_and_compiles(zc, tmp_path):
    write(tmp_path / "s.c", "int s(void) { return 42; }\n")
    expected = reference(zc, tmp_path, "s.c")
    blocker = write(tmp_path / "not-a-dir", "x")
    done = zc.run("gcc", "-Wall", "-c", "s.c", "-o", "s.o", cwd=tmp_path, env={"ZCCACHE_CACHE_DIR": str(blocker / "cache")})
    no_traceback(done)
    assert done.returncode == 0 and (tmp_path / "s.o").read_bytes() == expected
    assert done.stderr.count(b"\n") == 1 and done.stderr.startswith(b"zccache: cache disabled: ")


def test_garbage_database_warns_and_compiles(zc, tmp_path):
    write(tmp_path / "s.c", "int s(void) { return 42; }\n")
    expected = reference(zc, tmp_path, "s.c")
    write(zc.cache_dir / "store" / "cache.db", "this is not a database" * 100)
    done = zc.run("gcc", "-c", "s.c", "-o", "s.o", cwd=tmp_path)
    no_traceback(done)
    assert done.returncode == 0 and (tmp_path / "s.o").read_bytes() == expected
    assert done.stderr.count(b"\n") == 1 and done.stderr.startswith(b"zccache: ")


def test_memory_tier_holds_checked_results_only(tmp_path):
    from zccache.core.store import Store

    store = Store(str(tmp_path / "c"), 1 << 30, memory_bytes=1 << 20)
    other = Store(str(tmp_path / "c"), 1 << 30)  # another process's view of the same cache
    store.set("r:k", {"files": [["obj", b"x" * 100]]})
    assert store.get("r:k") == {"files": [["obj", b"x" * 100]]}
    other.delete("r:k")  # gone from disk: a result is named by its inputs, the copy stays right
    assert store.get("r:k") == {"files": [["obj", b"x" * 100]]}
    store.set("m:k", {"entries": [1]})
    assert store.get("m:k") == {"entries": [1]}
    other.set("m:k", {"entries": [2, 1]})  # manifests change: always read from disk
    assert store.get("m:k") == {"entries": [2, 1]}
    store.clear()
    assert store.get("r:k") is None


def test_memory_tier_holds_a_result_from_its_write(tmp_path):
    """The next build in another directory, or cargo's after `cargo clean`, asks for
    what was just written: it is served without reading it back and decompressing it."""
    from zccache.core.store import Store

    store = Store(str(tmp_path / "c"), 1 << 30, memory_bytes=1 << 20)
    other = Store(str(tmp_path / "c"), 1 << 30)
    value = {"files": [["obj", b"z" * 5000, False]], "stdout": b"", "stderr": b"w"}
    store.set("r:new", value)
    other.delete("r:new")  # not on disk any more: only the copy held from the write can answer
    assert store.get("r:new") == value
    store.set("memo:q", ["an answer", ("a", "tuple")])
    other.delete("memo:q")
    assert store.get("memo:q") is None  # a memo is held from its first read, as msgpack gives it back


def test_memory_tier_is_bounded(tmp_path):
    from zccache.core.store import Store

    store = Store(str(tmp_path / "c"), 1 << 30, memory_bytes=64 * 1024)
    for i in range(40):
        store.set(f"r:{i}", b"y" * 4000)
        assert store.get(f"r:{i}") == b"y" * 4000
    memory = store._memory
    assert 0 < memory.used <= memory.limit
    assert len(memory._items) < 40


def test_results_served_from_memory_stay_recent_for_eviction(tmp_path):
    import time

    from zccache.core.store import Store

    blob = bytes(range(256)) * 800  # about 200 KB: a value file of its own
    store = Store(str(tmp_path / "c"), 500_000, memory_bytes=8 << 20)
    for i in range(9):  # diskcache culls the 10 least recently used at once
        store.set(f"m:filler{i}", i)
    time.sleep(0.01)
    store.set("r:a", blob)
    time.sleep(0.01)
    store.set("r:b", blob)  # a, then b, written: on disk b is the more recent
    time.sleep(0.01)
    assert store.get("r:a") == blob  # from memory (held since its write): the disk's clock has not heard
    store.refresh_recency()
    store.set("r:c", blob)  # over the limit: the least recently used goes
    fresh = Store(str(tmp_path / "c"), 500_000)
    assert fresh.get("r:a") == blob
    assert fresh.get("r:b") is None
