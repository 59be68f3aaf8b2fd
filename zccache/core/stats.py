"""Counters: one observer of ``zccache_on_result`` that adds each outcome to the store.

Counter names: ``hit.direct``, ``hit.preprocessed``, ``miss``, ``failed`` (the
compiler itself failed), ``uncacheable.<reason>`` (run as is, with the reason), and
``corrupt_dropped`` (a damaged entry was found, deleted and recompiled).
"""

from __future__ import annotations

import threading

from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Outcome
from zccache.core.store import Store


def counter_name(outcome: Outcome) -> str:
    if outcome.kind == "hit":
        return f"hit.{outcome.reason or 'direct'}"
    if outcome.kind == "passthrough":
        return f"uncacheable.{outcome.reason or 'unknown'}"
    return outcome.kind


class StatsRecorder:
    """Adds each outcome to the store's counters. A daemon buffers them (a write
    transaction per compile is a third of a hit's work there) and flushes every
    half second and whenever its counters are asked for."""

    def __init__(self, store: Store, buffered: bool = False) -> None:
        self.store = store
        self.buffered = buffered
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()

    @hookimpl
    def zccache_on_result(self, invocation: Invocation | None, outcome: Outcome) -> None:
        name = counter_name(outcome)
        if not self.buffered:
            self.store.incr(name)
            return
        with self._lock:
            self._pending[name] = self._pending.get(name, 0) + 1

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for name, amount in pending.items():
            self.store.incr(name, amount)


def summarize(counters: dict[str, int]) -> dict[str, object]:
    hits = sum(v for k, v in counters.items() if k.startswith("hit."))
    misses = counters.get("miss", 0)
    uncacheable = {k.removeprefix("uncacheable."): v for k, v in counters.items() if k.startswith("uncacheable.")}
    lookups = hits + misses
    return {
        "hits": hits,
        "hits_direct": counters.get("hit.direct", 0),
        "hits_preprocessed": counters.get("hit.preprocessed", 0),
        "misses": misses,
        "compile_failed": counters.get("failed", 0),
        "uncacheable": dict(sorted(uncacheable.items(), key=lambda kv: (-kv[1], kv[0]))),
        "uncacheable_total": sum(uncacheable.values()),
        "corrupt_dropped": counters.get("corrupt_dropped", 0),
        "hit_rate": (hits / lookups) if lookups else 0.0,
    }
