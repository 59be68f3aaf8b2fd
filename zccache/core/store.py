"""The local store: a diskcache index of manifests, results and memos.

Every value is framed as MAGIC + blake3(payload) + payload and the digest is
checked on every read: a truncated or corrupted entry (a torn disk write, a stray
editor, a bad sector) is deleted and reported as absent, never handed back. Values
above diskcache's file threshold are separate files that diskcache writes under a
fresh name before committing the row, so a crash leaves no half-written entry.
Counters live in a second, never-evicted diskcache beside the first, so that
size-driven eviction can drop results but not statistics.

A long-lived user (the daemon) may keep a memory tier. Result values are named by
a digest of everything that made them, so a copy checked once stays right for as
long as it is held, and get() serves them from memory. Manifests change (another
process may add an entry), so get() always reads them from disk; the copy held in
memory is only handed out by recall(), to a caller that checks what it is given
against the files and reads the disk when the copy does not serve.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from typing import Any

import diskcache
import msgpack
from blake3 import blake3

from zccache.core.safe_disk import disk_class, make_cache_dirs, share_db_files
from zccache.core.tiers import SHARED_PREFIXES

MAGIC = b"ZC1\0"
_HEADER = len(MAGIC) + 32
IMMUTABLE_PREFIXES = ("r:",)  # result values: their key is a digest of their inputs
RECALLED_PREFIXES = ("m:",)  # manifests: each entry is checked against the files before use
_HELD_PREFIXES = IMMUTABLE_PREFIXES + RECALLED_PREFIXES
# A manifest held in memory is lists of short strings, not bytes: unpacked it takes
# about four times its stored size, and the engine's parsed entries (with their
# paths made absolute) as much again. A result is mostly its object's bytes.
MANIFEST_WEIGHT = 8


def _held_size(key: str, raw: bytes) -> int:
    """What a value costs the memory tier: its stored size, weighted by kind."""
    return len(raw) * (MANIFEST_WEIGHT if key.startswith(RECALLED_PREFIXES) else 1)


class StoreError(Exception):
    """The cache directory cannot be used; the message is one line for the user."""


def _frame(payload: bytes) -> bytes:
    return MAGIC + blake3(payload).digest() + payload


def _unframe(value: object) -> bytes | None:
    if not isinstance(value, bytes) or len(value) < _HEADER or not value.startswith(MAGIC):
        return None
    payload = value[_HEADER:]
    if blake3(payload).digest() != value[len(MAGIC) : _HEADER]:
        return None
    return payload


class _Memory:
    """Checked copies of results and manifests, least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.touched: set[str] = set()  # served from here since the disk's LRU clock last heard of them

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            self.touched.add(key)
            return item[0]

    def put(self, key: str, value: Any, size: int) -> None:
        if size > self.limit // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.used -= old[1]
            self._items[key] = (value, size)
            self.used += size
            while self.used > self.limit:
                _, (_, dropped) = self._items.popitem(last=False)
                self.used -= dropped

    def drop(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._items.clear()
                self.touched.clear()
                self.used = 0
            else:
                old = self._items.pop(key, None)
                if old is not None:
                    self.used -= old[1]
                self.touched.discard(key)

    def take_touched(self) -> list[str]:
        with self._lock:
            keys, self.touched = list(self.touched), set()
            return keys


class Store:
    """The cache directory: results, manifests and memos in a size-limited diskcache
    (least recently used out first), counters in a second one that is never evicted.
    Every value is framed with its checksum; one that fails it is dropped and counted,
    never handed out. A long-lived user may give it a memory level; remote levels are
    attached from core/tiers/ (RemoteTiers) and asked on a local miss."""

    def __init__(self, directory: str, size_limit: int, memory_bytes: int = 0, umask: int | None = None) -> None:
        """umask: the cache directory's own (ZCCACHE_UMASK, as ccache's umask setting),
        for a directory a group shares; None keeps it the user's alone."""
        self.directory = directory
        self._memory = _Memory(memory_bytes) if memory_bytes > 0 else None
        try:
            disk = disk_class(umask)
            make_cache_dirs(directory, umask)
            self._cache = diskcache.Cache(
                os.path.join(directory, "store"),
                size_limit=size_limit,
                eviction_policy="least-recently-used",
                timeout=60,
                disk=disk,
            )
            self._stats = diskcache.Cache(
                os.path.join(directory, "stats"), eviction_policy="none", timeout=60, disk=disk
            )
            for sub in ("store", "stats"):
                share_db_files(os.path.join(directory, sub), umask)
        except Exception as exc:  # sqlite3.DatabaseError, OSError, ...
            raise StoreError(f"cannot open cache at {directory}: {_one_line(exc)}") from None
        self.corrupt_dropped = 0
        self.remote = None  # tiers.RemoteTiers, when tiers past this one are configured

    # -- framed values ---------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        """The stored object for key, or None when absent or corrupt (then dropped)."""
        memory = self._memory
        if memory is not None and key.startswith(IMMUTABLE_PREFIXES):
            value = memory.get(key)
            if value is not None:
                return value
        try:
            raw = self._cache.get(key, default=None, retry=True)
        except sqlite3.Error:
            self._reconnect()
            raise
        except Exception:
            raw = b"corrupt"  # a value file that vanished, cannot be read or is refused
        if raw is None:
            raw = self._from_remote(key)
            if raw is None:
                return None
        payload = _unframe(raw)
        value = None
        if payload is not None:
            try:
                value = msgpack.unpackb(payload, raw=False)
            except Exception:
                value = None
        if value is None:
            self.corrupt_dropped += 1
            self.delete(key)
            self.incr("corrupt_dropped")
        elif memory is not None and key.startswith(_HELD_PREFIXES):
            memory.put(key, value, _held_size(key, raw))
        return value

    def recall(self, key: str) -> Any | None:
        """The copy of a manifest held in memory: possibly older than the disk's."""
        return self._memory.get(key) if self._memory is not None else None

    def refresh_recency(self) -> None:
        """Tell the disk's LRU clock about values served from memory since the last
        call, so that size eviction does not drop the ones in use. Off the hot path."""
        if self._memory is None:
            return
        for key in self._memory.take_touched():
            try:
                # A read is what moves diskcache's LRU clock; read=True hands back a
                # file handle instead of the bytes of a large value.
                handle = self._cache.get(key, default=None, read=True, retry=True)
            except Exception:
                continue
            if hasattr(handle, "close"):
                handle.close()

    def set(self, key: str, value: Any) -> None:
        raw = _frame(msgpack.packb(value, use_bin_type=True))
        try:
            self._cache.set(key, raw, retry=True)
        except sqlite3.Error:
            self._reconnect()
            raise
        if self._memory is not None and key.startswith(RECALLED_PREFIXES):
            self._memory.put(key, value, _held_size(key, raw))
        if self.remote is not None and key.startswith(SHARED_PREFIXES):
            self.remote.put(key, raw)

    def _from_remote(self, key: str) -> bytes | None:
        """A remote tier's copy (its seal checked), kept locally when its frame is sound."""
        if self.remote is None or not key.startswith(SHARED_PREFIXES):
            return None
        raw = self.remote.get(key)
        if raw is None or _unframe(raw) is None:
            return None
        try:
            self._cache.set(key, raw, retry=True)
        except Exception:
            pass  # served anyway; the local store fills next time
        return raw

    def delete(self, key: str) -> None:
        if self._memory is not None:
            self._memory.drop(key)
        try:
            self._cache.delete(key, retry=True)
        except Exception:
            pass

    # -- counters ----------------------------------------------------------------------

    def incr(self, name: str, amount: int = 1) -> None:
        try:
            self._stats.incr(name, amount, default=0, retry=True)
        except sqlite3.Error:
            self._reconnect()
            raise

    def _reconnect(self) -> None:
        """A connection that met a read-only (or replaced) database file stays
        read-only after the file system is writable again: this thread's next call
        opens a fresh one, so a long-lived daemon recovers with the disk."""
        for cache in (self._cache, self._stats):
            try:
                cache.close()
            except Exception:
                pass

    def counters(self) -> dict[str, int]:
        return {str(k): int(self._stats.get(k, 0)) for k in self._stats.iterkeys()}

    def zero(self) -> None:
        self._stats.clear(retry=True)

    # -- maintenance ---------------------------------------------------------------------

    def check(self, repair: bool = False) -> tuple[int, list[str], list[str]]:
        """(entries checked, keys of bad entries, the index's own warnings): every
        value's frame, checksum and shape, and diskcache's consistency of its index
        and value files. With repair, bad entries are dropped and the index mended."""
        import warnings

        checked = 0
        bad: list[str] = []
        for key in list(self._cache.iterkeys()):
            checked += 1
            try:
                raw = self._cache.get(key, default=None, retry=True)
            except Exception:
                raw = b"unreadable"
            if raw is None:
                continue  # evicted meanwhile
            payload = _unframe(raw)
            try:
                value = msgpack.unpackb(payload, raw=False) if payload is not None else None
            except Exception:
                value = None
            if value is None or not _well_formed(str(key), value):
                bad.append(str(key))
                if repair:
                    self.delete(str(key))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._cache.check(fix=repair, retry=True)
            except Exception as exc:
                return checked, bad, [f"index check failed: {_one_line(exc)}"]
        return checked, bad, [str(w.message).splitlines()[0] for w in caught]

    def clear(self) -> int:
        if self._memory is not None:
            self._memory.drop()
        return int(self._cache.clear(retry=True))

    def volume(self) -> int:
        return int(self._cache.volume())

    def entries(self) -> int:
        return len(self._cache)

    @property
    def size_limit(self) -> int:
        return int(self._cache.size_limit)

    def close(self) -> None:
        self._cache.close()
        self._stats.close()


def _well_formed(key: str, value: Any) -> bool:
    """The shapes the engine reads: a result's files and streams, a manifest's entries."""
    if key.startswith("r:"):
        files = value.get("files") if isinstance(value, dict) else None
        return (isinstance(files, list) and all(isinstance(f, list) and len(f) >= 2 and isinstance(f[0], str)
                                                and isinstance(f[1], bytes) for f in files)
                and isinstance(value.get("stdout", b""), bytes) and isinstance(value.get("stderr", b""), bytes))
    if key.startswith("m:"):
        return isinstance(value, dict) and (value.get("pp") is True or isinstance(value.get("entries"), list))
    return True


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
