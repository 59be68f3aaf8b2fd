"""A diskcache Disk that touches no file outside the store and runs no stored code.

diskcache takes a value file's name and kind from the database row: a row naming
``../../.ssh/id_rsa`` is a file to read, and to delete when the entry is evicted; a
sub-directory replaced by a symlink is a place to write through; a MODE_PICKLE row
is unpickled, which runs code. In a cache directory a group shares (or one a damaged
database describes) none of that may happen. This Disk reads, writes and removes
only names of the shape it makes itself (``ab/cd/<28 hex>.val``), walks to each
from the store's directory without following a symlink at any step, opens only
regular files, refuses to store or fetch anything but bytes and integers, hands
back a pickled key as its bytes, and gives what it creates the modes the
configured umask allows (so a group can read what a member stored).
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import stat
import threading

import diskcache

_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{28}\.val$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_DB_FILES = ("cache.db", "cache.db-wal", "cache.db-shm")
_classes: dict[int | None, type] = {}
_lock = threading.Lock()


class RefusedValue(ValueError):
    """A row whose file or kind this Disk will not read. Not an OSError, which
    diskcache takes for a value deleted meanwhile and answers with "absent": this
    one reaches the store, which counts the entry damaged and drops it."""


# A new store's database has pages of 1 KiB, not SQLite's 4. A row lives whole in a
# leaf page up to the page's size, so values of 1 to 4 KB (most manifests, records
# and small objects) took a 4 KiB page each, half of it empty: after brotli's cold
# CMake build the database was 520 KB with 85 KB unused, and 468 KB with 32 KB
# unused at 1 KiB (459 KB at 512 B, where an index of 66-byte keys gets deep). Reads
# go through diskcache's memory map, so a value over several pages costs no more
# system calls. A database made before keeps its page size (changing it takes a
# VACUUM out of WAL mode, which another process's open connection would block).
PAGE_SIZE = 1024

# The write-ahead log is checkpointed every 1024 pages (1 MiB) and cut back to 1 MiB
# after: SQLite's defaults let it sit at 4 MiB and more beside a running daemon's
# store, which is what a CI job that saves the cache directory would carry.
WAL_SETTINGS = {"sqlite_wal_autocheckpoint": (1 << 20) // PAGE_SIZE, "sqlite_journal_size_limit": 1 << 20}


def create_db(directory: str) -> None:
    """A new store's database, made with our page size before diskcache opens it:
    diskcache sets its pragmas in name order, WAL mode (which fixes the page size of
    a new file) before the page size."""
    path = os.path.join(directory, "cache.db")
    if os.path.lexists(path):
        return
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        con.execute("PRAGMA journal_mode = wal")
    finally:
        con.close()


def checkpoint(cache: diskcache.Cache) -> None:
    """Fold a cache's write-ahead log into its database and cut it to nothing."""
    try:
        cache._sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except Exception:
        pass  # another process mid-transaction: the log stays, and log_bytes says so


def log_bytes(cache: diskcache.Cache) -> int:
    """The bytes of a cache's write-ahead log: written since the last checkpoint."""
    try:
        return os.stat(os.path.join(cache.directory, "cache.db-wal")).st_size
    except OSError:
        return 0


def disk_class(umask: int | None) -> type[diskcache.Disk]:
    """The Disk for a umask; diskcache wants a class, and a class attribute keeps the
    setting out of the database's Settings table (where any writer could change it)."""
    with _lock:
        cls = _classes.get(umask)
        if cls is None:
            cls = _classes[umask] = type("SafeDisk", (SafeDisk,), {"umask": umask})
        return cls


def make_cache_dirs(directory: str, umask: int | None) -> None:
    """The cache directory and its store: the user's alone (0700) by default;
    with a umask set, what it allows, on the ones we own, however they were made."""
    mode = 0o700 if umask is None else 0o777 & ~umask
    os.makedirs(os.path.dirname(directory) or ".", exist_ok=True)
    for path in (directory, os.path.join(directory, "store")):
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            pass
        if umask is not None:
            st = os.stat(path)
            if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o777 != mode:
                os.chmod(path, (stat.S_IMODE(st.st_mode) & ~0o777) | mode)  # keeps a setgid bit


def share_db_files(directory: str, umask: int | None) -> None:
    """The database files, created by SQLite with the process umask, get the
    configured one (only ours: another member's are theirs to set)."""
    if umask is None:
        return
    for name in _DB_FILES:
        try:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid():
                os.fchmod(fd, 0o666 & ~umask)
        except OSError:
            pass
        finally:
            os.close(fd)


class SafeDisk(diskcache.Disk):
    umask: int | None = None

    # -- what may be stored ------------------------------------------------------------

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if type(value) is not bytes and type(value) is not int:
            raise TypeError("the store keeps bytes and integers only")
        return super().store(value, read, key)

    def get(self, key, raw):
        if raw:
            return super().get(key, raw)
        return bytes(key)  # a pickled key (never ours): its bytes, never unpickled

    def fetch(self, mode, filename, value, read):
        if mode == diskcache.core.MODE_RAW:
            return super().fetch(mode, filename, value, read)
        if mode != diskcache.core.MODE_BINARY:
            raise RefusedValue("a stored value of a refused kind")
        fd = self._open_value(filename)
        reader = os.fdopen(fd, "rb")
        if read:
            return reader
        with reader:
            return reader.read()

    # -- files -------------------------------------------------------------------------

    def _write(self, full_path, iterator, mode, encoding=None):
        if mode != "xb":
            raise TypeError("the store writes bytes only")
        parts = _parts(os.path.relpath(full_path, self._directory))
        for attempt in range(10):
            try:
                dir_fd = self._walk(parts[:2], create=True)
            except FileNotFoundError:  # another process removed an emptied directory
                if attempt == 9:
                    raise
                continue
            try:
                fd = os.open(parts[2], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o666, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
            with os.fdopen(fd, "wb") as writer:
                if self.umask is not None:
                    os.fchmod(writer.fileno(), 0o666 & ~self.umask)
                size = 0
                for chunk in iterator:
                    size += len(chunk)
                    writer.write(chunk)
                return size
        raise OSError(errno.EIO, "could not create a value file")

    def remove(self, file_path):
        try:
            parts = _parts(file_path)
            root = os.open(self._directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (OSError, RefusedValue):
            return  # a name of a foreign shape: the row goes, nothing outside is touched
        fds = [root]
        try:
            for part in parts[:2]:
                fds.append(os.open(part, _DIR_FLAGS, dir_fd=fds[-1]))
            os.unlink(parts[2], dir_fd=fds[-1])
            # empty sub-directories go, as diskcache's removedirs would
            os.rmdir(parts[1], dir_fd=fds[1])
            os.rmdir(parts[0], dir_fd=fds[0])
        except OSError:
            pass
        finally:
            for fd in fds:
                os.close(fd)

    def _open_value(self, filename) -> int:
        parts = _parts(filename)
        try:
            dir_fd = self._walk(parts[:2], create=False)
            try:
                fd = os.open(parts[2], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise RefusedValue("a value reached through a symlink") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RefusedValue("a value that is not a regular file")
        os.set_blocking(fd, True)
        return fd

    def _walk(self, parts: tuple[str, ...], create: bool) -> int:
        """A descriptor of directory/parts..., no step a symlink; created when asked."""
        fd = os.open(self._directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts:
                if create:
                    try:
                        os.mkdir(part, 0o777 if self.umask is None else 0o700, dir_fd=fd)
                        created = True
                    except FileExistsError:
                        created = False
                else:
                    created = False
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                if created and self.umask is not None:
                    # the set-group-ID bit a shared directory passes down stays
                    os.fchmod(child, (os.fstat(child).st_mode & stat.S_ISGID) | (0o777 & ~self.umask))
                os.close(fd)
                fd = child
            return fd
        except BaseException:
            os.close(fd)
            raise


def _parts(name) -> tuple[str, str, str]:
    if not isinstance(name, str) or not _NAME.match(name):
        raise RefusedValue("a value file name of a foreign shape")
    a, b, leaf = name.split("/")
    return a, b, leaf
