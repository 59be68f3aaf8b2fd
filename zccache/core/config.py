"""Settings from the environment, read once per process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from zccache_wire import switch

from zccache.core.setting_defs import UNLIMITED, BadValue, parse_size, parse_umask

__all__ = ["UNLIMITED", "BadValue", "Config", "ConfigError", "env_flag", "parse_size", "parse_umask"]


class ConfigError(ValueError):
    """A setting a plugin cannot use (a remote's URL); the message is one line."""


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

    max_files: int = 0  # ZCCACHE_MAXFILES: most entries kept; 0: no limit
    compression: int | None = 0  # the zstd level values are written at; None: ZCCACHE_COMPRESSION=0
    problems: tuple[str, ...] = ()  # bad values and what is used instead (setting_defs.check)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        from zccache.core.setting_defs import check
        from zccache.core.settings_file import file_problems, with_file

        env = with_file(env)  # zccache.conf in the cache directory, under the environment
        checked = check(env, file_problems(env))
        v = checked.values
        cache_dir = env.get("ZCCACHE_CACHE_DIR") or env.get("ZCCACHE_DIR")
        if not cache_dir:
            import platformdirs

            cache_dir = platformdirs.user_cache_dir("pyzccache", appauthor=False)
        return cls(
            cache_dir=os.path.abspath(os.path.expanduser(cache_dir)),
            maxsize=v["ZCCACHE_MAXSIZE"],
            basedir=v["ZCCACHE_BASEDIR"],
            direct=v["ZCCACHE_DIRECT"],
            hash_dir=v["ZCCACHE_HASHDIR"],
            disabled=v["ZCCACHE_DISABLE"],
            sloppiness=v["ZCCACHE_SLOPPINESS"] or frozenset(),
            umask=v["ZCCACHE_UMASK"],
            remote=env.get("ZCCACHE_REMOTE") or None,
            remote_readonly=v["ZCCACHE_REMOTE_READONLY"],
            remote_secret=env.get("ZCCACHE_REMOTE_SECRET") or None,
            remote_timeout=v["ZCCACHE_REMOTE_TIMEOUT"],
            prefix=tuple(env.get("ZCCACHE_PREFIX", "").split()),
            max_files=v["ZCCACHE_MAXFILES"] or 0,
            compression=v["ZCCACHE_COMPRESSION_LEVEL"] if v["ZCCACHE_COMPRESSION"] else None,
            problems=checked.problems,
        )
