"""The ``zccache`` command: the thin client every compile of a build starts.

Its whole cost is the interpreter's start-up plus what it imports, so everything a
hit needs is in this one top-level module: where the daemon of this cache listens,
the frames it speaks, and the client. Importing it loads nothing but ``os``,
``sys`` and ``_socket`` (each module more, a package or not, cost about 0.1 ms per
compile). A hit is one connect, one frame out, one frame back. Anything else (a
sub-command, no daemon, a daemon that dies mid-request, an Error answer) goes to
the in-process CLI, which gives the same result more slowly, so a build never fails
because of the daemon.

The daemon and the CLI import the same names from here; nothing here imports them.
No `from __future__ import annotations`: it loads a module, and the annotations
below are plain builtins that evaluate cheaply.
"""

import os
import sys

__version__ = "0.1.0"

_COMMANDS = frozenset({
    "stats", "clear", "help", "start", "stop", "status", "session-start", "session-stats", "session-end",
    "analyze", "fp", "cmake-module-dir", "pip", "python", "meson-native-file", "cargo", "rust-artifacts", "exec",
    "check", "config", "doctor",
})
_OFF = ("0", "false", "no", "off")
BACKPRESSURE_RETRIES = 400
DAEMON_TIMEOUT = 10.0  # seconds of silence (no answer, no KeepAlive) before compiling without the daemon


def main() -> int:
    args = sys.argv[1:]
    if not args or args[0][:1] == "-" or args[0] in _COMMANDS:
        return _in_process(args)
    env = os.environ
    if env.get("ZCCACHE_DAEMON", "1").lower() in _OFF or env.get("ZCCACHE_DISABLE", "0").lower() not in _OFF:
        return _in_process(args)
    cwd = os.getcwd()
    tool = _which(args[0], cwd, env.get("PATH", os.defpath))
    if tool is None:
        return _in_process(args)
    directory, sock_path = daemon_paths(env)
    started = False
    if not private_dir_ok(directory):
        if os.path.lexists(directory) or not _start_and_wait(sock_path):
            return _in_process(args)  # not ours alone (never trusted), or no daemon came up
        started = True
    umask = os.umask(0o022)
    os.umask(umask)
    request = {
        "client_pid": os.getpid(), "working_dir": cwd, "compiler": tool, "args": args[1:], "cwd": cwd,
        "env": [[k, v] for k, v in env.items()], "stdin": b"", "umask": umask,
    }
    session = env.get("ZCCACHE_SESSION_ID")
    if session:
        request["t"], request["session_id"] = "Compile", session
    else:
        request["t"] = "CompileEphemeral"
    silence = _seconds(env.get("ZCCACHE_DAEMON_TIMEOUT"), DAEMON_TIMEOUT)
    for _ in range(BACKPRESSURE_RETRIES):
        try:
            reply = roundtrip(sock_path, request, silence)
        except TimeoutError:
            # A daemon that sends nothing, not even a KeepAlive, is stopped, wedged or
            # swapping: the build must not wait for it.
            _write_all(2, f"zccache: the daemon sent nothing for {silence:g} s; compiling without it\n".encode())
            os.execv(tool, [tool, *args[1:]])
        except (ConnectionRefusedError, FileNotFoundError):
            # No daemon, or the socket of a crashed one: start one and wait for it
            # (once), rather than paying for the whole engine in this process.
            if started or not _start_and_wait(sock_path):
                return _in_process(args)
            started = True
            continue
        except OSError:
            return _in_process(args)  # died mid-request, or cannot talk: compile here
        if reply is None or not isinstance(reply, dict):
            return _in_process(args)
        kind = reply.get("t")
        if kind == "Backpressure":
            import time

            time.sleep(max(1, min(int(reply.get("retry_after_ms", 10)), 1000)) / 1000)
            continue
        if kind != "CompileResult":
            return _in_process(args)  # an Error: the in-process path will say what is wrong
        if reply.get("passthrough"):
            os.execv(tool, [tool, *args[1:]])
        _write_all(1, reply.get("stdout", b""))
        _write_all(2, reply.get("stderr", b""))
        # Everything is written (unbuffered); skip the interpreter's teardown.
        os._exit(int(reply.get("exit_code", 1)))
    return _in_process(args)


def _seconds(text: str | None, default: float) -> float:
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default


def _in_process(args: list[str]) -> int:
    from zccache.core.cli import main as cli_main

    return cli_main(args)


def _which(name: str, cwd: str, path: str) -> str | None:
    if "/" in name:
        full = os.path.join(cwd, name)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    for directory in path.split(os.pathsep):
        full = os.path.join(directory or ".", name)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return os.path.abspath(full)
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def roundtrip(sock_path: str, request: dict, timeout: float | None = None):
    """Send one request, read one answer (None when the daemon closed without one).
    KeepAlive frames before the answer are read past; timeout bounds each silence,
    not the whole request (a long compile is not cut short)."""
    import _socket

    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        if timeout is not None:
            s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(frame(pack(request)))
        while True:
            payload = recv_frame(s)
            if payload is None:
                return None
            try:
                answer = unpack(payload)
            except WireError:
                return None
            if not (isinstance(answer, dict) and answer.get("t") == "KeepAlive"):
                return answer
    finally:
        s.close()


def _start_and_wait(sock_path: str, seconds: float = 3.0) -> bool:
    """Start a daemon and wait until its socket answers connections. False when it
    exits with an error (a broken cache directory, say) or does not come up in time."""
    import time

    pid = _spawn_daemon()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pid:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = 0, 0
            if done == pid:
                pid = 0
                if status != 0:
                    return False  # it failed; exit 0 means another daemon holds the lock
        if os.path.exists(sock_path):
            import _socket

            probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                probe.connect(sock_path)
                return True
            except OSError:
                pass  # bound, not yet listening; or stale
            finally:
                probe.close()
        time.sleep(0.005)
    return False


def _spawn_daemon() -> int:
    """Start a daemon for this cache in the background, detached from the build's
    terminal and pipes (a build tool waits for its children's output pipes to close).
    Returns the child's pid (0 when it could not fork)."""
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        directory, sock_path = daemon_paths(os.environ)
        log = null
        if private_dir_ok(directory) or _make_private(directory):
            log = os.open(sock_path[: -len(".sock")] + ".log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        os.chdir("/")
        os.execv(sys.executable, [sys.executable, "-m", "zccache.core.daemon"])
    finally:
        os._exit(0)


def _make_private(directory: str) -> bool:
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return False
    return private_dir_ok(directory)


# -- where the daemon of a cache directory listens -----------------------------------
# One daemon serves one cache directory for one user: its socket is named after a
# digest of the cache directory, inside a per-user runtime directory of mode 0700.

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
    key = f"{__version__}\0{cache_dir(env)}"
    # a daemon per remote-tier configuration: its store's tiers are set when it starts
    key += "".join(f"\0{name}={env[name]}" for name in _REMOTE_VARS if env.get(name))
    tag = _fnv64(key.encode("utf-8", "surrogateescape"))
    directory = runtime_dir(env)
    return directory, os.path.join(directory, f"d-{tag}.sock")


_REMOTE_VARS = ("ZCCACHE_REMOTE", "ZCCACHE_REMOTE_READONLY", "ZCCACHE_REMOTE_SECRET", "ZCCACHE_REMOTE_TIMEOUT")


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


# -- frames on the daemon socket: a 4-byte big-endian length, then one msgpack map ---
# ``import msgpack`` alone pulls in ``datetime`` (about 3 ms, a third of the
# interpreter's own start-up), so the client speaks through this minimal codec for
# the msgpack subset the protocol uses: nil, bool, int, float, str, bin, array, map.
# The daemon decodes with msgpack itself; the tests check that both agree.

MAX_FRAME = 256 * 1024 * 1024


class WireError(ValueError):
    pass


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def pack(obj) -> bytes:
    out: list[bytes] = []
    _pack(obj, out)
    return b"".join(out)


def _pack(obj, out: list[bytes]) -> None:
    if obj is None:
        out.append(b"\xc0")
    elif obj is True:
        out.append(b"\xc3")
    elif obj is False:
        out.append(b"\xc2")
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(bytes((obj,)))
        elif -32 <= obj < 0:
            out.append((obj & 0xFF).to_bytes(1, "big"))
        elif 0 <= obj < 1 << 64:
            out.append(b"\xcf" + obj.to_bytes(8, "big"))
        elif -(1 << 63) <= obj < 0:
            out.append(b"\xd3" + obj.to_bytes(8, "big", signed=True))
        else:
            raise WireError("integer out of range")
    elif isinstance(obj, float):
        import struct

        out.append(b"\xcb" + struct.pack(">d", obj))
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogateescape")
        n = len(data)
        if n < 32:
            out.append(bytes((0xA0 | n,)))
        else:
            out.append(b"\xdb" + n.to_bytes(4, "big"))
        out.append(data)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        out.append(b"\xc6" + len(data).to_bytes(4, "big"))
        out.append(data)
    elif isinstance(obj, (list, tuple)):
        out.append(b"\xdd" + len(obj).to_bytes(4, "big"))
        for item in obj:
            _pack(item, out)
    elif isinstance(obj, dict):
        out.append(b"\xdf" + len(obj).to_bytes(4, "big"))
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    else:
        raise WireError(f"cannot encode {type(obj).__name__}")


def unpack(data: bytes):
    value, end = _unpack(data, 0)
    if end != len(data):
        raise WireError("trailing bytes")
    return value


def _unpack(b: bytes, i: int):
    if i >= len(b):
        raise WireError("truncated")
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xE0:
        return t - 0x100, i
    if 0xA0 <= t <= 0xBF:
        return _str(b, i, t & 0x1F)
    if 0x90 <= t <= 0x9F:
        return _array(b, i, t & 0x0F)
    if 0x80 <= t <= 0x8F:
        return _map(b, i, t & 0x0F)
    if t == 0xC0:
        return None, i
    if t == 0xC2:
        return False, i
    if t == 0xC3:
        return True, i
    sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    if t in sizes:
        n = sizes[t]
        return int.from_bytes(_take(b, i, n), "big"), i + n
    signed = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
    if t in signed:
        n = signed[t]
        return int.from_bytes(_take(b, i, n), "big", signed=True), i + n
    if t in (0xCA, 0xCB):
        import struct

        n = 4 if t == 0xCA else 8
        return struct.unpack(">f" if n == 4 else ">d", _take(b, i, n))[0], i + n
    lengths = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4, 0xDC: 2, 0xDD: 4, 0xDE: 2, 0xDF: 4}
    if t in lengths:
        n = lengths[t]
        count = int.from_bytes(_take(b, i, n), "big")
        i += n
        if t in (0xD9, 0xDA, 0xDB):
            return _str(b, i, count)
        if t in (0xC4, 0xC5, 0xC6):
            return _take(b, i, count), i + count
        if t in (0xDC, 0xDD):
            return _array(b, i, count)
        return _map(b, i, count)
    raise WireError(f"unsupported type byte 0x{t:02x}")


def _take(b: bytes, i: int, n: int) -> bytes:
    if i + n > len(b):
        raise WireError("truncated")
    return b[i : i + n]


def _str(b: bytes, i: int, n: int):
    return _take(b, i, n).decode("utf-8", "surrogateescape"), i + n


def _array(b: bytes, i: int, n: int):
    items = []
    for _ in range(n):
        value, i = _unpack(b, i)
        items.append(value)
    return items, i


def _map(b: bytes, i: int, n: int):
    out = {}
    for _ in range(n):
        key, i = _unpack(b, i)
        value, i = _unpack(b, i)
        if isinstance(key, (dict, list)):  # found by fuzzing: a TypeError, not our error
            raise WireError("a map key that is a map or an array")
        out[key] = value
    return out, i


def recv_frame(sock, limit: int = MAX_FRAME) -> bytes | None:
    """One frame's payload; None when the peer closed before a whole frame."""
    header = _recv_exact(sock, 4)
    if header is None:
        return None
    n = int.from_bytes(header, "big")
    if n > limit:
        raise WireError(f"frame of {n} bytes is over the limit")
    return _recv_exact(sock, n)


def _recv_exact(sock, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


if __name__ == "__main__":
    sys.exit(main())
