"""What a wrapper script runs: the programs its words name on PATH, resolved now.

A compiler wrapper (``#!/bin/sh`` then ``exec gcc "$@"``) keeps its bytes and its
stat when what it runs changes: a ``gcc`` earlier on PATH retargeted to clang, or
to another gcc version. Everything zccache keeps about a tool (its probes, its
identity) is therefore keyed on this resolution as well as on the tool's own file:
the names are read from the script once per stat signature, and resolved again on
every use (a few stats), so a retargeted program is a new tool at once.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Mapping

_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_.+-]*")
_SCAN = 64 << 10  # bytes of a script read for names
_MOST = 256  # distinct words looked up on PATH the first time
_names: dict[str, tuple[tuple, tuple[str, ...]]] = {}
_lock = threading.Lock()


def resolved(tool: str, env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(name, real path) of each program the script names on PATH; () for a tool
    that is not a script (a compiler binary says what it runs through ``-###``)."""
    names = _script_names(tool, env)
    if not names:
        return ()
    path = env.get("PATH", os.defpath)
    out = []
    for name in names:
        found = shutil.which(name, path=path)
        out.append((name, os.path.realpath(found) if found else ""))
    return tuple(out)


def _script_names(tool: str, env: Mapping[str, str]) -> tuple[str, ...]:
    try:
        st = os.stat(tool)
    except OSError:
        return ()
    sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    with _lock:
        held = _names.get(tool)
    if held is not None and held[0] == sig:
        return held[1]
    try:
        with open(tool, "rb") as f:
            data = f.read(_SCAN)
    except OSError:
        data = b""
    names: tuple[str, ...] = ()
    if data.startswith(b"#!"):
        path = env.get("PATH", os.defpath)
        words = list(dict.fromkeys(w.decode() for w in _WORD.findall(data)))[:_MOST]
        names = tuple(w for w in words if shutil.which(w, path=path))
    with _lock:
        if len(_names) > 1024:
            _names.clear()
        _names[tool] = (sig, names)
    return names
