"""`zccache config` (and ccache's `-p`, `-M`, `-x`): the settings in effect, where
each came from, and the one setting ccache's habits change (the size limit)."""

from __future__ import annotations

import argparse
import os
import sys

from zccache.core.hookspecs import hookimpl
from zccache.core.setting_defs import SETTINGS


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("config", help="the settings in effect and where each came from (-p)")
    p.add_argument("--set", nargs=2, metavar=("NAME", "VALUE"), help="write a setting to zccache.conf (-M SIZE)")
    p.add_argument("--compression", action="store_true", help="what the store keeps and how (-x)")
    p.set_defaults(func=_cmd_config)


def _cmd_config(ns: argparse.Namespace) -> int:
    from zccache.core import settings_file
    from zccache.core.config import Config
    from zccache.core.setting_defs import READERS, BadValue, named

    if ns.set:
        name, value = ns.set
        setting = named(name)
        if setting is None:
            sys.stderr.write(f"zccache config: unknown setting {name}\n")
            return 2
        try:
            READERS[setting.kind](value) if value.strip() else None
            path = settings_file.write(os.environ, setting.name, value)
        except BadValue as exc:
            sys.stderr.write(f"zccache config: {setting.name}: {value!r} is not {exc}\n")
            return 1
        except (ValueError, OSError) as exc:
            sys.stderr.write(f"zccache config: {exc}\n")
            return 1
        print(f"Set {setting.name} = {value} in {path}")
        return 0
    config = Config.from_env(os.environ)
    if ns.compression:
        return _compression(config)
    from_file = settings_file.load(os.environ)
    print(f"# zccache.conf: {settings_file.path_for(os.environ)}"
          f"{'' if os.path.exists(settings_file.path_for(os.environ)) else ' (none)'}")
    for s in SETTINGS:
        if os.environ.get(s.name, "").strip():  # set and not empty: empty reads as unset everywhere
            value, origin = os.environ[s.name], "environment"
        elif s.name in from_file:
            value, origin = from_file[s.name], "zccache.conf"
        else:
            value, origin = _effective(s.name, s.default, config), "default"
        shown = "***" if s.secret and value else value
        print(f"({origin}) {s.name} = {shown}")
    for line in config.problems:
        print(f"# bad setting: {line}")
    return 0


def _effective(name: str, default: str, config) -> str:
    """What an unset setting comes to, where that is not its written default."""
    import zccache_wire

    if name == "ZCCACHE_CACHE_DIR":
        return config.cache_dir
    if name == "ZCCACHE_RUNTIME_DIR":
        return zccache_wire.runtime_dir(os.environ)
    if name == "ZCCACHE_MAX_JOBS":
        return str(max(4, 4 * (os.cpu_count() or 1)))
    return default


def _compression(config) -> int:
    from zccache.core import control
    from zccache.core.store import Store, StoreError

    try:
        store = Store.for_config(config)
    except StoreError as exc:
        sys.stderr.write(f"zccache config: {exc}\n")
        return 1
    from rich.console import Console
    from rich.table import Table

    parts = store.composition()
    level = "none (ZCCACHE_COMPRESSION=0)" if config.compression is None else (
        f"zstd level {config.compression or 1}{' (the default)' if config.compression == 0 else ''}")
    table = Table(title=f"zccache store: {config.cache_dir}", title_justify="left")
    for name in ("kind", "entries", "stored", "original", "ratio", "compressed entries"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    total = {"entries": 0, "stored": 0, "original": 0, "compressed": 0}
    for kind, row in sorted(parts.items()):
        table.add_row(kind, *_figures(row, control.human_size))
        for k in total:
            total[k] += row[k]
    table.add_row("all", *_figures(total, control.human_size), style="bold")
    console = Console(highlight=False)
    console.print(f"Compression: {level}")
    console.print(table)
    overhead = max(store.volume() - total["stored"], 0)
    console.print(f"On disk: {control.human_size(store.volume())} (values {control.human_size(total['stored'])}, "
                  f"index and free pages {control.human_size(overhead)})")
    return 0


def _figures(row: dict[str, int], size) -> tuple[str, ...]:
    ratio = row["original"] / row["stored"] if row["stored"] else 0.0
    return (str(row["entries"]), size(row["stored"]), size(row["original"]), f"{ratio:.2f} x",
            str(row["compressed"]))
