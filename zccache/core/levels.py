"""Storage levels: what one level is, and the wrappers that change how one is used.

The store (core/store.py) composes levels in order: memory (the daemon's, of
decoded values), the local diskcache (local_level.py), then the remote levels
(core/tiers/). A level stores and hands back raw framed bytes; the store checks the
frame of whatever any level hands back, so no level is trusted. sccache's
``multilevel.rs`` and ``readonly.rs`` are the model.
"""

from __future__ import annotations

from typing import Any, Protocol


class Level(Protocol):
    """get: the raw bytes stored under key, None when absent; put: store them.
    Either may raise (the caller counts it, and a build never fails for it)."""

    name: str

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, raw: bytes) -> None: ...


class ReadOnly:
    """A level, or the whole store, that is read and never written: a shared
    remote a consumer must not fill (ZCCACHE_REMOTE_READONLY), a tool run whose
    caller asks for read_only."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = getattr(inner, "name", "store")

    def put(self, key: str, raw: bytes) -> None:
        return None

    def set(self, key: str, value: Any, tag: str | None = None) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class WriteOnly:
    """The store, written and never read: a run whose caller asks for write_only
    (refresh an entry without trusting what is there)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def get(self, key: str) -> None:
        return None

    def recall(self, key: str) -> None:
        return None

    def prefetch(self, key: str) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
