"""Where things live, computed without importing anything heavy (the client uses it).

One daemon serves one cache directory for one user: its socket is named after a
digest of the cache directory, inside a per-user runtime directory of mode 0700.
"""

import os
import sys

# No imports beyond os and sys, and no `from __future__` (itself a module to load):
# this runs on every compile's path.
Env = dict  # for annotations: any str -> str mapping, os.environ included


def default_cache_dir(env: Env) -> str:
    if sys.platform.startswith("linux"):
        base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "pyzccache")
    import platformdirs

    return platformdirs.user_cache_dir("pyzccache", appauthor=False)


def cache_dir(env: Env) -> str:
    chosen = env.get("ZCCACHE_CACHE_DIR") or env.get("ZCCACHE_DIR")
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else default_cache_dir(env)


def runtime_dir(env: Env) -> str:
    chosen = env.get("ZCCACHE_RUNTIME_DIR")
    if chosen:
        return os.path.abspath(chosen)
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return os.path.join(xdg, "pyzccache")
    return os.path.join("/tmp", f"pyzccache-{os.getuid()}")


def daemon_paths(env: Env) -> tuple[str, str]:
    """(runtime directory, socket path) of the daemon serving this cache directory.

    The version is part of the name: after an upgrade, clients start a daemon of their
    own version instead of talking to the old one, which stops when it goes idle."""
    from zccache import __version__  # the package is imported already: free

    key = f"{__version__}\0{cache_dir(env)}"
    tag = _fnv64(key.encode("utf-8", "surrogateescape"))
    directory = runtime_dir(env)
    return directory, os.path.join(directory, f"d-{tag}.sock")


def _fnv64(data: bytes) -> str:
    """FNV-1a, 64 bits: a name for the socket, not a security boundary (the
    directory's owner and mode are); computed here to spare the client zlib."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def private_dir_ok(path: str) -> bool:
    """The directory is ours alone: a real directory, owned by us, no group/other bits."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and (st.st_mode & 0o077) == 0
