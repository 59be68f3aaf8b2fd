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
import threading

_SETTINGS = ("ZCCACHE_BASEDIR", "ZCCACHE_HASHDIR", "ZCCACHE_DIRECT", "ZCCACHE_SLOPPINESS", "ZCCACHE_MAXSIZE",
             "ZCCACHE_CACHE_DIR")
_OPERATORS = set("();<>|&")
_lock = threading.Lock()
_summary_registered = False


def _spawn(cache, original, sh, escape, cmd, args, env) -> int:
    from zccache.core.inprocess import emit

    argv = _argv(args)
    done = cache.run(argv, os.getcwd(), env) if argv else None
    if done is None:
        return original(sh, escape, cmd, args, env)
    with _lock:
        emit(done.stdout, done.stderr)
    return done.returncode


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
    from zccache.core.inprocess import InProcessCache

    for cache in InProcessCache.all():
        print(cache.summary())


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
    from zccache.core.inprocess import InProcessCache

    cache = InProcessCache.shared(settings)
    with _lock:
        if (want_summary or _flag(env.get("ZCCACHE_STATS", ""))) and not _summary_registered:
            _summary_registered = True
            atexit.register(_print_summary)
    original = env["SPAWN"]
    if getattr(original, "_zccache", False):
        return

    def spawn(sh, escape, cmd, args, spawn_env):
        return _spawn(cache, original, sh, escape, cmd, args, spawn_env)

    spawn._zccache = True  # type: ignore[attr-defined]
    env["SPAWN"] = spawn


def exists(env) -> bool:
    return True
