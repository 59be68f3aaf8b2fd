"""The plugin manager: built-in plugins first, then the entry-point group "zccache".

Built-ins are plain hook-implementing modules, registered exactly as a third-party
plugin found through its entry point would be.

Scanning every installed distribution for entry points costs more than a cached
compile (importlib.metadata alone takes ~15 ms to import), so the list is memoised
in a small file keyed on the mtimes of the sys.path directories: installing or
removing a distribution adds or removes a ``*.dist-info`` entry, which changes its
directory's mtime. Entries read back are checked to be dotted names before import.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import tempfile

import pluggy

from zccache.core import hookspecs

BUILTINS = (
    "zccache.core.toolchains.msvc",  # asked after gcc's family (pluggy calls the last registered first)
    "zccache.core.toolchains.gcc",
    "zccache.core.toolchains.rustc",
    "zccache.core.toolchains.linker",
    "zccache.core.toolchains.archiver",
    "zccache.core.toolchains.msvc_link",
    "zccache.core.exec_command",
    "zccache.core.check_command",
    "zccache.core.config_command",
    "zccache.core.daemon_commands",
    "zccache.core.doctor_command",
    "zccache.core.symlinks_command",
    "zccache.core.tiers.opendal_tier",
    "zccache.plugins.cmake",
    "zccache.plugins.setuptools",
    "zccache.plugins.meson",
    "zccache.plugins.cargo",
)
GROUP = "zccache"
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")


def make_manager(load_entry_points: bool = True, memo_dir: str | None = None) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("zccache")
    pm.add_hookspecs(hookspecs)
    for name in BUILTINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entry_points:
        for name, value in entry_points(memo_dir):
            if pm.get_plugin(name) is not None or pm.is_blocked(name):
                continue
            try:
                pm.register(_load(value), name=name)
            except Exception as exc:  # a broken third-party plugin must not break builds
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                sys.stderr.write(f"zccache: plugin {name!r} failed to load: {first}\n")
    return pm


def _load(value: str) -> object:
    module, _, attr = value.partition(":")
    obj: object = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def _fingerprint() -> list[list]:
    rows = []
    for entry in sys.path:
        try:
            rows.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            rows.append([entry, None])
    return rows


def entry_points(memo_dir: str | None) -> list[tuple[str, str]]:
    fingerprint = _fingerprint()
    # Which modules to import is read from the cache directory only from a file of
    # our own that nobody else may write: a shared cache directory is not a place
    # from which another user may choose what we import.
    memo = os.path.join(memo_dir, f"entry-points-{os.getuid()}.json") if memo_dir else None
    if memo:
        try:
            fd = os.open(memo, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, encoding="utf-8") as f:
                st = os.fstat(f.fileno())
                if st.st_uid != os.getuid() or st.st_mode & 0o022:
                    raise ValueError("not ours alone")
                data = json.load(f)
            if data.get("fingerprint") == fingerprint:
                rows = [(str(n), str(v)) for n, v in data["entry_points"]]
                if all(_DOTTED.match(v.replace(" ", "")) for _, v in rows):
                    return rows
        except (OSError, ValueError, KeyError, TypeError):
            pass
    from importlib.metadata import entry_points as find

    rows = [(ep.name, ep.value) for ep in find(group=GROUP)]
    if memo:
        try:
            os.makedirs(memo_dir, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=memo_dir, prefix=".entry-points-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"fingerprint": fingerprint, "entry_points": rows}, f)
            os.replace(tmp, memo)
        except OSError:
            pass
    return rows
