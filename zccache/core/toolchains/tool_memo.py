"""Answers a tool gave about itself, kept per (path, settled stat signature).

Asking a compiler, linker or archiver what it is costs a process (or several); the
answer holds until the file changes. A signature that has not settled (the file was
written within the file clock's last ticks) is not trusted: the tool is asked again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from zccache.core.hashing import trusted_sig

T = TypeVar("T")
_LIMIT = 256  # tools per memo; more (a fuzzer, a farm of cross compilers) starts it over


class ToolMemo(Generic[T]):
    def __init__(self) -> None:
        self._known: dict[tuple, T] = {}
        self._lock = threading.Lock()

    def get(self, tool: str, ask: Callable[[], T], missing: T, extra: Hashable = None) -> T:
        """The memoised answer for tool (and extra), else ask()'s; missing when the
        tool cannot be stat'ed."""
        try:
            sig = trusted_sig(os.stat(tool))
        except OSError:
            return missing
        key = (tool, sig, extra)
        if sig is not None:
            with self._lock:
                known = self._known.get(key)
            if known is not None:
                return known
        found = ask()
        if sig is not None:
            with self._lock:
                if len(self._known) > _LIMIT:
                    self._known.clear()
                self._known[key] = found
        return found

    def peek(self, tool: str, extra: Hashable = None) -> T | None:
        """The memoised answer, without asking (None: never asked, or the tool changed)."""
        try:
            sig = trusted_sig(os.stat(tool))
        except OSError:
            return None
        if sig is None:
            return None
        with self._lock:
            return self._known.get((tool, sig, extra))
