"""The store: levels composed in order, each value checked whatever level it came from.

Memory (a long-lived user's: the daemon), then the local diskcache
(local_level.py), then the remote levels a plugin names (core/tiers/). A read asks
them in that order and a hit at a later level fills the local one; a write goes to
the local level at once and to each later level that takes the key. Counters live
apart (counters.py).

Every value is framed (frames.py: its format, a blake3 of the stored bytes, the
msgpack of the value, zstd-compressed unless ZCCACHE_COMPRESSION=0) and the digest
is checked on every read: a truncated or corrupted entry (a torn disk write, a stray
editor, a bad sector, a remote's garbage) is deleted and reported as absent, never
handed back. A value is decompressed once, where it is decoded; the memory level
holds it decoded.

Result values are named by a digest of everything that made them, so a copy checked
once stays right for as long as it is held, and get() serves them from memory; so
are memos of what a tool says, whose key holds the tool's stat or content and the
question (one asked again, because a program behind the tool changed, is dropped
from memory when it is written).
Manifests change (another process may add an entry), so get() always reads them
from disk; the copy held in memory is only handed out by recall(), to a caller that
checks what it is given against the files and reads the disk when it does not serve.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import msgpack

from zccache.core import frames
from zccache.core.counters import Counters
from zccache.core.levels import Level
from zccache.core.local_level import LocalLevel, StoreError

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["Store", "StoreError"]

# result values: their key is a digest of their inputs; memos of what a tool says
# (search lists, identities): their key holds the tool's stat or content, and the
# question
IMMUTABLE_PREFIXES = ("r:", "memo:")
RECALLED_PREFIXES = ("m:",)  # manifests: each entry is checked against the files before use
_HELD_PREFIXES = IMMUTABLE_PREFIXES + RECALLED_PREFIXES
PREFETCH_LIMIT = 64  # results asked ahead and not yet read
# Held from the moment they are written, not first read: a result is what the next
# build in another directory, or after `cargo clean`, asks for, and reading it back
# costs a SQLite read and its decompression (cargo's 85 MB of rlibs: 80 to 90 ms of
# zstd). Memos are left to their first read: their writers may hand in tuples.
WRITTEN_THROUGH_PREFIXES = RECALLED_PREFIXES + ("r:",)
# A manifest held in memory is lists of short strings, not bytes: unpacked it takes
# about four times its stored size, and the engine's parsed entries (with their
# paths made absolute) as much again. A result is mostly its object's bytes.
MANIFEST_WEIGHT = 8


def _held_size(key: str, packed: int) -> int:
    """What a value costs the memory tier: its msgpack size, weighted by kind."""
    return packed * (MANIFEST_WEIGHT if key.startswith(RECALLED_PREFIXES) else 1)


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
    """The cache directory's levels, composed: a read goes memory, local, then each
    later level; a write goes local (and memory, for manifests), then later levels.
    Every value is framed with its checksum; one that fails it is dropped and
    counted, never handed out."""

    def __init__(self, directory: str, size_limit: int, memory_bytes: int = 0, umask: int | None = None,
                 max_files: int = 0, compression: int | None = None) -> None:
        """umask: the cache directory's own (ZCCACHE_UMASK, as ccache's umask setting),
        for a directory a group shares; None keeps it the user's alone. compression:
        the zstd level values are written at (None: stored as they are)."""
        self.directory = directory
        self.compression = compression
        self._memory = _Memory(memory_bytes) if memory_bytes > 0 else None
        self.local = LocalLevel(directory, size_limit, umask, max_files)
        self.counters_level = Counters(directory)
        self.later: list[Level] = []  # remote levels (core/tiers/), in order
        self.corrupt_dropped = 0
        # a long-lived process keeps a remote's copies locally on a thread of its own
        # (fill_in_background): a remote hit answers without waiting for a SQLite write
        self._fills: queue.SimpleQueue[tuple[str, bytes] | None] | None = None
        self._filler: threading.Thread | None = None
        # and asks the later levels for a result it will likely read next (prefetch)
        self._ahead: ThreadPoolExecutor | None = None
        self._pending: OrderedDict[str, Future] = OrderedDict()
        self._pending_lock = threading.Lock()

    @classmethod
    def for_config(cls, config, memory_bytes: int = 0) -> Store:
        """The store a Config names, with its limits."""
        return cls(config.cache_dir, config.maxsize, memory_bytes=memory_bytes, umask=config.umask,
                   max_files=config.max_files, compression=config.compression)

    def add_levels(self, levels: list[Level]) -> None:
        """Levels after the local one; each takes only the keys its accepts() allows."""
        self.later.extend(levels)

    # -- framed values ---------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        """The stored object for key, or None when absent or corrupt (then dropped)."""
        memory = self._memory
        if memory is not None and key.startswith(IMMUTABLE_PREFIXES):
            value = memory.get(key)
            if value is not None:
                return value
        prefetched = self._take_prefetched(key) if self._pending else None
        if prefetched is not None:
            raw, checked = prefetched
            if raw is None:
                return None
        else:
            raw = self.local.get(key)
            checked = False
            if raw is None:
                raw = self._from_later(key)
                if raw is None:
                    return None
                checked = True  # _from_later checked its frame: once is enough
        value, packed = _decode(raw, checked)
        if value is None:
            self.corrupt_dropped += 1
            self.delete(key)
            self.incr("corrupt_dropped")
        elif memory is not None and key.startswith(_HELD_PREFIXES):
            memory.put(key, value, _held_size(key, packed))
        return value

    def memory_held(self) -> tuple[int, int]:
        """(bytes held by the memory tier, its limit): what `zccache status` shows."""
        memory = self._memory
        return (memory.used, memory.limit) if memory is not None else (0, 0)

    def recall(self, key: str) -> Any | None:
        """The copy of a manifest held in memory: possibly older than the disk's."""
        return self._memory.get(key) if self._memory is not None else None

    def refresh_recency(self) -> None:
        """Tell the disk's LRU clock about values served from memory since the last
        call, so that size eviction does not drop the ones in use. Off the hot path."""
        if self._memory is not None:
            self.local.touch(self._memory.take_touched())

    def set(self, key: str, value: Any, tag: str | None = None) -> None:
        """tag: the tool family of a result, for zccache -x's sizes by kind."""
        packed = msgpack.packb(value, use_bin_type=True)
        raw = frames.frame(packed, self.compression)
        self.local.put(key, raw, tag)
        if self._memory is not None and key.startswith(WRITTEN_THROUGH_PREFIXES):
            self._memory.put(key, value, _held_size(key, len(packed)))
        elif self._memory is not None and key.startswith(IMMUTABLE_PREFIXES):
            self._memory.drop(key)  # a memo asked again (a program behind the tool changed)
        for level in self.later:
            if _accepts(level, key):
                try:
                    level.put(key, raw)
                except Exception:
                    pass  # a level counts its own failures; the build goes on

    def prefetch(self, key: str) -> None:
        """A hint that the result under key is likely read next. With later levels and
        read_ahead() on, one held neither in memory nor locally is asked of them on a
        thread of its own, and get() takes that answer instead of asking again: a
        remote hit fetches its result while its manifest's headers are checked (two
        round trips one after the other were 0.9 ms of each remote hit's 7.5)."""
        if self._ahead is None or not key.startswith(IMMUTABLE_PREFIXES):
            return
        if self._memory is not None and self._memory.get(key) is not None:
            return
        with self._pending_lock:
            if key in self._pending:
                return
            self._pending[key] = self._ahead.submit(self._local_or_later, key)
            while len(self._pending) > PREFETCH_LIMIT:  # hints never taken (an entry that did not match)
                self._pending.popitem(last=False)

    def read_ahead(self) -> None:
        """From now on prefetch() asks on a thread of this store's (the daemon's way;
        a short-lived process reads as it goes). Nothing to do without later levels."""
        if self.later and self._ahead is None:
            from concurrent.futures import ThreadPoolExecutor  # 5 ms of imports (logging): not for every process

            self._ahead = ThreadPoolExecutor(max_workers=2, thread_name_prefix="prefetch")

    def _local_or_later(self, key: str) -> tuple[bytes | None, bool]:
        """(raw, whether its frame was checked: a later level's is), or (None, True)
        when no level has it."""
        raw = self.local.get(key)
        if raw is not None:
            return raw, False
        return self._from_later(key), True

    def _take_prefetched(self, key: str) -> tuple[bytes | None, bool] | None:
        with self._pending_lock:
            future = self._pending.pop(key, None)
        if future is None:
            return None
        try:
            return future.result()  # a later level's read is bounded by its own timeout
        except Exception:
            return None

    def _from_later(self, key: str) -> bytes | None:
        """A later level's copy whose frame is sound, kept locally."""
        for level in self.later:
            if not _accepts(level, key):
                continue
            try:
                raw = level.get(key)
            except Exception:
                continue
            if raw is None or not frames.sound(raw):  # decoded (and decompressed) once, by get()
                continue
            self._keep_local(key, raw)
            return raw
        return None

    def delete(self, key: str) -> None:
        if self._memory is not None:
            self._memory.drop(key)
        self.local.delete(key)

    # -- counters ----------------------------------------------------------------------

    def incr(self, name: str, amount: int = 1) -> None:
        self.counters_level.incr(name, amount)

    def add_counts(self, amounts: dict[str, int]) -> None:
        """Several counters in one write (a daemon's buffered ones)."""
        self.counters_level.add(amounts)

    def counters(self) -> dict[str, int]:
        return self.counters_level.all()

    def zero(self) -> None:
        self.counters_level.zero()

    # -- maintenance ---------------------------------------------------------------------

    def check(self, repair: bool = False) -> tuple[int, list[str], list[str]]:
        """(entries checked, keys of bad entries, the index's own warnings): every
        value's frame, checksum and shape, and diskcache's consistency of its index
        and value files. With repair, bad entries are dropped and the index mended."""
        import warnings

        checked = 0
        bad: list[str] = []
        for key in self.local.keys():
            checked += 1
            raw = self.local.get(key)
            if raw is None:
                continue  # evicted meanwhile
            value, _ = _decode(raw)
            if value is None or not _well_formed(key, value):
                bad.append(key)
                if repair:
                    self.delete(key)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.local.check_index(repair)
            except Exception as exc:
                return checked, bad, [f"index check failed: {_one_line(exc)}"]
        return checked, bad, [str(w.message).splitlines()[0] for w in caught]

    def composition(self) -> dict[str, dict[str, int]]:
        """By kind: entries, bytes stored, bytes before compression, entries stored
        compressed. Read from each value's frame header, not from the whole value."""
        out: dict[str, dict[str, int]] = {}
        for key, tag, stored, head in self.local.heads(frames.HEADER + 18):
            _, original = frames.sizes(head, stored)
            row = out.setdefault(_kind(key, tag), {"entries": 0, "stored": 0, "original": 0, "compressed": 0})
            row["entries"] += 1
            row["stored"] += stored
            row["original"] += original if original is not None else stored
            row["compressed"] += head[:4] == frames.ZSTD
        return out

    def recompress(self, level: int | None, threads: int = 0) -> tuple[int, int, int]:
        """Every value rewritten at level (None: uncompressed), each keeping its place
        in the LRU order; the work is spread over threads (zstd lets go of the GIL).
        Returns (values rewritten, bytes before, bytes after)."""
        from concurrent.futures import ThreadPoolExecutor

        def one(entry: tuple[str, str | None, float]):
            key = entry[0]
            raw = self.local.get(key)
            if raw is None or raw == b"corrupt":
                return None
            payload = frames.payload(raw)
            if payload is None:
                return None  # damaged: zccache check --repair deals with those
            new = frames.frame(payload, level)
            return (entry, len(raw), new) if new != raw else None

        done = before = after = 0
        with ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 1) as pool:
            for answer in pool.map(one, self.local.by_recency(), chunksize=16):
                if answer is None:
                    continue
                (key, tag, access_time), old_size, new = answer
                self.local.replace(key, new, tag, access_time)
                done, before, after = done + 1, before + old_size, after + len(new)
        if self._memory is not None:
            self._memory.drop()
        self.compression = level
        return done, before, after

    def evict_unused(self, seconds: float, dry_run: bool = False) -> int:
        """ccache's --evict-older-than: every entry not used for that long."""
        import time

        keys = self.local.unused_since(time.time() - seconds)
        if not dry_run:
            for key in keys:
                self.delete(key)
        return len(keys)

    def clear(self) -> int:
        if self._memory is not None:
            self._memory.drop()
        return self.local.clear()

    def volume(self) -> int:
        return self.local.volume()

    def entries(self) -> int:
        return self.local.entries()

    @property
    def size_limit(self) -> int:
        return self.local.size_limit

    def checkpoint(self) -> None:
        """The write-ahead log folded into the database and cut to nothing, so a cache
        directory copied while the daemon waits (a CI job saving it) is its bytes."""
        self.local.checkpoint()

    def log_bytes(self) -> int:
        """What the write-ahead logs hold now: writes after the last checkpoint (the
        counters' flush, recency) leave some even when no request came since."""
        return self.local.log_bytes()

    def fill_in_background(self) -> None:
        """From now on, a later level's copy is written to the local level by a
        thread of this store's, and a read moves the LRU clock later (refresh_recency):
        the daemon's way; a short-lived process writes and reads as it goes."""
        self.local.defer_recency()
        if self._filler is None:
            self._fills = queue.SimpleQueue()
            self._filler = threading.Thread(target=self._fill_loop, name="local-fill", daemon=True)
            self._filler.start()

    def _keep_local(self, key: str, raw: bytes) -> None:
        if self._fills is not None:
            self._fills.put((key, raw))
            return
        try:
            self.local.put(key, raw)
        except Exception:
            pass  # served anyway; the local level fills next time

    def _fill_loop(self) -> None:
        fills = self._fills
        while fills is not None:
            batch = [fills.get()]
            while batch[-1] is not None and len(batch) < FILL_BATCH:
                # a remote-hit build's copies arrive a few milliseconds apart: written
                # one transaction each, they took the CPU its compiles wanted (72
                # transactions, 75 ms, in brotli's 0.27 s build); written when the
                # requests pause, they are a few
                try:
                    batch.append(fills.get(timeout=FILL_PAUSE_S))
                except queue.Empty:
                    break
            stop = batch[-1] is None
            items = [(key, raw, None) for key, raw in filter(None, batch)]
            if items:
                try:
                    self.local.put_many(items)
                except Exception:
                    pass  # served anyway; the local level fills next time
            if stop:
                return

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.shutdown(wait=True, cancel_futures=True)
        if self._filler is not None and self._fills is not None:
            self._fills.put(None)  # the copies queued so far are written first
            self._filler.join(timeout=30)
        self.local.close()
        self.counters_level.close()


FILL_BATCH = 256  # local copies of remote hits per transaction, at most
FILL_PAUSE_S = 0.1  # the pause in remote hits that lets them be written


def _accepts(level: Level, key: str) -> bool:
    accepts = getattr(level, "accepts", None)
    return accepts(key) if accepts is not None else True


def _decode(raw: bytes, checked: bool = False) -> tuple[Any | None, int]:
    """(the value, its msgpack size); (None, 0) for anything damaged."""
    payload = frames.payload(raw, checked)
    if payload is None:
        return None, 0
    try:
        return msgpack.unpackb(payload, raw=False), len(payload)
    except Exception:
        return None, 0


KINDS = {"gcc": "compiles", "link": "links and archives", "archive": "links and archives", "rustc": "rust",
         "exec": "exec runs"}


def _kind(key: str, tag: str | None) -> str:
    if key.startswith("r:"):
        return KINDS.get(tag or "", "results (kind not recorded)")
    if key.startswith("m:"):
        return "manifests"
    return "other (tool memos, records, indexes)"


def _well_formed(key: str, value: Any) -> bool:
    """The shapes the engine reads: a result's files and streams, a manifest's entries."""
    if key.startswith("r:"):
        files = value.get("files") if isinstance(value, dict) else None
        return (isinstance(files, list) and all(isinstance(f, list) and len(f) >= 2 and isinstance(f[0], str)
                                                and _stored_output(f[1]) for f in files)
                and isinstance(value.get("stdout", b""), bytes) and isinstance(value.get("stderr", b""), bytes))
    if key.startswith("m:"):
        return isinstance(value, dict) and (value.get("pp") is True or isinstance(value.get("entries"), list))
    return True


def _stored_output(data: Any) -> bool:
    """An output as a result holds it: its bytes, a delta against the run's inputs
    (deltas.py: a link's or an archive's), or None for an optional or appended output
    the tool left alone. `zccache check` called every delta bad, and --repair
    dropped every link."""
    if data is None or isinstance(data, bytes):
        return True
    return (isinstance(data, dict) and isinstance(data.get("delta"), bytes) and isinstance(data.get("size"), int)
            and isinstance(data.get("b3"), bytes))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
