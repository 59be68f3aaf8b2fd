"""Counters: one observer of ``zccache_on_result`` that adds each outcome to the store.

Counter names: ``hit.direct``, ``hit.preprocessed``, ``miss``, ``failed`` (the
compiler itself failed), ``uncacheable.<reason>`` (run as is, with the reason), and
``corrupt_dropped`` (a damaged entry was found, deleted and recompiled). Links and
archives count under the same names with a ``link.`` prefix, ``zccache exec`` runs
with ``exec.``, so that a user sees their compiles, links and other tools apart.
"""

from __future__ import annotations

import threading

from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Outcome
from zccache.core.store import Store

LINK = "link."
EXEC = "exec."
REMOTE = "remote."  # counted by the remote tiers themselves (core/tiers/)
_PREFIX = {"link": LINK, "exec": EXEC}


def counter_name(outcome: Outcome) -> str:
    if outcome.kind == "hit":
        name = f"hit.{outcome.reason or 'direct'}"
    elif outcome.kind == "passthrough":
        name = f"uncacheable.{outcome.reason or 'unknown'}"
    else:
        name = outcome.kind
    return _PREFIX.get(outcome.action, "") + name


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
        self.add(counter_name(outcome))

    def add(self, name: str, amount: int = 1) -> None:
        """One counter (an outcome's, or the remote tiers' own): buffered in a daemon."""
        if not self.buffered:
            self.store.incr(name, amount)
            return
        with self._lock:
            self._pending[name] = self._pending.get(name, 0) + amount

    def flush(self) -> None:
        """Counters that cannot be written now (a read-only or full disk) are kept
        for the next flush: a daemon's loop must not die of its bookkeeping."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            self.store.add_counts(pending)
        except Exception:
            with self._lock:
                for name, n in pending.items():
                    self._pending[name] = self._pending.get(name, 0) + n


def summarize(counters: dict[str, int]) -> dict[str, object]:
    """The compiles' figures at the top level (as before links were counted), the
    links' under ``links`` and zccache exec's under ``exec``, with the same fields."""
    compiles = {k: v for k, v in counters.items() if not k.startswith((LINK, EXEC, REMOTE))}
    summary = _summarize(compiles)
    summary["corrupt_dropped"] = counters.get("corrupt_dropped", 0)
    for section, prefix in (("links", LINK), ("exec", EXEC)):
        summary[section] = _summarize({k.removeprefix(prefix): v for k, v in counters.items() if k.startswith(prefix)})
    summary["remote"] = _remote({k.removeprefix(REMOTE): v for k, v in counters.items() if k.startswith(REMOTE)})
    return summary


def _remote(c: dict[str, int]) -> dict[str, object]:
    """The remote tiers' side (core/tiers/): results and manifests fetched, what was
    refused, failures, writes; the mean time of a remote read."""
    return {
        "results_fetched": c.get("result_hits", 0),
        "fetched": c.get("hits", 0),
        "not_found": c.get("misses", 0),
        "rejected": c.get("rejected", 0),
        "errors": c.get("errors", 0),
        "skipped": c.get("skipped", 0) + c.get("writes_skipped", 0),
        "breaker_opened": c.get("breaker_opened", 0),
        "writes": c.get("writes", 0),
        "write_errors": c.get("write_errors", 0),
        "writes_dropped": c.get("writes_dropped", 0),
        "mean_read_ms": round(c.get("ms", 0) / c["requests"], 2) if c.get("requests") else 0.0,
    }


def _summarize(counters: dict[str, int]) -> dict[str, object]:
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
        "hit_rate": (hits / lookups) if lookups else 0.0,
    }
