"""Runs whose results no later build can look up, and the files they made.

`zccache pip` builds in randomly named temporary directories below one root
(ZCCACHE_REMAP_TEMP) and maps those names out of every path gcc writes
(gcc.temp_prefix_maps), so that tomorrow's build hits today's results. A name the
compiler copies into its output verbatim cannot be mapped: libsodium's `make check`
compiles its 88 test programs with ``-DTEST_SRCDIR="<the random directory>"``. Such
a key names a directory the next build will not have, so its result can never be
found again; and a link or an archive made from that object holds those bytes too,
so its key never repeats either. pynacl's test programs, statically linked, were
75 MB of a cold cache that held 5 MB of results it could use.

Such a run is run plainly and counted as uncacheable, as ccache counts what it
cannot cache. Its outputs are remembered by stat signature (in this process: the
daemon, or a build tool's), so that what is made from them is run plainly too.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable

from zccache.core.hashing import StatSig, stat_sig
from zccache.core.invocation import Invocation

# pip-install-k2j4h8ab, brotli_<32 hex>, tmpab12cd34: the names tools give the
# temporary directories they make (the stem is what stays from build to build)
_RANDOM_PART = re.compile(r"^(?P<stem>.*?)(?:[-_](?:[a-z0-9_]{8}|[0-9a-f]{32})|(?<=^tmp)[a-z0-9_]{8})$")
_NAME_END = re.compile(r"[^A-Za-z0-9_.-]")
NAMES_TEMP_DIR = "names a temporary build directory"
MADE_FROM_TEMP = "made from a temporary build's object"
REMEMBERED = 8192  # outputs; a build's test programs are a few hundred


def stable_name(component: str) -> tuple[str, bool]:
    """'pip-install-k2j4h8ab' -> ('pip-install', True); 'brotli_<32 hex>' -> ('brotli', True);
    'tmpab12cd34' -> ('tmp', True); anything else unchanged."""
    m = _RANDOM_PART.match(component)
    if m and m.group("stem"):
        return m.group("stem"), True
    return component, False


def names_random_dir(texts: Iterable[str], root: str) -> bool:
    """Whether any text names a randomly named directory right below root."""
    prefix = root.rstrip(os.sep) + os.sep
    for text in texts:
        at = text.find(prefix)
        while at >= 0:
            component = _NAME_END.split(text[at + len(prefix):].split(os.sep, 1)[0], 1)[0]
            if stable_name(component)[1]:
                return True
            at = text.find(prefix, at + 1)
    return False


def key_texts(inv: Invocation) -> list[str]:
    """What keys.direct_key takes from the invocation as text."""
    return [*inv.key_args, *inv.key_env.values(), *(inv.logical(p) for p in inv.sources),
            *(inv.logical(p) for p in inv.key_files), inv.logical(inv.cwd) if inv.hash_cwd else ""]


class SingleUse:
    """Tells which runs to leave out of the store, and remembers what they wrote."""

    def __init__(self) -> None:
        self._made: OrderedDict[str, StatSig] = OrderedDict()
        self._lock = threading.Lock()

    def reason(self, inv: Invocation) -> str:
        """Why this run's result could never be looked up again ("" when it could)."""
        root = inv.env.get("ZCCACHE_REMAP_TEMP")
        if root and names_random_dir(key_texts(inv), os.path.normpath(root)):
            return NAMES_TEMP_DIR
        if self._made:
            for path in inv.sources:
                if self._holds(os.path.normpath(os.path.join(inv.cwd, path))):
                    return MADE_FROM_TEMP
        return ""

    def made(self, inv: Invocation) -> None:
        """Remember the outputs of a run left out of the store."""
        for path in inv.outputs.values():
            full = os.path.normpath(os.path.join(inv.cwd, path))
            try:
                st = os.stat(full)
            except OSError:
                continue
            with self._lock:
                self._made[full] = stat_sig(st)
                self._made.move_to_end(full)
                while len(self._made) > REMEMBERED:
                    self._made.popitem(last=False)

    def _holds(self, full: str) -> bool:
        with self._lock:
            sig = self._made.get(full)
        if sig is None:
            return False
        try:
            st = os.stat(full)
        except OSError:
            return False
        return stat_sig(st) == sig
