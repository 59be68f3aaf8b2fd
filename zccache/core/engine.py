"""One path for every cacheable tool run: key -> lookup -> (run + store | restore).

Direct mode keys on the tool, its arguments and the sources' content, then on a
manifest of the headers the last compiles read (see manifest.py). Preprocessor mode
keys on the preprocessed text instead; it is used when direct mode is switched off
and, as the fallback, for compiles whose header list the tool could not report.

The cache may be broken in any way (unwritable directory, corrupt database, a full
disk): the compile still happens and succeeds, with one warning line.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import sys
import time
from dataclasses import dataclass

from zccache.core import deltas, keys, miss_reasons
from zccache.core.config import Config
from zccache.core.hashing import hash_bytes, trusted_sig
from zccache.core.invocation import Invocation, Outcome, RunResult
from zccache.core.manifest import INCBIN, Entry, FileHashes, Uncacheable, matches, reads_by_name, record
from zccache.core.one_at_a_time import KeyedLocks
from zccache.core.single_use import SingleUse
from zccache.core.store import Store
from zccache.core.wrappers import resolved

MAX_ENTRIES = 16  # manifest entries kept per direct key, newest first
MAX_INDEX = 2000  # artifacts listed per family (ListRustArtifacts)
_COARSE_CLOCK = getattr(time, "CLOCK_REALTIME_COARSE", 5 if sys.platform.startswith("linux") else None)


def _file_clock_ns() -> int:
    """Now, on the clock file timestamps are taken from (Linux: the coarse one), so
    that a file changed after this moment can never carry an earlier mtime."""
    if _COARSE_CLOCK is not None:
        try:
            return time.clock_gettime_ns(_COARSE_CLOCK)
        except OSError:
            pass
    return time.time_ns() - 10_000_000


def _stored_inputs(inv: Invocation):
    """(path, stat or None when gone) of the inputs a store checks for a change
    during the run: the named ones, not those the run itself rewrites."""
    for src in [*inv.sources, *inv.key_files]:
        if src in inv.in_place:
            continue
        try:
            yield src, os.stat(os.path.join(inv.cwd, src))
        except OSError:
            yield src, None


def _newest_input_ns(inv: Invocation) -> int:
    """The latest change time of those inputs (0: none)."""
    times = [max(st.st_mtime_ns, st.st_ctime_ns) for _, st in _stored_inputs(inv)
             if st is not None and not stat.S_ISDIR(st.st_mode)]
    return max(times, default=0)


def _wait_past(ns: int, limit_s: float = 0.05) -> bool:
    """Waits for the file clock to pass ns: a tick or two, never for a date in the future."""
    deadline = time.monotonic() + limit_s
    while _file_clock_ns() <= ns:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)
    return True


@dataclass(frozen=True)
class Completed:
    """What the caller must hand back to its user: bytes, exit code and the outcome."""

    returncode: int
    stdout: bytes
    stderr: bytes
    outcome: Outcome


class _StoreMemo:
    """The store seen as the families' memo, under a prefix of its own."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, key: str):
        return self._store.get("memo:" + key)

    def set(self, key: str, value) -> None:
        self._store.set("memo:" + key, value)


class Engine:
    """Serves one tool run from the store or runs it and stores the result: the one
    path every family's runs take (key, lookup, then a restore or a run and a record).

    It knows keys, manifests and the store; the family knows its tool's command line
    and how to learn what a run read. It never fails a build: a broken store is one
    warning line and a plain run. One Engine serves many runs (the daemon's, a build
    tool's process); what it memoises (file hashes, tool identities) is checked
    against the files' stat signatures before each use."""

    def __init__(self, config: Config, store: Store | None, hook, warn=None, hashes: FileHashes | None = None,
                 identities: dict | None = None, single_use: SingleUse | None = None) -> None:
        self.config = config
        self.store = store
        self.hook = hook
        self.hashes = hashes or FileHashes()
        self.single_use = single_use or SingleUse()
        self._identities: dict[str, tuple] = {} if identities is None else identities
        self._warn = warn or _stderr_warn
        self._warned = False
        _ = _umask()  # read once, before any thread could race on it

    # -- entry point -------------------------------------------------------------------

    def run(self, inv: Invocation, config: Config | None = None) -> Completed:
        """Serve inv from the cache or run it; config overrides the engine's own
        for this run (a daemon serves clients whose settings differ)."""
        if config is not None and config != self.config:
            return Engine(config, self.store, self.hook, self._warn, self.hashes, self._identities,
                          self.single_use).run(inv)
        return self._serve(inv, time.monotonic(), again=False)

    def _serve(self, inv: Invocation, started: float, again: bool) -> Completed:
        store = self.store
        if self.config.prefix and _action(inv) == "compile":
            inv.asm_listed = False  # the assembler runs on another host, which lists nothing back
        if store is None or self.config.disabled:
            return self._plain(inv, "cache disabled" if self.config.disabled else "cache unavailable", started)
        unrepeatable = self.single_use.reason(inv)
        if unrepeatable:  # no later run could find it: not looked up, not stored
            done = self._plain(inv, unrepeatable, started)
            if done.returncode == 0:
                self.single_use.made(inv)
            return done
        # Taken before any input is hashed: an input written after it, however soon,
        # carries a timestamp at or past it, so a store can tell the bytes it keyed
        # from the bytes the tool may have read.
        begun_ns = _file_clock_ns()
        try:
            found = self._lookup(inv, store)
        except _TimeMacros:
            return self._plain(inv, "time macros", started)
        except _Unreadable as exc:
            return self._plain(inv, str(exc) or "source unreadable", started)
        except Exception as exc:  # StoreError, OSError ...: the cache must never fail a build
            self._warn_once(f"cache lookup failed ({_one_line(exc)}); compiling without cache")
            return self._plain(inv, "cache error", started)
        if isinstance(found, Completed):  # a hit: timed like the rest, for journals and reports
            return dataclasses.replace(found, outcome=dataclasses.replace(
                found.outcome, seconds=time.monotonic() - started, action=_action(inv)))
        if not again:
            newest = _newest_input_ns(inv)
            if newest >= begun_ns and _wait_past(newest):
                # An input written in the clock tick the lookup began in (an object
                # the build wrote a moment ago): its hash may predate its last write,
                # and the tool's run could not be stored. With the clock past it now,
                # look again rather than pass through.
                return self._serve(inv, started, again=True)
        return self._miss(inv, store, found, started, begun_ns)

    # -- lookup --------------------------------------------------------------------------

    def _lookup(self, inv: Invocation, store: Store) -> Completed | _Keys:
        identity = self.tool_identity(inv, store)
        source_hashes = []
        for src in inv.sources:
            try:
                digest, uses_time = self.hashes.hash(os.path.join(inv.cwd, src))
            except OSError:
                raise _Unreadable() from None
            if uses_time and not self._time_ok(inv):
                raise _TimeMacros()
            why = self.hashes.reads_by_name(os.path.join(inv.cwd, src)) if inv.text_inputs else ""
            if why and not (inv.asm_listed and why == INCBIN):
                raise _Unreadable(why)
            source_hashes.append(digest)
        extras = [e for e in self.hook.zccache_key_extras(invocation=inv) if e is not None]
        for path in inv.key_files:
            extras.append(b"\0file\0%s\0%s" % (inv.logical(path).encode("utf-8", "surrogateescape"),
                                                 _content_or_absence(self.hashes, os.path.join(inv.cwd, path)).encode()))
        k = _Keys(identity=identity, extras=extras, direct="", source_hashes=source_hashes)
        k.direct = _direct_key(inv, identity, source_hashes, extras)
        tried = None
        if self.config.direct:
            # A manifest held in memory first: any entry that matches the files now is
            # a right answer, however old the copy. Only when none serves is the disk read.
            held = store.recall("m:" + k.direct)
            if isinstance(held, dict) and not held.get("pp"):
                done = self._direct_hit(inv, store, held)
                if done is not None:
                    return done
                tried = held.get("entries")
        manifest = store.get("m:" + k.direct) if self.config.direct else None
        k.manifest = manifest if isinstance(manifest, dict) else {}
        if self.config.direct and not k.manifest.get("pp"):
            if tried is not None and k.manifest.get("entries") == tried:
                return k  # the disk's copy is the one just tried
            return self._direct_hit(inv, store, k.manifest) or k
        if not inv.can_preprocess:
            return k
        pre = inv.family.preprocess(inv)
        if pre.returncode != 0:
            return k  # let the real compile report the error
        why = reads_by_name(pre.stdout) if inv.text_inputs else ""
        if why:  # the preprocessed text does not hold what the assembler would read
            raise _Unreadable(why)
        k.preprocessed = keys.preprocessed_key(inv, identity, pre.stdout, extras)
        done = self._restore(inv, store, k.preprocessed, "preprocessed")
        return done if done is not None else k

    def _direct_hit(self, inv: Invocation, store: Store, manifest: dict) -> Completed | None:
        map_key = tuple(inv.path_map)
        entries = self._entries(manifest)
        if entries:
            store.prefetch(entries[0].result)  # a remote's: fetched while the headers are checked
        for entry in entries:
            if matches(entry, inv.cwd, self.hashes, inv.physical, inv.env, map_key):
                done = self._restore(inv, store, entry.result, "direct")
                if done is not None:
                    return done
        return None

    @staticmethod
    def _entries(manifest: dict) -> list[Entry]:
        """The manifest's entries, parsed once per manifest object: the store's memory
        tier hands back the same object while it holds the manifest, so the parse (and
        each Entry's resolved paths) lives and goes with it. Manifests are stored from
        fresh dicts (_record), never from one that carries this key."""
        parsed = manifest.get(_PARSED)
        if parsed is not None:
            return parsed
        wires = manifest.get("entries", [])
        entries = []
        for wire in wires if isinstance(wires, list) else []:
            try:
                entries.append(Entry.from_wire(wire))
            except (TypeError, ValueError):
                continue
        manifest[_PARSED] = entries
        return entries

    def _restore(self, inv: Invocation, store: Store, key: str, mode: str) -> Completed | None:
        result = store.get("r:" + key)
        if not isinstance(result, dict):
            return None
        files = result.get("files")
        if not isinstance(files, list) or {f[0] for f in files} != set(inv.outputs):
            return None
        files = list(files)  # the memory level's copy stays as stored
        ref: bytes | None = None
        for i, entry in enumerate(files):
            if isinstance(entry[1], dict) and entry[0] not in inv.appended and entry[0] not in inv.relocatable:
                # a delta against the inputs (deltas.py), read before any output is written
                if ref is None:
                    ref = deltas.reference(inv.cwd, _delta_inputs(inv))
                whole = deltas.decode(entry[1], ref)
                if whole is None:
                    return None  # an input differs from the one it was made from: run the tool
                files[i] = [entry[0], whole, *entry[2:]]
            elif not isinstance(entry[1], bytes) and not (entry[1] is None and entry[0] in inv.appended | inv.optional):
                return None
        try:
            for entry in files:
                role, data = entry[0], entry[1]
                executable = len(entry) > 2 and entry[2] is True
                if data is None:
                    continue  # an appended or optional output the tool left alone
                if role in inv.relocatable:
                    data = _relocate_in(inv, data)
                    if data is None:
                        return None
                if role in inv.appended:
                    with open(os.path.join(inv.cwd, inv.outputs[role]), "ab") as f:
                        f.write(data)
                    continue
                _write_atomic(os.path.join(inv.cwd, inv.outputs[role]), data, inv.umask, executable)
        except OSError:
            return None  # e.g. the output directory is missing: the compiler will say so
        outcome = Outcome(kind="hit", reason=mode, key=key, action=_action(inv))
        return Completed(0, result.get("stdout", b""), result.get("stderr", b""), outcome)

    # -- miss ----------------------------------------------------------------------------

    def _miss(self, inv: Invocation, store: Store, k: _Keys, started: float, begun_ns: int) -> Completed:
        if self.config.prefix and _action(inv) == "compile":
            inv.prefix = self.config.prefix  # the key and the hit path stay as they are
        explained = self._explain(inv, store, k)
        # what an in-place tool rewrites, as it was: a delta's reference (deltas.py)
        before = deltas.snapshot(inv.cwd, inv.in_place) if _delta_stored(inv, store) else None
        run = inv.family.execute(inv)
        if run.returncode != 0:
            return self._done(inv, run, Outcome(kind="failed", reason="compile error", returncode=run.returncode), started)
        try:
            key, why = self._record(inv, store, k, run, begun_ns, before)
        except Uncacheable as exc:
            return self._done(inv, run, Outcome(kind="passthrough", reason=str(exc)), started)
        except Exception as exc:
            self._warn_once(f"cache store failed ({_one_line(exc)})")
            return self._done(inv, run, Outcome(kind="passthrough", reason="cache error"), started)
        try:
            miss_reasons.save(store, inv, miss_reasons.inputs(inv, k.identity, k.source_hashes))
        except Exception:
            pass  # only the next miss's explanation is the poorer
        return self._done(inv, run, Outcome(kind="miss", reason=why, key=key, why=explained), started)

    def _explain(self, inv: Invocation, store: Store, k: _Keys) -> str:
        """What differs from the nearest cached entry (miss_reasons.py); "" when unsure."""
        try:
            entries = self._entries(k.manifest) if k.manifest and not k.manifest.get("pp") else []
            if entries:
                return miss_reasons.from_entry(entries[0], inv.cwd, self.hashes, inv.physical, inv.env,
                                               tuple(inv.path_map))
            now = miss_reasons.inputs(inv, k.identity, k.source_hashes)
            return miss_reasons.from_inputs(miss_reasons.last(store, inv), now)
        except Exception:
            return ""

    def _record(self, inv: Invocation, store: Store, k: _Keys, run: RunResult, begun_ns: int,
                before: dict[str, bytes | None] | None = None) -> tuple[str, str]:
        for src, st in _stored_inputs(inv):
            if st is None:
                if src in inv.key_files and _content_or_absence(self.hashes, os.path.join(inv.cwd, src)) == "absent":
                    continue
                raise Uncacheable("input vanished during compile")
            if stat.S_ISDIR(st.st_mode) and src in inv.key_files:
                continue  # keyed as "a directory": its mtime is not its content
            if max(st.st_mtime_ns, st.st_ctime_ns) >= begun_ns:
                raise Uncacheable("source modified during compile")
        if self.config.direct and run.inputs is not None:
            dirs = inv.family.search_dirs(inv, _StoreMemo(store))
            unlisted = getattr(inv.family, "unlisted_inputs", None)
            present, absent = unlisted(inv, run.inputs, dirs, self.hashes) if unlisted is not None else ([], [])
            entry = record(
                cwd=inv.cwd,
                headers=[*run.inputs, *present, *run.data_inputs],
                absent=[*absent, *run.absent],
                listed_by_assembler=inv.asm_listed,
                data_files=run.data_inputs,
                search_dirs=dirs.order,
                system_dirs=set(dirs.system),
                source_dirs=[os.path.dirname(s) or "." for s in inv.sources],  # as named: Places
                started_ns=begun_ns,
                hashes=self.hashes,
                allow_time_macros=self._time_ok(inv),
                scan_text=inv.text_inputs,
                to_logical=inv.logical,
                env_inputs=run.env_inputs,
                result_key_of=lambda rows, env: keys.result_key(k.direct, rows, env),
            )
            self._store_result(inv, store, entry.result, run, before, begun_ns)
            old = [e for e in k.manifest.get("entries", []) if isinstance(e, list) and len(e) >= 3 and e[2] != entry.result]
            store.set("m:" + k.direct, {"entries": [entry.to_wire(), *old[: MAX_ENTRIES - 1]]})
            return entry.result, "direct"
        if not inv.can_preprocess:
            raise Uncacheable(run.why_no_inputs or "no dependency information")
        # Preprocessor mode: switched on by the user, or the fallback when the
        # tool could not list the headers it read.
        if run.inputs is not None:
            for header in run.inputs:
                if self.hashes.hash(os.path.join(inv.cwd, header))[1] and not self._time_ok(inv):
                    raise Uncacheable("time macros")
        if not k.preprocessed:
            pre = inv.family.preprocess(inv)
            if pre.returncode != 0:
                raise Uncacheable("preprocessor failed")
            why = reads_by_name(pre.stdout) if inv.text_inputs else ""
            if why:
                raise Uncacheable(why)
            k.preprocessed = keys.preprocessed_key(inv, k.identity, pre.stdout, k.extras)
        self._store_result(inv, store, k.preprocessed, run, before, begun_ns)
        if self.config.direct:
            store.set("m:" + k.direct, {"pp": True})
        return k.preprocessed, "preprocessed"

    def _store_result(self, inv: Invocation, store: Store, key: str, run: RunResult,
                      before: dict[str, bytes | None] | None = None, begun_ns: int = 0) -> None:
        files = []
        ref: bytes | None = None
        for role, path in inv.outputs.items():
            if role in inv.appended:
                data = run.appended.get(role)
                if data is not None and role in inv.relocatable:
                    data = _relocate_out(inv, data)
                files.append([role, data, False])
                continue
            try:
                with open(os.path.join(inv.cwd, path), "rb") as f:
                    data = f.read()
                    st = os.fstat(f.fileno())
                executable = bool(st.st_mode & 0o111)
                if role in inv.optional and st.st_mtime_ns < begun_ns:
                    raise FileNotFoundError  # there before the run, and left alone by it
            except FileNotFoundError:
                if role not in inv.optional:
                    raise Uncacheable(f"output not written: {role}") from None
                files.append([role, None, False])
                continue
            except OSError:
                raise Uncacheable(f"output not written: {role}") from None
            if role in inv.relocatable:
                data = _relocate_out(inv, data)
            elif before is not None and store.compression is not None:
                if ref is None:
                    limit = deltas.MAX_REFERENCE_RATIO * len(data)
                    ref = deltas.reference(inv.cwd, _delta_inputs(inv), before, limit) or b""
                data = deltas.encode(data, ref, store.compression) or data
            files.append([role, data, executable])
        store.set("r:" + key, {"files": files, "stdout": run.stdout if "stdout" in inv.streams else b"",
                               "stderr": run.stderr if "stderr" in inv.streams else b""}, tag=inv.family.name)
        info = getattr(inv.family, "artifact_info", None)
        listed = info(inv) if info is not None else None
        if listed:
            index = store.get("index:" + inv.family.name)
            index = [e for e in index if isinstance(e, dict) and e.get("key") != key] if isinstance(index, list) else []
            store.set("index:" + inv.family.name, [*index[-(MAX_INDEX - 1):], {"key": key, **listed}])

    # -- helpers -------------------------------------------------------------------------

    def tool_identity(self, inv: Invocation, store: Store | None) -> str:
        """Content hash of the tool, of the programs it runs (a wrapper's compiler,
        gcc's cc1 and as), and of what it says of itself; memoised under the stat
        signatures of all of them, so that an upgrade behind a wrapper is seen."""
        st = os.stat(inv.tool)
        sig = trusted_sig(st)
        runs = resolved(inv.tool, inv.env)  # a wrapper script: what its words run now (wrappers.py)
        memo_key = f"tool:{inv.family.name}:{inv.tool}:{sig}" if sig else None
        if memo_key and runs:
            memo_key += ":" + hash_bytes(repr(runs).encode("utf-8", "surrogateescape"))
        if memo_key:
            known = self._identities.get(memo_key)
            if known is not None and _programs_unchanged(known[1]):
                return known[0]
            with _IDENTIFYING.held(memo_key):  # the first compiles of a -j build hash the tool once
                return self._identify(inv, store, memo_key, runs)
        return self._identify(inv, store, memo_key, runs)

    def _identify(self, inv: Invocation, store: Store | None, memo_key: str | None, runs) -> str:
        if memo_key:
            known = self._identities.get(memo_key)
            if known is None and store is not None:
                stored = store.get("memo:" + memo_key)
                if isinstance(stored, list) and len(stored) == 2 and isinstance(stored[0], str):
                    known = (stored[0], tuple((str(p), tuple(s)) for p, s in stored[1]))
            if known is not None and _programs_unchanged(known[1]):
                self._identities[memo_key] = known
                return known[0]
        from zccache.core.hashing import Hasher, settled_digest

        h = Hasher("zccache-tool-v2")
        h.text(settled_digest(inv.tool))
        for name, path in runs:  # what the wrapper runs, by content
            h.text(name)
            try:
                h.text(settled_digest(path) if path else "")
            except OSError:
                h.text("unreadable")
        h.update(inv.family.describe_tool(inv.tool, inv.env))
        programs = getattr(inv.family, "tool_programs", None)
        deps: list[tuple[str, tuple]] = []
        settled = True
        for program in programs(inv.tool, inv.env) if programs is not None else []:
            try:
                program_sig = trusted_sig(os.stat(program))
                h.text(program)
                h.text(settled_digest(program))
            except OSError:
                continue
            if program_sig is None:
                settled = False
            deps.append((program, tuple(program_sig or ())))
        identity = h.hexdigest()
        if memo_key and settled:
            if store is not None:
                store.set("memo:" + memo_key, [identity, [[p, list(s)] for p, s in deps]])
            self._identities[memo_key] = (identity, tuple(deps))
        return identity

    def _plain(self, inv: Invocation, reason: str, started: float) -> Completed:
        from zccache.core.process import run_tool

        rc, out, err = run_tool(inv.command, inv.cwd, inv.env, inv.umask)
        kind = "failed" if rc != 0 else "passthrough"
        return self._done(inv, RunResult(rc, out, err), Outcome(kind=kind, reason=reason, returncode=rc), started)

    def _done(self, inv: Invocation, run: RunResult, outcome: Outcome, started: float) -> Completed:
        outcome = Outcome(
            kind=outcome.kind,
            reason=outcome.reason,
            returncode=run.returncode,
            key=outcome.key,
            seconds=time.monotonic() - started,
            action=_action(inv),
            why=outcome.why,
        )
        return Completed(run.returncode, run.stdout, run.stderr, outcome)

    def _time_ok(self, inv: Invocation) -> bool:
        return inv.time_macros_ok or "time_macros" in self.config.sloppiness

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            self._warn(message)


class _TimeMacros(Exception):
    pass


class _Unreadable(Exception):
    pass


@dataclass
class _Keys:
    identity: str
    extras: list[bytes]
    direct: str
    source_hashes: list[str]
    manifest: dict | None = None
    preprocessed: str = ""


_MARK = b"\0zccache-map\0"
_IDENTIFYING = KeyedLocks()  # per tool memo key, across the engines of one daemon
_PARSED = "\0parsed"  # a manifest's parsed entries, kept on the manifest object in memory


def _relocate_out(inv: Invocation, data: bytes) -> bytes:
    """Real mapped prefixes in a text output become markers naming their logical
    prefix; a restore puts back the prefixes of the build at hand."""
    if _MARK in data:
        raise Uncacheable("output contains the relocation marker")
    import re

    for real, new in sorted(inv.path_map, key=lambda pair: -len(pair[0])):
        pattern = re.compile(re.escape(real.encode()) + rb"(?=[/\s:\\]|$)")
        data = pattern.sub(lambda m, new=new: _MARK + new.encode() + b"\0", data)
    return data


def _relocate_in(inv: Invocation, data: bytes) -> bytes | None:
    if _MARK not in data:
        return data
    out = []
    parts = data.split(_MARK)
    out.append(parts[0])
    reals = {new.encode(): real.encode() for real, new in inv.path_map}
    for part in parts[1:]:
        new, sep, rest = part.partition(b"\0")
        if not sep or new not in reals:
            return None
        out.append(reals[new] + rest)
    return b"".join(out)


_UMASK: int | None = None


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def _write_atomic(path: str, data: bytes, umask: int | None = None, executable: bool = False) -> None:
    """Write the whole file under a temporary name (or none: _link_unnamed), then give
    it its name, so a reader (or a crash) never sees half an object; the mode is the
    compiler's.

    The old file is unlinked before the new one is given its name, as the assembler
    does before it writes: on ext4 a rename over an existing file forces the new data out to disk
    (auto_da_alloc), which made this write four times slower than the compile's own."""
    directory = os.path.dirname(path) or "."
    mode = (0o777 if executable else 0o666) & ~(_umask() if umask is None else umask)
    if _link_unnamed(directory, path, data, mode):
        return
    fd, tmp = _create_temporary(directory)
    try:
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            pass  # the rename below fails and says so
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_ROOT_FD: int | None = None


def _link_unnamed(directory: str, path: str, data: bytes, mode: int) -> bool:
    """Linux: write the file with no name (O_TMPFILE), then give it path, so that no
    temporary name is made and renamed over (two changes of the directory instead of
    three, 2 % of a tiny hit). False, with nothing left behind, where the file system
    or a missing /proc says no: the caller writes it the portable way."""
    global _ROOT_FD
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag:
        return False
    try:
        fd = os.open(directory, flag | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        _write_all(fd, data)
        os.fchmod(fd, mode)
        if _ROOT_FD is None:
            _ROOT_FD = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            return False  # the portable way's rename fails and says so
        # linkat(AT_SYMLINK_FOLLOW) of /proc's name for the open file; without a
        # directory fd os.link calls link(), which does not follow it
        os.link(f"proc/self/fd/{fd}", path, src_dir_fd=_ROOT_FD, follow_symlinks=True)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _create_temporary(directory: str) -> tuple[int, str]:
    """A new file of our own beside the output (tempfile.mkstemp's guarantees: created
    here, by us, no symlink followed), without its name generator and file object,
    which were a tenth of a hit's time in the daemon."""
    for _ in range(100):
        tmp = os.path.join(directory, f".zccache-{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _direct_key(inv: Invocation, identity: str, source_hashes: list[str], extras: list[bytes]) -> str:
    """keys.direct_key, made once per kept classification and inputs (plans.py)."""
    made = inv.direct_keys
    if made is None:
        return keys.direct_key(inv, identity, source_hashes, extras)
    inputs = (identity, tuple(source_hashes), tuple(extras))
    key = made.get(inputs)
    if key is None:
        key = keys.direct_key(inv, identity, source_hashes, extras)
        if len(made) >= 8:
            made.clear()  # a source edited again and again: only its latest keys matter
        made[inputs] = key
    return key


def _action(inv: Invocation) -> str:
    return getattr(inv.family, "action", "compile")


def _delta_stored(inv: Invocation, store: Store) -> bool:
    """Whether inv's outputs are stored as deltas against its inputs: a link's or an
    archive's, when the store compresses (ZCCACHE_COMPRESSION=0 stores bytes as they are)."""
    return _action(inv) == "link" and store.compression is not None


def _delta_inputs(inv: Invocation) -> list[str]:
    """The files a delta is made against, in the same order when stored and restored:
    those the key holds by content."""
    return [*inv.sources, *inv.key_files]


def _content_or_absence(hashes, path: str) -> str:
    try:
        return hashes.hash(path)[0]
    except (FileNotFoundError, NotADirectoryError):
        return "absent"
    except IsADirectoryError:
        return "directory"


def _programs_unchanged(deps) -> bool:
    for path, sig in deps:
        try:
            if trusted_sig(os.stat(path)) != tuple(sig):
                return False
        except OSError:
            return False
    return True


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _stderr_warn(message: str) -> None:
    sys.stderr.write(f"zccache: {message}\n")
    sys.stderr.flush()
