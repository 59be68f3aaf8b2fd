"""Where things live, computed without importing anything heavy (the client uses it).

One daemon serves one cache directory for one user: its socket is named after a
digest of the cache directory, inside a per-user runtime directory of mode 0700.
"""

from __future__ import annotations

import os
import sys
import zlib

# Annotations name collections.abc.Mapping but are never evaluated: importing
# typing or collections.abc would cost the client 1-7 ms on every compile.


def default_cache_dir(env: collections.abc.Mapping[str, str]) -> str:
    if sys.platform.startswith("linux"):
        base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "pyzccache")
    import platformdirs

    return platformdirs.user_cache_dir("pyzccache", appauthor=False)


def cache_dir(env: collections.abc.Mapping[str, str]) -> str:
    chosen = env.get("ZCCACHE_CACHE_DIR") or env.get("ZCCACHE_DIR")
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else default_cache_dir(env)


def runtime_dir(env: collections.abc.Mapping[str, str]) -> str:
    chosen = env.get("ZCCACHE_RUNTIME_DIR")
    if chosen:
        return os.path.abspath(chosen)
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return os.path.join(xdg, "pyzccache")
    return os.path.join("/tmp", f"pyzccache-{os.getuid()}")


def daemon_paths(env: collections.abc.Mapping[str, str]) -> tuple[str, str]:
    """(runtime directory, socket path) of the daemon serving this cache directory."""
    cache = cache_dir(env).encode("utf-8", "surrogateescape")
    tag = f"{zlib.crc32(cache):08x}{zlib.adler32(cache):08x}"
    directory = runtime_dir(env)
    return directory, os.path.join(directory, f"d-{tag}.sock")


def private_dir_ok(path: str) -> bool:
    """The directory is ours alone: a real directory, owned by us, no group/other bits."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and (st.st_mode & 0o077) == 0
