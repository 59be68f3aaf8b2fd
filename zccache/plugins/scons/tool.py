"""The SCons tool: SPAWN is wrapped, so compiles run through the engine in process.

SCons keeps its own scanners, signatures and command lines; only the moment a
command is run changes. A command that is a cacheable compile (as the gcc family
classifies it) is served by the engine of this process; everything else (links,
archives, commands with shell syntax) goes to the SPAWN SCons had. Thread-safe for
``scons -j``: the engine's store and hash memo are shared by the job threads.

Construction variables:

- ``ZCCACHE_DISABLE`` (bool): leave SPAWN alone.
- ``ZCCACHE_DIR``: the cache directory (else ``ZCCACHE_CACHE_DIR`` from the
  environment, else the default).
- ``ZCCACHE_BASEDIR``, ``ZCCACHE_HASHDIR``, ``ZCCACHE_DIRECT``, ``ZCCACHE_SLOPPINESS``,
  ``ZCCACHE_MAXSIZE``: as the environment variables of the same names.
- ``ZCCACHE_STATS`` (bool), or ``scons --zccache-stats``: print this build's hits and
  misses when SCons exits.
"""

from __future__ import annotations

import atexit
import os
import shlex
import sys
import threading
from collections import Counter

_SETTINGS = ("ZCCACHE_BASEDIR", "ZCCACHE_HASHDIR", "ZCCACHE_DIRECT", "ZCCACHE_SLOPPINESS", "ZCCACHE_MAXSIZE",
             "ZCCACHE_CACHE_DIR")
_OPERATORS = set("();<>|&")
_runners: dict[tuple, _Runner] = {}
_lock = threading.Lock()
_summary_registered = False


class _Runner:
    """One engine per settings, shared by every Environment of the build."""

    def __init__(self, settings: dict[str, str]) -> None:
        from zccache.core.config import Config
        from zccache.core.engine import Engine
        from zccache.core.plugins import make_manager
        from zccache.core.stats import StatsRecorder
        from zccache.core.store import Store, StoreError

        self.settings = settings
        self.config = Config.from_env({**os.environ, **settings})
        self.pm = make_manager(memo_dir=self.config.cache_dir)
        try:
            self.store: Store | None = Store(self.config.cache_dir, self.config.maxsize)
            self.pm.register(StatsRecorder(self.store))
        except StoreError as exc:
            sys.stderr.write(f"zccache: cache disabled: {exc}\n")
            self.store = None
        self.engine = Engine(self.config, self.store, self.pm.hook)
        self.counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def spawn(self, original, sh, escape, cmd, args, env) -> int:
        from zccache.core.cli import resolve_tool
        from zccache.core.launcher import Exec, launch

        argv = _argv(args)
        if argv is None:
            return original(sh, escape, cmd, args, env)
        cwd = os.getcwd()
        run_env = {str(k): str(v) for k, v in env.items()}
        tool = resolve_tool(argv[0], cwd, run_env.get("PATH", os.defpath))
        if tool is None:
            return original(sh, escape, cmd, args, env)
        classify_env = {**run_env, **self.settings}
        found = self.pm.hook.zccache_classify(argv=[tool, *argv[1:]], cwd=cwd, env=classify_env)
        if found is None:
            return original(sh, escape, cmd, args, env)  # not a compiler: nothing to count
        decision = launch([tool, *argv[1:]], cwd, classify_env, self.config, self.pm, self.engine)
        if isinstance(decision, Exec):
            with self._count_lock:
                self.counts["passthrough"] += 1
            return original(sh, escape, cmd, args, env)
        with self._count_lock:
            for _inv, outcome in decision.results:
                self.counts[outcome.kind] += 1
            _emit(decision.stdout, decision.stderr)
        return decision.returncode


def _emit(out: bytes, err: bytes) -> None:
    for stream, data in ((sys.stdout, out), (sys.stderr, err)):
        if data:
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()


def _argv(words: list[str]) -> list[str] | None:
    """The argv ``sh -c`` would run for SCons's escaped words; None for anything
    with shell syntax (redirections, pipes, expansions), which stays SCons's."""
    line = " ".join(str(w) for w in words)
    if any(c in line for c in "$`*?[~\n") or "\\" in line.replace('\\"', ""):
        return None
    try:
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        argv = list(lex)
    except ValueError:
        return None
    if not argv or any(tok and set(tok) <= _OPERATORS for tok in argv):
        return None
    return argv


def _flag(value) -> bool:
    return str(value).strip().lower() not in ("", "0", "false", "no", "off", "none")


def _print_summary() -> None:
    totals: Counter[str] = Counter()
    for runner in _runners.values():
        totals.update(runner.counts)
    lookups = totals["hit"] + totals["miss"]
    rate = 100.0 * totals["hit"] / lookups if lookups else 0.0
    print(f"zccache: {totals['hit']} hits, {totals['miss']} misses, {totals['passthrough']} uncacheable, "
          f"{totals['failed']} failed ({rate:.1f} % hit rate)")


def generate(env, **kw) -> None:
    global _summary_registered
    try:
        from SCons.Script import AddOption, GetOption

        AddOption("--zccache-stats", dest="zccache_stats", action="store_true", default=False,
                  help="print zccache hits and misses at the end of the build")
        want_summary = bool(GetOption("zccache_stats"))
    except Exception:  # options are not available in every context (e.g. tests of tools)
        want_summary = False
    if _flag(env.get("ZCCACHE_DISABLE", os.environ.get("ZCCACHE_DISABLE", ""))):
        return
    settings = {name: str(env[name]) for name in _SETTINGS if name in env and env[name] is not None}
    if env.get("ZCCACHE_DIR"):
        settings["ZCCACHE_CACHE_DIR"] = str(env.subst("$ZCCACHE_DIR"))
    key = tuple(sorted(settings.items()))
    with _lock:
        runner = _runners.get(key)
        if runner is None:
            runner = _runners[key] = _Runner(settings)
        if (want_summary or _flag(env.get("ZCCACHE_STATS", ""))) and not _summary_registered:
            _summary_registered = True
            atexit.register(_print_summary)
    original = env["SPAWN"]
    if getattr(original, "_zccache", False):
        return

    def spawn(sh, escape, cmd, args, spawn_env):
        return runner.spawn(original, sh, escape, cmd, args, spawn_env)

    spawn._zccache = True  # type: ignore[attr-defined]
    env["SPAWN"] = spawn


def exists(env) -> bool:
    return True
