"""Direct-mode manifests: which headers a compile read, and proof that none moved.

A manifest belongs to one direct key (compiler, args, source content, env). Each
entry records the headers one compile read, with their content hashes, and the
*shadow probes*: every path at which a new file would have been found before one of
those headers on the include search path (``-I a -I b`` and a header found as
``b/x.h``: the probe is ``a/x.h``). A probe is kept with the nearest directory that
exists and that directory's mtime; creating any file below it changes that mtime,
so an unchanged directory proves the probes below it still absent without touching
them. A changed one (an in-source build writing its objects) costs one stat per
probe below it. ccache, sccache and the Rust zccache all miss the shadowing case.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from zccache.core.hashing import StatSig, hash_bytes, is_settled, stat_sig, trusted_sig

TIME_MACROS = (b"__DATE__", b"__TIME__", b"__TIMESTAMP__")
PCH_SUFFIXES = (".gch", ".pch")
# Text that makes a program behind the preprocessor read a file by name: the
# assembler's .incbin and .include (in a .S, or in inline asm of C and C++), and
# gcc's "#pragma GCC dependency" (which compares a file's mtime and may warn).
# No preprocessor depfile names those files.
_READS_BY_NAME = re.compile(
    rb"(?:^|[\s\"';{]|\\[nt])\.(?:incbin|include)\b|#\s*pragma\s+GCC\s+dependency|_Pragma\s*\(\s*\"GCC\s+dependency",
    re.M)
INCBIN = "assembler directive reading a file (.incbin, .include)"
PRAGMA_DEPENDENCY = "#pragma GCC dependency"


def reads_by_name(data: bytes) -> str:
    """The reason text makes its compile uncacheable without the assembler's own
    list of what it read ('' for none): see _READS_BY_NAME."""
    if b"incbin" not in data and b".include" not in data and b"dependency" not in data:
        return ""  # the common case, without the expression's cost on a large text
    for m in _READS_BY_NAME.finditer(data):
        return PRAGMA_DEPENDENCY if b"dependency" in m.group(0) else INCBIN
    return ""


class Uncacheable(Exception):
    """This result cannot be recorded safely; the message is the counted reason."""


@dataclass
class Entry:
    headers: list[tuple[str, str, StatSig | None]]  # path as the tool named it, hash, trusted stat
    probes: list[tuple[str, int | None, list[str]]]  # dir, its mtime (None: not settled), names
    result: str
    env: list[tuple[str, str | None]] = ()  # variables the tool read, and their values
    # (cwd, path map) -> headers and probes as absolute paths: a hit checks about a
    # hundred headers, and naming each again cost more than its stat
    _resolved: dict = field(default_factory=dict, repr=False, compare=False)

    def resolved(self, cwd: str, to_physical, map_key: tuple = ()) -> _Resolved | None:
        """The entry's paths made absolute for this cwd and path map (None when the
        map does not have a prefix the entry names)."""
        key = (cwd, map_key)
        found = self._resolved.get(key)
        if found is None:
            headers = []
            for logical, digest, sig in self.headers:
                path = to_physical(logical)
                if path is None:
                    return None
                headers.append((_norm(cwd, path), digest, sig))
            probes = []
            for logical, mtime, names in self.probes:
                d = to_physical(logical)
                if d is None:
                    return None
                probes.append((d, mtime, [os.path.join(d, n) for n in names]))
            if len(self._resolved) > 8:
                self._resolved.clear()
            found = self._resolved[key] = _Resolved(headers, probes)
        return found

    def to_wire(self) -> list:
        return [
            [[p, h, list(s) if s else None] for p, h, s in self.headers],
            [[d, m, n] for d, m, n in self.probes],
            self.result,
            [[k, v] for k, v in self.env],
        ]

    @classmethod
    def from_wire(cls, data: list) -> Entry:
        headers, probes, result = data[:3]
        env = data[3] if len(data) > 3 else []
        return cls(
            headers=[(p, h, tuple(s) if s else None) for p, h, s in headers],
            probes=[(d, m, list(n)) for d, m, n in probes],
            result=result,
            env=[(k, v) for k, v in env],
        )


@dataclass(frozen=True)
class _Resolved:
    headers: list[tuple[str, str, StatSig | None]]  # absolute path, hash, trusted stat
    probes: list[tuple[str, int | None, list[str]]]  # absolute dir, its mtime, absolute paths


# Files that are not text a compiler preprocesses: ELF programs and objects (the
# driver's cc1 and as, a link's inputs), ar archives (static libraries, and the
# rlibs every rustc compile names by --extern: tens of MB each, whose text scans
# cost seven times their hash), and rustc's .rmeta.
BINARY_MAGIC = (b"\x7fELF", b"!<arch>\n", b"rust\x00")


class FileHashes:
    """Content hashes memoised by stat signature within one process (or daemon),
    with what the content says beyond its hash: whether it uses a time macro, and
    the names it tests with ``__has_include`` (a header it may read only if it
    appears later, which no dependency file lists)."""

    def __init__(self) -> None:
        self._memo: dict[str, tuple[StatSig, str, bool, tuple[tuple[str, str], ...], str]] = {}

    def hash(self, path: str, st: os.stat_result | None = None) -> tuple[str, bool]:
        """(content hash, uses a time macro) of path, re-read only when it changed."""
        found = self._scan(path, st)
        return found[1], found[2]

    def has_includes(self, path: str, st: os.stat_result | None = None) -> tuple[tuple[str, str], ...]:
        """(form, name) for each ``__has_include``/``__has_include_next`` in path:
        form is '"' or '<', or '?' for a computed (macro) argument."""
        return self._scan(path, st)[3]

    def reads_by_name(self, path: str, st: os.stat_result | None = None) -> str:
        """Why path makes a program behind the preprocessor read a file no depfile
        lists (an assembler ``.incbin``/``.include``, ``#pragma GCC dependency``);
        '' when it does not."""
        return self._scan(path, st)[4]

    def _scan(self, path: str, st: os.stat_result | None):
        if st is None:
            st = os.stat(path)
        sig = stat_sig(st)
        hit = self._memo.get(path)
        if hit is not None and hit[0] == sig and trusted_sig(st) is not None:
            return hit
        with open(path, "rb") as f:
            data = f.read()
        digest = hash_bytes(data)
        if data.startswith(BINARY_MAGIC):  # a program, an object, an archive, a crate: no source text to scan
            found = self._memo[path] = (sig, digest, False, (), "")
            return found
        uses_time = any(m in data for m in TIME_MACROS)
        tested = _has_include_names(data) if b"__has_include" in data else ()
        found = self._memo[path] = (sig, digest, uses_time, tested, reads_by_name(data))
        return found


_HAS_INCLUDE = re.compile(rb'__has_include(?:_next)?\s*\(\s*(?:"([^"\n]+)"|<([^>\n]+)>|([^)\n]*))\s*\)')


def include_form(quoted: bytes | None, bracketed: bytes | None, other: bytes | None) -> tuple[str, str]:
    """('"', name), ('<', name) or ('?', text) from a match of "name" | <name> | text."""
    if quoted is not None:
        return '"', quoted.decode("utf-8", "surrogateescape")
    if bracketed is not None:
        return "<", bracketed.decode("utf-8", "surrogateescape")
    return "?", (other or b"").decode("utf-8", "surrogateescape").strip()


_DEFINES_HAS_INCLUDE = re.compile(rb"[ \t]*#[ \t]*define[ \t]+__has_include")


def _has_include_names(data: bytes) -> tuple[tuple[str, str], ...]:
    """Skips the fallback definitions headers give for compilers without it
    (``#define __has_include(...) 0``): a parameter list, not a header name."""
    names = []
    for m in _HAS_INCLUDE.finditer(data):
        line_start = data.rfind(b"\n", 0, m.start()) + 1
        if _DEFINES_HAS_INCLUDE.match(data, line_start):
            continue
        names.append(include_form(*m.groups()))
    return tuple(dict.fromkeys(names))


def _norm(cwd: str, path: str) -> str:
    return os.path.normpath(os.path.join(cwd, path))


def record(
    cwd: str,
    headers: Iterable[str],
    search_dirs: list[str],
    system_dirs: set[str],
    source_dirs: Iterable[str],
    started_ns: int,
    hashes: FileHashes,
    result_key_of,
    allow_time_macros: bool = False,
    to_logical=lambda path: path,
    env_inputs: dict[str, str | None] | None = None,
    absent: Iterable[str] = (),
    scan_text: bool = True,
    listed_by_assembler: bool = False,
    data_files: Iterable[str] = (),
) -> Entry:
    """Build the manifest entry for a compile that started at ``started_ns``.

    Raises Uncacheable when a header changed during the compile (the object may
    mix old and new content) or uses a time macro. ``data_files`` are read as data
    (what the assembler read): by content, never scanned as source text. With
    ``listed_by_assembler`` the run named every file the assembler read, so a
    directive that reads one needs no refusal.
    """
    data_files = set(data_files)
    now = time.time_ns()
    rows: list[tuple[str, str, StatSig | None]] = []
    absolute: list[str] = []
    headers = list(dict.fromkeys(headers))
    texts = {_norm(cwd, p) for p in headers}
    for path in headers:
        full = _norm(cwd, path)
        try:
            st = os.stat(full)
        except OSError:
            raise Uncacheable("header vanished during compile") from None
        if st.st_mtime_ns >= started_ns or st.st_ctime_ns >= started_ns:
            raise Uncacheable("header modified during compile")
        digest, uses_time = hashes.hash(full, st)
        text = scan_text and path not in data_files
        if full.endswith(PCH_SUFFIXES) and full[: full.rindex(".")] in texts:
            uses_time = False  # a precompiled header names every builtin; its header's text says what it uses
        if uses_time and not allow_time_macros and text:
            raise Uncacheable("time macros")
        if text and not full.endswith(PCH_SUFFIXES):
            why = hashes.reads_by_name(full, st)
            if why and not (listed_by_assembler and why == INCBIN):
                raise Uncacheable(why)
        rows.append((to_logical(path), digest, trusted_sig(st, now)))
        absolute.append(full)
    probes = _shadow_probes(cwd, absolute, search_dirs, system_dirs, source_dirs, now, list(absent))
    probes = [(to_logical(d), m, n) for d, m, n in probes]
    env = sorted((env_inputs or {}).items())
    return Entry(headers=rows, probes=probes, result=result_key_of(rows, env), env=env)


class _Listings:
    """The names in a directory, kept per (mtime, inode, device) once its mtime has
    settled: any entry made or removed later moves the mtime past the one kept. A
    compile's shadow probes ask whether each candidate header exists under every
    earlier include directory (with .gch and .pch beside it); one lexists each cost
    libsodium's compiles, with a dozen -I directories, 1.1 s of the daemon's 2.8 s
    over 120 misses. A daemon lists each directory once instead."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[int, int, int], frozenset[str]]] = {}
        self._lock = threading.Lock()

    def names(self, directory: str, now_ns: int) -> frozenset[str] | None:
        """The names in directory (empty when it is none); None when its mtime is too
        recent to trust, or it cannot be listed: the caller asks the file system."""
        try:
            st = os.stat(directory)
        except OSError:
            return frozenset()  # absent, or a path through a file: nothing below it exists
        if not stat.S_ISDIR(st.st_mode):
            return frozenset()
        if not is_settled(st.st_mtime_ns, now_ns):
            return None
        sig = (st.st_mtime_ns, st.st_ino, st.st_dev)
        with self._lock:
            known = self._known.get(directory)
        if known is not None and known[0] == sig:
            return known[1]
        try:
            found = frozenset(os.listdir(directory))
        except OSError:
            return None
        with self._lock:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[directory] = (sig, found)
        return found


_listings = _Listings()


def _exists(path: str, now_ns: int, seen: dict[str, frozenset[str] | None] | None = None) -> bool:
    """os.path.lexists, answered from the directory's listing where it can be; seen
    holds the listings one compile's probes took already (one stat a directory)."""
    directory, name = os.path.split(path)
    if seen is None:
        names = _listings.names(directory, now_ns)
    elif directory in seen:
        names = seen[directory]
    else:
        names = seen[directory] = _listings.names(directory, now_ns)
    return name in names if names is not None else os.path.lexists(path)


def _shadow_probes(
    cwd: str,
    headers: list[str],
    search_dirs: list[str],
    system_dirs: set[str],
    source_dirs: Iterable[str],
    now_ns: int,
    absent: list[str] = (),
) -> list[tuple[str, int | None, list[str]]]:
    order = [_norm(cwd, d) for d in search_dirs]
    system_prefixes = tuple(_norm(cwd, d) + os.sep for d in system_dirs)
    header_set = set(headers)
    includers = {_norm(cwd, d) for d in source_dirs}
    includers.update(os.path.dirname(h) for h in headers if not h.startswith(system_prefixes))
    candidates: set[str] = set()
    for h in headers:
        is_system = h.startswith(system_prefixes)
        for j, d in enumerate(order):
            if not h.startswith(d + os.sep):
                continue
            rel = h[len(d) + 1 :]
            candidates.update(os.path.join(e, rel) for e in order[:j])
            if not is_system:
                candidates.update(os.path.join(i, rel) for i in includers)
    for path in absent:  # paths the family found absent: one appearing since is a race
        full = _norm(cwd, path)
        if os.path.lexists(full):
            raise Uncacheable("file appeared during compile")
        candidates.add(full)
    nearest: dict[str, str] = {}  # directory -> itself or its nearest existing ancestor

    def nearest_dir(p: str) -> str:
        found = nearest.get(p)
        if found is None:
            up = os.path.dirname(p)
            found = p if up == p or os.path.isdir(p) else nearest_dir(up)
            nearest[p] = found
        return found

    groups: dict[str, list[str]] = {}
    seen: dict[str, frozenset[str] | None] = {}
    for c in candidates:
        if c in header_set or _exists(c, now_ns, seen):
            continue  # present now and not chosen: its presence changes nothing
        parent = nearest_dir(os.path.dirname(c))
        groups.setdefault(parent, []).append(c[len(parent) :].lstrip(os.sep))
    probes: list[tuple[str, int | None, list[str]]] = []
    for d, names in sorted(groups.items()):
        try:
            mtime: int | None = os.stat(d).st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None and not is_settled(mtime, now_ns):
            mtime = None
        probes.append((d, mtime, sorted(names)))
    return probes


def matches(entry: Entry, cwd: str, hashes: FileHashes, to_physical=lambda path: path, env=None,
            map_key: tuple = ()) -> bool:
    """True when every header is unchanged, no probe path has appeared, and every
    environment variable the tool read has the value it had. map_key names the path
    map to_physical applies (entries cache their paths resolved under it)."""
    for name, value in entry.env:
        if (env or {}).get(name) != value:
            return False
    resolved = entry.resolved(cwd, to_physical, map_key)
    if resolved is None:
        return False
    stat = os.stat
    headers = resolved.headers
    for i, (full, digest, sig) in enumerate(headers):
        try:
            st = stat(full)
        except OSError:
            return False
        if sig is not None and (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) == sig:
            continue  # the order of hashing.stat_sig, spelled out: this loop runs per header
        try:
            if hashes.hash(full, st)[0] != digest:
                return False
        except OSError:
            return False
        # The content is the recorded one; once its stat has settled, the copy held in
        # memory keeps that signature, and the next hit spares the hash lookup (an entry
        # recorded while a header was fresh, after a checkout, had none).
        settled = trusted_sig(st)
        if settled is not None:
            headers[i] = (full, digest, settled)
    probes = resolved.probes
    for i, (d, mtime, paths) in enumerate(probes):
        if mtime is not None:
            try:
                if stat(d).st_mtime_ns == mtime:
                    continue
            except OSError:
                pass
        if any(os.path.lexists(p) for p in paths):
            return False
        # All still absent. A directory whose mtime has settled since (stat'd after the
        # names, so a file created meanwhile leaves it fresh) proves them absent next
        # time with one stat, in the copy held in memory: only for names directly in
        # it, since a subdirectory created since would hold its own new files.
        if any(os.path.dirname(p) != d for p in paths):
            continue
        try:
            now_mtime = stat(d).st_mtime_ns
        except OSError:
            continue
        if is_settled(now_mtime, time.time_ns()):
            probes[i] = (d, now_mtime, paths)
    return True
