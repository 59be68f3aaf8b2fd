"""The resident per-user daemon: one round trip per compile.

It keeps the plugin manager, the open store and the stat-validated hash memo in
memory, so a hit costs the client one connect, one frame out and one frame back.
It is never required: every client falls back to compiling in process.

Safety: the socket lives in a per-user directory of mode 0700 and every peer's uid
is checked (SO_PEERCRED) before a byte is read. A lock file held for the daemon's
lifetime makes concurrent start-ups (a -j build's first compiles) settle on one
daemon; a socket file left by a crashed daemon is removed by the next one. A bad
frame gets an Error answer or a closed connection, never a dead daemon.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from zccache import __version__
import zccache_wire
from zccache_wire import MAX_FRAME, WireError, recv_frame
from zccache.core import runtime_dir
from zccache.core.hashing import StatSig, stat_sig

_PEERCRED = struct.Struct("3i")
_DRAIN_SECONDS = 30.0  # how long a stopping daemon lets requests in flight finish
KEEPALIVE_SECONDS = 1.0
_LONG = frozenset({"Compile", "CompileEphemeral", "GenericToolExec", "LinkEphemeral"})


def _client_gone(conn: socket.socket) -> bool:
    """True when the client has closed its end: nothing more to read, ever."""
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # still connected, waiting for its answer
    except OSError:
        return True


class _Watch:
    """A connection whose request is being served: when it last heard from us."""

    __slots__ = ("conn", "last", "lock")

    def __init__(self, conn: socket.socket, last: float) -> None:
        self.conn = conn
        self.last = last
        self.lock = threading.Lock()


def peer_allowed(creds: bytes, uid: int) -> bool:
    """SO_PEERCRED answer (pid, uid, gid) -> may this peer talk to us?"""
    if len(creds) != _PEERCRED.size:
        return False
    _pid, peer_uid, _gid = _PEERCRED.unpack(creds)
    return peer_uid == uid


class Daemon:
    """The resident server of one cache directory for one user: it keeps the engine's
    memos, the store's memory level and the sessions warm between compiles, so that
    a hit is one round trip. Requests are the messages of core/protocol.py, framed as
    zccache_wire.py says; each connection is served by a worker thread, compiles are
    bounded by ZCCACHE_MAX_JOBS (Backpressure past it), a KeepAlive goes out every
    second of a long run, and it stops when idle, told to, or when its cache
    directory or socket is no longer the one it started with."""

    def __init__(self, env: dict[str, str], socket_path: str) -> None:
        from zccache.core.config import Config
        from zccache.core.engine import Engine
        from zccache.core.fingerprint import Fingerprints
        from zccache.core.plugins import make_manager
        from zccache.core.plans import Plans
        from zccache.core.sessions import Sessions
        from zccache.core.stats import StatsRecorder
        from zccache.core.store import Store

        self.env = env
        self.config = Config.from_env(env)
        self.socket_path = socket_path
        self.socket_identity: tuple[int, int] | None = None  # set once bound
        # Result values held in memory spare a hit the read of its result (a SQLite
        # transaction, and a file for a large object); ZCCACHE_DAEMON_MEMORY_MB=0 turns it off.
        from zccache.core.setting_defs import check

        settings = check(env).values
        self.store = Store.for_config(self.config, memory_bytes=settings["ZCCACHE_DAEMON_MEMORY_MB"] << 20)
        self.store.fill_in_background()
        self._cache_identity = _identity(self.config.cache_dir)
        from zccache.core.toolchains import tool_memo

        tool_memo.keep_in(self.store)  # what tools said of themselves outlives this daemon
        self.pm = make_manager(memo_dir=self.config.cache_dir)
        from zccache.core.tiers import attach

        self.stats = StatsRecorder(self.store, buffered=True)
        self._news_lock = threading.Lock()
        self._said: set[str] = set()  # problems told to a client already: once per daemon
        self._notices: list[str] = []  # said on the stderr of the next compile answered
        attach(self.store, self.pm, self.config, self._notice, count=self.stats.add)
        self.store.read_ahead()
        self.pm.register(self.stats)
        self.engine = Engine(self.config, self.store, self.pm.hook, warn=self._log)
        self.sessions = Sessions()
        self.fingerprints = Fingerprints(self.store)
        self.started = time.time()
        self.idle_seconds = settings["ZCCACHE_IDLE_TIMEOUT"]
        self.max_active = settings["ZCCACHE_MAX_JOBS"] or max(4, 4 * (os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._watched: set[_Watch] = set()
        self._active = 0
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None  # set by serve
        self._idle_workers = 0  # workers blocked in accept
        self.counts = {"hits": 0, "misses": 0, "compiles": 0, "uncacheable": 0, "failed": 0, "requests": 0,
                       "backpressure": 0, "rejected_peers": 0, "bad_frames": 0, "abandoned": 0}
        self._handlers: dict[str, Callable[[dict[str, Any]], bytes]] = {
            "Ping": lambda f: self._reply("Pong"),
            "Shutdown": self._shutdown,
            "Status": lambda f: self._reply("Status", status=self.status()),
            "Lookup": self._lookup,
            "Store": self._store,
            "SessionStart": self._session_start,
            "Compile": self._compile_in_session,
            "SessionEnd": self._session_end,
            "Clear": self._clear,
            "CompileEphemeral": self._compile_ephemeral,
            "LinkEphemeral": self._link,
            "SessionStats": self._session_stats,
            "FingerprintCheck": self._fp_check,
            "FingerprintMarkSuccess": lambda f: self._fp(self.fingerprints.mark_success, f),
            "FingerprintMarkFailure": lambda f: self._fp(self.fingerprints.mark_failure, f),
            "FingerprintInvalidate": lambda f: self._fp(self.fingerprints.invalidate, f),
            "ListRustArtifacts": self._rust_artifacts,
            "GenericToolExec": self._generic_exec,
            "ReleaseWorktreeHandles": self._release,
            "ZeroStats": self._zero_stats,
            "Warm": self._warm,
        }
        self._settings_memo: dict[tuple, tuple] = {}  # see _settings
        self.plans = Plans()  # classifications of commands seen before (plans.py)
        self._warming = 0  # Warm requests whose tools are still being asked
        self._warmed = 0  # identities a Warm request has computed

    # -- serving -------------------------------------------------------------------------

    def serve(self, listener: socket.socket) -> None:
        """Serve until stopped or idle. Workers accept connections themselves (one
        blocked in accept is woken per connection), and this thread keeps house every
        half second: a connection handed from an accepting thread to a worker woke a
        second thread per compile, 65 µs of a hit after a pause (285 against 350 µs
        in a stand-alone test)."""
        threading.Thread(target=self._keepalive, name="keepalive", daemon=True).start()
        listener.settimeout(None)
        self._listener = listener
        self._start_worker()
        checkpointed = (-1, 0)  # the request count and the logs' bytes after the last checkpoint
        while not self._stop.wait(0.5):
            if self._cache_dir_moved() or self._socket_moved():
                break
            self.stats.flush()
            self.store.refresh_recency()
            with self._lock:
                quiet = self._active == 0
                idle = self._active == 0 and time.monotonic() - self._last > self.idle_seconds
            if quiet and (self.counts["requests"], self.store.log_bytes()) != checkpointed:
                # a pause in the build: fold the write-ahead logs into the databases;
                # again after writes between requests (the counters' flush), never
                # again for a log a reader elsewhere kept from being cut
                self.store.checkpoint()
                checkpointed = (self.counts["requests"], self.store.log_bytes())
            if idle:
                self._log("idle, stopping")
                break
        self._stop.set()
        try:
            listener.shutdown(socket.SHUT_RDWR)  # wakes every worker blocked in accept
        except OSError:
            pass
        self._drain(_DRAIN_SECONDS)

    def _drain(self, seconds: float) -> None:
        """Requests in flight finish, their stores with them, before the store closes:
        a SIGTERM asks the daemon to stop, not to drop a result half made. A client
        whose compile outlasts the wait gets a closed connection and compiles itself."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return
            time.sleep(0.02)
        self._log("stopping with requests still in flight")

    def _start_worker(self) -> None:
        with self._lock:
            self._idle_workers += 1
        threading.Thread(target=self._worker, name="worker", daemon=True).start()

    def _worker(self) -> None:
        """Accept and serve, for as long as the daemon runs. Workers live as long as
        the daemon: the store's SQLite connections are per thread, and opening them
        again for every compile cost a third of a hit. The last idle worker to take a
        connection starts another, so that a -j build's next compile never waits for
        this one."""
        uid = os.getuid()
        listener = self._listener
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # shut down: the daemon stops
            with self._lock:
                self._idle_workers -= 1
                alone = self._idle_workers == 0
            try:
                if self._stop.is_set():
                    conn.close()  # a client the next daemon will serve
                    return
                if alone:
                    self._start_worker()
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
                if not peer_allowed(creds, uid):
                    self.counts["rejected_peers"] += 1
                    conn.close()
                    continue
                self._connection(conn)
            finally:
                with self._lock:
                    self._idle_workers += 1

    def _connection(self, conn: socket.socket) -> None:
        from zccache.core import protocol

        try:
            conn.settimeout(None)
            while True:
                try:
                    payload = recv_frame(conn, MAX_FRAME)
                except WireError as exc:
                    self.counts["bad_frames"] += 1
                    conn.sendall(self._reply("Error", message=str(exc)))
                    _drain(conn)  # so the answer is not lost to a reset
                    return
                if payload is None:
                    return  # closed, or closed mid-frame
                try:
                    kind, fields = protocol.decode(payload, protocol.REQUESTS)
                except protocol.ProtocolError as exc:
                    self.counts["bad_frames"] += 1
                    conn.sendall(self._reply("Error", message=str(exc)))
                    continue
                if kind in _LONG and _client_gone(conn):
                    # It gave up on us (a daemon stopped and resumed, say) and compiled
                    # by itself: running its compile now would write into its build late.
                    self.counts["abandoned"] += 1
                    return
                if kind in _LONG:
                    answer = self._while_alive(conn, kind, fields)
                else:
                    answer = self._dispatch(kind, fields)
                conn.sendall(answer)
                if kind == "Shutdown":
                    return
        except OSError:
            pass  # the client went away; nothing to tell it
        finally:
            conn.close()

    def _while_alive(self, conn: socket.socket, kind: str, fields: dict[str, Any]) -> bytes:
        """Dispatch a request that may run a compiler, telling the client every
        KEEPALIVE_SECONDS that the daemon is still at it (keepalive thread); the
        answer is returned with the connection's lock held by nobody."""
        watch = _Watch(conn, time.monotonic())
        with self._lock:
            self._watched.add(watch)
        try:
            answer = self._dispatch(kind, fields)
        finally:
            with self._lock:
                self._watched.discard(watch)
            watch.lock.acquire()  # a KeepAlive being written finishes first
            watch.lock.release()
        return answer

    def _keepalive(self) -> None:
        frame = self._reply("KeepAlive")
        while not self._stop.wait(KEEPALIVE_SECONDS / 2):
            now = time.monotonic()
            with self._lock:
                due = [w for w in self._watched if now - w.last >= KEEPALIVE_SECONDS]
            for watch in due:
                with watch.lock:
                    with self._lock:
                        if watch not in self._watched:
                            continue
                    try:
                        watch.conn.sendall(frame)
                        watch.last = now
                    except OSError:
                        pass  # the client went away; the compile finishes for the cache

    def _dispatch(self, kind: str, fields: dict[str, Any]) -> bytes:
        heavy = kind in ("Compile", "CompileEphemeral", "GenericToolExec", "LinkEphemeral")
        with self._lock:
            self.counts["requests"] += 1
            self._last = time.monotonic()
            if heavy and self._active >= self.max_active:
                self.counts["backpressure"] += 1
                depth = self._active
                return self._reply("Backpressure", queue_depth=depth, retry_after_ms=5 + (os.getpid() + depth) % 20,
                                   reason="compile_queue_full")
            if heavy:
                self._active += 1
        try:
            return self._handlers[kind](fields)
        except Exception as exc:  # one request's failure never takes the daemon down
            text = str(exc).strip().splitlines()
            self._log(f"{kind} failed: {type(exc).__name__}: {text[0] if text else ''}")
            return self._reply("Error", message=f"{type(exc).__name__}: {text[0] if text else ''}")
        finally:
            if heavy:
                with self._lock:
                    self._active -= 1
                    self._last = time.monotonic()

    @staticmethod
    def _reply(kind: str, **fields: Any) -> bytes:
        from zccache.core.protocol import response

        return response(kind, **fields)

    def _log(self, message: str) -> None:
        sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} zccache daemon {os.getpid()}: {message}\n")
        sys.stderr.flush()

    def _notice(self, message: str) -> None:
        """Something the user must hear (a remote that cannot be used): logged, and
        said once on the stderr of the next compile this daemon answers."""
        self._log(message)
        with self._news_lock:
            if message not in self._said:
                self._said.add(message)
                self._notices.append(message)

    def _news(self, config) -> bytes:
        """The lines not yet said to any client: this request's bad settings, and the
        notices since the last answer. A build hears each once per daemon start."""
        if not config.problems and not self._notices:
            return b""
        with self._news_lock:
            fresh = [p for p in config.problems if p not in self._said]
            self._said.update(fresh)
            fresh += self._notices
            self._notices.clear()
        return "".join(f"zccache: {line}\n" for line in fresh).encode()

    # -- requests --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        self.stats.flush()  # `zccache stats` asks for this first, so its counters are current
        held, limit = self.store.memory_held()  # results and manifests (ZCCACHE_DAEMON_MEMORY_MB)
        return {
            "version": __version__,
            "pid": os.getpid(),
            "uptime_secs": round(time.time() - self.started, 3),
            "cache_dir": self.config.cache_dir,
            "socket": self.socket_path,
            "idle_timeout_secs": self.idle_seconds,
            "active_sessions": len(self.sessions),
            "active_requests": self._active,
            "memory_bytes": _rss_bytes(),
            "memory_tier_bytes": held,
            "memory_tier_limit": limit,
            "cache_size": self.store.volume(),
            "entries": self.store.entries(),
            "warming": self._warming,
            "warmed": self._warmed,
            **self.counts,
        }

    def _zero_stats(self, fields: dict[str, Any]) -> bytes:
        """ccache's -z: the store's counters and the figures `zccache status` shows,
        after the buffered ones are written (else they would come back)."""
        self.stats.flush()
        self.store.zero()
        with self._lock:
            for name in self.counts:
                self.counts[name] = 0
        return self._reply("StatsZeroed")

    def _shutdown(self, fields: dict[str, Any]) -> bytes:
        self.stop()
        return self._reply("ShuttingDown")

    def stop(self) -> None:
        """Stop now, not at the next half-second tick: `zccache stop` waits for the
        socket to go. serve() wakes on the flag and shuts the listener down."""
        self._stop.set()

    def _cache_dir_moved(self) -> bool:
        """The cache directory removed (rm -rf, zccache clear by hand) or replaced
        under us: the open store would go on serving and filling deleted files, and
        the next daemon would see none of it. Stop; the next compile starts afresh."""
        if _identity(self.config.cache_dir) == self._cache_identity:
            return False
        if not self._stop.is_set():
            self._log("the cache directory was removed or replaced: stopping")
            self._stop.set()
        return True

    def _socket_moved(self) -> bool:
        """Our socket removed, or its directory replaced by someone else's: no client
        reaches us any more (the client refuses a directory that is not the user's
        own), so serving on would only keep a store open. Stop."""
        if self.socket_identity is None or _identity(self.socket_path, follow=False) == self.socket_identity:
            return False
        self._log("the socket or its directory was removed or replaced: stopping")
        self._stop.set()
        return True

    def _prepare(self, tool: str, fields: dict[str, Any]):
        """(env, config, umask) for running tool as the client asks, or the Error reply."""
        from zccache.core.launcher import is_self

        if self._cache_dir_moved():
            return self._reply("Error", message="the cache directory was removed or replaced; this daemon stops "
                                                "(the next compile starts a new one)")
        if not os.path.isabs(tool) or is_self(tool):
            return self._reply("Error", message="the compiler must be an absolute path to a real compiler")
        env, config = self._settings(fields)
        local = self.store.local
        if (config.maxsize, config.max_files) != (local.size_limit, local.max_files):
            local.set_limits(config.maxsize, config.max_files)  # set since this daemon started (-M, -F)
        self.store.compression = config.compression  # and -o compression_level=...
        umask = fields.get("umask")
        return env, config, umask if isinstance(umask, int) and 0 <= umask <= 0o777 else None

    def _settings(self, fields: dict[str, Any]) -> tuple[dict[str, str], Any]:
        """The environment (zccache.conf under it) and the Config a request's env
        gives. Kept by the env's exact pairs and the cwd while zccache.conf keeps its
        stat signature: a build sends the same env with every compile, and checking
        every setting again was a sixth of a hit's time here. The env is shared
        between the requests that sent it, and nothing downstream writes to it."""
        from zccache.core.config import Config
        from zccache.core.settings_file import path_for, with_file

        pairs, cwd = fields["env"], fields.get("cwd")
        key = (tuple(map(tuple, pairs)) if pairs is not None else None, cwd)
        held = self._settings_memo.get(key)
        if held is not None and _signature(held[0]) == held[1]:
            return held[2], held[3]
        env = {str(k): str(v) for k, v in pairs} if pairs is not None else dict(self.env)
        if isinstance(cwd, str) and os.path.isabs(cwd):
            env = zccache_wire.absolute_paths(env, cwd)  # a relative cache dir is the client's cwd's
        conf = path_for(env)
        sig = _signature(conf)  # before the read: a change after it is seen next time
        env = with_file(env)  # zccache.conf once, for the config and the families alike
        config = Config.from_env(env)  # a bad value is replaced, and said (_news)
        if len(self._settings_memo) >= 64:
            self._settings_memo.clear()
        self._settings_memo[key] = (conf, sig, env, config)
        return env, config

    def _compile(self, fields: dict[str, Any], session) -> bytes:
        from zccache.core.launcher import Exec, launch

        compiler, args, cwd = fields["compiler"], [str(a) for a in fields["args"]], fields["cwd"]
        if fields["stdin"]:
            return self._reply("Error", message="stdin input is passed through by the client")
        prepared = self._prepare(compiler, fields)
        if isinstance(prepared, bytes):
            return prepared
        env, config, umask = prepared
        decision = launch([compiler, *args], cwd, env, config, self.pm, self.engine, umask=umask, plans=self.plans)
        if isinstance(decision, Exec):
            self._count("passthrough")
            if session is not None:
                from zccache.core.invocation import Outcome

                session.record(compiler, args, None, Outcome(kind="passthrough", reason=decision.reason,
                                                                  action=decision.action))
            return self._reply("CompileResult", exit_code=0, stdout=b"", stderr=self._news(config), cached=False,
                               passthrough=True, reason=decision.reason)
        for inv, outcome in decision.results:
            self._count(outcome.kind)
            if session is not None:
                session.record(compiler, args, inv, outcome)
        cached = bool(decision.results) and all(o.kind == "hit" for _, o in decision.results)
        return self._reply("CompileResult", exit_code=decision.returncode, stdout=decision.stdout,
                           stderr=self._news(config) + decision.stderr, cached=cached)

    def _count(self, kind: str) -> None:
        name = {"hit": "hits", "miss": "misses", "passthrough": "uncacheable", "failed": "failed"}.get(kind)
        with self._lock:
            self.counts["compiles"] += 1
            if name:
                self.counts[name] += 1

    def _compile_ephemeral(self, fields: dict[str, Any]) -> bytes:
        return self._compile(fields, None)

    def _compile_in_session(self, fields: dict[str, Any]) -> bytes:
        session = self.sessions.get(fields["session_id"])
        if session is None:
            return self._reply("Error", message=f"unknown session {fields['session_id'][:64]}")
        return self._compile(fields, session)

    def _session_start(self, fields: dict[str, Any]) -> bytes:
        from zccache.core.sessions import SessionError

        try:
            session = self.sessions.start(fields["client_pid"], fields["working_dir"], fields["track_stats"],
                                          fields["journal_path"])
        except SessionError as exc:
            return self._reply("Error", message=str(exc))
        return self._reply("SessionStarted", session_id=session.id, journal_path=session.journal_path)

    def _session_stats(self, fields: dict[str, Any]) -> bytes:
        session = self.sessions.get(fields["session_id"])
        stats = session.stats() if session is not None and session.track_stats else None
        return self._reply("SessionStatsResult", stats=stats)

    def _session_end(self, fields: dict[str, Any]) -> bytes:
        session = self.sessions.end(fields["session_id"])
        if session is None:
            return self._reply("Error", message=f"unknown session {fields['session_id'][:64]}")
        return self._reply("SessionEnded", stats=session.stats() if session.track_stats else None)

    def _clear(self, fields: dict[str, Any]) -> bytes:
        before = self.store.volume()
        removed = self.store.clear()
        self.engine.hashes = type(self.engine.hashes)()
        return self._reply("Cleared", artifacts_removed=removed, metadata_cleared=0, dep_graph_contexts_cleared=0,
                           on_disk_bytes_freed=max(0, before - self.store.volume()))

    def _lookup(self, fields: dict[str, Any]) -> bytes:
        artifact = self.store.get("a:" + fields["cache_key"])
        found = isinstance(artifact, dict)
        return self._reply("LookupResult", found=found, artifact=artifact if found else None)

    def _store(self, fields: dict[str, Any]) -> bytes:
        artifact = fields["artifact"]
        outputs = artifact.get("outputs", [])
        ok = isinstance(outputs, list) and all(
            isinstance(o, list) and len(o) == 2 and isinstance(o[0], str) and isinstance(o[1], bytes) for o in outputs
        )
        if not ok:
            return self._reply("Error", message="artifact.outputs must be a list of [name, bytes]")
        self.store.set("a:" + fields["cache_key"], artifact)
        return self._reply("StoreResult", stored=True)

    def _link(self, fields: dict[str, Any]) -> bytes:
        """A link (or archive) asked for by name: served like a compile, through the
        link and archive families; a passthrough is run here, since the asker wants
        the result and not an instruction."""
        from zccache.core.launcher import Exec, launch
        from zccache.core.process import run_tool

        tool, args, cwd = fields["tool"], [str(a) for a in fields["args"]], fields["cwd"]
        prepared = self._prepare(tool, fields)
        if isinstance(prepared, bytes):
            return prepared
        env, config, umask = prepared
        decision = launch([tool, *args], cwd, env, config, self.pm, self.engine, umask=umask)
        if isinstance(decision, Exec):
            self._count("passthrough")
            rc, out, err = run_tool([tool, *args], cwd, env, umask)
            return self._reply("LinkResult", exit_code=rc, stdout=out, stderr=self._news(config) + err, cached=False,
                               warning=f"not cached: {decision.reason}")
        for _inv, outcome in decision.results:
            self._count(outcome.kind)
        cached = bool(decision.results) and all(o.kind == "hit" for _, o in decision.results)
        return self._reply("LinkResult", exit_code=decision.returncode, stdout=decision.stdout,
                           stderr=self._news(config) + decision.stderr, cached=cached, warning=None)

    def _fp_check(self, fields: dict[str, Any]) -> bytes:
        from zccache.core.fingerprint import FingerprintError

        try:
            d = self.fingerprints.check(fields["cache_file"], fields["cache_type"], fields["root"],
                                        [str(e) for e in fields["extensions"]], [str(g) for g in fields["include_globs"]],
                                        [str(e) for e in fields["exclude"]])
        except FingerprintError as exc:
            return self._reply("Error", message=str(exc))
        return self._reply("FingerprintCheckResult", decision=d.decision, reason=d.reason, changed_files=d.changed_files)

    def _fp(self, action, fields: dict[str, Any]) -> bytes:
        from zccache.core.fingerprint import FingerprintError

        try:
            action(fields["cache_file"])
        except FingerprintError as exc:
            return self._reply("Error", message=str(exc))
        return self._reply("FingerprintAck")

    def _rust_artifacts(self, fields: dict[str, Any]) -> bytes:
        listing = self.store.get("index:rustc")
        return self._reply("RustArtifactList", artifacts=listing if isinstance(listing, list) else [])

    def _generic_exec(self, fields: dict[str, Any]) -> bytes:
        """The original protocol's any-tool request, served by the exec family (the
        same keys, manifests and statistics as `zccache exec`)."""
        from zccache.core.generic_request import GenericError, serve_generic

        try:
            result = serve_generic(self.engine, self.store, self.env, fields, self.pm)
        except GenericError as exc:
            return self._reply("Error", message=str(exc))
        return self._reply("GenericToolExecResult", **result)

    def _warm(self, fields: dict[str, Any]) -> bytes:
        tools = [t for t in fields["tools"] if isinstance(t, str)]
        prepared = None
        for tool in tools:
            prepared = self._prepare(tool, fields)  # the same checks as a compile's tool
            if isinstance(prepared, bytes):
                return prepared
        if prepared is None:
            return self._reply("Warming", tools=0)
        env = prepared[0]
        with self._lock:
            self._warming += 1
        threading.Thread(target=self._warm_tools, args=(tools, env), daemon=True, name="warm").start()
        return self._reply("Warming", tools=len(tools))

    def _warm_tools(self, tools: list[str], env: dict[str, str]) -> None:
        from zccache.core.warm import warm

        done = 0
        try:
            done = warm(tools, env, self.pm.hook.zccache_classify,
                        lambda inv: self.engine.tool_identity(inv, self.store), self._log)
        finally:
            with self._lock:
                self._warmed += done
                self._warming -= 1

    def _release(self, fields: dict[str, Any]) -> bytes:
        path = os.path.abspath(fields["path"])
        cache = os.path.abspath(self.config.cache_dir)
        if cache == path or cache.startswith(path.rstrip(os.sep) + os.sep):
            return self._reply("Error", message="refusing to release the cache directory or one of its parents")
        found = self.sessions.under(path)
        for session in found:
            self.sessions.end(session.id)
        return self._reply("ReleaseWorktreeHandlesResult", inspected=len(found), released=len(found),
                           sessions_dropped=[s.id for s in found], unreleased=[])


def _signature(path: str) -> StatSig | None:
    try:
        return stat_sig(os.stat(path))
    except OSError:
        return None


def _identity(path: str, follow: bool = True) -> tuple[int, int] | None:
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _drain(conn: socket.socket, limit: int = 1 << 20) -> None:
    """Stop sending, then read and drop what the peer still sends (bounded)."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(1.0)
        while limit > 0:
            chunk = conn.recv(65536)
            if not chunk:
                return
            limit -= len(chunk)
    except OSError:
        pass


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    """Run the daemon for the cache directory named by the environment."""
    env = dict(os.environ)
    directory, sock_path = zccache_wire.daemon_paths(env)
    try:
        runtime_dir.prepare(directory)
    except OSError as exc:
        sys.stderr.write(f"zccache daemon: {exc}\n")
        return 1
    lock_fd = os.open(sock_path + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    for attempt in range(5):  # a client looking whether one starts holds it for an instant
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if attempt == 4:
                return 0  # another daemon serves this cache already
            time.sleep(0.01)
    try:
        os.unlink(sock_path)  # left by a daemon that died without cleaning up
    except FileNotFoundError:
        pass
    runtime_dir.sweep_dead(directory)  # and those of other daemons that did
    try:
        daemon = Daemon(env, sock_path)
    except Exception as exc:
        sys.stderr.write(f"zccache daemon: cannot start: {exc}\n")
        return 1
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(sock_path)
    finally:
        os.umask(old)
    listener.listen(256)
    daemon.socket_identity = _identity(sock_path, follow=False)
    os.ftruncate(lock_fd, 0)
    os.write(lock_fd, f"{os.getpid()}\n".encode())

    def stop(signum, frame):
        daemon.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    daemon._log(f"serving {daemon.config.cache_dir} on {sock_path}")
    try:
        daemon.serve(listener)
    finally:
        daemon.stats.flush()
        daemon.store.refresh_recency()
        if _identity(sock_path, follow=False) == daemon.socket_identity:
            runtime_dir.remove(sock_path)  # ours: no other daemon can bind while we hold the lock
        listener.close()
        daemon.store.close()
        os.close(lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
