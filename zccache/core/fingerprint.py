""""Has this tree changed since the last success?" for lint and test steps.

``check`` scans a tree and compares it with the state recorded at the last
``mark-success``; the scan itself is kept as *pending* so that marking success
records exactly the files the step ran on (a file edited while the step ran shows
up as changed next time). Both states live in the store, so check and mark may be
separate processes (with or without the daemon).

- ``hash``: every file's content hash, every time.
- ``two-layer``: stat first; a file whose size and mtime match the last success
  (and whose mtime was settled then) keeps its recorded hash; only the others are
  read.
"""

from __future__ import annotations

import fnmatch
import os
import time
from dataclasses import dataclass, field

from zccache.core.hashing import hash_file, is_settled
from zccache.core.store import Store

TYPES = ("hash", "two-layer")


@dataclass(frozen=True)
class Decision:
    decision: str  # "skip" | "run"
    reason: str | None = None
    changed_files: list[str] = field(default_factory=list)


class FingerprintError(ValueError):
    pass


def _key(cache_file: str) -> str:
    return os.path.abspath(cache_file)


def _wanted(rel: str, name: str, extensions: list[str], globs: list[str]) -> bool:
    if globs:
        return any(fnmatch.fnmatch(rel, g) or (g.startswith("**/") and fnmatch.fnmatch(rel, g[3:])) for g in globs)
    if extensions:
        return os.path.splitext(name)[1].lstrip(".") in extensions
    return True


def _excluded(rel: str, name: str, exclude: list[str]) -> bool:
    return any(name == e or fnmatch.fnmatch(rel, e) or fnmatch.fnmatch(name, e) for e in exclude)


def scan(root: str, extensions: list[str], globs: list[str], exclude: list[str]) -> dict[str, tuple[int, int]]:
    """relative path -> (size, mtime_ns) of every file the filters select."""
    if extensions and globs:
        raise FingerprintError("give extensions or include globs, not both")
    files: dict[str, tuple[int, int]] = {}
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise FingerprintError(f"root {root} is not a directory")
    for top, dirs, names in os.walk(root):
        rel_top = os.path.relpath(top, root)
        dirs[:] = sorted(d for d in dirs if not _excluded(os.path.normpath(os.path.join(rel_top, d)), d, exclude))
        for name in names:
            rel = os.path.normpath(os.path.join(rel_top, name))
            if _excluded(rel, name, exclude) or not _wanted(rel, name, extensions, globs):
                continue
            try:
                st = os.stat(os.path.join(top, name))
            except OSError:
                continue
            files[rel] = (st.st_size, st.st_mtime_ns)
    return files


class Fingerprints:
    def __init__(self, store: Store) -> None:
        self.store = store

    def check(self, cache_file: str, cache_type: str, root: str, extensions: list[str], include_globs: list[str],
              exclude: list[str]) -> Decision:
        if cache_type not in TYPES:
            raise FingerprintError(f"unknown fingerprint type {cache_type!r} (use hash or two-layer)")
        key = _key(cache_file)
        root = os.path.abspath(root)
        files = scan(root, [e.lstrip(".") for e in extensions], include_globs, exclude)
        last = self.store.get("fp:" + key)
        previous: dict[str, list] = {}
        if isinstance(last, dict) and last.get("root") == root and last.get("type") == cache_type:
            previous = last.get("files", {})
        now = time.time_ns()
        state: dict[str, list] = {}
        for rel, (size, mtime) in files.items():
            old = previous.get(rel)
            if cache_type == "two-layer" and old and old[0] == size and old[1] == mtime and old[3]:
                digest = old[2]
            else:
                try:
                    digest = hash_file(os.path.join(root, rel))
                except OSError:
                    continue
            state[rel] = [size, mtime, digest, is_settled(mtime, now)]
        self.store.set("fp-pending:" + key, {"root": root, "type": cache_type, "files": state})
        if not isinstance(last, dict):
            return Decision("run", "no previous success", sorted(state))
        if last.get("failed"):
            return Decision("run", "last run failed", sorted(set(state) | set(previous)))
        if last.get("root") != root or last.get("type") != cache_type:
            return Decision("run", "root or type changed", sorted(state))
        changed = sorted(
            rel for rel in set(state) | set(previous)
            if rel not in state or rel not in previous or state[rel][2] != previous[rel][2]
        )
        if not changed:
            return Decision("skip")
        return Decision("run", "files changed", changed)

    def mark_success(self, cache_file: str) -> None:
        key = _key(cache_file)
        pending = self.store.get("fp-pending:" + key)
        if not isinstance(pending, dict):
            raise FingerprintError("nothing to mark: run 'fp check' first")
        self.store.set("fp:" + key, {**pending, "failed": False})
        self.store.delete("fp-pending:" + key)

    def mark_failure(self, cache_file: str) -> None:
        key = _key(cache_file)
        last = self.store.get("fp:" + key)
        if isinstance(last, dict):
            self.store.set("fp:" + key, {**last, "failed": True})
        self.store.delete("fp-pending:" + key)

    def invalidate(self, cache_file: str) -> None:
        key = _key(cache_file)
        self.store.delete("fp:" + key)
        self.store.delete("fp-pending:" + key)
