"""Cache-key composition: one place decides what a result depends on.

Every key starts with a versioned tag, so a change in what goes into a key can
never make an old entry hit under new rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from zccache.core.hashing import Hasher
from zccache.core.invocation import Invocation

# v2: manifest entries keep paths below the cwd and the base dir relative to them
# (manifest.Places); a v1 entry's shadow probes name the place it was made in.
_DIRECT = "zccache-direct-v2"
_PREPROCESSED = "zccache-preprocessed-v1"
_RESULT = "zccache-result-v1"


def _common(h: Hasher, inv: Invocation, tool_identity: str, extras: Iterable[bytes]) -> None:
    h.text(inv.family.name)
    h.text(tool_identity)
    h.text(str(len(inv.key_args)))
    for arg in inv.key_args:
        h.text(arg)
    for name in sorted(inv.key_env):
        h.text(name)
        h.text(inv.key_env[name])
    h.text(inv.logical(inv.cwd) if inv.hash_cwd else "")
    for extra in extras:
        h.update(extra)


def direct_key(inv: Invocation, tool_identity: str, source_hashes: list[str], extras: Iterable[bytes]) -> str:
    h = Hasher(_DIRECT)
    _common(h, inv, tool_identity, extras)
    for path, digest in zip(inv.sources, source_hashes, strict=True):
        h.text(inv.logical(path))
        h.text(digest)
    return h.hexdigest()


def preprocessed_key(inv: Invocation, tool_identity: str, preprocessed: bytes, extras: Iterable[bytes]) -> str:
    h = Hasher(_PREPROCESSED)
    _common(h, inv, tool_identity, extras)
    h.update(preprocessed)
    return h.hexdigest()


def result_key(direct: str, headers: Iterable[tuple[str, str, object]],
               env: Iterable[tuple[str, str | None]] = ()) -> str:
    h = Hasher(_RESULT)
    h.text(direct)
    for path, digest, _sig in headers:
        h.text(path)
        h.text(digest)
    for name, value in env:
        h.text("\0env")
        h.text(name)
        h.text("\0unset" if value is None else value)
    return h.hexdigest()
