"""Settings from the environment, read once per process."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from zccache_wire import switch

DEFAULT_MAXSIZE = 5 * 1024**3
UNLIMITED = 1 << 62
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*$")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class ConfigError(ValueError):
    pass


def parse_size(text: str) -> int:
    """"500M", "5G", "1.5G", "200k" or plain bytes; binary units as ccache's."""
    m = _SIZE.match(text)
    if not m:
        raise ConfigError(f"invalid size {text!r} (use e.g. 500M or 5G)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


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
        raise ConfigError(f"invalid ZCCACHE_UMASK {text!r} (use an octal mask such as 002)")
    return value


def _seconds(text: str, default: float) -> float:
    if not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ConfigError(f"invalid ZCCACHE_REMOTE_TIMEOUT {text!r} (seconds, e.g. 2)")
    return value


def env_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A switch, read as both clients read it (zccache_wire.switch)."""
    return switch(env, name, default)


@dataclass(frozen=True)
class Config:
    cache_dir: str
    maxsize: int
    basedir: str | None  # absolute paths below it are rewritten relative to the cwd
    direct: bool  # direct mode; off means every lookup preprocesses
    hash_dir: bool  # key on the cwd when the output embeds it (debug info)
    disabled: bool
    sloppiness: frozenset[str]
    umask: int | None = None  # the cache directory's (ZCCACHE_UMASK), for a group's shared cache
    remote: str | None = None  # ZCCACHE_REMOTE: a shared tier's URL (core/tiers/)
    remote_readonly: bool = False  # ZCCACHE_REMOTE_READONLY: read the shared tier, never write it
    remote_secret: str | None = None  # ZCCACHE_REMOTE_SECRET: values signed and checked with it
    remote_timeout: float = 2.0  # ZCCACHE_REMOTE_TIMEOUT: seconds per remote request
    prefix: tuple[str, ...] = ()  # ZCCACHE_PREFIX: a miss's compile runs as PREFIX compiler args (distcc)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        from zccache.core.settings_file import with_file

        env = with_file(env)  # zccache.conf in the cache directory, under the environment
        cache_dir = env.get("ZCCACHE_CACHE_DIR") or env.get("ZCCACHE_DIR")
        if not cache_dir:
            import platformdirs

            cache_dir = platformdirs.user_cache_dir("pyzccache", appauthor=False)
        basedir = env.get("ZCCACHE_BASEDIR") or None
        if basedir:
            basedir = os.path.normpath(os.path.abspath(basedir))
        maxsize_text = env.get("ZCCACHE_MAXSIZE")
        maxsize = parse_size(maxsize_text) if maxsize_text else DEFAULT_MAXSIZE
        maxsize = maxsize or UNLIMITED  # 0: no limit, as ccache's max_size
        slop = frozenset(s.strip() for s in env.get("ZCCACHE_SLOPPINESS", "").split(",") if s.strip())
        return cls(
            cache_dir=os.path.abspath(os.path.expanduser(cache_dir)),
            maxsize=maxsize,
            basedir=basedir,
            direct=env_flag(env, "ZCCACHE_DIRECT", True),
            hash_dir=env_flag(env, "ZCCACHE_HASHDIR", True),
            disabled=env_flag(env, "ZCCACHE_DISABLE", False),
            sloppiness=slop,
            umask=parse_umask(env.get("ZCCACHE_UMASK", "")),
            remote=env.get("ZCCACHE_REMOTE") or None,
            remote_readonly=env_flag(env, "ZCCACHE_REMOTE_READONLY", False),
            remote_secret=env.get("ZCCACHE_REMOTE_SECRET") or None,
            remote_timeout=_seconds(env.get("ZCCACHE_REMOTE_TIMEOUT", ""), 2.0),
            prefix=tuple(env.get("ZCCACHE_PREFIX", "").split()),
        )
