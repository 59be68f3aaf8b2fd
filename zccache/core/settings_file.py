"""zccache.conf: settings a team checks in, in the cache directory.

One ``NAME = value`` per line (``#`` starts a comment), with the names of the
environment variables (``ZCCACHE_MAXSIZE = 10G``). The environment wins over the
file, as ccache's does over its configuration file. The file is read where the
environment enters the cache (a compile's command line, the daemon's request, an
in-process build), so every setting read after that sees it; the few settings the
launchers read before (where the cache directory is, whether to use the daemon and
how long to wait for it) are the environment's alone.

The file can name a command to run (``ZCCACHE_PREFIX``) and where results go, so it
is trusted only when it is its reader's or root's and nobody else may write it; any
other is ignored with one line on stderr.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Mapping

from zccache.core.setting_defs import named

NAME = "zccache.conf"
# read by the launchers before the file could be: the environment's alone
ENV_ONLY = frozenset({"ZCCACHE_CACHE_DIR", "ZCCACHE_DIR", "ZCCACHE_DAEMON", "ZCCACHE_DAEMON_TIMEOUT",
                      "ZCCACHE_RUNTIME_DIR", "ZCCACHE_SESSION_ID", "ZCCACHE_CONFIGPATH"})
_memo: dict[str, tuple[tuple, dict[str, str], tuple[str, ...]]] = {}
_lock = threading.Lock()
_warned: set[str] = set()


class SettingsError(ValueError):
    """A line of the file that is not a setting; the message names it."""


def path_for(env: Mapping[str, str]) -> str:
    import zccache_wire

    chosen = env.get("ZCCACHE_CONFIGPATH")
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    return os.path.join(zccache_wire.cache_dir(env), NAME)


def parse(text: str, where: str = NAME) -> tuple[dict[str, str], tuple[str, ...]]:
    """(settings, problems): each line that is not a setting zccache knows is one
    problem, naming the file and line, and is left out; the rest of the file counts.
    ccache's names (max_size = 10G) are read as ours."""
    settings: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        setting = named(name) if sep else None
        if setting is None:
            problems.append(f"{where}:{number}: {'unknown setting ' + name if sep else 'not a NAME = value line'}"
                            " (ignored)")
        elif setting.name in ENV_ONLY:
            problems.append(f"{where}:{number}: {setting.name} is read before this file: set it in the environment")
        else:
            settings[setting.name] = value
    return settings, tuple(problems)


def load(env: Mapping[str, str]) -> dict[str, str]:
    """The file's settings for this environment's cache directory ({} when none, or
    when it is not to be trusted); read again only when the file changes."""
    return _load(env)[0]


def file_problems(env: Mapping[str, str]) -> tuple[str, ...]:
    """The lines of the file that set nothing, or why the whole file is ignored."""
    return _load(env)[1]


def _load(env: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    path = path_for(env)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return {}, ()
    try:
        st = os.fstat(fd)
        sig = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with _lock:
            held = _memo.get(path)
        if held is not None and held[0] == sig:
            return held[1], held[2]
        why = untrusted(st)
        if why:
            _warn_once(path, f"zccache: ignoring {path}: {why}")
            return {}, (f"{path} is ignored: {why}",)
        with os.fdopen(os.dup(fd), encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 20)
    finally:
        os.close(fd)
    settings, problems = parse(text, path)
    with _lock:
        _memo[path] = (sig, settings, problems)
    return settings, problems


def untrusted(st: os.stat_result) -> str:
    """Why a file with this status may not set our settings ('' when it may)."""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid not in (os.getuid(), 0):
        return "owned by another user"
    if st.st_mode & 0o022:
        return "writable by others than its owner"
    return ""


class _Merged(dict):
    """An environment the file's settings are already under: merging it again is free
    (the daemon's request passes through Config.from_env and launch())."""


def with_file(env: Mapping[str, str]) -> dict[str, str]:
    """env with the file's settings under it (the environment wins)."""
    if isinstance(env, _Merged):
        return env
    return _Merged({**load(env), **env})


def write(env: Mapping[str, str], name: str, value: str) -> str:
    """Sets one setting in the file (made if missing, mode 0644), keeping the rest."""
    path = path_for(env)
    lines: list[str] = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        pass
    if parse(f"{name} = {value}")[1]:  # the new line must be one the file may hold
        raise SettingsError(parse(f"{name} = {value}", path)[1][0])
    out, done = [], False
    for line in lines:
        if line.split("#", 1)[0].partition("=")[0].strip() == name:
            if not done:
                out.append(f"{name} = {value}")
                done = True
            continue
        out.append(line)
    if not done:
        out.append(f"{name} = {value}")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _warn_once(path: str, text: str) -> None:
    with _lock:
        if path in _warned:
            return
        _warned.add(path)
    sys.stderr.write(text + "\n")
