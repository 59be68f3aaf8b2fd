"""GenericToolExec, the original protocol's any-tool request, as a run of the exec
family: the request's fields become the same Invocation `zccache exec` builds, so a
tool run through the daemon has the same keys, manifests (a depfile or an include
scan, shadow probes included) and statistics as one through the command.

The cache policy is a view of the store: read_only never writes it, write_only
never reads it, bypass (and a run the caller calls non-deterministic) runs the tool
and leaves the store alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from zccache.core.exec_command import exec_invocation
from zccache.core.levels import ReadOnly, WriteOnly

POLICIES = ("normal", "read_only", "write_only", "bypass")


class GenericError(ValueError):
    """A request that cannot be served as asked; the text goes back in an Error."""


def serve_generic(engine, store, base_env: Mapping[str, str], f: dict[str, Any], pm=None) -> dict[str, Any]:
    from zccache.core.engine import Engine
    from zccache.core.process import run_tool

    tool, cwd = str(f["tool"]), str(f["cwd"])
    if not os.path.isabs(tool) or not os.path.isfile(tool):
        raise GenericError("tool must be an absolute path to a file")
    if not os.path.isabs(cwd) or not os.path.isdir(cwd):
        raise GenericError("cwd must be an absolute path to a directory")
    policy = f["cache_policy"]
    if policy not in POLICIES:
        raise GenericError(f"cache_policy must be one of {', '.join(POLICIES)}")
    if f["depfile"] is not None and f["include_scan_files"]:
        raise GenericError("a depfile and an include scan are two ways to the same list; give one")
    try:
        drop = [re.compile(str(p)) for p in f["key_args_filter"]]
    except re.error as exc:
        raise GenericError(f"bad key_args_filter: {exc}") from None
    args = [str(a) for a in f["args"]]
    declared = {str(k): str(v) for k, v in f["env"]}
    env = {**base_env, **declared}
    streams = {name for name, on in f["output_streams"].items() if on} or {"stdout", "stderr"}
    scanned = [str(p) for p in f["include_scan_files"]]
    inputs = list(dict.fromkeys([*(str(p) for p in f["input_files"]), *scanned]))
    extra = bytes(f["input_extra"]) + (b"\0tool\0" + bytes(f["tool_hash"]) if f["tool_hash"] else b"")
    extra += b"".join(b"\0env\0%s=%s" % (k.encode(), v.encode()) for k, v in sorted(declared.items()))
    inv = exec_invocation(
        tool, args, cwd, env, inputs=inputs, patterns=inputs, outputs=[str(p) for p in f["output_files"]],
        streams=streams, input_env=[], depfile=f["depfile"], include_scan=bool(scanned),
        quote_dirs=[str(d) for d in f["iquote_dirs"]], bracket_dirs=[str(d) for d in f["include_dirs"]],
        system_dirs=[str(d) for d in f["system_include_dirs"]], cwd_in_key=bool(f["cwd_in_key"]),
        key_args=[a for a in args if not any(p.search(a) for p in drop)], extra=extra)
    if policy == "bypass" or f["non_deterministic"]:
        rc, out, err = run_tool(inv.command, cwd, env)
        return _result(inv, rc, out, err, False, "")
    view = {"normal": store, "read_only": ReadOnly(store), "write_only": WriteOnly(store)}[policy]
    done = Engine(engine.config, view, engine.hook, hashes=engine.hashes, single_use=engine.single_use).run(inv)
    if pm is not None:
        from zccache.core.launcher import observe

        observe(pm, inv, done.outcome)
    return _result(inv, done.returncode, done.stdout, done.stderr, done.outcome.kind == "hit",
                   done.outcome.key or "")


def _result(inv, rc: int, out: bytes, err: bytes, cached: bool, key: str) -> dict[str, Any]:
    files = []
    for path in inv.outputs.values():
        try:
            files.append({"path": path, "size": os.path.getsize(os.path.join(inv.cwd, path))})
        except OSError:
            continue
    return {"exit_code": rc, "stdout": out, "stderr": err, "cached": cached, "cache_key_hex": key,
            "output_files": files}
