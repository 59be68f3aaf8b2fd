"""The runtime directory: a socket, a lock and a log per running daemon, and nothing
of daemons that no longer run.

A daemon holds an flock on its ``.lock`` for as long as it runs, so a lock anyone can
take is a dead daemon's (killed, crashed, machine stopped mid-run): its three files
go when the next daemon starts, and a daemon that stops cleanly takes its own with
it. Without this the directory keeps a log and a lock for every cache directory and
remote URL ever used.
"""

from __future__ import annotations

import fcntl
import glob
import os
import time

import zccache_wire

SETTLE_SECONDS = 60.0  # a lock file younger than this may be a daemon starting right now


def prepare(directory: str) -> None:
    """Create the socket directory for us alone, or refuse one that is not."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.lstat(directory)
    if st.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to another user")
    if st.st_mode & 0o077:
        os.chmod(directory, 0o700)
    if not zccache_wire.private_dir_ok(directory):
        raise PermissionError(f"{directory} is not a private directory")


def sockets(directory: str) -> list[str]:
    """Every daemon socket in the directory (of any version, any cache directory)."""
    return sorted(glob.glob(os.path.join(glob.escape(directory), "d-*.sock")))


def remove(sock_path: str, keep_log: bool = False) -> None:
    """A daemon's files, its socket last but one: the lock goes last, so nobody
    takes the name for a new daemon while the rest is being removed."""
    base = sock_path[: -len(".sock")]
    for path in (sock_path, *(() if keep_log else (base + ".log",)), sock_path + ".lock"):
        try:
            os.unlink(path)
        except OSError:
            pass


def sweep_dead(directory: str, now: float | None = None) -> int:
    """Remove the files of daemons that are not running; how many daemons' went."""
    now = time.time() if now is None else now
    removed = 0
    for lock_path in glob.glob(os.path.join(glob.escape(directory), "d-*.sock.lock")):
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if now - os.fstat(fd).st_mtime < SETTLE_SECONDS:
                continue  # a daemon may be between creating it and locking it
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # held: that daemon runs
            remove(lock_path[: -len(".lock")])
            removed += 1
        finally:
            os.close(fd)
    for log_path in glob.glob(os.path.join(glob.escape(directory), "d-*.log")):
        sock_path = log_path[: -len(".log")] + ".sock"
        if not os.path.exists(sock_path + ".lock") and now - _mtime(log_path) >= SETTLE_SECONDS:
            remove(sock_path)  # a log with no lock: a daemon that never got as far as locking
    return removed


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
