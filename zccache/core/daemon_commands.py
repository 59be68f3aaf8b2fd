"""`zccache start`, `stop` (and `stop --all`, ccache's --stop-storage-helpers) and
`status`: the daemon as its user sees it."""

from __future__ import annotations

import argparse
import os
import sys
import time

import zccache_wire as wire
from zccache.core import control, runtime_dir
from zccache.core.hookspecs import hookimpl


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    start = subparsers.add_parser("start", help="start the daemon for this cache (compiles start it on their own too)")
    start.add_argument("--warm", nargs="+", default=[], metavar="TOOL",
                       help="have the daemon ask these compilers, linkers and archivers about themselves now, "
                            "so that the build's first compile and link need not (zccache.cmake does this)")
    start.add_argument("--background", action="store_true",
                       help="return at once and start (and warm) detached: for a configure step")
    start.set_defaults(func=_cmd_start)
    stop = subparsers.add_parser("stop", help="stop the daemon for this cache")
    stop.add_argument("--all", action="store_true", help="stop every daemon of yours (every cache, every remote)")
    stop.set_defaults(func=_cmd_stop)
    status = subparsers.add_parser("status", help="the daemon's pid, uptime, cache dir, hits/misses and memory")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=_cmd_status)


def _cmd_start(ns: argparse.Namespace) -> int:
    if ns.background:  # reached only through a parser of its own (the clients fork before it)
        return control.in_background(lambda: control.start(ns.warm, quiet=True))
    return control.start(ns.warm, quiet=False)


def _cmd_stop(ns: argparse.Namespace) -> int:
    directory, sock_path = wire.daemon_paths(os.environ)
    if ns.all:
        return stop_all(directory)
    if not wire.private_dir_ok(directory) or not _shutdown(sock_path):
        print("zccache daemon not running")
        return 0
    print("zccache daemon stopped")
    return 0


def stop_all(directory: str) -> int:
    """Every daemon in this user's runtime directory: each cache directory and each
    remote configuration has its own."""
    if not wire.private_dir_ok(directory):
        print("no zccache daemon running")
        return 0
    stopped = sum(_shutdown(path) for path in runtime_dir.sockets(directory))
    runtime_dir.sweep_dead(directory, now=time.time() + runtime_dir.SETTLE_SECONDS)
    print(f"Stopped {stopped} zccache daemon{'' if stopped == 1 else 's'}")
    return 0


def _shutdown(sock_path: str) -> bool:
    """Ask one daemon to stop and wait (10 s at most) until its socket is gone."""
    try:
        answer = wire.roundtrip(sock_path, {"t": "Shutdown"}, timeout=10)
    except OSError:
        return False
    if answer is None:
        return False
    deadline = time.monotonic() + 10
    while os.path.exists(sock_path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


def _uptime(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _cmd_status(ns: argparse.Namespace) -> int:
    import json

    answer = control.daemon_ask("Status")
    if answer is None or answer.get("t") != "Status":
        if ns.json:
            print(json.dumps({"running": False}))
        else:
            print("zccache daemon not running")
        return 1
    status = answer["status"]
    if ns.json:
        print(json.dumps({"running": True, **status}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="zccache daemon", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("PID", str(status.get("pid")))
    table.add_row("Uptime", _uptime(float(status.get("uptime_secs", 0))))
    for label, key in (("Cache directory", "cache_dir"), ("Socket", "socket"), ("Compiles served", "compiles"),
                       ("Hits", "hits"), ("Misses", "misses"), ("Uncacheable", "uncacheable"), ("Failed", "failed"),
                       ("Sessions", "active_sessions"), ("Backpressure answers", "backpressure")):
        table.add_row(label, str(status.get(key)))
    table.add_row("Memory", control.human_size(int(status.get("memory_bytes", 0))))
    table.add_row("Held in memory", f"{control.human_size(int(status.get('memory_tier_bytes', 0)))} of "
                                    f"{control.human_size(int(status.get('memory_tier_limit', 0)))}")
    table.add_row("Cache size", control.human_size(int(status.get("cache_size", 0))))
    Console(highlight=False).print(table)
    return 0
