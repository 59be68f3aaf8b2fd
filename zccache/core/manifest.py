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

import functools
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


@dataclass(frozen=True)
class Shadow:
    """What an entry's shadow probes are computed from, stored in place of the probe
    paths themselves: every header's relative name under every earlier search
    directory, and under every directory that includes one, is a function of the
    headers and these few lists. Written out, those paths were two thirds of a
    manifest's bytes (642 names for one brotli compile, most of them system headers
    under the project's own -I directory). Paths are logical, as the headers'."""

    order: list[str]  # the search directories, first searched first
    system: list[str]  # those whose headers are not looked for beside their includers
    sources: list[str]  # the sources' directories (absolute)
    absent: list[str]  # paths the family found absent (a name __has_include tested)
    present: list[str]  # candidates that existed, unchosen, when the entry was made
    groups: list[tuple[str, int | None]]  # each probe's nearest existing directory, its mtime
    # The directory the compile ran in: headers named relative to it are made absolute
    # against it, so that the candidates are the recorded ones wherever the entry is
    # checked from (a link in a fresh build directory: its key leaves out the cwd).
    cwd: str = ""

    def to_wire(self) -> dict:
        return {"o": self.order, "s": self.system, "i": self.sources, "a": self.absent, "p": self.present,
                "g": [[d, m] for d, m in self.groups], "c": self.cwd}

    @classmethod
    def from_wire(cls, data: dict) -> Shadow:
        """Raises ValueError for anything but the shape to_wire writes."""
        if not isinstance(data, dict) or not all(k in data for k in ("o", "s", "i", "a", "p", "g", "c")):
            raise ValueError("malformed shadow recipe")
        lists = [data[k] for k in ("o", "s", "i", "a", "p")]
        if not all(isinstance(x, list) and all(isinstance(p, str) for p in x) for x in lists):
            raise ValueError("malformed shadow recipe")
        if not isinstance(data["g"], list) or not all(isinstance(g, list) and len(g) == 2 for g in data["g"]):
            raise ValueError("malformed shadow groups")
        groups = [(d, m) for d, m in data["g"]]
        if not all(isinstance(d, str) and (m is None or isinstance(m, int)) for d, m in groups):
            raise ValueError("malformed shadow groups")
        if not isinstance(data["c"], str) or not data["c"]:
            raise ValueError("malformed shadow cwd")
        return cls(*lists, groups=groups, cwd=data["c"])


DIGEST_BYTES = 20  # of a header's blake3, as stored: ccache keeps 20 too


@dataclass
class Entry:
    headers: list[tuple[str, str, StatSig | None]]  # path as the tool named it, hex hash, trusted stat
    probes: list[tuple[str, int | None, list[str]]]  # dir, its mtime (None: not settled), names
    result: str
    env: list[tuple[str, str | None]] = ()  # variables the tool read, and their values
    shadow: Shadow | None = None  # when set, probes is empty and computed from it (Shadow)
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
            if self.shadow is not None:
                probes = _recompute(self.shadow, to_physical, [logical for logical, _, _ in self.headers],
                                    cwd, [h for h, _, _ in headers])
                if probes is None:
                    return None
            else:
                probes = []
                for logical, mtime, names in self.probes:
                    d = to_physical(logical)
                    if d is None:
                        return None
                    below: dict[str, set[str]] = {}
                    _add(below, [os.path.join(d, n) for n in names])
                    probes.append((d, mtime, below))
            if len(self._resolved) > 8:
                self._resolved.clear()
            found = self._resolved[key] = _Resolved(headers, probes)
        return found

    def to_wire(self) -> list:
        if self.shadow is None:
            return [
                [[p, h, list(s) if s else None] for p, h, s in self.headers],
                [[d, m, n] for d, m, n in self.probes],
                self.result,
                [[k, v] for k, v in self.env],
            ]
        # The compact form: a binary digest, and ctime as its distance from mtime.
        return [
            [[p, bytes.fromhex(h[: 2 * DIGEST_BYTES]), [s[0], s[1], s[2] - s[1], s[3], s[4]] if s else None]
             for p, h, s in self.headers],
            self.shadow.to_wire(),
            self.result,
            [[k, v] for k, v in self.env],
        ]

    @classmethod
    def from_wire(cls, data: list) -> Entry:
        headers, probes, result = data[:3]
        env = data[3] if len(data) > 3 else []
        if isinstance(probes, dict):
            rows = []
            for p, h, s in headers:
                if not isinstance(p, str) or not isinstance(h, bytes) or len(h) != DIGEST_BYTES:
                    raise ValueError("malformed header row")
                if s is not None and not (isinstance(s, list) and len(s) == 5 and all(isinstance(x, int) for x in s)):
                    raise ValueError("malformed stat signature")
                rows.append((p, h.hex(), (s[0], s[1], s[1] + s[2], s[3], s[4]) if s else None))
            return cls(headers=rows, probes=[], result=result, env=[(k, v) for k, v in env],
                       shadow=Shadow.from_wire(probes))
        return cls(
            headers=[(p, h, tuple(s) if s else None) for p, h, s in headers],
            probes=[(d, m, list(n)) for d, m, n in probes],
            result=result,
            env=[(k, v) for k, v in env],
        )


def same_digest(now: str, stored: str) -> bool:
    """A header's hex hash against the one an entry stored (which may be the first
    DIGEST_BYTES of it)."""
    return len(stored) >= 2 * DIGEST_BYTES and now[: len(stored)] == stored


@dataclass(frozen=True)
class _Resolved:
    headers: list[tuple[str, str, StatSig | None]]  # absolute path, hash, trusted stat
    # absolute dir, its mtime, and the probes below it as {their directory: names}: a
    # probe is looked for in its directory's listing, and its path is never spelled out
    probes: list[tuple[str, int | None, dict[str, set[str]]]]


def probe_paths(below: dict[str, set[str]]) -> list[str]:
    """The paths of one group's probes, in order."""
    return sorted(_slashed(d) + n for d, names in below.items() for n in names)


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
    if path[:1] == "/":  # what join would hand back: a recipe's paths are absolute, hundreds an entry
        return os.path.normpath(path)
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
    source_dirs = list(source_dirs)
    absent = list(absent)
    places = Places(cwd, [*search_dirs, *system_dirs, *source_dirs, *(_dirname(h) for h in headers)], to_logical)
    shadow = _shadow(cwd, absolute, search_dirs, system_dirs, source_dirs, now, absent, places.logical, started_ns)
    env = sorted((env_inputs or {}).items())
    return Entry(headers=rows, probes=[], result=result_key_of(rows, env), env=env, shadow=shadow)


PLACE = "\0\x01"  # a recipe path kept relative to the cwd: PLACE name \0 rest


def _dirname(path: str) -> str:
    return os.path.dirname(path) or "."


class Places:
    """How a shadow recipe keeps its paths. A key that leaves out the cwd (a link, a
    compile without debug info) and names paths relatively (ZCCACHE_BASEDIR's rewrite
    makes them so) is shared between build dirs and checkouts, and so is its entry.
    Kept absolute, the recipe's probes named the place the entry was made in, so a
    hit from a second checkout looked for a shadowing header in the first one. A path
    below a directory the tool was given relatively (a search directory, a source's,
    a header's as the tool named it) is kept as that relative name and the rest, and
    checked below the same name from the cwd of the hit; one below a directory given
    absolutely stays absolute (the deepest such directory decides), and a prefix
    map's logical form comes first. Paths a family works out (the absent ones) name
    no directory: they are kept by the directories they are below."""

    def __init__(self, cwd: str, names: Iterable[str], to_logical) -> None:
        roots: dict[str, str | None] = {}  # absolute directory -> its relative name (None: named absolutely)
        for name in [".", *names]:
            full = _norm(cwd, name)
            if full == "/":
                continue  # everything is below it: a path below no other root stays absolute
            relative = None if name[:1] == "/" else os.path.normpath(name)
            if full not in roots or relative is None:  # a directory named both ways stays absolute
                roots[full] = relative
        self._roots = sorted(roots.items(), key=lambda root: len(root[0]), reverse=True)
        self._to_logical = to_logical

    def logical(self, path: str) -> str:
        """path (absolute, normalised) as the recipe keeps it."""
        mapped = self._to_logical(path)
        if mapped != path:
            return mapped
        for root, name in self._roots:
            if path == root or path.startswith(root + "/"):
                return path if name is None else f"{PLACE}{name}\0{path[len(root):]}"
        return path


def _physical(path: str, to_physical, here: str) -> str | None:
    """A recipe path (Places.logical) made real for a check from cwd here."""
    if path.startswith(PLACE):
        name, _, rest = path[len(PLACE):].partition("\0")
        base = _place_root(here, name)
        return base + rest if base != "/" else rest or "/"
    return to_physical(path)


@functools.lru_cache(maxsize=4096)
def _place_root(here: str, name: str) -> str:
    """A recipe's few relative names come back for every path below them."""
    return _norm(here, name)


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


class Presence:
    """os.path.lexists for the many paths one compile asks about (precompiled
    headers beside every include, in every search directory), from the directories'
    listings: one stat a directory instead of one or three a path."""

    def __init__(self, now_ns: int | None = None) -> None:
        self._now = time.time_ns() if now_ns is None else now_ns
        self._seen: dict[str, frozenset[str] | None] = {}

    def listing(self, directory: str) -> frozenset[str] | None:
        """The names in directory (_Listings.names), asked once per compile."""
        if directory in self._seen:
            return self._seen[directory]
        names = self._seen[directory] = _listings.names(directory, self._now)
        return names

    def __call__(self, path: str) -> bool:
        """path: normalised and absolute."""
        d, _, name = path.rpartition("/")
        names = self.listing(d or "/")
        return name in names if names is not None else os.path.lexists(path)


def _slashed(d: str) -> str:
    return d if d.endswith("/") else d + "/"


def _parent(path: str) -> str:
    """os.path.dirname of a normalised absolute path, without its generality: this
    runs once per candidate, hundreds of times a compile."""
    return path[: path.rindex("/")] or "/"


# (search prefixes, header) -> (the header's names under earlier search directories,
# its names relative to each search directory it is under): the same system headers
# come back in compile after compile, and naming them again was most of a miss's or a
# first hit's probe work. Bounded: past the limit it starts over.
_EARLIER: dict[tuple[tuple[str, ...], str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
_EARLIER_LIMIT = 1 << 16


def _earlier(prefixes: tuple[str, ...], h: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    key = (prefixes, h)
    found = _EARLIER.get(key)
    if found is None:
        names: list[str] = []
        rels: list[str] = []
        for j, p in enumerate(prefixes):
            if h.startswith(p):
                rel = h[len(p) :]
                rels.append(rel)
                names.extend(e + rel for e in prefixes[:j])
        if len(_EARLIER) >= _EARLIER_LIMIT:
            _EARLIER.clear()
        found = _EARLIER[key] = (tuple(names), tuple(rels))
    return found


def _candidates(headers: list[str], order: list[str], system: list[str], sources: list[str]) -> dict[str, set[str]]:
    """Every path at which a new file would be found before one of headers, as
    {directory: names}: its name relative to the search directory it was found in,
    under each earlier one, and (for a header outside the system directories) under
    each directory that holds a source or such a header, which "..." includes search
    first. Paths are normalised and absolute."""
    system_prefixes = tuple(_slashed(d) for d in system)
    prefixes = tuple(_slashed(d) for d in order)
    includers = set(sources)
    includers.update(_parent(h) for h in headers if not h.startswith(system_prefixes))
    beside = [_slashed(i) for i in includers]
    paths: set[str] = set()
    for h in headers:
        names, rels = _earlier(prefixes, h)
        paths.update(names)
        if rels and not h.startswith(system_prefixes):
            for rel in rels:
                paths.update([i + rel for i in beside])
    by_dir: dict[str, set[str]] = {}
    for c in paths:
        d, _, name = c.rpartition("/")
        by_dir.setdefault(d or "/", set()).add(name)
    return by_dir


def _add(by_dir: dict[str, set[str]], paths: Iterable[str], remove: bool = False) -> None:
    for c in paths:
        d, _, name = c.rpartition("/")
        d = d or "/"
        if remove:
            names = by_dir.get(d)
            if names is not None:
                names.discard(name)
        else:
            by_dir.setdefault(d, set()).add(name)


def _shadow(
    cwd: str,
    headers: list[str],
    search_dirs: list[str],
    system_dirs: set[str],
    source_dirs: Iterable[str],
    now_ns: int,
    absent: list[str],
    to_logical,
    started_ns: int = 0,
) -> Shadow:
    """Raises Uncacheable when a candidate was made during the compile (at or after
    started_ns): the tool may or may not have seen it, and a candidate found present
    is never probed again."""
    order = [_norm(cwd, d) for d in search_dirs]
    system = sorted(_norm(cwd, d) for d in system_dirs)
    sources = sorted({_norm(cwd, d) for d in source_dirs})
    candidates = _candidates(headers, order, system, sources)
    missing = []
    exists = Presence(now_ns)
    for path in absent:  # paths the family found absent: one appearing since is a race
        full = _norm(cwd, path)
        if exists(full):
            raise Uncacheable("file appeared during compile")
        missing.append(full)
    _add(candidates, missing)
    _add(candidates, headers, remove=True)
    nearest: dict[str, str] = {}  # directory -> itself or its nearest existing ancestor

    def nearest_dir(p: str) -> str:
        found = nearest.get(p)
        if found is None:
            up = os.path.dirname(p)
            found = p if up == p or os.path.isdir(p) else nearest_dir(up)
            nearest[p] = found
        return found

    present = []
    groups: set[str] = set()
    for d, names in candidates.items():
        if not names:
            continue
        listed = exists.listing(d)
        if listed is None:  # changed too recently to trust a listing: ask for each
            there = {n for n in names if os.path.lexists(os.path.join(d, n))}
        else:
            there = names & listed
        # present now and not chosen: its presence changes nothing, as long as it is a
        # file the tool passed over. Anything else (a directory, a dangling link) can
        # become a file the tool would take, and a present path is never probed again.
        for n in there:
            path = os.path.join(d, n)
            try:
                st = os.lstat(path)
            except OSError:
                raise Uncacheable("file appeared during compile") from None  # came and went meanwhile
            if started_ns and st.st_ctime_ns >= started_ns:
                raise Uncacheable("file appeared during compile")
            if not stat.S_ISREG(st.st_mode) and not (stat.S_ISLNK(st.st_mode) and os.path.isfile(path)):
                raise Uncacheable("a path before a header is not a file")
            present.append(path)
        if len(there) < len(names):
            groups.add(nearest_dir(d))
    timed: list[tuple[str, int | None]] = []
    for d in sorted(groups):
        try:
            mtime: int | None = os.stat(d).st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None and not is_settled(mtime, now_ns):
            mtime = None
        timed.append((to_logical(d), mtime))
    return Shadow(order=[to_logical(d) for d in order], system=[to_logical(d) for d in system],
                  sources=[to_logical(d) for d in sources], absent=[to_logical(p) for p in sorted(set(missing))],
                  present=[to_logical(p) for p in sorted(present)], groups=timed, cwd=to_logical(cwd))


def _recompute(shadow: Shadow, to_physical, logical_headers: list[str], here: str = "",
               here_headers: list[str] | None = None) -> list[tuple[str, int | None, list[str]]] | None:
    """The probes _shadow found, from its recipe and the entry's headers: each
    candidate under the deepest directory it recorded, which is the nearest that
    existed then. That holds only for the recorded candidates, so the headers are
    made absolute against the recorded cwd (here_headers: as made absolute against
    here, which they are when here is that cwd). None when the path map lacks a
    prefix the entry names."""
    cwd = _physical(shadow.cwd, to_physical, here)
    if cwd is None:
        return None
    if here_headers is not None and cwd == here:
        headers = here_headers
    else:
        headers = []
        for logical in logical_headers:
            physical = to_physical(logical)
            if physical is None:
                return None
            headers.append(_norm(cwd, physical))
    # A recipe's paths were stored absolute and normalised (_shadow), or as a place
    # (_physical normalises): none is joined or normalised again.
    lists = []
    for paths in (shadow.order, shadow.system, shadow.sources, shadow.absent, shadow.present):
        physical = [_physical(p, to_physical, here) for p in paths]
        if None in physical:
            return None
        lists.append(physical)
    order, system, sources, absent, present = lists
    groups: dict[str, int | None] = {}
    for d, mtime in shadow.groups:
        physical = _physical(d, to_physical, here)
        if physical is None:
            return None
        groups[physical] = mtime
    candidates = _candidates(headers, order, system, sources)
    _add(candidates, absent)
    _add(candidates, headers, remove=True)
    _add(candidates, present, remove=True)
    owned: dict[str, dict[str, set[str]]] = {d: {} for d in groups}
    owner: dict[str, str] = {}  # a candidate directory's deepest recorded directory
    for directory, below in candidates.items():
        if not below:
            continue
        d = _deepest(directory, owned, owner)
        if d is None:
            return None  # no directory was recorded for it: not the entry's candidates
        owned[d][directory] = below
    return [(d, mtime, owned[d]) for d, mtime in groups.items() if owned[d]]


def _deepest(directory: str, groups: dict, memo: dict[str, str]) -> str | None:
    """directory or its nearest ancestor in groups (memo: what earlier walks found)."""
    walked = []
    d = directory
    while d not in groups:
        found = memo.get(d)
        if found is not None:
            d = found
            break
        walked.append(d)
        up = d.rpartition("/")[0] or "/"
        if up == d:
            return None
        d = up
    for w in walked:
        memo[w] = d
    return d


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
            if not same_digest(hashes.hash(full, st)[0], digest):
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
    exists: Presence | None = None
    for i, (d, mtime, below) in enumerate(probes):
        if mtime is not None:
            try:
                if stat(d).st_mtime_ns == mtime:
                    continue
            except OSError:
                pass
        if exists is None:
            exists = Presence()
        for directory, names in below.items():
            listed = exists.listing(directory)  # one listing a directory, kept while it settles
            if listed is None:
                if any(os.path.lexists(_slashed(directory) + n) for n in names):
                    return False
            elif not names.isdisjoint(listed):
                return False
        # All still absent. A directory whose mtime has settled since (stat'd after the
        # names, so a file created meanwhile leaves it fresh) proves them absent next
        # time with one stat, in the copy held in memory: only for names directly in
        # it, since a subdirectory created since would hold its own new files.
        if any(directory != d for directory in below):
            continue
        try:
            now_mtime = stat(d).st_mtime_ns
        except OSError:
            continue
        if is_settled(now_mtime, time.time_ns()):
            probes[i] = (d, now_mtime, below)
    return True
