"""The local level: one diskcache of framed values in the cache directory.

Values above diskcache's file threshold are separate files that diskcache writes
under a fresh name before committing the row, so a crash leaves no half-written
entry; the index is SQLite, size-limited, least recently used out first. This level
stores and hands back raw framed bytes; it knows nothing of memory, of remote
levels or of counters (core/store.py composes them).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import diskcache

from zccache.core.safe_disk import (WAL_SETTINGS, checkpoint, create_db, disk_class, log_bytes, make_cache_dirs,
                                     share_db_files)


class StoreError(Exception):
    """The cache directory cannot be used; the message is one line for the user."""


class LocalLevel:
    """Raw values under keys in <cache dir>/store."""

    name = "local"

    def __init__(self, directory: str, size_limit: int, umask: int | None = None, max_files: int = 0) -> None:
        self.max_files = max_files
        try:
            make_cache_dirs(directory, umask)
            create_db(os.path.join(directory, "store"))
            self._cache = diskcache.Cache(os.path.join(directory, "store"), size_limit=size_limit,
                                          eviction_policy="least-recently-used", timeout=60, disk=disk_class(umask),
                                          **WAL_SETTINGS)
            share_db_files(os.path.join(directory, "store"), umask)
        except Exception as exc:  # sqlite3.DatabaseError, OSError, ...
            raise StoreError(f"cannot open cache at {directory}: {one_line(exc)}") from None
        self._read: set[str] | None = None  # keys read since the last touch(), when deferred
        self._read_lock = threading.Lock()

    def defer_recency(self) -> None:
        """From now on a read only reads: the keys it found wait in memory until
        touch() moves their access times, all in one transaction. diskcache's own
        least-recently-used read is a write transaction (BEGIN IMMEDIATE, an UPDATE
        of the row, a commit), a miss included: 0.35 to 0.55 ms of the daemon's time
        per read, and the readers of a -j build queue for SQLite's one write lock.
        A long-lived process (the daemon) touches between a build's bursts; a
        short-lived one keeps diskcache's way, as it may not live to touch."""
        self._read = set()

    def get(self, key: str) -> bytes | None:
        """The raw value; b"corrupt" for one that is there but cannot be read (a value
        file that vanished, cannot be read or is refused): the caller drops it."""
        try:
            if self._read is None:
                return self._cache.get(key, default=None, retry=True)
            return self._peek(key)
        except sqlite3.Error:
            self.reconnect()
            raise
        except Exception:
            return b"corrupt"

    def _peek(self, key: str) -> bytes | None:
        # diskcache's own read without its transaction (the query of its get)
        cache = self._cache
        db_key, raw = cache._disk.put(key)
        rows = cache._sql("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = ?"
                          " AND (expire_time IS NULL OR expire_time > ?)", (db_key, raw, time.time())).fetchall()
        if not rows:
            return None
        ((mode, filename, db_value),) = rows
        try:
            value = cache._disk.fetch(mode, filename, db_value, False)
        except OSError:
            return None  # evicted meanwhile, as diskcache's get says
        with self._read_lock:
            if self._read is not None:
                self._read.add(key)
        return value

    def put(self, key: str, raw: bytes, tag: str | None = None) -> None:
        self.put_many([(key, raw, tag)])

    def put_many(self, items: list[tuple[str, bytes, str | None]]) -> None:
        """Several values in one transaction (a daemon's copies of remote hits)."""
        try:
            if len(items) == 1:
                self._cache.set(items[0][0], items[0][1], tag=items[0][2], retry=True)
            else:
                with self._cache.transact(retry=True):
                    for key, raw, tag in items:
                        self._cache.set(key, raw, tag=tag, retry=True)
            self.enforce()
        except sqlite3.Error:
            self.reconnect()
            raise

    def set_limits(self, size_limit: int, max_files: int) -> None:
        """New limits (a daemon's request names a limit set since it started)."""
        if size_limit != self._cache.size_limit:
            self._cache.reset("size_limit", size_limit)
        self.max_files = max_files

    def enforce(self) -> int:
        """Meet both limits now; how many entries went. diskcache evicts at most ten
        entries per write, which a lowered limit, or one value larger than the ten it
        evicts, leaves exceeded; and it has no limit on the number of entries."""
        removed = 0
        if self._cache.volume() > self._cache.size_limit:
            self.touch([])  # the reads not yet on the LRU clock (defer_recency) are recent
            removed += int(self._cache.cull(retry=True))
        if self.max_files:
            excess = len(self._cache) - self.max_files
            if excess > 0:
                self.touch([])
                removed += self._evict("SELECT key FROM Cache ORDER BY access_time LIMIT ?", (excess,))
        return removed

    def unused_since(self, when: float) -> list[str]:
        """Keys not read or written since when (a time.time())."""
        rows = self._cache._sql("SELECT key FROM Cache WHERE access_time < ?", (when,)).fetchall()
        return [str(row[0]) for row in rows]

    def heads(self, size: int):
        """(key, tag, stored bytes, the first size bytes) of every value, for the
        composition of the store (zccache -x) without reading every value whole."""
        rows = self._cache._sql("SELECT key, tag, filename, length(value), substr(value, 1, ?) FROM Cache",
                                (size,)).fetchall()
        for key, tag, filename, length, head in rows:
            if filename is None:
                yield str(key), tag, int(length or 0), bytes(head or b"")
                continue
            handle = None
            try:
                handle = self._cache.get(key, default=None, read=True, retry=True)
                if handle is None or not hasattr(handle, "read"):
                    continue
                stored = os.fstat(handle.fileno()).st_size
                yield str(key), tag, stored, handle.read(size)
            except Exception:
                continue  # evicted meanwhile, or refused: not part of the store's composition
            finally:
                if hasattr(handle, "close"):
                    handle.close()

    def by_recency(self) -> list[tuple[str, str | None, float]]:
        """(key, tag, access time) of every entry, least recently used first."""
        rows = self._cache._sql("SELECT key, tag, access_time FROM Cache ORDER BY access_time").fetchall()
        return [(str(k), t, float(a)) for k, t, a in rows]

    def replace(self, key: str, raw: bytes, tag: str | None, access_time: float) -> None:
        """A value rewritten in place (zccache -X) that keeps its place in the LRU order."""
        self._cache.set(key, raw, tag=tag, retry=True)
        self._cache._sql("UPDATE Cache SET access_time = ? WHERE key = ?", (access_time, key))

    def _evict(self, query: str, args: tuple) -> int:
        # diskcache has no public way to list keys by recency: its own table, read-only
        removed = 0
        for (key,) in self._cache._sql(query, args).fetchall():
            removed += bool(self._cache.delete(key, retry=True))
        return removed

    def delete(self, key: str) -> None:
        try:
            self._cache.delete(key, retry=True)
        except Exception:
            pass

    def touch(self, keys: list[str]) -> None:
        """Move the access time of keys (served from memory) and of the keys read
        since the last call, in one transaction: what diskcache's LRU order goes by."""
        with self._read_lock:
            pending = set(keys)
            if self._read:
                pending |= self._read
                self._read = set()
        if not pending:
            return
        cache = self._cache
        now = time.time()
        try:
            with cache.transact(retry=True):
                for key in pending:
                    db_key, raw = cache._disk.put(key)
                    cache._sql("UPDATE Cache SET access_time = ? WHERE key = ? AND raw = ?", (now, db_key, raw))
        except Exception:
            pass  # a busy or read-only database: the order is a little older, no value is lost

    def keys(self) -> list[str]:
        return [str(k) for k in self._cache.iterkeys()]

    def check_index(self, repair: bool) -> None:
        self._cache.check(fix=repair, retry=True)

    def clear(self) -> int:
        return int(self._cache.clear(retry=True))

    def volume(self) -> int:
        return int(self._cache.volume())

    def entries(self) -> int:
        return len(self._cache)

    @property
    def size_limit(self) -> int:
        return int(self._cache.size_limit)

    def reconnect(self) -> None:
        """A connection that met a read-only (or replaced) database file stays
        read-only after the file system is writable again: this thread's next call
        opens a fresh one, so a long-lived daemon recovers with the disk."""
        try:
            self._cache.close()
        except Exception:
            pass

    def checkpoint(self) -> None:
        checkpoint(self._cache)

    def log_bytes(self) -> int:
        return log_bytes(self._cache)

    def close(self) -> None:
        self.touch([])
        self._cache.close()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
