"""Answers a tool gave about itself, kept per (path, stat signature), in memory and
in the store.

Asking a compiler, linker or archiver what it is costs a process (or several); the
answer holds until the file changes. Kept in the store too (``tool:`` entries keyed by
the tool's path and content, the local level's alone), a new
daemon, the in-process path and every later process answer from it without running
the tool: a fresh CI machine pays once per tool, not once per process, and a tool
that records compiler runs (Bear, a wrapper's log) sees only the build's. A file
whose stat signature has not settled (written within the file clock's last ticks) is
known by its content instead.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

from blake3 import blake3

from zccache.core.hashing import hash_file, trusted_sig
from zccache.core.one_at_a_time import KeyedLocks
from zccache.core.wrappers import resolved

T = TypeVar("T")
_LIMIT = 256  # tools per memo; more (a fuzzer, a farm of cross compilers) starts it over
_backing: Any = None  # the store answers are kept in (keep_in), or None
FORMAT = 1  # of a kept answer: a change of what a memo holds bumps it


def keep_in(store: Any) -> None:
    """Keep answers in this store (get/set of msgpack-able values) from now on; the
    process that opens the store says so (the daemon, an in-process compile)."""
    global _backing
    _backing = store


class ToolMemo(Generic[T]):
    def __init__(self, name: str = "", kind: type | None = None) -> None:
        """name: how its answers are kept in the store (none: memory only). kind: the
        dataclass of its answers, kept as their fields; plain values are kept as they are."""
        self._name = name
        self._kind = kind
        self._known: dict[tuple, T] = {}
        self._lock = threading.Lock()
        self._asking = KeyedLocks()  # two first compiles (or a warm-up) ask a tool once

    def get(self, tool: str, ask: Callable[[], T], missing: T, extra: Hashable = None,
            env: Mapping[str, str] | None = None) -> T:
        """The memoised answer for tool (and extra), else ask()'s; missing when the
        tool cannot be stat'ed. With env, a wrapper script's answer is also keyed on
        what its words resolve to on PATH now (wrappers.py)."""
        if env is not None:
            extra = (extra, resolved(tool, env))
        try:
            sig: Any = trusted_sig(os.stat(tool))
            if sig is None:
                sig = ("content", hash_file(tool))
        except OSError:
            return missing
        key = (tool, sig, extra)
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        with self._asking.held(key):
            with self._lock:
                known = self._known.get(key)
            return known if known is not None else self._ask(key, tool, sig, extra, ask)

    def _ask(self, key: tuple, tool: str, sig: Any, extra: Hashable, ask: Callable[[], T]) -> T:
        kept = None
        if _backing is not None and self._name:
            try:  # in the store by content: a signature that settles meanwhile is the same tool
                kept = (tool, sig if sig[0] == "content" else ("content", hash_file(tool)), extra)
            except OSError:
                kept = None
        found = self._kept(kept) if kept is not None else None
        if found is None:
            found = ask()
            if kept is not None:
                self._keep(kept, found)
        with self._lock:
            if len(self._known) > _LIMIT:
                self._known.clear()
            self._known[key] = found
        return found

    def peek(self, tool: str, extra: Hashable = None, env: Mapping[str, str] | None = None) -> T | None:
        """The memoised answer, without asking (None: never asked, or the tool changed)."""
        if env is not None:
            extra = (extra, resolved(tool, env))
        try:
            sig = trusted_sig(os.stat(tool))
        except OSError:
            return None
        if sig is None:
            return None
        with self._lock:
            return self._known.get((tool, sig, extra))

    # -- in the store ------------------------------------------------------------------

    def _store_key(self, key: tuple) -> str:
        return f"tool:{self._name}:" + blake3(repr((FORMAT, key)).encode("utf-8", "surrogateescape")).hexdigest()

    def _kept(self, key: tuple) -> T | None:
        store = _backing
        if store is None or not self._name:
            return None
        try:
            held = store.get(self._store_key(key))
            if not isinstance(held, list) or len(held) != 2 or held[0] != repr(key):
                return None
            return self._decode(held[1])
        except Exception:
            return None  # unreadable, or another shape: asked again, and kept anew

    def _keep(self, key: tuple, found: T) -> None:
        store = _backing
        if store is None or not self._name:
            return
        try:
            store.set(self._store_key(key), [repr(key), self._encode(found)])
        except Exception:
            pass  # kept in memory all the same

    def _encode(self, found: T) -> Any:
        if self._kind is not None:
            return [getattr(found, f.name) for f in dataclasses.fields(self._kind)]
        return found

    def _decode(self, held: Any) -> T:
        if self._kind is not None:
            return self._kind(*(_tuples(v) for v in held))
        return _tuples(held)


def _tuples(value: Any) -> Any:
    """msgpack hands tuples back as lists: the answers hold tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
