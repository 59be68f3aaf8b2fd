"""Storage tiers past the local store: the contract, and how they compose.

The local diskcache store (core/store.py) is always the first tier. Tiers after it
come from the ``zccache_storage_tiers`` hook (the built-in one reads
``ZCCACHE_REMOTE``; a plugin may add its own). A read asks the local store first,
then each remote tier in order, and a remote hit fills the local store. A write goes
to the local store at once and to the remote tiers from a background thread, so a
slow remote never slows a build. Only results (``r:``) and manifests (``m:``) travel:
their keys are digests of what made them, and a manifest's entries are checked
against the files of the machine at hand before any is used; tool memos and counters
describe one machine and stay on it.

What comes back from a remote is not trusted: each value travels framed with a
digest of its key and its bytes (keyed with ``ZCCACHE_REMOTE_SECRET`` when set, so a
reader rejects entries nobody with the secret wrote, and an entry copied to another
key), and the local frame's own checksum is checked again after that.

A remote that fails (down, slow, garbage) costs the build nothing but its cache:
each request has a timeout (``ZCCACHE_REMOTE_TIMEOUT``, 2 s), and after three failures
in a row the tier is not asked again for a minute (the breaker), counted.
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
    """Gives store the remote tiers the plugins name for config (none: nothing).
    count(name, amount) adds to a counter (a daemon buffers them: a SQLite write per
    counter per remote read cost more than the read)."""
    from zccache.core.config import ConfigError

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
    store.remote = RemoteTiers(tiers, secret, config.remote_readonly, counted, warn)


class RemoteTiers:
    """The remote tiers of one store: reads in the caller's thread (bounded by the
    tier's own timeout), writes in a background thread, a breaker per tier."""

    def __init__(self, tiers: list[Tier], secret: bytes | None, readonly: bool, count, warn) -> None:
        self.tiers = tiers
        self.secret = secret
        self.readonly = readonly
        self._count = count  # (counter name, amount): the store's counters
        self._warn = warn
        self._warned = False
        self._failures = {t.name: 0 for t in tiers}
        self._open_until = {t.name: 0.0 for t in tiers}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(_QUEUE)
        self._writer: threading.Thread | None = None

    # -- reads -------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        for tier in self.tiers:
            if not self._closed(tier):
                self._count("remote.skipped", 1)
                continue
            started = time.monotonic()
            try:
                data = tier.get(key)
            except Exception as exc:
                self._failed(tier, exc)
                continue
            self._succeeded(tier)
            self._count("remote.ms", int((time.monotonic() - started) * 1000))
            self._count("remote.requests", 1)
            if data is None:
                self._count("remote.misses", 1)
                continue
            raw = unseal(key, bytes(data), self.secret)
            if raw is None:
                self._count("remote.rejected", 1)
                continue
            self._count("remote.hits", 1)
            if key.startswith("r:"):
                self._count("remote.result_hits", 1)
            return raw
        return None

    # -- writes ------------------------------------------------------------------------

    def put(self, key: str, raw: bytes) -> None:
        if self.readonly:
            return
        self._start_writer()
        try:
            self._queue.put_nowait((key, raw))
        except queue.Full:
            self._count("remote.writes_dropped", 1)

    def flush(self, seconds: float) -> None:
        """Waits (at most seconds) for the background writes: a short-lived process
        calls it before it exits, so that its results reach the remote."""
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
                sealed = seal(key, raw, self.secret)
                for tier in self.tiers:
                    if not self._closed(tier):
                        self._count("remote.writes_skipped", 1)
                        continue
                    try:
                        tier.put(key, sealed)
                    except Exception as exc:
                        self._failed(tier, exc)
                        self._count("remote.write_errors", 1)
                        continue
                    self._succeeded(tier)
                    self._count("remote.writes", 1)
            finally:
                self._queue.task_done()

    # -- the breaker -------------------------------------------------------------------

    def _closed(self, tier: Tier) -> bool:
        return time.monotonic() >= self._open_until[tier.name]

    def _succeeded(self, tier: Tier) -> None:
        self._failures[tier.name] = 0

    def _failed(self, tier: Tier, exc: Exception) -> None:
        self._count("remote.errors", 1)
        with self._lock:
            self._failures[tier.name] += 1
            opened = self._failures[tier.name] >= FAILURES_TO_OPEN
            if opened:
                self._open_until[tier.name] = time.monotonic() + OPEN_SECONDS
                self._failures[tier.name] = 0
            first = not self._warned
            self._warned = True
        if first:
            text = str(exc).strip().splitlines()
            self._warn(f"remote cache {tier.name} failed ({text[0] if text else type(exc).__name__}); "
                       "going on with the local cache")
        if opened:
            self._count("remote.breaker_opened", 1)
