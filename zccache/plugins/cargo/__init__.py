"""cargo adapter: ``RUSTC_WRAPPER=zccache cargo build``, or ``zccache cargo build``.

cargo runs ``$RUSTC_WRAPPER <rustc> <args>`` for every crate; the rustc family
(core/toolchains/rustc.py) decides what is cacheable. ``zccache cargo ...`` sets
RUSTC_WRAPPER to this zccache and, unless the user chose otherwise,
CARGO_INCREMENTAL=0: incremental compilation writes a session directory rustc keeps
reusing, which no cache can restore, so workspace crates would be passed through.
``zccache rust-artifacts`` lists the Rust artifacts in the cache (ListRustArtifacts).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from zccache.core.hookspecs import hookimpl


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    cargo = subparsers.add_parser("cargo", add_help=False, prefix_chars="\0",
                                  help="run cargo with every cacheable crate compile going through zccache")
    cargo.add_argument("rest", nargs=argparse.REMAINDER)
    cargo.set_defaults(func=lambda ns: run_cargo(ns.rest))
    listing = subparsers.add_parser("rust-artifacts", help="list the Rust artifacts in the cache")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list_artifacts)


def run_cargo(rest: list[str]) -> int:
    from zccache.core.launcher import zccache_command

    cargo = shutil.which("cargo")
    if cargo is None:
        sys.stderr.write("zccache: 'cargo' not found\n")
        return 127
    env = dict(os.environ)
    wrapper = env.get("RUSTC_WRAPPER")
    if wrapper and os.path.basename(wrapper) != "zccache":
        sys.stderr.write(f"zccache: RUSTC_WRAPPER is {wrapper}; leaving it in place\n")
    else:
        env["RUSTC_WRAPPER"] = zccache_command()
    env.setdefault("CARGO_INCREMENTAL", "0")
    try:
        return subprocess.call([cargo, *rest], env=env)
    except KeyboardInterrupt:
        return 130


def _list_artifacts(ns: argparse.Namespace) -> int:
    import json

    from zccache.core.control import daemon_ask as _daemon_ask, daemon_wanted as _daemon_wanted, store_or_error as _store_or_error

    artifacts = None
    if _daemon_wanted():
        answer = _daemon_ask("ListRustArtifacts")
        if answer is not None and answer.get("t") == "RustArtifactList":
            artifacts = answer["artifacts"]
    if artifacts is None:
        store, error = _store_or_error()
        if store is None:
            sys.stderr.write(f"zccache: {error}\n")
            return 1
        listed = store.get("index:rustc")
        artifacts = listed if isinstance(listed, list) else []
    if ns.json:
        print(json.dumps(artifacts, indent=2))
        return 0
    for a in artifacts:
        types = ",".join(a.get("crate_types", []))
        print(f"{a.get('crate_name')} [{types}] {a.get('key', '')[:16]}")
        for path in a.get("outputs", []):
            print(f"    {path}")
    print(f"{len(artifacts)} Rust artifacts")
    return 0
