"""`zccache doctor`: what is wrong with this setup, one line each, with the fix.

A user who sees no hits wants the reason in a minute. Each check looks at one thing
a build needs (a compiler zccache recognises, a cache directory it can write, a
daemon of its version, the native launcher, the build system wired to it, a remote
that answers) or one habit that costs hits (debug info keyed on the working
directory, ccache's variables where ours are meant, sources that use __DATE__).
Exit 0 when nothing needs fixing, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

from zccache.core.hookspecs import hookimpl

_SOURCE_EXTS = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp")
_TIME_MACRO = re.compile(rb"\b__(DATE|TIME|TIMESTAMP)__\b")
_SCAN_LIMIT = 5000  # files looked at for time macros
_CCACHE_TWINS = {"CCACHE_DIR": "ZCCACHE_CACHE_DIR", "CCACHE_MAXSIZE": "ZCCACHE_MAXSIZE",
                 "CCACHE_BASEDIR": "ZCCACHE_BASEDIR", "CCACHE_SLOPPINESS": "ZCCACHE_SLOPPINESS",
                 "CCACHE_DISABLE": "ZCCACHE_DISABLE", "CCACHE_PREFIX": "ZCCACHE_PREFIX",
                 "CCACHE_UMASK": "ZCCACHE_UMASK", "CCACHE_REMOTE_STORAGE": "ZCCACHE_REMOTE",
                 "CCACHE_HASHDIR": "ZCCACHE_HASHDIR", "CCACHE_EXTRAFILES": "ZCCACHE_EXTRAFILES",
                 "CCACHE_MAXFILES": "ZCCACHE_MAXFILES", "CCACHE_DIRECT": "ZCCACHE_DIRECT",
                 "CCACHE_CONFIGPATH": "ZCCACHE_CONFIGPATH"}


# What the doctor looks for, and the fix it gives: the docs' troubleshooting page lists these.
CHECKS: tuple[tuple[str, str], ...] = (
    ("a setting's value is not one it can take (a size, a switch, seconds, a umask, a relative base dir), "
     "or zccache.conf names a setting zccache does not have", "correct it; zccache config shows them all"),
    ("zccache.conf is ignored: another user's, writable by others, or a line that is not a setting",
     "chmod go-w it, own it, correct the line"),
    ("the compiler ($CC, or cc) is not found, or not recognised as gcc, clang or emcc: its compiles pass through",
     "use one of those (or a wrapper that runs one), or add a family plugin"),
    ("the cache directory is unusable, not writable, or over 90 % full", "fix its permissions, or zccache -M 20G"),
    ("a daemon of another version serves this cache", "zccache stop"),
    ("the runtime directory is not the user's alone, so no daemon is used", "remove it or set ZCCACHE_RUNTIME_DIR"),
    ("the zccache on PATH is the Python client (about 15 ms per compile)",
     "install a C compiler and reinstall pyzccache for the native launcher"),
    ("a CMake build directory does not launch compilers through zccache",
     "-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES=$(zccache cmake-module-dir)/zccache.cmake, or include(zccache)"),
    ("a CMake build has debug info, which puts the working directory in the key",
     "ZCCACHE_BASEDIR=<the checkout>, or ZCCACHE_HASHDIR=0"),
    ("the SConstruct does not use zccache", "env.Tool('zccache')"),
    ("the remote tier (ZCCACHE_REMOTE) does not answer, or its URL is wrong", "start it, or correct or unset it"),
    ("a `CCACHE_*` variable is set where zccache reads `ZCCACHE_*`", "export the `ZCCACHE_` one"),
    ("sources use `__DATE__`/`__TIME__`, so their compiles are not cached",
     "SOURCE_DATE_EPOCH, or ZCCACHE_SLOPPINESS=time_macros"),
)


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str  # what was found
    fix: str = ""  # what to do (findings that need fixing)


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="what is wrong with this setup, and the fix for each")
    p.add_argument("--compiler", help="the compiler to check (default: $CC, then cc)")
    p.set_defaults(func=_cmd_doctor)


def _cmd_doctor(ns: argparse.Namespace) -> int:
    env = dict(os.environ)
    cwd = os.getcwd()
    findings = list(diagnose(env, cwd, ns.compiler))
    for f in findings:
        print(f"{'ok ' if f.ok else 'FIX'}  {f.what}{'' if f.ok else ' -> ' + f.fix}")
    bad = sum(not f.ok for f in findings)
    print(f"{bad} thing{'s' if bad != 1 else ''} to fix" if bad else "all well")
    return 1 if bad else 0


def diagnose(env: dict[str, str], cwd: str, compiler: str | None = None) -> Iterator[Finding]:
    from zccache.core.config import Config

    config = Config.from_env(env)
    yield from _settings_file(env)
    for problem in config.problems:
        if " is ignored: " not in problem:  # that one is _settings_file's, with its own fix
            yield Finding(False, f"bad setting: {problem}", "correct it (zccache config lists every setting)")
    yield _compiler(env, cwd, compiler or env.get("CC") or "cc")
    yield from _cache_dir(config)
    yield _daemon(env)
    yield _launcher(env)
    yield from _build_systems(env, cwd)
    if config.remote:
        yield _remote(config)
    yield from _ccache_variables(env)
    yield from _time_macros(cwd, config)


def _settings_file(env) -> Iterator[Finding]:
    from zccache.core import settings_file

    path = settings_file.path_for(env)
    try:
        st = os.lstat(path)
    except OSError:
        return
    why = settings_file.untrusted(st)
    if why:
        yield Finding(False, f"{path} is ignored: {why}", f"chmod go-w {path} (and own it)")


def _compiler(env, cwd: str, name: str) -> Finding:
    from zccache.core.control import resolve_tool
    from zccache.core.invocation import Passthrough
    from zccache.core.plugins import make_manager

    words = name.split()
    tool = resolve_tool(words[0], cwd, env.get("PATH")) if words else None
    if tool is None:
        return Finding(False, f"compiler {name!r} not found on PATH", "install it, or set CC to the one you use")
    probe_dir = os.path.join(_scratch(), "doctor")
    os.makedirs(probe_dir, exist_ok=True)
    with open(os.path.join(probe_dir, "probe.c"), "w") as f:
        f.write("int probe(void) { return 0; }\n")
    pm = make_manager(load_entry_points=True)
    found = pm.hook.zccache_classify(argv=[tool, "-c", "probe.c", "-o", "probe.o"], cwd=probe_dir, env=env)
    if found is None or isinstance(found, Passthrough):
        reason = found.reason if isinstance(found, Passthrough) else "no tool family knows it"
        return Finding(False, f"compiler {tool} is not recognised ({reason}): its compiles pass through uncached",
                       "use gcc, clang or emcc (or a wrapper that runs one), or add a family plugin")
    return Finding(True, f"compiler {tool} recognised: its compiles are cached")


def _scratch() -> str:
    import tempfile

    return tempfile.gettempdir()


def _cache_dir(config) -> Iterator[Finding]:
    from zccache.core.config import UNLIMITED
    from zccache.core.store import Store, StoreError

    try:
        store = Store.for_config(config)
    except StoreError as exc:
        yield Finding(False, f"cache directory unusable: {exc}",
                      "point ZCCACHE_CACHE_DIR at a directory you can write")
        return
    probe = os.path.join(config.cache_dir, f".doctor-{os.getpid()}")
    try:
        with open(probe, "wb") as f:
            f.write(b"x")
        os.unlink(probe)
    except OSError as exc:
        yield Finding(False, f"cache directory {config.cache_dir} is not writable ({exc.strerror})",
                      "fix its permissions or point ZCCACHE_CACHE_DIR elsewhere")
        return
    used, limit = store.volume(), store.size_limit
    from zccache.core.control import human_size

    shown = "no limit" if limit >= UNLIMITED else human_size(limit)
    if limit < UNLIMITED and used > 0.9 * limit:
        yield Finding(False, f"cache directory {config.cache_dir} is {used * 100 // limit} % full "
                             f"({human_size(used)} of {shown}): entries are evicted as fast as they come",
                      "raise the limit: zccache -M 20G")
    else:
        yield Finding(True, f"cache directory {config.cache_dir} writable, {human_size(used)} of {shown}")


def _daemon(env) -> Finding:
    import zccache_wire
    from zccache import __version__

    if env.get("ZCCACHE_DAEMON", "1").lower() in ("0", "false", "no", "off"):
        return Finding(True, "daemon off (ZCCACHE_DAEMON=0): every compile opens the store itself")
    directory, sock_path = zccache_wire.daemon_paths(env)
    if os.path.exists(directory) and not zccache_wire.private_dir_ok(directory):
        return Finding(False, f"runtime directory {directory} is not yours alone: no daemon is used",
                       f"remove it, or set ZCCACHE_RUNTIME_DIR to a directory of yours with mode 0700")
    from zccache.core.control import ping as _ping

    reply = _ping(sock_path) if os.path.exists(sock_path) else None
    status = reply.get("status") if isinstance(reply, dict) else None
    if not isinstance(status, dict):
        return Finding(True, "no daemon running (the first compile starts one)")
    if status.get("version") != __version__:
        return Finding(False, f"the daemon (pid {status.get('pid')}) is version {status.get('version')}, "
                              f"this zccache {__version__}", "zccache stop")
    return Finding(True, f"daemon {status.get('version')} running (pid {status.get('pid')})")


def _launcher(env) -> Finding:
    found = shutil.which("zccache", path=env.get("PATH"))
    if found is None:
        return Finding(False, "no zccache command on PATH: builds cannot name it",
                       "put the environment's bin directory on PATH")
    try:
        with open(found, "rb") as f:
            native = f.read(4) == b"\x7fELF"
    except OSError:
        native = False
    if not native:
        return Finding(False, f"{found} is the Python client: every compile starts an interpreter (about 15 ms)",
                       "install a C compiler and reinstall pyzccache, which then builds the native launcher")
    return Finding(True, f"{found} is the native launcher")


def _build_systems(env, cwd: str) -> Iterator[Finding]:
    for cache in _cmake_caches(cwd):
        entries = _cmake_entries(cache)
        launchers = [entries.get(f"CMAKE_{lang}_COMPILER_LAUNCHER", "") for lang in ("C", "CXX")]
        where = os.path.relpath(os.path.dirname(cache), cwd)
        # include(zccache) sets the launchers as plain variables; its find_program leaves
        # ZCCACHE_PROGRAM in the cache
        module = entries.get("ZCCACHE_PROGRAM", "")
        if not any("zccache" in value for value in launchers) and (not module or module.endswith("NOTFOUND")):
            yield Finding(False, f"CMake build {where} does not launch compilers through zccache",
                          f"cmake -DCMAKE_PROJECT_TOP_LEVEL_INCLUDES=$(zccache cmake-module-dir)/zccache.cmake {where}"
                          " (or include(zccache) in CMakeLists.txt)")
            continue
        yield Finding(True, f"CMake build {where} launches compilers through zccache")
        build_type = entries.get("CMAKE_BUILD_TYPE", "")
        flags = " ".join(entries.get(k, "") for k in ("CMAKE_C_FLAGS", "CMAKE_CXX_FLAGS"))
        debug = build_type in ("Debug", "RelWithDebInfo") or re.search(r"(^|\s)-g", flags)
        if debug and not env.get("ZCCACHE_BASEDIR") and env.get("ZCCACHE_HASHDIR", "1") not in ("0", "false", "no"):
            yield Finding(False, f"CMake build {where} has debug info ({build_type or '-g'}), which names the working "
                                 "directory, so it is in the key: another build dir or checkout misses",
                          "export ZCCACHE_BASEDIR=<the checkout> (or ZCCACHE_HASHDIR=0 if paths in debug info "
                          "do not matter)")
    sconstruct = os.path.join(cwd, "SConstruct")
    if os.path.isfile(sconstruct):
        with open(sconstruct, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if "zccache" not in text:
            yield Finding(False, "SConstruct does not use zccache", "add env.Tool('zccache') after each Environment()")
        else:
            yield Finding(True, "SConstruct names zccache")
    if os.path.isfile(os.path.join(cwd, "pyproject.toml")) or os.path.isfile(os.path.join(cwd, "setup.py")):
        yield Finding(True, "a Python project: build it with `zccache pip install .` (or wheel) to cache its "
                            "extensions")


def _cmake_caches(cwd: str) -> list[str]:
    found = []
    for d in [cwd, *(os.path.join(cwd, n) for n in sorted(os.listdir(cwd)) if os.path.isdir(os.path.join(cwd, n)))]:
        path = os.path.join(d, "CMakeCache.txt")
        if os.path.isfile(path):
            found.append(path)
    return found


def _cmake_entries(path: str) -> dict[str, str]:
    entries = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^([A-Za-z_][\w-]*):[A-Z]+=(.*)$", line.rstrip("\n"))
            if m:
                entries[m.group(1)] = m.group(2)
    return entries


def _remote(config) -> Finding:
    from zccache.core.config import ConfigError
    from zccache.core.tiers.opendal_tier import OpendalTier

    try:
        tier = OpendalTier(config.remote, config.remote_timeout)
    except ConfigError as exc:
        return Finding(False, f"remote tier: {exc}", "correct ZCCACHE_REMOTE (zccache config shows it)")
    try:
        tier.get("r:" + "0" * 64)
        if not config.remote_readonly:
            tier.put("m:doctor-probe", b"probe")
    except Exception as exc:
        text = str(exc).strip().splitlines()
        return Finding(False, f"remote tier {tier.name} does not answer ({text[0] if text else type(exc).__name__})",
                       "start it, or unset ZCCACHE_REMOTE (builds go on from the local cache meanwhile)")
    return Finding(True, f"remote tier {tier.name} answers{' (read-only)' if config.remote_readonly else ''}")


def _ccache_variables(env) -> Iterator[Finding]:
    for name in sorted(env):
        ours = _CCACHE_TWINS.get(name)
        if ours and ours not in env:
            yield Finding(False, f"{name} is set, but zccache reads {ours}", f"export {ours}={env[name]}")


def _time_macros(cwd: str, config) -> Iterator[Finding]:
    if "time_macros" in config.sloppiness:
        return
    seen = 0
    users = []
    for root, dirs, files in os.walk(cwd):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.isfile(os.path.join(root, d, "CMakeCache.txt"))]
        for name in files:
            if not name.endswith(_SOURCE_EXTS):
                continue
            seen += 1
            if seen > _SCAN_LIMIT:
                break
            try:
                with open(os.path.join(root, name), "rb") as f:
                    if _TIME_MACRO.search(f.read(1 << 20)):
                        users.append(os.path.relpath(os.path.join(root, name), cwd))
            except OSError:
                continue
    if users:
        shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
        yield Finding(False, f"{shown} {'uses' if len(users) == 1 else 'use'} __DATE__/__TIME__: those compiles (and every file including them) "
                             "are not cached", "export SOURCE_DATE_EPOCH (reproducible builds) or "
                                               "ZCCACHE_SLOPPINESS=time_macros")

