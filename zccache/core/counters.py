"""Counters: hits, misses, reasons, remote figures. A table of their own in the
store's SQLite database, beside diskcache's, which diskcache's size eviction never
touches: eviction drops results, not statistics.

They had a diskcache of their own (``stats/``), and that was a second database and
a second write-ahead index: 60 KB of a 650 KB cache directory after a small cold
build, and a second database opened by every short-lived client. A directory still
holding one has its counts folded in once, then it goes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import diskcache

from zccache.core.local_level import StoreError, one_line

_SCHEMA = "CREATE TABLE IF NOT EXISTS Counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID"
_ADD = ("INSERT INTO Counters (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value")


class Counters:
    def __init__(self, directory: str) -> None:
        """directory: the cache directory, whose store/ the local level has made."""
        self._lock = threading.Lock()  # one connection, shared by a daemon's threads
        try:
            self._db = sqlite3.connect(os.path.join(directory, "store", "cache.db"), timeout=60,
                                       isolation_level=None, check_same_thread=False)
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open cache at {directory}: {one_line(exc)}") from None
        _fold_in_old(self, os.path.join(directory, "stats"))

    def incr(self, name: str, amount: int = 1) -> None:
        self.add({name: amount})

    def add(self, amounts: dict[str, int]) -> None:
        """Several counters in one transaction (a daemon's flush)."""
        with self._lock:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(_ADD, list(amounts.items()))

    def all(self) -> dict[str, int]:
        with self._lock:
            return {str(k): int(v) for k, v in self._db.execute("SELECT name, value FROM Counters")}

    def zero(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM Counters")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _fold_in_old(counters: Counters, old: str) -> None:
    """The counts of an earlier version's stats/ directory, added once; it is then
    removed. Anything wrong with it costs only those counts."""
    if not os.path.isfile(os.path.join(old, "cache.db")):
        return
    try:
        with diskcache.Cache(old, eviction_policy="none", timeout=5) as stats:
            found = {str(k): int(stats.get(k, 0)) for k in stats.iterkeys()}
        counters.add(found)
    except Exception:
        pass
    shutil.rmtree(old, ignore_errors=True)
