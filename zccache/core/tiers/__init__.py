"""Remote levels: a tier's contract, and what makes one a level of the store.

Tiers come from the ``zccache_storage_tiers`` hook (the built-in one reads
``ZCCACHE_REMOTE``; a plugin may add its own) and are raw key/value services. Each
becomes a level after the local one (core/store.py composes them, core/levels.py
says what a level is): ``RemoteLevel`` seals values to their key and keeps a
breaker and the remote counters, ``Background`` makes its writes happen in a thread
of their own, so a slow remote never slows a build, and ``levels.ReadOnly`` makes a
consumer's level one that is never written (``ZCCACHE_REMOTE_READONLY``). Only results (``r:``) and manifests (``m:``) travel:
their keys are digests of what made them, and a manifest's entries are checked
against the files of the machine at hand before any is used; tool memos and counters
describe one machine and stay on it.

What comes back from a remote is not trusted: each value travels framed with a
digest of its key and its bytes (keyed with ``ZCCACHE_REMOTE_SECRET`` when set, so a
reader rejects entries nobody with the secret wrote, and an entry copied to another
key), and the local frame's own checksum is checked again after that.

A remote that fails (down, slow, garbage) costs the build nothing but its cache:
each request has a timeout (``ZCCACHE_REMOTE_TIMEOUT``, 2 s), and after three failures
in a row the tier is not asked again for a minute (the breaker), counted. A failure
that took the whole timeout, or one from a tier that has not answered yet (a host
that does not resolve, a server that is not there), opens the breaker at once: a
build pays for an unusable remote once, not once per compile.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
from typing import Protocol

from blake3 import blake3

SHARED_PREFIXES = ("r:", "m:")
_MAGIC = b"ZCR1"
_DIGEST = 32
FAILURES_TO_OPEN = 3
OPEN_SECONDS = 60.0
FLUSH_AT_EXIT = 10.0  # seconds a process that stored results waits for their remote writes
_QUEUE = 256  # pending background writes; past it, writes are dropped (counted)


class Tier(Protocol):
    """A remote tier. get: the bytes stored under key, None when absent; put: store
    them. Either raises on a failure (any exception: the caller counts it)."""

    name: str

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...


def seal(key: str, raw: bytes, secret: bytes | None) -> bytes:
    return _MAGIC + _digest(key, raw, secret) + raw


def unseal(key: str, data: bytes, secret: bytes | None) -> bytes | None:
    """The local frame inside a remote value, or None when it is not for this key,
    was not written with this secret, or is damaged."""
    if not isinstance(data, bytes) or len(data) < len(_MAGIC) + _DIGEST or not data.startswith(_MAGIC):
        return None
    raw = data[len(_MAGIC) + _DIGEST :]
    if data[len(_MAGIC) : len(_MAGIC) + _DIGEST] != _digest(key, raw, secret):
        return None
    return raw


def _digest(key: str, raw: bytes, secret: bytes | None) -> bytes:
    h = blake3(key=blake3(secret).digest()) if secret else blake3()
    h.update(key.encode() + b"\0")
    h.update(raw)
    return h.digest()


def attach(store, pm, config, warn, count=None) -> None:
    """Gives store the remote levels the plugins name for config (none: nothing).
    count(name, amount) adds to a counter (a daemon buffers them: a SQLite write per
    counter per remote read cost more than the read)."""
    from zccache.core.config import ConfigError
    from zccache.core.levels import ReadOnly

    try:
        tiers = [t for answer in pm.hook.zccache_storage_tiers(config=config) for t in (answer or [])]
    except ConfigError as exc:
        warn(f"{exc}; going on with the local cache")
        return
    except Exception as exc:  # a broken tier plugin must not break builds
        warn(f"remote cache unavailable ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})")
        return
    if not tiers:
        return

    def counted(name: str, amount: int) -> None:
        try:
            (count or store.incr)(name, amount)
        except Exception:
            pass

    secret = config.remote_secret.encode() if config.remote_secret else None
    warned = _Once(warn)
    levels = []
    for tier in tiers:
        level = Background(RemoteLevel(tier, secret, counted, warned, config.remote_timeout), counted)
        levels.append(ReadOnly(level) if config.remote_readonly else level)
    store.add_levels(levels)


class _Once:
    """The first remote failure is said, in one line; the rest are counted."""

    def __init__(self, warn) -> None:
        self._warn = warn
        self.said = False

    def __call__(self, text: str) -> None:
        if not self.said:
            self.said = True
            self._warn(text)


class RemoteLevel:
    """One tier as a level: values sealed to their key, a breaker, the remote
    counters. Only results and manifests travel (accepts)."""

    def __init__(self, tier: Tier, secret: bytes | None, count, warn, timeout: float = 2.0) -> None:
        self.tier = tier
        self.timeout = timeout
        self._answered = False  # has the tier ever answered (a hit, a miss, a write)?
        self.name = tier.name
        self.secret = secret
        self._count = count  # (counter name, amount)
        self._warn = warn
        self._failures = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def accepts(key: str) -> bool:
        return key.startswith(SHARED_PREFIXES)

    def get(self, key: str) -> bytes | None:
        if not self._closed():
            self._count("remote.skipped", 1)
            return None
        started = time.monotonic()
        try:
            data = self.tier.get(key)
        except Exception as exc:
            self._failed(exc, time.monotonic() - started)
            return None
        self._failures, self._answered = 0, True
        self._count("remote.ms", int((time.monotonic() - started) * 1000))
        self._count("remote.requests", 1)
        if data is None:
            self._count("remote.misses", 1)
            return None
        raw = unseal(key, bytes(data), self.secret)
        if raw is None:
            self._count("remote.rejected", 1)
            return None
        self._count("remote.hits", 1)
        if key.startswith("r:"):
            self._count("remote.result_hits", 1)
        return raw

    def put(self, key: str, raw: bytes) -> None:
        if not self._closed():
            self._count("remote.writes_skipped", 1)
            return
        started = time.monotonic()
        try:
            self.tier.put(key, seal(key, raw, self.secret))
        except Exception as exc:
            self._failed(exc, time.monotonic() - started)
            self._count("remote.write_errors", 1)
            return
        self._failures, self._answered = 0, True
        self._count("remote.writes", 1)

    # -- the breaker -------------------------------------------------------------------

    def _closed(self) -> bool:
        return time.monotonic() >= self._open_until

    def _failed(self, exc: Exception, took: float) -> None:
        self._count("remote.errors", 1)
        with self._lock:
            self._failures += 1
            opened = self._failures >= FAILURES_TO_OPEN or not self._answered or took >= 0.8 * self.timeout
            if opened:
                self._open_until = time.monotonic() + OPEN_SECONDS
                self._failures = 0
        text = str(exc).strip().splitlines()
        self._warn(f"remote cache {self.name} failed ({text[0] if text else type(exc).__name__}); "
                   "going on with the local cache")
        if opened:
            self._count("remote.breaker_opened", 1)


class Background:
    """A level whose writes go through a queue to a thread of their own (flushed for
    up to FLUSH_AT_EXIT seconds when the process exits); reads stay in the caller's
    thread, bounded by the tier's own timeout."""

    def __init__(self, level: RemoteLevel, count) -> None:
        self._level = level
        self.name = level.name
        self.accepts = level.accepts
        self._count = count
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, bytes]] = queue.Queue(_QUEUE)
        self._writer: threading.Thread | None = None

    def get(self, key: str) -> bytes | None:
        return self._level.get(key)

    def put(self, key: str, raw: bytes) -> None:
        self._start_writer()
        try:
            self._queue.put_nowait((key, raw))
        except queue.Full:
            self._count("remote.writes_dropped", 1)

    def flush(self, seconds: float) -> None:
        """Waits (at most seconds) for the writes queued so far."""
        deadline = time.monotonic() + seconds
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="remote-writer", daemon=True)
                self._writer.start()
                atexit.register(self.flush, FLUSH_AT_EXIT)

    def _write_loop(self) -> None:
        while True:
            key, raw = self._queue.get()
            try:
                self._level.put(key, raw)
            finally:
                self._queue.task_done()
