"""Why a compile missed: the difference from the nearest thing the cache holds.

When the direct key has a manifest, its newest entry is the nearest: the first of
its headers that changed (or vanished), the first path that appeared before a header
it would now shadow, or the first environment variable the tool read that has
another value names the miss. When the direct key has none, the inputs of the direct
key last stored for the same output by the same tool (kept locally under ``o:``,
never shared) are: the compiler, the source, the first argument that differs, the
environment. A fresh build directory has no such record: the inputs last stored for
the same source by the same tool (``o:`` by source) are the nearest then, so an
option added or a source edited is named there too. A user
reading `zccache analyze --html` sees which header, argument or variable it was.
"""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING

from zccache.core.hashing import hash_bytes
from zccache.core.invocation import Invocation
from zccache.core.manifest import Entry, FileHashes, probe_paths, same_digest

if TYPE_CHECKING:
    from zccache.core.store import Store

NEW = "nothing cached for this output yet"


def from_entry(entry: Entry, cwd: str, hashes: FileHashes, to_physical, env, map_key: tuple = ()) -> str:
    for name, value in entry.env:
        now = (env or {}).get(name)
        if now != value:
            return f"environment {name} changed ({value!r} -> {now!r})"
    resolved = entry.resolved(cwd, to_physical, map_key)
    if resolved is None:
        return "the cached entry names paths outside this build's path map"
    for full, digest, _sig in resolved.headers:
        try:
            if not same_digest(hashes.hash(full)[0], digest):
                return f"header {full} changed"
        except OSError:
            return f"header {full} is gone"
    for _d, _mtime, below in resolved.probes:
        for p in probe_paths(below):
            if os.path.lexists(p):
                return f"{p} appeared (it comes before a header the cached entry used)"
    return "the cached entry's files match again (changed and restored during the build)"


def _tool(inv: Invocation) -> str:
    return os.path.basename(inv.tool)


def record_key(inv: Invocation) -> str:
    """The record of this output (in this directory, by this tool)."""
    parts = (_tool(inv), inv.cwd, *sorted(inv.outputs.values()))
    return "o:" + hash_bytes("\0".join(parts).encode("utf-8", "surrogateescape"))


def source_key(inv: Invocation) -> str | None:
    """The record of this source (wherever it was built, by this tool)."""
    if not inv.sources:
        return None
    return "o:src:" + hash_bytes(f"{_tool(inv)}\0{inv.logical(inv.sources[0])}".encode("utf-8", "surrogateescape"))


def save(store: Store, inv: Invocation, record: dict) -> None:
    """The record under its output's key, and under its source's a pointer to that
    key: the same record stored twice was 29 KB of brotli's 0.8 MB cache."""
    at = record_key(inv)
    store.set(at, record)
    by_source = source_key(inv)
    if by_source is not None:
        store.set(by_source, {"at": at})


def last(store: Store, inv: Invocation) -> object:
    """The inputs last stored for this output; in a fresh build directory, for this
    source (through its pointer; a record from before pointers is the record)."""
    found = store.get(record_key(inv))
    by_source = source_key(inv) if found is None else None
    if by_source is not None:
        found = store.get(by_source)
        at = found.get("at") if isinstance(found, dict) else None
        if isinstance(at, str) and at.startswith("o:") and not at.startswith("o:src:"):
            found = store.get(at)
    return found


def inputs(inv: Invocation, identity: str, source_hashes: list[str]) -> dict:
    return {"identity": identity, "sources": [[inv.logical(s), h] for s, h in zip(inv.sources, source_hashes)],
            "args": list(inv.key_args), "env": sorted([k, v] for k, v in inv.key_env.items()), "tool": _tool(inv)}


def from_inputs(last: object, now: dict) -> str:
    """The first difference between the inputs last stored for this output and now."""
    if not isinstance(last, dict) or last.get("tool", now["tool"]) != now["tool"]:
        return NEW
    if last.get("identity") != now["identity"]:
        return "the compiler changed (its binary, version or what it runs)"
    if last.get("sources") != now["sources"]:
        before = {p: h for p, h in last.get("sources", []) if isinstance(p, str)}
        changed = [p for p, h in now["sources"] if before.get(p) != h]
        return f"source {changed[0]} changed" if changed else "the sources differ"
    if last.get("args") != now["args"]:
        old, new = [str(a) for a in last.get("args", [])], now["args"]
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if op == "replace":
                return f"argument {' '.join(old[i1:i2])} is now {' '.join(new[j1:j2])}"
            if op == "delete":
                return f"argument {' '.join(old[i1:i2])} was dropped"
            if op == "insert":
                return f"argument {' '.join(new[j1:j2])} was added"
    if last.get("env") != now["env"]:
        before = dict(tuple(p) for p in last.get("env", []) if isinstance(p, list) and len(p) == 2)
        for name, value in now["env"]:
            if before.get(name) != value:
                return f"environment {name} changed"
        return "an environment variable in the key was unset"
    return "a setting, an extra file or the build directory in the key changed"
