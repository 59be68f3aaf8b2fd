"""One computation per key at a time, in one process.

A new daemon's first compiles arrive together (a build runs -j N), and a configure
step may have asked the daemon to warm the same compiler a moment before: each would
probe the tool and hash its programs (tens of MB) at once, N times the work on a
machine with N cores, for one answer. The second asker waits for the first and then
finds the answer memoised.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

_LIMIT = 1024  # keys are tools: more (a fuzzer) starts over; at worst two compute at once


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def held(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) > _LIMIT:
                    self._locks.clear()
                lock = self._locks[key] = threading.Lock()
        with lock:
            yield
