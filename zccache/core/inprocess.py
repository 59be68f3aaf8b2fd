"""The cache inside a build tool's own process (SCons, setuptools): no process start
per compile.

One ``InProcessCache`` per settings is shared by every caller of the process (SCons
environments, build_ext commands); it is safe for the build tool's job threads. It
runs the compiles the gcc family (or a plugin family) can cache and says ``None``
for every other command, which the caller then runs as it always does.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Mapping

from zccache.core.launcher import Exec, Finished, launch

_shared: dict[tuple, InProcessCache] = {}
_shared_lock = threading.Lock()


class InProcessCache:
    def __init__(self, settings: Mapping[str, str]) -> None:
        from zccache.core.config import Config
        from zccache.core.engine import Engine
        from zccache.core.plugins import make_manager
        from zccache.core.stats import StatsRecorder
        from zccache.core.store import Store, StoreError

        self.settings = dict(settings)
        self.config = Config.from_env({**os.environ, **self.settings})
        for line in self.config.problems:  # once per build: this object serves all of it
            sys.stderr.write(f"zccache: {line}\n")
        self.pm = make_manager(memo_dir=self.config.cache_dir)
        try:
            self.store: Store | None = Store.for_config(self.config)
            self.pm.register(StatsRecorder(self.store))
            from zccache.core.toolchains import tool_memo

            tool_memo.keep_in(self.store)
            from zccache.core.tiers import attach

            attach(self.store, self.pm, self.config, lambda text: sys.stderr.write(f"zccache: {text}\n"))
        except StoreError as exc:
            sys.stderr.write(f"zccache: cache disabled: {exc}\n")
            self.store = None
        self.engine = Engine(self.config, self.store, self.pm.hook)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, settings: Mapping[str, str]) -> InProcessCache:
        key = tuple(sorted(settings.items()))
        with _shared_lock:
            cache = _shared.get(key)
            if cache is None:
                cache = _shared[key] = cls(settings)
            return cache

    @classmethod
    def all(cls) -> list[InProcessCache]:
        with _shared_lock:
            return list(_shared.values())

    def run(self, argv: list[str], cwd: str, env: Mapping[str, str]) -> Finished | None:
        """Serve one command if it is a compile a family recognises; None otherwise
        (not a compiler, or a passthrough): the caller runs it itself."""
        from zccache_wire import which  # the clients' rule for finding a tool

        run_env = {str(k): str(v) for k, v in env.items()}
        tool = which(argv[0], cwd, run_env.get("PATH", os.defpath))
        if tool is None:
            return None
        classify_env = {**run_env, **self.settings}
        command = [tool, *argv[1:]]
        found = self.pm.hook.zccache_classify(argv=command, cwd=cwd, env=classify_env)
        if found is None:
            return None  # not a tool of ours: nothing to count
        decision = launch(command, cwd, classify_env, self.config, self.pm, self.engine, found=found)
        with self._lock:
            if isinstance(decision, Exec):
                self.counts[_counted(decision.action, "passthrough")] += 1
                return None
            for _inv, outcome in decision.results:
                self.counts[_counted(outcome.action, outcome.kind)] += 1
        return decision

    def summary(self) -> str:
        """The compiles' figures, then the links' (and archives') when there were any."""
        c = self.counts
        text = "zccache: " + _figures(c, "")
        if any(k.startswith("link.") for k in c):
            text += "; links: " + _figures(c, "link.")
        return text


def _counted(action: str, kind: str) -> str:
    return f"link.{kind}" if action == "link" else kind


def _figures(c: Counter[str], prefix: str) -> str:
    hits, misses = c[prefix + "hit"], c[prefix + "miss"]
    rate = 100.0 * hits / (hits + misses) if hits + misses else 0.0
    return (f"{hits} hits, {misses} misses, {c[prefix + 'passthrough']} uncacheable, "
            f"{c[prefix + 'failed']} failed ({rate:.1f} % hit rate)")


def emit(out: bytes, err: bytes) -> None:
    """Write a compile's captured output where the build tool's own output goes."""
    for stream, data in ((sys.stdout, out), (sys.stderr, err)):
        if data:
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()
