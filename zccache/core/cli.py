"""The ``zccache`` command: a compiler launcher, and a few commands of its own.

``zccache <compiler> args...`` runs one compile through the cache; anything else is
a sub-command (``stats``, ``clear`` and those plugins add). Errors are one line on
stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from zccache import __version__

USAGE = """\
usage: zccache <compiler> [compiler arguments...]
       zccache <command> [options]
Try 'zccache --help' for the commands.
"""

BUILTIN_COMMANDS = ("stats", "clear", "help")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:  # the last line of defence: one line, never a traceback
        text = str(exc).strip().splitlines()
        sys.stderr.write(f"zccache: internal error: {type(exc).__name__}: {text[0] if text else ''}\n")
        return 70


def _main(args: list[str]) -> int:
    if not args:
        sys.stderr.write(USAGE)
        return 2
    first = args[0]
    if first == "--version":
        print(f"zccache {__version__} (pyzccache)")
        return 0
    if first in ("-h", "--help") or first in BUILTIN_COMMANDS:
        return _command(args)
    if first.startswith("-"):
        sys.stderr.write(f"zccache: unknown option {first}\n{USAGE}")
        return 2
    if os.sep not in first and resolve_tool(first, os.getcwd(), os.environ.get("PATH")) is None:
        if first in _parser()[1]:  # a command added by a plugin
            return _command(args)
    return compile_main(args)


# -- the launcher ----------------------------------------------------------------------


def resolve_tool(name: str, cwd: str, path: str | None) -> str | None:
    if os.sep in name:
        full = os.path.join(cwd, name)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    found = shutil.which(name, path=path)
    return os.path.abspath(found) if found else None


def compile_main(args: list[str]) -> int:
    """Compile in this process: the path without a daemon, and the fallback."""
    from zccache.core.config import Config, ConfigError
    from zccache.core.launcher import Exec, is_self, launch

    cwd = os.getcwd()
    env = dict(os.environ)
    tool = resolve_tool(args[0], cwd, env.get("PATH"))
    if tool is None:
        sys.stderr.write(f"zccache: compiler '{args[0]}' not found\n")
        return 127
    if is_self(tool):
        sys.stderr.write(f"zccache: '{args[0]}' is zccache itself; name the real compiler\n")
        return 127
    argv = [tool, *args[1:]]
    try:
        config = Config.from_env(env)
    except ConfigError as exc:
        sys.stderr.write(f"zccache: {exc}; compiling without cache\n")
        os.execv(tool, argv)
    from zccache.core.engine import Engine
    from zccache.core.plugins import make_manager

    pm = make_manager(memo_dir=config.cache_dir)
    store = _open_store(config)
    if store is not None:
        from zccache.core.stats import StatsRecorder

        pm.register(StatsRecorder(store))
    decision = launch(argv, cwd, env, config, pm, Engine(config, store, pm.hook))
    if isinstance(decision, Exec):
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(decision.tool, decision.argv)
    _write(sys.stdout, decision.stdout)
    _write(sys.stderr, decision.stderr)
    return decision.returncode


def _open_store(config):
    from zccache.core.store import Store, StoreError

    try:
        return Store(config.cache_dir, config.maxsize)
    except StoreError as exc:
        sys.stderr.write(f"zccache: cache disabled: {exc}\n")
        return None


def _write(stream, data: bytes) -> None:
    if data:
        stream.flush()
        stream.buffer.write(data)
        stream.buffer.flush()


# -- sub-commands ----------------------------------------------------------------------

_PARSER: tuple[argparse.ArgumentParser, set[str]] | None = None


def _parser() -> tuple[argparse.ArgumentParser, set[str]]:
    global _PARSER
    if _PARSER is not None:
        return _PARSER
    from zccache.core.plugins import make_manager

    parser = argparse.ArgumentParser(
        prog="zccache",
        description="A compiler cache. Run 'zccache <compiler> args...' (or set it as the compiler "
        "launcher of your build) to cache compiles; the commands below manage the cache.",
    )
    parser.add_argument("--version", action="version", version=f"zccache {__version__} (pyzccache)")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    stats = sub.add_parser("stats", help="show hits, misses, uncacheable compiles by reason, and the cache size")
    stats.add_argument("--zero", "-z", action="store_true", help="reset the counters")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(func=_cmd_stats)
    clear = sub.add_parser("clear", help="remove every cached result (the counters stay)")
    clear.set_defaults(func=_cmd_clear)
    helper = sub.add_parser("help", help="show this help")
    helper.set_defaults(func=lambda ns: (parser.print_help(), 0)[1])
    before = set(sub.choices)
    make_manager().hook.zccache_add_commands(subparsers=sub)
    _PARSER = (parser, set(sub.choices) - before)
    return _PARSER


def _command(args: list[str]) -> int:
    parser, _ = _parser()
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not getattr(ns, "func", None):
        parser.print_help()
        return 0
    return int(ns.func(ns) or 0)


def _store_or_error():
    from zccache.core.config import Config, ConfigError
    from zccache.core.store import Store, StoreError

    try:
        config = Config.from_env(os.environ)
        return Store(config.cache_dir, config.maxsize), None
    except (ConfigError, StoreError) as exc:
        return None, str(exc)


def _cmd_stats(ns: argparse.Namespace) -> int:
    import json

    from zccache.core.stats import summarize

    store, error = _store_or_error()
    if store is None:
        sys.stderr.write(f"zccache: {error}\n")
        return 1
    if ns.zero:
        store.zero()
        print("Statistics zeroed")
        return 0
    summary = summarize(store.counters())
    summary.update(cache_dir=store.directory, cache_size=store.volume(), max_size=store.size_limit, entries=store.entries())
    if ns.json:
        print(json.dumps(summary, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="zccache statistics", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Cache directory", str(summary["cache_dir"]))
    table.add_row("Hits", f"{summary['hits']}  (direct {summary['hits_direct']}, preprocessed {summary['hits_preprocessed']})")
    table.add_row("Misses", str(summary["misses"]))
    table.add_row("Hit rate", f"{summary['hit_rate'] * 100:.1f} %")
    table.add_row("Compile failed", str(summary["compile_failed"]))
    table.add_row("Uncacheable", str(summary["uncacheable_total"]))
    for reason, count in summary["uncacheable"].items():  # type: ignore[union-attr]
        table.add_row(f"  {reason}", str(count))
    table.add_row("Corrupt entries dropped", str(summary["corrupt_dropped"]))
    table.add_row("Cache size", f"{_human(summary['cache_size'])} of {_human(summary['max_size'])}")  # type: ignore[arg-type]
    table.add_row("Entries", str(summary["entries"]))
    Console(highlight=False).print(table)
    return 0


def _cmd_clear(ns: argparse.Namespace) -> int:
    store, error = _store_or_error()
    if store is None:
        sys.stderr.write(f"zccache: {error}\n")
        return 1
    removed = store.clear()
    print(f"Cleared {removed} entries")
    return 0


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TiB"


if __name__ == "__main__":
    sys.exit(main())
