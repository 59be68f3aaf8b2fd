"""What the two clients (the C launcher and zccache_client.py) and the daemon agree on,
defined once: the version, the command words a client hands to the CLI, the meaning
of every setting a client reads, where the daemon of a cache listens, the compile
request, and the frames on the socket.

The C launcher's header (zccache_wire.h) is generated from this module when the
package is built (``c_header``); a golden test runs both clients in their dry-run
mode (ZCCACHE_WIRE_DUMP) over a matrix of environments and compares the socket path
and the request bytes.

It is the bottom layer: it imports nothing of this project, and the Python client,
the CLI and the daemon all import it. Importing it loads ``os`` and ``sys`` only
(each further module costs about 0.1 ms of a Python client's compile). No
``from __future__ import annotations``: it loads a module.
"""

import os
import sys

__version__ = "0.1.0"

# Sub-commands: the first argument a client hands to the CLI rather than send as a
# compile. The CLI's built-in commands, then those of the built-in plugins (names
# that are also programs on PATH).
BUILTIN_COMMANDS = ("stats", "clear", "help", "start", "stop", "status", "session-start", "session-stats",
                    "session-end", "analyze", "fp")
PLUGIN_COMMANDS = ("pip", "python", "cmake-module-dir", "meson-native-file", "cargo", "rust-artifacts", "exec",
                   "check", "config", "doctor", "symlinks")
COMMANDS = frozenset(BUILTIN_COMMANDS + PLUGIN_COMMANDS)

# -- the settings a client reads, and what each value means ---------------------------

OFF = ("0", "false", "no", "off")  # a switch is off for these (any case, blanks around ignored)
DAEMON_TIMEOUT = 10.0  # seconds of silence (no answer, no KeepAlive) before compiling without the daemon
BACKPRESSURE_RETRIES = 400
# A daemon per remote-tier configuration: its store's tiers are fixed when it starts.
REMOTE_VARS = ("ZCCACHE_REMOTE", "ZCCACHE_REMOTE_READONLY", "ZCCACHE_REMOTE_SECRET", "ZCCACHE_REMOTE_TIMEOUT")
DIR_NAME = "pyzccache"  # below the user's cache and runtime directories
# Test hook (both clients): write the socket path and the request frame to this file
# instead of sending it, with client_pid 0; the golden test compares the two clients.
DUMP_VAR = "ZCCACHE_WIRE_DUMP"


def switch(env, name: str, default: bool) -> bool:
    """A boolean setting: unset or empty is the default, OFF words are off, anything
    else is on. Config, the CLI and both clients read every switch this way."""
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in OFF


def seconds(env, name: str, default: float) -> float:
    """A duration in seconds, fractions allowed; anything that is not a positive
    number is the default (Config reports it; a client just carries on)."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if text.strip("0123456789.eE+-"):  # decimal only: no "inf", "0x10" or "1_0" (C's strtod reads those otherwise)
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if 0 < value <= 1e9 else default


def client_wants_daemon(env) -> bool:
    """A compile goes to the daemon unless ZCCACHE_DAEMON is off or ZCCACHE_DISABLE on
    (then the CLI runs it plainly, and counts it)."""
    return switch(env, "ZCCACHE_DAEMON", True) and not switch(env, "ZCCACHE_DISABLE", False)


# -- the compile request --------------------------------------------------------------

COMPILE_FIELDS = ("client_pid", "working_dir", "compiler", "args", "cwd", "env", "stdin", "umask")


def compile_request(tool: str, args: list, cwd: str, env, umask: int, pid: int) -> dict:
    """The request for one compile, its fields in the order both clients write them:
    CompileEphemeral, or Compile within a session (ZCCACHE_SESSION_ID)."""
    request = {"client_pid": pid, "working_dir": cwd, "compiler": tool, "args": list(args), "cwd": cwd,
               "env": environment(env), "stdin": b"", "umask": umask}
    session = env.get("ZCCACHE_SESSION_ID")
    if session:
        request["t"], request["session_id"] = "Compile", session
    else:
        request["t"] = "CompileEphemeral"
    return request


def timeout_ms(env) -> int:
    """How long a client waits for a word from the daemon, in whole milliseconds."""
    return min(int(seconds(env, "ZCCACHE_DAEMON_TIMEOUT", DAEMON_TIMEOUT) * 1000), 2_000_000_000) or 1


def environment(env) -> list:
    """The environment as [name, value] pairs, as this process was given it.

    In a C locale Python sets LC_CTYPE=C.UTF-8 in its own environment at start-up
    (PEP 538): sent on, it would change the compiler's messages (UTF-8 quotes) and the
    key. The C launcher sends what it was given; so does this, from /proc/self/environ
    when Python may have added to it (the golden test found the difference)."""
    if env is os.environ and "LC_CTYPE" in env and "LC_ALL" not in env:
        try:
            with open("/proc/self/environ", "rb") as f:
                raw = f.read()
        except OSError:
            pass
        else:
            pairs = []
            for entry in raw.split(b"\0"):
                name, eq, value = entry.partition(b"=")
                if eq and name:
                    pairs.append([os.fsdecode(name), os.fsdecode(value)])
            return pairs
    return [[k, v] for k, v in env.items()]


def dump(path: str, sock_path: str, env, request: dict) -> None:
    """The dry run's output: the socket path, the silence it would wait, the request frame."""
    with open(path, "wb") as f:
        f.write(sock_path.encode("utf-8", "surrogateescape") + b"\n" + b"timeout_ms=%d\n" % timeout_ms(env)
                + frame(pack(request)))


def which(name: str, cwd: str, path: str) -> str | None:
    if "/" in name:
        full = os.path.join(cwd, name)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    for directory in path.split(os.pathsep):
        full = os.path.join(directory or ".", name)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return os.path.abspath(full)
    return None


CLIENT_NAMES = ("zccache", "zccache-py", "zccache_client.py")


def next_compiler(name: str, cwd: str, path: str, own: str) -> str | None:
    """Invoked under a compiler's name (masquerade: a link to zccache named gcc, first
    on PATH), the program of that name on PATH that is not zccache itself: not the
    file own (the client's real path) nor the native launcher beside it."""
    selves = {os.path.realpath(own), os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(own)), "zccache"))}
    for directory in path.split(os.pathsep):
        if not directory:
            continue
        full = os.path.join(cwd, directory, name)
        if os.path.isfile(full) and os.access(full, os.X_OK) and os.path.realpath(full) not in selves:
            return os.path.normpath(full)
    return None


def write_all(fd: int, data: bytes) -> None:
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


def start_and_wait(sock_path: str, seconds: float = 3.0) -> bool:
    """Start a daemon and wait until its socket answers connections. False when it
    exits with an error (a broken cache directory, say) or does not come up in time."""
    import time

    pid = 0 if _lock_held(sock_path) else _spawn_daemon()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid and not os.path.exists(sock_path) and not _lock_held(sock_path):
            pid = _spawn_daemon()  # the one starting gave up, or was stopping: ours starts
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


PATH_SETTINGS = ("ZCCACHE_CACHE_DIR", "ZCCACHE_DIR", "ZCCACHE_RUNTIME_DIR")


def absolute_paths(env, cwd: str) -> dict:
    """env with the directories a client names made absolute against the client's own
    working directory (and ~ expanded), as both clients name the socket: the daemon
    runs in /, and must open the cache the command meant."""
    out = dict(env)
    for name in PATH_SETTINGS:
        value = out.get(name)
        if value and not os.path.isabs(value):
            if value.startswith("~"):
                home = out.get("HOME") or os.path.expanduser("~")
                value = home + value[1:] if value == "~" or value.startswith("~/") else os.path.expanduser(value)
            out[name] = os.path.normpath(os.path.join(cwd, value))
    return out


def _lock_held(sock_path: str) -> bool:
    """Whether a daemon holds this socket's lock: one starting (it takes the lock
    before its imports) or serving. Another daemon spawned then would only find the
    lock taken and exit, but its interpreter and imports (40 ms of CPU) would slow
    the one starting: a configure step's second `start --background --warm` did so."""
    import fcntl

    try:
        fd = os.open(sock_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # our lock, if we took it, goes with the descriptor
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
        _close_inherited()
        env = absolute_paths(os.environ, os.getcwd())
        os.chdir("/")
        os.execve(sys.executable, [sys.executable, "-m", "zccache.core.daemon"], env)
    finally:
        os._exit(0)


def _close_inherited() -> None:
    """Every descriptor past stderr: a configure script's `exec 6>&1` is the build
    tool's pipe, and a daemon holding it open makes the build wait for its idle exit."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


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
        return os.path.join(base, DIR_NAME)
    import platformdirs

    return platformdirs.user_cache_dir(DIR_NAME, appauthor=False)


def cache_dir(env: Env) -> str:
    chosen = env.get("ZCCACHE_CACHE_DIR") or env.get("ZCCACHE_DIR")
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else default_cache_dir(env)


def runtime_dir(env: Env) -> str:
    chosen = env.get("ZCCACHE_RUNTIME_DIR")
    if chosen:
        return os.path.abspath(chosen)
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return os.path.join(xdg, DIR_NAME)
    return os.path.join("/tmp", f"{DIR_NAME}-{os.getuid()}")


def daemon_paths(env: Env) -> tuple[str, str]:
    """(runtime directory, socket path) of the daemon serving this cache directory.

    The version is part of the name: after an upgrade, clients start a daemon of their
    own version instead of talking to the old one, which stops when it goes idle."""
    key = f"{__version__}\0{cache_dir(env)}"
    # a daemon per remote-tier configuration: its store's tiers are set when it starts
    key += "".join(f"\0{name}={env[name]}" for name in REMOTE_VARS if env.get(name))
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




def c_header() -> str:
    """zccache_wire.h for the C launcher: this module's definitions, as C."""

    def strings(name: str, values) -> str:
        items = ", ".join('"' + v + '"' for v in values)
        return f"static const char *const {name}[] = {{{items}, NULL}};"

    fields = "\n".join(f'#define ZC_FIELD_{name.upper()} "{name}"' for name in COMPILE_FIELDS)
    return f"""/* Generated from zccache_wire.py when the package is built: do not edit. */
#ifndef ZCCACHE_WIRE_H
#define ZCCACHE_WIRE_H
#define ZCCACHE_VERSION "{__version__}"
#define ZC_DAEMON_TIMEOUT {DAEMON_TIMEOUT!r}
#define ZC_BACKPRESSURE_RETRIES {BACKPRESSURE_RETRIES}
#define ZC_MAX_FRAME {MAX_FRAME}
#define ZC_DIR_NAME "{DIR_NAME}"
#define ZC_DUMP_VAR "{DUMP_VAR}"
#define ZC_COMPILE_FIELDS {len(COMPILE_FIELDS)}
{fields}
{strings("ZC_COMMANDS", sorted(COMMANDS))}
{strings("ZC_OFF", OFF)}
{strings("ZC_REMOTE_VARS", REMOTE_VARS)}
#endif
"""


if __name__ == "__main__":  # python zccache_wire.py header > zccache_wire.h
    if sys.argv[1:] == ["header"]:
        sys.stdout.write(c_header())
