"""What gcc's driver reads and runs for a compile that no depfile names.

The driver picks its compiler proper (cc1, cc1plus) and its assembler from a list
of program prefixes that ``-B``, ``GCC_EXEC_PREFIX`` and ``COMPILER_PATH`` extend,
and names ``as`` bare when none has it (then ``PATH`` decides); it reads a file
called ``specs`` from its library prefixes at start-up, and each ``-specs=`` file
from the same prefixes or the working directory. None of these is in a depfile, and
all of them change the object: the file the driver takes for each (its path, and
its content) goes into one digest, and that digest into the key. The places it
tries before are not key material (pip builds put a random directory of shims first
on PATH every time): they guard the memo, so a file that appears at one is found and
changes the digest.

A hit must not pay a process or a hash for this: the digest is memoised per
(tool, arguments, variables), guarded by the stat signature of every file taken and
of the nearest existing directory of every place found empty (a file created there
changes that directory's mtime). About a dozen stats a compile.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from zccache.core.hashing import Hasher, StatSig, settled_digest, trusted_sig
from zccache.core.invocation import Passthrough
from zccache.core.toolchains.compiler_probe import DRIVER_ENV, driver_search

# The program behind the driver that compiles each language
COMPILER_PROPER = {"c": "cc1", "c++": "cc1plus", "objective-c": "cc1obj", "objective-c++": "cc1objplus",
                   "assembler-with-cpp": "cc1"}

Guard = tuple[str, StatSig]
_memo: dict[tuple, tuple[tuple[Guard, ...], str]] = {}
_lock = threading.Lock()
_LIMIT = 1024


def driver_key(tool: str, driver_args: list[str], specs: list[str], lang: str, assembles: bool, cwd: str,
               env: Mapping[str, str]) -> str | Passthrough:
    """The digest of what the driver will read and run; a Passthrough when that
    cannot be known (no search list, a specs file that includes others)."""
    context = (tool, tuple(driver_args), tuple(specs), cwd, lang, assembles,
               *(env.get(name, "") for name in (*DRIVER_ENV, "PATH")))
    with _lock:
        known = _memo.get(context)
    if known is not None and _holds(known[0]):
        return known[1]
    found = _inspect(tool, driver_args, specs, lang, assembles, cwd, env)
    if isinstance(found, Passthrough):
        return found
    guards, digest, settled = found
    if settled:
        with _lock:
            if len(_memo) > _LIMIT:
                _memo.clear()
            _memo[context] = (guards, digest)
    return digest


def _holds(guards: tuple[Guard, ...]) -> bool:
    for path, sig in guards:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) != sig:
            return False
    return True


def _inspect(tool: str, driver_args: list[str], specs: list[str], lang: str, assembles: bool, cwd: str,
             env: Mapping[str, str]) -> tuple[tuple[Guard, ...], str, bool] | Passthrough:
    programs, libraries = driver_search(tool, driver_args, env)
    if not programs or not libraries:
        if specs or driver_args and any(a.startswith("-B") for a in driver_args) or any(
                env.get(name) for name in DRIVER_ENV):
            return Passthrough("driver search path unknown")
        return (), "", True
    programs = tuple(os.path.join(cwd, p) for p in programs)  # a relative -B is the compile's cwd's
    libraries = tuple(os.path.join(cwd, p) for p in libraries)
    tried: list[str] = []
    h = Hasher("gcc-driver-v2")

    def take(what: str, places: list[str], found: bool) -> None:
        tried.extend(places)
        h.text(what)
        if found:
            path = places[-1]
            h.text(os.path.relpath(path, cwd) if path.startswith(cwd.rstrip("/") + "/") else path)
            h.text(settled_digest(path, os.stat(path)))
        else:
            h.text("none")

    names = [COMPILER_PROPER[lang]] if lang in COMPILER_PROPER else []
    if assembles:
        names.append("as")
    for name in names:
        places, found = _places(programs, name, os.X_OK)
        if not found and name == "as":  # gcc runs it by name: the first on PATH
            dirs = tuple(os.path.join(cwd, d) for d in env.get("PATH", os.defpath).split(os.pathsep) if d)
            more, found = _places(dirs, name, os.X_OK, slash=True)
            places += more
        take(name, places, found)
    take("specs", *_places(libraries, "specs", os.R_OK))
    for spec in specs:
        if os.path.isabs(spec):
            places, found = [os.path.normpath(spec)], os.path.isfile(spec)
        else:
            places, found = _places(libraries, spec, os.R_OK)
            if not found:
                places.append(os.path.normpath(os.path.join(cwd, spec)))
                found = os.path.isfile(places[-1])
        try:
            with open(places[-1], "rb") as f:
                if b"%include" in f.read():
                    return Passthrough("specs file with %include")
        except OSError:
            pass  # gcc says it is missing, and the digest says none
        take("-specs=" + spec, places, found)
    guards: dict[str, StatSig] = {}
    settled = True
    for path in dict.fromkeys(tried):
        try:
            st = os.stat(path)
            guard = path
        except OSError:
            guard = _nearest_directory(path)  # a file created at path changes its mtime
            try:
                st = os.stat(guard)
            except OSError:
                settled = False
                continue
        sig = trusted_sig(st)
        if sig is None:
            settled = False
        else:
            guards[guard] = sig
    return tuple(guards.items()), h.hexdigest(), settled


def _nearest_directory(path: str) -> str:
    parent = os.path.dirname(path)
    while parent and parent != os.path.dirname(parent) and not os.path.isdir(parent):
        parent = os.path.dirname(parent)
    return parent or "/"


def _places(prefixes: tuple[str, ...], name: str, mode: int, slash: bool = False) -> tuple[list[str], bool]:
    """Each path the driver tries for name, up to the first it can use, and whether
    it found one. A prefix is used as printed (-Bdir gives dirname) and with a slash
    added, which covers either reading."""
    tried: list[str] = []
    for prefix in prefixes:
        for candidate in ((os.path.join(prefix, name),) if slash else (prefix + name, os.path.join(prefix, name))):
            candidate = os.path.normpath(candidate)
            if candidate in tried:
                continue
            tried.append(candidate)
            if os.path.isfile(candidate) and os.access(candidate, mode):
                return tried, True
    return tried, False
