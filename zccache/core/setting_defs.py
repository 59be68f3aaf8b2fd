"""Every setting, defined once: its name, its default, what it means, how its value
is read, and ccache's name for it.

A value is read here and nowhere else, so a bad one is found once: ``check`` gives
the values (a bad one replaced by what is used instead) and one line per problem,
naming the setting, the value and what is used. The daemon says those lines once
on the stderr of the compile that started it, the in-process path on each compile,
``zccache config`` and ``zccache doctor`` list them. The docs' configuration
reference is generated from this list."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zccache_wire import OFF

UNLIMITED = 1 << 62  # a size limit of 0 ("none") is held as this


class BadValue(ValueError):
    """What a value should have been, for the problem line ("a size, such as 5GiB");
    with `used`, the part of it that is used (the sloppiness words zccache knows)."""

    def __init__(self, expected: str, used: Any = None, shown: str = "") -> None:
        super().__init__(expected)
        self.used, self.shown = used, shown


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as a user would write it ("" for unset)
    meaning: str
    kind: str = "text"  # how the value is read: a key of READERS
    ccache: str = ""  # ccache's name for the same setting (-o, -k, zccache.conf)
    secret: bool = False  # shown as *** by `zccache config`


# -- how each kind of value is read ------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kKmMgGtT])(i?)[bB]?)?\s*$")
_POWER = {"k": 1, "m": 2, "g": 3, "t": 4}
ON = ("1", "true", "yes", "on")


def parse_size(text: str) -> int:
    """ccache's sizes: kB, MB, GB, TB decimal (k, M, G, T the same), KiB, MiB, GiB,
    TiB binary, a bare number GiB; 0 is no limit (held as UNLIMITED)."""
    m = _SIZE.match(text)
    if not m:
        raise BadValue("a size, such as 500MB, 5GiB or 20 (GiB)")
    number, unit, binary = float(m.group(1)), (m.group(2) or "").lower(), m.group(3)
    if not unit:
        value = number * 1024**3
    else:
        value = number * (1024 if binary else 1000) ** _POWER[unit]
    return int(value) or UNLIMITED


def _switch(text: str) -> bool:
    word = text.strip().lower()
    if word in OFF:
        return False
    if word not in ON:  # both clients read it as on (zccache_wire.switch): say so
        raise BadValue("a switch (1/0, true/false, yes/no, on/off)")
    return True


def _seconds(text: str) -> float:
    try:
        value = float(text) if not text.strip().strip("0123456789.eE+-") else -1.0
    except ValueError:
        value = -1.0
    if not 0 < value <= 1e9:  # as zccache_wire.seconds, which the clients use
        raise BadValue("a number of seconds above 0")
    return value


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise BadValue("a whole number, 0 or more")
    return int(text)


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise BadValue("a whole number above 0")
    return int(text)


def _level(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not -131072 <= value <= 22:
        raise BadValue("a zstd level from -131072 to 22 (0: the default level)")
    return value


def parse_umask(text: str) -> int | None:
    """"002", "0o002" or "2": octal, as ccache's umask setting; "" for none."""
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text[2:] if text.lower().startswith("0o") else text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777:
        raise BadValue("an octal umask, such as 002")
    return value


SLOPPINESS = ("time_macros",)  # the words zccache acts on
# ccache's other words: what zccache does instead, so none of them is needed
CCACHE_SLOPPINESS = {
    "include_file_mtime": "headers are checked by content", "include_file_ctime": "headers are checked by content",
    "file_stat_matches": "files are checked by content", "file_stat_matches_ctime": "files are checked by content",
    "system_headers": "system headers are always checked", "pch_defines": "precompiled headers are keyed by content",
    "locale": "the locale is in the key", "modules": "modules pass through", "clang_index_store": "passes through",
    "ivfsoverlay": "passes through", "gcno_cwd": "the directory is in the key", "random_seed": "passes through",
    "incbin": "files read by .incbin are in the key",
}


def _sloppiness(text: str) -> frozenset[str]:
    words = [w.strip() for w in text.split(",") if w.strip()]
    bad = [w for w in words if w not in SLOPPINESS and w not in CCACHE_SLOPPINESS]
    known = frozenset(w for w in words if w in SLOPPINESS)
    if bad:
        raise BadValue(f"a list of sloppiness words ({', '.join(bad)} unknown; zccache acts on "
                       f"{', '.join(SLOPPINESS)} and accepts ccache's others)", known, ",".join(sorted(known)) or "none")
    return known


def _absolute(text: str) -> str:
    if not os.path.isabs(os.path.expanduser(text)):
        raise BadValue("an absolute path")
    return os.path.normpath(os.path.expanduser(text))


READERS: dict[str, Callable[[str], Any]] = {
    "text": str, "size": parse_size, "switch": _switch, "seconds": _seconds, "count": _count,
    "positive": _positive, "umask": parse_umask, "level": _level, "sloppiness": _sloppiness, "absolute": _absolute,
}


SETTINGS: tuple[Setting, ...] = (
    Setting("ZCCACHE_CACHE_DIR", "", "where the store lives (ZCCACHE_DIR too); unset: the user cache dir, "
            "~/.cache/pyzccache on Linux; a relative path is the working directory's", ccache="cache_dir"),
    Setting("ZCCACHE_MAXSIZE", "5GiB", "size limit, as ccache's: kB, MB, GB decimal, KiB, MiB, GiB binary, a bare "
            "number GiB; 0: none. Least recently used entries go first", "size", "max_size"),
    Setting("ZCCACHE_MAXFILES", "0", "most entries kept (results, manifests, links); 0: no limit", "count", "max_files"),
    Setting("ZCCACHE_BASEDIR", "", "absolute paths below it are rewritten relative to the working directory, so "
            "checkouts at different paths share hits", "absolute", "base_dir"),
    Setting("ZCCACHE_HASHDIR", "1", "with debug info the object names the working directory, so it is in the key; "
            "0 shares such objects between directories anyway", "switch", "hash_dir"),
    Setting("ZCCACHE_DIRECT", "1", "direct mode (sources and a header manifest); 0 keys every compile on its "
            "preprocessed text", "switch", "direct_mode"),
    Setting("ZCCACHE_EXTRAFILES", "", "files (:-separated) whose content, or absence, joins every key",
            ccache="extra_files_to_hash"),
    Setting("ZCCACHE_SLOPPINESS", "", "time_macros: cache sources that use __DATE__/__TIME__ (ccache's other "
            "words are accepted; zccache needs none of them)", "sloppiness", "sloppiness"),
    Setting("ZCCACHE_COMPRESSION", "1", "results and manifests are stored compressed with zstd (locally and in the "
            "remote tier); 0 stores them as they are", "switch", "compression"),
    Setting("ZCCACHE_COMPRESSION_LEVEL", "0", "the zstd level, as ccache's: 0 the default (1), negative faster, "
            "higher smaller (up to 22); zccache -X LEVEL recompresses what is stored", "level", "compression_level"),
    Setting("ZCCACHE_LINKS", "1", "links and static archives are cached too; 0 runs them plainly (counted)", "switch"),
    Setting("ZCCACHE_DISABLE", "0", "1 runs every compile plainly (still counted)", "switch", "disable"),
    Setting("ZCCACHE_DAEMON", "1", "0: never use or start the daemon", "switch"),
    Setting("ZCCACHE_RUNTIME_DIR", "", "where the daemon's socket lives (yours, mode 0700); unset: "
            "$XDG_RUNTIME_DIR/pyzccache or /tmp/pyzccache-<uid>"),
    Setting("ZCCACHE_IDLE_TIMEOUT", "900", "seconds of idleness after which the daemon exits", "seconds"),
    Setting("ZCCACHE_DAEMON_TIMEOUT", "10", "seconds of silence from the daemon after which a client compiles "
            "without it", "seconds"),
    Setting("ZCCACHE_MAX_JOBS", "", "compiles the daemon runs at once (unset: 4 x cores, at least 4)", "positive"),
    Setting("ZCCACHE_DAEMON_MEMORY_MB", "256", "what the daemon keeps in memory of results and manifests; 0: nothing",
            "count"),
    Setting("ZCCACHE_UMASK", "", "an octal umask for what zccache makes in the cache directory (002, 007), for a "
            "cache a group shares; unset: the directory is the user's alone", "umask", "umask"),
    Setting("ZCCACHE_REMOTE", "", "a shared tier after the local cache: redis://, s3://, webdav+http://, "
            "memcached://, gcs://, azblob://", ccache="remote_storage"),
    Setting("ZCCACHE_REMOTE_READONLY", "0", "1: read the shared tier, never write it", "switch"),
    Setting("ZCCACHE_REMOTE_SECRET", "", "values are signed with it, and values not signed with it are refused",
            secret=True),
    Setting("ZCCACHE_REMOTE_TIMEOUT", "2", "seconds per remote request", "seconds"),
    Setting("ZCCACHE_PREFIX", "", "a miss's compile runs as PREFIX compiler args (distcc, icecc)",
            ccache="prefix_command"),
    Setting("ZCCACHE_REMAP_TEMP", "", "a temporary directory whose randomly named subdirectories compiles map to "
            "stable names (zccache pip sets it)"),
    Setting("ZCCACHE_SESSION_ID", "", "count compiles against this session (set by session-start)"),
    Setting("ZCCACHE_CONFIGPATH", "", "the settings file to read instead of zccache.conf in the cache directory "
            "(ccache's --config-path)"),
)
BY_NAME = {s.name: s for s in SETTINGS}
BY_CCACHE_NAME = {s.ccache: s for s in SETTINGS if s.ccache}


def named(name: str) -> Setting | None:
    """Ours (ZCCACHE_MAXSIZE) or ccache's (max_size, CCACHE_MAXSIZE) name of a setting."""
    if name in BY_NAME:
        return BY_NAME[name]
    if name.startswith("CCACHE_"):
        return BY_NAME.get("ZCCACHE_" + name[len("CCACHE_"):])
    return BY_CCACHE_NAME.get(name)


# -- checking an environment --------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    values: dict[str, Any]  # every setting's value as used (a bad one replaced by its default)
    problems: tuple[str, ...]  # one line each: the setting, the value, what is used instead


_memo: dict[tuple, Checked] = {}
_lock = threading.Lock()
_NAMES = tuple(s.name for s in SETTINGS)


def check(env: Mapping[str, str], file_problems: tuple[str, ...] = ()) -> Checked:
    """The values of every setting in env (zccache.conf's already under it, and its
    own problems given), read once per distinct set of values: the daemon checks
    each request's."""
    key = tuple(env.get(name) for name in _NAMES) + (file_problems,)
    with _lock:
        held = _memo.get(key)
    if held is not None:
        return held
    values: dict[str, Any] = {}
    problems: list[str] = list(key[-1])
    for s in SETTINGS:
        text = env.get(s.name, "")
        reader = READERS[s.kind]
        if text.strip():
            try:
                values[s.name] = reader(text)
                continue
            except BadValue as exc:
                if exc.used is not None:
                    values[s.name] = exc.used
                    problems.append(f"{s.name}={text!r} is not {exc}; using {exc.shown}")
                    continue
                if s.kind == "switch":  # on, as both clients read it
                    values[s.name] = True
                    problems.append(f"{s.name}={text!r} is not {exc}; using on")
                    continue
                problems.append(f"{s.name}={text!r} is not {exc}; "
                                f"{'using ' + s.default if s.default else 'ignored, as if unset'}")
        values[s.name] = reader(s.default) if s.default else None
    checked = Checked(values, tuple(problems))
    with _lock:
        if len(_memo) > 64:
            _memo.clear()
        _memo[key] = checked
    return checked
