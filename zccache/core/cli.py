"""The ``zccache`` command: a compiler launcher, and a few commands of its own.

``zccache <compiler> args...`` runs one compile through the cache; anything else is
a sub-command (``stats``, ``clear`` and those plugins add). Errors are one line on
stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import zccache_wire as wire
from zccache import __version__
from zccache.core import control

USAGE = """\
usage: zccache <compiler> [compiler arguments...]
       zccache <command> [options]
Try 'zccache --help' for the commands.
"""

BUILTIN_COMMANDS = wire.BUILTIN_COMMANDS
PLUGIN_COMMANDS = wire.PLUGIN_COMMANDS  # the built-in plugins' commands whose names are also programs on PATH
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


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
        return _compile_plainly(args)


def _compile_plainly(args: list[str]) -> int:
    """A compile the cache failed on (a broken install, a bug) still builds: the tool
    runs as if zccache were not there. Anything else is the error it was (70)."""
    if not args or args[0].startswith("-") or args[0] in BUILTIN_COMMANDS or args[0] in PLUGIN_COMMANDS \
            or _SETTING.match(args[0]):
        return 70
    tool = control.resolve_tool(args[0], os.getcwd(), os.environ.get("PATH"))
    if tool is None:
        return 70
    try:
        from zccache.core.launcher import is_self
    except Exception:  # what broke may be under it: the names and our own path then
        def is_self(path: str) -> bool:
            real = os.path.realpath(path)
            return os.path.basename(real) in wire.CLIENT_NAMES or real == os.path.realpath(sys.argv[0])
    if is_self(tool):
        return 70
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(tool, [tool, *args[1:]])
    except OSError:
        return 70


def _main(args: list[str]) -> int:
    if not args:
        sys.stderr.write(USAGE)
        return 2
    first = args[0]
    if first == "--version":
        print(control.version_text())
        return 0
    if first == "start" and "--background" in args:  # a configure step waits: detach before the parser's imports
        return control.start_in_background(args[1:])
    if first in ("-h", "--help") or first in BUILTIN_COMMANDS or first in PLUGIN_COMMANDS:
        return _command(args)
    if first.startswith("-"):  # ccache's first form: its options, with its meanings
        from zccache.core.ccache_options import run

        return run(args, _command)
    if _SETTING.match(first):
        return _with_settings(args)
    if os.sep not in first and control.resolve_tool(first, os.getcwd(), os.environ.get("PATH")) is None:
        if first in _parser()[1]:  # a command added by a plugin
            return _command(args)
    return control.compile_main(args)


def _with_settings(args: list[str]) -> int:
    """ccache's form ``zccache KEY=VALUE ... compiler args``: the variables are set for
    this compile, which then goes the usual way (the launcher, and the daemon)."""
    while args and _SETTING.match(args[0]):
        name, _, value = args.pop(0).partition("=")
        os.environ[name] = value
    if not args:
        sys.stderr.write("zccache: name the compiler after the KEY=VALUE settings\n")
        return 2
    from zccache.core.launcher import zccache_command

    sys.stdout.flush()
    sys.stderr.flush()
    command = zccache_command()
    try:
        os.execv(command, [command, *args])
    except OSError:
        return control.compile_main(args)  # no launcher to hand it to: compile here


# -- sub-commands ----------------------------------------------------------------------

_PARSER: tuple[argparse.ArgumentParser, set[str]] | None = None


def _parser() -> tuple[argparse.ArgumentParser, set[str]]:
    global _PARSER
    if _PARSER is not None:
        return _PARSER
    from zccache.core.plugins import make_manager

    from zccache.core.ccache_options import help_text

    parser = argparse.ArgumentParser(
        prog="zccache",
        description="A compiler cache. Run 'zccache <compiler> args...' (or set it as the compiler "
        "launcher of your build) to cache compiles; the commands below manage the cache.",
        epilog=help_text(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"zccache {__version__} (pyzccache)")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    stats = sub.add_parser("stats", help="show hits, misses, uncacheable compiles by reason, and the cache size")
    stats.add_argument("--zero", "-z", action="store_true", help="reset the counters")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.add_argument("--verbose", "-v", action="count", default=0, help="the settings, and every counter (-vv)")
    stats.set_defaults(func=_cmd_stats)
    clear = sub.add_parser("clear", help="remove every cached result (the counters stay)")
    clear.set_defaults(func=_cmd_clear)
    s_start = sub.add_parser("session-start", help="start a build session; prints its id and an export line")
    s_start.add_argument("--journal", help="write one JSON line per compile to this .jsonl file")
    s_start.add_argument("--no-stats", action="store_true", help="do not count per-session statistics")
    s_start.set_defaults(func=_cmd_session_start)
    s_stats = sub.add_parser("session-stats", help="statistics of a running session")
    s_stats.add_argument("session_id")
    s_stats.add_argument("--json", action="store_true", help="machine-readable output")
    s_stats.set_defaults(func=_cmd_session_stats)
    s_end = sub.add_parser("session-end", help="end a session and print its statistics")
    s_end.add_argument("session_id")
    s_end.add_argument("--json", action="store_true", help="machine-readable output")
    s_end.set_defaults(func=_cmd_session_end)
    analyze = sub.add_parser("analyze", help="hit rate, miss reasons, slowest compiles from a session journal")
    analyze.add_argument("journal")
    analyze.add_argument("--top", type=int, default=10, help="how many of the slowest compiles to list")
    analyze.add_argument("--html", metavar="REPORT", help="also write a self-contained HTML report there")
    analyze.set_defaults(func=_cmd_analyze)
    fp = sub.add_parser("fp", help="has a tree of files changed since the last success? (for lint/test steps)")
    fp_sub = fp.add_subparsers(dest="fp_command", metavar="<check|mark-success|mark-failure|invalidate>")
    fp_check = fp_sub.add_parser("check", help="exit 0 and print 'skip' when unchanged, exit 1 and 'run' otherwise")
    fp_check.add_argument("--root", required=True)
    fp_check.add_argument("--ext", default="", help="comma-separated extensions, e.g. c,h")
    fp_check.add_argument("--glob", action="append", default=[], help="include glob (repeatable), e.g. '**/*.rs'")
    fp_check.add_argument("--exclude", action="append", default=[], help="directory name or pattern (repeatable)")
    fp_check.add_argument("--cache-file", required=True)
    fp_check.add_argument("--type", choices=("hash", "two-layer"), default="two-layer")
    fp_check.add_argument("--json", action="store_true")
    fp_check.set_defaults(func=_cmd_fp_check)
    for name in ("mark-success", "mark-failure", "invalidate"):
        p = fp_sub.add_parser(name)
        p.add_argument("--cache-file", required=True)
        p.set_defaults(func=_cmd_fp_mark, fp_action=name)
    fp.set_defaults(func=lambda ns: (fp.print_help(), 2)[1])
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


def _cmd_stats(ns: argparse.Namespace) -> int:
    import json

    from zccache.core.stats import summarize

    if control.daemon_wanted():
        control.daemon_ask("Status")  # a running daemon flushes its buffered counters first
    store, error = control.store_or_error()
    if store is None:
        sys.stderr.write(f"zccache: {error}\n")
        return 1
    if ns.zero:
        answer = control.daemon_ask("ZeroStats")  # a running daemon zeroes its own figures too
        if answer is None or answer.get("t") != "StatsZeroed":
            store.zero()
        print("Statistics zeroed")
        return 0
    summary = summarize(store.counters())
    summary.update(cache_dir=store.directory, cache_size=store.volume(), max_size=store.size_limit, entries=store.entries())
    if ns.json:
        summary["store"] = store.composition()  # by kind: entries, stored and original bytes (zccache -x)
        print(json.dumps(summary, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="zccache statistics", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Cache directory", str(summary["cache_dir"]))
    for title, part in (("Compiles", summary), ("Links and archives", summary["links"]), ("zccache exec", summary["exec"])):
        if title != "Compiles" and not (part["hits"] or part["misses"] or part["compile_failed"] or part["uncacheable_total"]):
            continue  # nothing of that kind ran since the counters were zeroed
        table.add_row(title, "")
        table.add_row("  Hits", f"{part['hits']}  (direct {part['hits_direct']}, preprocessed {part['hits_preprocessed']})"
                      if title == "Compiles" else str(part["hits"]))
        table.add_row("  Misses", str(part["misses"]))
        table.add_row("  Hit rate", f"{part['hit_rate'] * 100:.1f} %")
        table.add_row("  Failed", str(part["compile_failed"]))
        table.add_row("  Uncacheable", str(part["uncacheable_total"]))
        for reason, count in part["uncacheable"].items():  # type: ignore[union-attr]
            table.add_row(f"    {reason}", str(count))
    remote = summary["remote"]
    if any(remote.values()):  # type: ignore[union-attr]
        table.add_row("Remote cache", "")
        table.add_row("  Results fetched", f"{remote['results_fetched']}  (local hits {int(summary['hits']) - int(remote['results_fetched'])})")  # type: ignore[index]
        table.add_row("  Not found / rejected", f"{remote['not_found']} / {remote['rejected']}")  # type: ignore[index]
        table.add_row("  Errors", f"{remote['errors']}  (skipped {remote['skipped']}, breaker opened {remote['breaker_opened']})")  # type: ignore[index]
        table.add_row("  Writes", f"{remote['writes']}  (failed {remote['write_errors']}, dropped {remote['writes_dropped']})")  # type: ignore[index]
        table.add_row("  Mean read", f"{remote['mean_read_ms']} ms")  # type: ignore[index]
    table.add_row("Corrupt entries dropped", str(summary["corrupt_dropped"]))
    from zccache.core.config import UNLIMITED

    limit = "no limit" if int(summary["max_size"]) >= UNLIMITED else control.human_size(summary["max_size"])  # type: ignore[arg-type]
    table.add_row("Cache size", f"{control.human_size(summary['cache_size'])} of {limit}")  # type: ignore[arg-type]
    table.add_row("Entries", str(summary["entries"]))
    if ns.verbose:
        from zccache.core import settings_file
        from zccache.core.config import Config

        config = Config.from_env(os.environ)
        table.add_row("Entries limit", str(config.max_files) if config.max_files else "no limit")
        table.add_row("Settings file", settings_file.path_for(os.environ))
        for line in config.problems:
            table.add_row("Bad setting", line)
    if ns.verbose > 1:
        table.add_row("Counters", "")
        for name, number in sorted(store.counters().items()):
            table.add_row(f"  {name}", str(number))
    Console(highlight=False).print(table)
    return 0


def _cmd_clear(ns: argparse.Namespace) -> int:
    # A daemon that is running clears for us even under ZCCACHE_DAEMON=0 (none is
    # started): otherwise it would go on serving the results it holds in memory.
    answer = control.daemon_ask("Clear")
    if answer is not None and answer.get("t") == "Cleared":
        print(f"Cleared {answer['artifacts_removed']} entries")
        return 0
    store, error = control.store_or_error()
    if store is None:
        sys.stderr.write(f"zccache: {error}\n")
        return 1
    removed = store.clear()
    print(f"Cleared {removed} entries")
    return 0


def _error(answer, what: str) -> int:
    message = answer.get("message") if isinstance(answer, dict) and answer.get("t") == "Error" else "no daemon answered"
    sys.stderr.write(f"zccache: {what}: {message}\n")
    return 1


def _cmd_session_start(ns: argparse.Namespace) -> int:
    journal = os.path.abspath(ns.journal) if ns.journal else None
    answer = control.daemon_ask("SessionStart", start=True, client_pid=os.getpid(), working_dir=os.getcwd(), log_file=None,
                         track_stats=not ns.no_stats, journal_path=journal, profile=False, private_daemon=None)
    if not answer or answer.get("t") != "SessionStarted":
        return _error(answer, "cannot start a session")
    print(answer["session_id"])
    print(f"export ZCCACHE_SESSION_ID={answer['session_id']}")
    return 0


def _print_session(stats, as_json: bool) -> None:
    """A table, as `zccache stats` prints; --json for scripts."""
    import json

    if stats is None:
        print("no statistics (tracking was off)")
        return
    if as_json:
        print(json.dumps(stats, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"zccache session {stats.get('session_id')}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    lookups = int(stats.get("hits", 0)) + int(stats.get("misses", 0))
    for label, key in (("Runs", "compilations"), ("Hits", "hits"), ("Misses", "misses"),
                       ("Uncacheable", "uncacheable"), ("Failed", "failed")):
        table.add_row(label, str(stats.get(key, 0)))
    table.add_row("Hit rate", f"{100 * int(stats.get('hits', 0)) / lookups:.1f} %" if lookups else "-")
    table.add_row("Time in the cache and tools", f"{float(stats.get('compile_seconds', 0)):.2f} s")
    if stats.get("journal_path"):
        table.add_row("Journal", str(stats["journal_path"]))
    Console(highlight=False).print(table)


def _cmd_session_stats(ns: argparse.Namespace) -> int:
    answer = control.daemon_ask("SessionStats", session_id=ns.session_id)
    if not answer or answer.get("t") != "SessionStatsResult":
        return _error(answer, "cannot read the session")
    if answer["stats"] is None:
        sys.stderr.write(f"zccache: no session {ns.session_id} (or it does not track statistics)\n")
        return 1
    _print_session(answer["stats"], ns.json)
    return 0


def _cmd_session_end(ns: argparse.Namespace) -> int:
    answer = control.daemon_ask("SessionEnd", session_id=ns.session_id)
    if not answer or answer.get("t") != "SessionEnded":
        return _error(answer, "cannot end the session")
    _print_session(answer["stats"], ns.json)
    return 0


def _cmd_analyze(ns: argparse.Namespace) -> int:
    from zccache.core.analyze import AnalyzeError, analyze, render

    if ns.html:
        from zccache.core.report_html import needs_matplotlib

        missing = needs_matplotlib()
        if missing:  # said before any work, not after the text report
            sys.stderr.write(f"zccache: {missing}\n")
            return 1
    try:
        report = analyze(ns.journal)
    except AnalyzeError as exc:
        sys.stderr.write(f"zccache: {exc}\n")
        return 1
    render(report, ns.top)
    if ns.html:
        from zccache.core.report_html import ReportError, write

        try:
            write(ns.journal, ns.html)
        except (ReportError, OSError) as exc:
            sys.stderr.write(f"zccache: {exc}\n")
            return 1
        print(f"Report written to {ns.html}")
    return 0


def _cmd_fp_check(ns: argparse.Namespace) -> int:
    import json

    from zccache.core.fingerprint import FingerprintError

    exts = [e.strip().lstrip(".") for e in ns.ext.split(",") if e.strip()]
    fields = dict(cache_file=os.path.abspath(ns.cache_file), cache_type=ns.type, root=os.path.abspath(ns.root),
                  extensions=exts, include_globs=ns.glob, exclude=ns.exclude)
    answer = control.daemon_ask("FingerprintCheck", **fields) if control.daemon_wanted() else None
    if answer is None:
        fps = control.fingerprints_in_process()
        if fps is None:
            return 2
        try:
            d = fps.check(**fields)
        except FingerprintError as exc:
            sys.stderr.write(f"zccache: {exc}\n")
            return 2
        decision, reason, changed = d.decision, d.reason, d.changed_files
    elif answer.get("t") == "FingerprintCheckResult":
        decision, reason, changed = answer["decision"], answer["reason"], answer["changed_files"]
    else:
        _error(answer, "fingerprint check failed")
        return 2
    if ns.json:
        print(json.dumps({"decision": decision, "reason": reason, "changed_files": changed}, indent=2))
    else:
        print(decision if not reason else f"{decision}: {reason}")
        for path in changed:
            print(f"  {path}")
    return 0 if decision == "skip" else 1


def _cmd_fp_mark(ns: argparse.Namespace) -> int:
    from zccache.core.fingerprint import FingerprintError

    kind = {"mark-success": "FingerprintMarkSuccess", "mark-failure": "FingerprintMarkFailure",
            "invalidate": "FingerprintInvalidate"}[ns.fp_action]
    cache_file = os.path.abspath(ns.cache_file)
    answer = control.daemon_ask(kind, cache_file=cache_file) if control.daemon_wanted() else None
    if answer is None:
        fps = control.fingerprints_in_process()
        if fps is None:
            return 2
        action = {"mark-success": fps.mark_success, "mark-failure": fps.mark_failure,
                  "invalidate": fps.invalidate}[ns.fp_action]
        try:
            action(cache_file)
        except FingerprintError as exc:
            sys.stderr.write(f"zccache: {exc}\n")
            return 1
    elif answer.get("t") != "FingerprintAck":
        return _error(answer, f"fp {ns.fp_action} failed")
    print(f"{ns.fp_action}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
