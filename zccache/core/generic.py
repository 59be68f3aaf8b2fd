"""GenericToolExec: cache any tool's run by the inputs its caller declares.

For tools without a compiler-style command line: the caller names the input files,
environment and extra bytes that decide the result, and the files the tool writes.
A hit replays stdout, stderr and the output files without starting the tool. Only
successful runs are stored. The include scan and depfile variants of the original
are not supported yet and are refused with an Error rather than guessed at.
"""

from __future__ import annotations

import os
import re
from typing import Any

from zccache.core.hashing import Hasher, hash_file
from zccache.core.manifest import FileHashes
from zccache.core.process import run_tool
from zccache.core.store import Store

POLICIES = ("normal", "read_only", "write_only", "bypass")


class GenericError(ValueError):
    pass


def generic_exec(store: Store, hashes: FileHashes, f: dict[str, Any]) -> dict[str, Any]:
    from zccache.core.engine import _write_atomic

    tool, cwd = f["tool"], f["cwd"]
    if not os.path.isabs(tool) or not os.path.isfile(tool):
        raise GenericError("tool must be an absolute path to a file")
    if f["include_scan_files"] or f["depfile"]:
        raise GenericError("include scanning and depfiles are not supported yet")
    policy = f["cache_policy"]
    if policy not in POLICIES:
        raise GenericError(f"cache_policy must be one of {', '.join(POLICIES)}")
    try:
        drop = [re.compile(p) for p in f["key_args_filter"]]
    except re.error as exc:
        raise GenericError(f"bad key_args_filter: {exc}") from None
    args = [str(a) for a in f["args"]]
    env_pairs = sorted((str(k), str(v)) for k, v in f["env"])
    h = Hasher("zccache-generic-v1")
    h.text(f["tool_hash"].hex() if f["tool_hash"] else hash_file(tool))
    for a in args:
        if not any(p.search(a) for p in drop):
            h.text(a)
    h.text("\0env")
    for k, v in env_pairs:
        h.text(k)
        h.text(v)
    h.text("\0inputs")
    for path in f["input_files"]:
        h.text(str(path))
        try:
            h.text(hashes.hash(os.path.join(cwd, str(path)))[0])
        except OSError:
            h.text("<missing>")
    h.update(f["input_extra"])
    h.text(cwd if f["cwd_in_key"] else "")
    h.text(repr(sorted(f["output_streams"].items())))
    h.text(repr([str(p) for p in f["output_files"]]))
    key = h.hexdigest()
    streams = f["output_streams"]
    outputs = [str(p) for p in f["output_files"]]
    cacheable = not f["non_deterministic"] and policy != "bypass"
    if cacheable and policy in ("normal", "read_only"):
        stored = store.get("g:" + key)
        if isinstance(stored, dict) and [o[0] for o in stored.get("outputs", [])] == outputs:
            for path, data in stored["outputs"]:
                _write_atomic(os.path.join(cwd, path), data)
            return _result(stored["exit_code"], stored["stdout"], stored["stderr"], stored["outputs"], True, key)
    env = dict(os.environ)
    env.update(env_pairs)
    rc, out, err = run_tool([tool, *args], cwd, env)
    out = out if streams.get("stdout", True) else b""
    err = err if streams.get("stderr", True) else b""
    files = []
    for path in outputs:
        try:
            with open(os.path.join(cwd, path), "rb") as fh:
                files.append([path, fh.read()])
        except OSError:
            cacheable = False
    if cacheable and rc == 0 and policy in ("normal", "write_only"):
        store.set("g:" + key, {"exit_code": rc, "stdout": out, "stderr": err, "outputs": files})
    return _result(rc, out, err, files, False, key)


def _result(rc: int, out: bytes, err: bytes, files: list, cached: bool, key: str) -> dict[str, Any]:
    return {"exit_code": rc, "stdout": out, "stderr": err, "cached": cached, "cache_key_hex": key,
            "output_files": [{"path": p, "size": len(d)} for p, d in files]}
