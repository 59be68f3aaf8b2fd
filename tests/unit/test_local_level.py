"""The local level's reads in a daemon: no write transaction per read, the LRU
clock moved later in one, and batched copies."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from zccache.core.local_level import LocalLevel


def access_times(directory: Path) -> dict[str, float]:
    with sqlite3.connect(directory / "store" / "cache.db") as db:
        return {str(k): t for k, t in db.execute("SELECT key, access_time FROM Cache")}


def test_a_deferred_read_waits_for_no_writer(tmp_path):
    level = LocalLevel(str(tmp_path), size_limit=1 << 30)
    level.put("r:a", b"value a")
    level.defer_recency()
    other = sqlite3.connect(tmp_path / "store" / "cache.db", timeout=0.1)
    other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's one write lock
    got: list = []
    reader = threading.Thread(target=lambda: got.extend([level.get("r:a"), level.get("r:absent")]), daemon=True)
    try:
        reader.start()
        reader.join(5)  # diskcache's own read would wait for the lock, and retry
        assert not reader.is_alive() and got == [b"value a", None]
    finally:
        other.rollback()
        other.close()
    level.close()


def test_the_lru_clock_moves_on_touch_and_eviction_follows_it(tmp_path):
    level = LocalLevel(str(tmp_path), size_limit=1 << 30)
    for key in ("r:old", "r:new"):
        level.put(key, key.encode() * 1000)
        time.sleep(0.01)
    level.defer_recency()
    before = access_times(tmp_path)
    assert level.get("r:old") == b"r:old" * 1000
    assert access_times(tmp_path) == before  # the read wrote nothing
    level.touch([])
    after = access_times(tmp_path)
    assert after["r:old"] > before["r:new"] and after["r:new"] == before["r:new"]
    # one entry too many: the least recently used goes, which is the one not read
    level.max_files = 1
    assert level.enforce() == 1
    assert level.get("r:old") is not None and level.get("r:new") is None
    level.close()


def test_batched_copies_and_a_read_before_close_are_kept(tmp_path):
    level = LocalLevel(str(tmp_path), size_limit=1 << 30)
    level.defer_recency()
    level.put_many([(f"r:{i}", bytes([i]) * (40_000 if i % 2 else 10), None) for i in range(6)])
    assert [level.get(f"r:{i}") for i in range(6)] == [bytes([i]) * (40_000 if i % 2 else 10) for i in range(6)]
    before = access_times(tmp_path)["r:3"]
    time.sleep(0.01)
    assert level.get("r:3") is not None
    level.close()  # the reads since the last touch are touched on the way out
    assert access_times(tmp_path)["r:3"] > before


def test_an_eviction_first_puts_the_reads_on_the_clock(tmp_path):
    """Reads not yet touched are the most recent: a write that must evict (a build
    that fills the cache, with no pause for the idle tick) takes them into account."""
    level = LocalLevel(str(tmp_path), size_limit=1 << 30)
    for key in ("r:read", "r:unread"):
        level.put(key, b"x" * 100)
        time.sleep(0.01)
    level.defer_recency()
    assert level.get("r:read") is not None
    level.max_files = 2
    level.put("r:third", b"y" * 100)  # one too many: the least recently used goes
    assert level.get("r:read") is not None and level.get("r:unread") is None
    level.close()


def page_size(directory: Path) -> int:
    with sqlite3.connect(directory / "store" / "cache.db") as db:
        return db.execute("PRAGMA page_size").fetchone()[0]


def test_a_new_store_has_small_pages_and_an_old_one_keeps_its_own(tmp_path):
    """Values of 1 to 4 KB left SQLite's 4 KiB pages half empty; a store made before
    keeps its pages and is read as it was."""
    new = LocalLevel(str(tmp_path / "new"), size_limit=1 << 30)
    new.put("m:x", b"y" * 3000)
    assert new.get("m:x") == b"y" * 3000
    new.close()
    assert page_size(tmp_path / "new") == 1024
    old = tmp_path / "old" / "store"
    old.mkdir(parents=True)
    with sqlite3.connect(old / "cache.db") as db:  # as SQLite made it before: 4 KiB, WAL
        db.execute("PRAGMA page_size = 4096")
        db.execute("PRAGMA journal_mode = wal")
    level = LocalLevel(str(tmp_path / "old"), size_limit=1 << 30)
    level.put("m:x", b"z" * 3000)
    assert level.get("m:x") == b"z" * 3000
    level.close()
    assert page_size(tmp_path / "old") == 4096
