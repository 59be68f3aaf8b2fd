"""Every setting, defined once: its name, its default and what it means.

`zccache config` (and `zccache -p`) prints the effective value of each with where it
came from; the docs' configuration reference is generated from this list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as a user would write it ("" for unset)
    meaning: str
    secret: bool = False  # shown as *** by `zccache config`


SETTINGS: tuple[Setting, ...] = (
    Setting("ZCCACHE_CACHE_DIR", "", "where the store lives (ZCCACHE_DIR too); unset: the user cache dir, "
            "~/.cache/pyzccache on Linux"),
    Setting("ZCCACHE_MAXSIZE", "5G", "size limit (500M, 5G, 1.5G, bytes; 0: none); least recently used entries go first"),
    Setting("ZCCACHE_BASEDIR", "", "absolute paths below it are rewritten relative to the working directory, so "
            "checkouts at different paths share hits"),
    Setting("ZCCACHE_HASHDIR", "1", "with debug info the object names the working directory, so it is in the key; "
            "0 shares such objects between directories anyway"),
    Setting("ZCCACHE_DIRECT", "1", "direct mode (sources and a header manifest); 0 keys every compile on its "
            "preprocessed text"),
    Setting("ZCCACHE_EXTRAFILES", "", "files (:-separated) whose content, or absence, joins every key"),
    Setting("ZCCACHE_SLOPPINESS", "", "time_macros: cache sources that use __DATE__/__TIME__"),
    Setting("ZCCACHE_LINKS", "1", "links and static archives are cached too; 0 runs them plainly (counted)"),
    Setting("ZCCACHE_DISABLE", "0", "1 runs every compile plainly (still counted)"),
    Setting("ZCCACHE_DAEMON", "1", "0: never use or start the daemon"),
    Setting("ZCCACHE_RUNTIME_DIR", "", "where the daemon's socket lives (yours, mode 0700); unset: "
            "$XDG_RUNTIME_DIR/pyzccache or /tmp/pyzccache-<uid>"),
    Setting("ZCCACHE_IDLE_TIMEOUT", "900", "seconds of idleness after which the daemon exits"),
    Setting("ZCCACHE_DAEMON_TIMEOUT", "10", "seconds of silence from the daemon after which a client compiles "
            "without it"),
    Setting("ZCCACHE_MAX_JOBS", "", "compiles the daemon runs at once (unset: 4 x cores, at least 4)"),
    Setting("ZCCACHE_DAEMON_MEMORY_MB", "64", "what the daemon keeps in memory of results and manifests; 0: nothing"),
    Setting("ZCCACHE_UMASK", "", "an octal umask for what zccache makes in the cache directory (002, 007), for a "
            "cache a group shares; unset: the directory is the user's alone"),
    Setting("ZCCACHE_REMOTE", "", "a shared tier after the local cache: redis://, s3://, webdav+http://, "
            "memcached://, gcs://, azblob://"),
    Setting("ZCCACHE_REMOTE_READONLY", "0", "1: read the shared tier, never write it"),
    Setting("ZCCACHE_REMOTE_SECRET", "", "values are signed with it, and values not signed with it are refused",
            secret=True),
    Setting("ZCCACHE_REMOTE_TIMEOUT", "2", "seconds per remote request"),
    Setting("ZCCACHE_PREFIX", "", "a miss's compile runs as PREFIX compiler args (distcc, icecc)"),
    Setting("ZCCACHE_REMAP_TEMP", "", "a temporary directory whose randomly named subdirectories compiles map to "
            "stable names (zccache pip sets it)"),
    Setting("ZCCACHE_SESSION_ID", "", "count compiles against this session (set by session-start)"),
)
BY_NAME = {s.name: s for s in SETTINGS}
