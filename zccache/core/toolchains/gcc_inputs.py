"""Files a gcc or clang compile may read that its dependency output does not name.

The manifest of a direct-mode entry is built from the compiler's own depfile, and
three kinds of input never appear there:

- **Precompiled headers.** gcc replaces the first ``#include`` of a translation unit
  (or an ``-include``) by ``name.gch`` when one sits in a directory it searches, and
  then lists neither the ``.gch`` nor the header; it does not even check the header
  against the ``.gch``. clang turns ``-include x.h`` into ``-include-pch x.h.pch``
  when the file exists. Every place such a file could be found is recorded: present
  ones by content, absent ones as shadow probes, so a ``.gch`` that appears, changes
  or goes away is a miss.
- **``__has_include``** of a header that does not exist: the answer changes the
  program, and nothing lists the path. Each name tested in the source or a header
  read is looked up on the search path the same way.
- **Profile data** (``-fprofile-use``, ``-fbranch-probabilities``, clang's
  ``-fprofile-instr-use``, ``-fprofile-sample-use``, gcc's ``-fauto-profile``): the
  feedback files gcc or clang would open, by content or absence, join the key before
  the lookup, as ccache hashes them.
"""

from __future__ import annotations

import os
import re

from zccache.core.invocation import SearchPath
from zccache.core.manifest import PCH_SUFFIXES, FileHashes, Presence, Uncacheable, include_form

_COMMENT = re.compile(rb"//[^\n]*|/\*.*?\*/", re.S)
_INCLUDE = re.compile(rb'#\s*(?:include|include_next|import)\s*(?:"([^"]+)"|<([^>]+)>|(.*))$')


def _norm(cwd: str, path: str) -> str:
    return os.path.normpath(os.path.join(cwd, path))


def leading_includes(data: bytes) -> list[tuple[str, str]]:
    """(form, name) of the ``#include`` lines before the first line that is not a
    directive: the only includes gcc may serve from a precompiled header. form is
    '"', '<', or '?' for a computed name."""
    text = _COMMENT.sub(b" ", data).replace(b"\\\r\n", b"").replace(b"\\\n", b"")
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith(b"#"):
            break
        m = _INCLUDE.match(s)
        if m is not None:
            found.append(include_form(*m.groups()))
    return found


class _Found:
    """Paths sorted into present (recorded by content) and absent (shadow probes)."""

    def __init__(self) -> None:
        self.present: dict[str, None] = {}
        self.absent: dict[str, None] = {}
        self._exists = Presence()  # most candidates are absent: a listing answers for them

    def file(self, path: str) -> bool:
        if not self._exists(path):
            self.absent[path] = None
            return False
        if os.path.isfile(path):
            self.present[path] = None
            return True
        if os.path.lexists(path):
            if os.path.isdir(path) and path.endswith(PCH_SUFFIXES):
                raise Uncacheable("precompiled header directory")
            return True  # a directory of that name: nothing to hash, nothing to shadow
        self.absent[path] = None
        return False


def unlisted_inputs(cwd: str, source: str, headers: list[str], includes: list[str], include_pchs: list[str],
                    dirs: SearchPath, hashes: FileHashes) -> tuple[list[str], list[str]]:
    """(present, absent): files the compile may have read besides its depfile's,
    and paths at which a new file would change the result."""
    order = [_norm(cwd, d) for d in dirs.order]
    source = _norm(cwd, source)
    found = _Found()
    for pch in include_pchs:
        found.file(_norm(cwd, pch))
    # -include: the preprocessor's working directory first, then the quote chain
    for name in includes:
        bases = [name] if os.path.isabs(name) else [_norm(cwd, name), *(os.path.join(d, name) for d in order)]
        _pch_candidates(found, bases)
    try:
        with open(source, "rb") as f:
            leading = leading_includes(f.read())
    except OSError:
        raise Uncacheable("source unreadable") from None
    for form, name in leading:
        if form == "?":
            raise Uncacheable("computed #include before the first declaration")
        _pch_candidates(found, _lookup_paths(form, name, os.path.dirname(source), order))
    _has_include_candidates(found, cwd, source, headers, order, hashes)
    return list(found.present), [p for p in found.absent if p not in found.present]


def has_include_inputs(cwd: str, source: str, headers: list[str], dirs: SearchPath,
                       hashes: FileHashes) -> tuple[list[str], list[str]]:
    """(present, absent) for the names ``__has_include`` tests, alone: what a
    compiler without gcc's implicit precompiled headers (clang-cl) needs."""
    found = _Found()
    _has_include_candidates(found, cwd, _norm(cwd, source), headers, [_norm(cwd, d) for d in dirs.order], hashes)
    return list(found.present), [p for p in found.absent if p not in found.present]


def _has_include_candidates(found: _Found, cwd: str, source: str, headers: list[str], order: list[str],
                            hashes: FileHashes) -> None:
    for path in [source, *(_norm(cwd, h) for h in headers)]:
        try:
            tested = hashes.has_includes(path)
        except OSError:
            continue  # the manifest's own hashing reports a vanished header
        for form, name in tested:
            if form == "?":
                raise Uncacheable("__has_include of a computed name")
            for candidate in _lookup_paths(form, name, os.path.dirname(path), order):
                found.file(candidate)


def _lookup_paths(form: str, name: str, includer: str, order: list[str]) -> list[str]:
    if os.path.isabs(name):
        return [os.path.normpath(name)]
    dirs = [includer, *order] if form == '"' else order
    return [os.path.normpath(os.path.join(d, name)) for d in dirs]


def _pch_candidates(found: _Found, bases: list[str]) -> None:
    """Each place a header could be found, with a precompiled form: the precompiled
    files by content or absence, and where one exists, the header beside it too."""
    for base in bases:
        has_pch = False
        for suffix in PCH_SUFFIXES:
            if found.file(base + suffix):
                has_pch = True
        if has_pch and os.path.isfile(base):
            found.present[base] = None


def profile_files(cwd: str, output: str, use: str | None, profile_dir: str | None) -> list[str]:
    """The feedback files a profile-use compile may open (ccache's list, made
    absolute): ``use`` is the value of -fprofile-use= and friends ('' when none was
    given), ``profile_dir`` that of -fprofile-dir=."""
    base = profile_dir if profile_dir else use if use else cwd
    base = _norm(cwd, base)
    stem = os.path.splitext(output)[0]
    mangled = _norm(cwd, stem).replace("/", "#")
    candidates = [
        os.path.join(base, stem + ".gcda"),  # gcc < 9, and -fprofile-use with no directory
        _norm(cwd, stem + ".gcda"),
        os.path.join(base, mangled + ".gcda"),  # gcc >= 9 with a profile directory
        base,  # clang's -fprofile-use=file, gcc's -fauto-profile=file
        os.path.join(base, "default.profdata"),  # clang with a directory
        _norm(cwd, "default.profdata"),  # clang's -fprofile-instr-use with no value
        _norm(cwd, "fbdata.afdo"),  # gcc's -fauto-profile with no value
    ]
    return list(dict.fromkeys(candidates))
