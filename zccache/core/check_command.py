"""``zccache check [--repair]``: verify every entry of the store.

Every read already checks a value before use (a bad one is dropped and recompiled),
so a build never needs this. It is for the person who wants to know, after a crash,
a full disk or a copy of the cache directory, that what is there is sound: each
value's frame, checksum and shape, and the consistency of the index with its value
files. ``--repair`` drops the bad entries and mends the index.
"""

from __future__ import annotations

import argparse
import os
import sys

from zccache.core.hookspecs import hookimpl


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("check", help="verify every cache entry (--repair drops the bad ones)")
    p.add_argument("--repair", action="store_true", help="drop bad entries and mend the index")
    p.set_defaults(func=_cmd_check)


def _cmd_check(ns: argparse.Namespace) -> int:
    from zccache.core.config import Config, ConfigError
    from zccache.core.store import Store, StoreError

    try:
        config = Config.from_env(os.environ)
        if not os.path.isdir(config.cache_dir):
            print(f"no cache at {config.cache_dir}")
            return 0
        store = Store.for_config(config)
    except (ConfigError, StoreError) as exc:
        sys.stderr.write(f"zccache check: {exc}\n")
        return 1
    checked, bad, warnings = store.check(repair=ns.repair)
    for key in bad[:20]:
        print(f"bad entry: {key[:80]}")
    for warning in warnings[:20]:
        print(f"index: {warning}")
    verdict = "dropped" if ns.repair else "found (zccache check --repair drops them)"
    print(f"{checked} entries checked, {len(bad)} bad {verdict if bad else ''}".rstrip()
          + (f", {len(warnings)} index problems{' mended' if ns.repair else ''}" if warnings else ""))
    return 0 if not (bad or warnings) or ns.repair else 1
