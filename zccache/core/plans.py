"""Classifications kept for commands a build runs again.

A build sends the daemon the same command (the same words, working directory and
environment) every time it compiles a file again, and classifying it (asking each
family in turn, parsing the words, building the Invocation) was a third of a
tiny hit's time in the daemon, more when the processor's caches were cold.

A kept classification is used again only while the family that made it says it
holds (the family's ``still``): what its classify read besides the command (the
tool's probe, the files gcc's driver would take, whether an output names a device)
is checked as the full path would check it. The other families are not asked
again: the hook contract (hookspecs.zccache_classify) has them decide a command is
not theirs from the command alone. A family without ``still``, a command naming
response files, a Batch or a Passthrough is never kept.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from zccache.core.invocation import Batch, Invocation, Passthrough

_LIMIT = 4096


class Plans:
    """(words, cwd) -> (the environment object, the Invocation classified for them).

    The environment is matched by identity: the daemon hands every request with the
    same variables and the same zccache.conf the same mapping (Daemon._settings),
    and keeping a reference to it keeps its id from being reused."""

    def __init__(self) -> None:
        self._kept: dict[tuple[tuple[str, ...], str], tuple[Mapping[str, str], Invocation]] = {}
        self._lock = threading.Lock()

    def recall(self, argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | None:
        """A fresh copy of the kept Invocation when it still holds; None otherwise."""
        held = self._kept.get((tuple(argv), cwd))
        if held is None or held[0] is not env:
            return None
        inv = held[1]
        still = getattr(inv.family, "still", None)
        if still is None or not still(inv):
            with self._lock:
                self._kept.pop((tuple(argv), cwd), None)
            return None
        return _copy(inv)  # the engine sets umask and prefix on the one it runs

    def keep(self, argv: list[str], cwd: str, env: Mapping[str, str],
             found: Invocation | Batch | Passthrough) -> None:
        if not isinstance(found, Invocation) or getattr(found.family, "still", None) is None:
            return
        if any(a.startswith("@") for a in argv[1:]):
            return  # the response file's words are read every time
        kept = _copy(found)
        kept.direct_keys = {}
        with self._lock:
            if len(self._kept) >= _LIMIT:
                self._kept.clear()
            self._kept[(tuple(argv), cwd)] = (env, kept)


def _copy(inv: Invocation) -> Invocation:
    """A shallow copy: its fields are set anew, never changed in place, by whoever runs
    it (copy.copy's reduce protocol took three times as long)."""
    new = object.__new__(type(inv))
    new.__dict__.update(inv.__dict__)
    return new
