"""Counters: hits, misses, reasons, remote figures. A diskcache of their own beside
the store, never evicted, so that size-driven eviction drops results, not statistics."""

from __future__ import annotations

import os
import sqlite3

import diskcache

from zccache.core.local_level import StoreError, one_line
from zccache.core.safe_disk import WAL_SETTINGS, checkpoint, disk_class, log_bytes, share_db_files


class Counters:
    def __init__(self, directory: str, umask: int | None = None) -> None:
        try:
            self._stats = diskcache.Cache(os.path.join(directory, "stats"), eviction_policy="none", timeout=60,
                                          disk=disk_class(umask), **WAL_SETTINGS)
            share_db_files(os.path.join(directory, "stats"), umask)
        except Exception as exc:
            raise StoreError(f"cannot open cache at {directory}: {one_line(exc)}") from None

    def incr(self, name: str, amount: int = 1) -> None:
        try:
            self._stats.incr(name, amount, default=0, retry=True)
        except sqlite3.Error:
            self.reconnect()
            raise

    def all(self) -> dict[str, int]:
        return {str(k): int(self._stats.get(k, 0)) for k in self._stats.iterkeys()}

    def zero(self) -> None:
        self._stats.clear(retry=True)

    def reconnect(self) -> None:
        try:
            self._stats.close()
        except Exception:
            pass

    def checkpoint(self) -> None:
        checkpoint(self._stats)

    def log_bytes(self) -> int:
        return log_bytes(self._stats)

    def close(self) -> None:
        self._stats.close()
