"""The daemon protocol: the original zccache request and response set, as msgpack maps.

Every message is one frame (see zccache_wire.py) holding a map whose ``"t"`` is the message
name and whose other keys are its fields, named as in the original protocol. The
field tables below are the contract: a request missing a field, or with a field of
the wrong type, is answered with ``Error``; extra fields are ignored, so either side
may add optional ones (``umask`` and ``passthrough`` are such additions).
"""

from __future__ import annotations

from typing import Any

import msgpack

from zccache_wire import MAX_FRAME, frame

Opt = type(None)
_STR, _INT, _BOOL, _BYTES, _LIST, _DICT = str, int, bool, bytes, list, dict

REQUESTS: dict[str, dict[str, tuple[type, ...]]] = {
    "Ping": {},
    "Shutdown": {},
    "Status": {},
    "Lookup": {"cache_key": (_STR,)},
    "Store": {"cache_key": (_STR,), "artifact": (_DICT,)},
    "SessionStart": {
        "client_pid": (_INT,), "working_dir": (_STR,), "log_file": (_STR, Opt), "track_stats": (_BOOL,),
        "journal_path": (_STR, Opt), "profile": (_BOOL,), "private_daemon": (_DICT, Opt),
    },
    "Compile": {
        "session_id": (_STR,), "args": (_LIST,), "cwd": (_STR,), "compiler": (_STR,), "env": (_LIST, Opt),
        "stdin": (_BYTES,),
    },
    "SessionEnd": {"session_id": (_STR,)},
    "Clear": {},
    "CompileEphemeral": {
        "client_pid": (_INT,), "working_dir": (_STR,), "compiler": (_STR,), "args": (_LIST,), "cwd": (_STR,),
        "env": (_LIST, Opt), "stdin": (_BYTES,),
    },
    "LinkEphemeral": {"client_pid": (_INT,), "tool": (_STR,), "args": (_LIST,), "cwd": (_STR,), "env": (_LIST, Opt)},
    "SessionStats": {"session_id": (_STR,)},
    "FingerprintCheck": {
        "cache_file": (_STR,), "cache_type": (_STR,), "root": (_STR,), "extensions": (_LIST,),
        "include_globs": (_LIST,), "exclude": (_LIST,),
    },
    "FingerprintMarkSuccess": {"cache_file": (_STR,)},
    "FingerprintMarkFailure": {"cache_file": (_STR,)},
    "FingerprintInvalidate": {"cache_file": (_STR,)},
    "ListRustArtifacts": {},
    "GenericToolExec": {
        "tool": (_STR,), "args": (_LIST,), "cwd": (_STR,), "env": (_LIST,), "input_files": (_LIST,),
        "input_extra": (_BYTES,), "output_streams": (_DICT,), "output_files": (_LIST,), "tool_hash": (_BYTES, Opt),
        "cache_policy": (_STR,), "cwd_in_key": (_BOOL,), "include_scan_files": (_LIST,), "include_dirs": (_LIST,),
        "system_include_dirs": (_LIST,), "iquote_dirs": (_LIST,), "depfile": (_STR, Opt),
        "non_deterministic": (_BOOL,), "key_args_filter": (_LIST,),
    },
    "ReleaseWorktreeHandles": {"path": (_STR,)},
    # an addition: `zccache -z` zeroes the daemon's own figures with the store's
    "ZeroStats": {},
    # an addition: `zccache start --warm` has the daemon ask these tools about
    # themselves now (core/warm.py); answered at once, the asking goes on after
    "Warm": {"tools": (_LIST,), "cwd": (_STR,), "env": (_LIST, Opt)},
}

RESPONSES: dict[str, dict[str, tuple[type, ...]]] = {
    "Pong": {},
    "ShuttingDown": {},
    "Status": {"status": (_DICT,)},
    "LookupResult": {"found": (_BOOL,), "artifact": (_DICT, Opt)},
    "StoreResult": {"stored": (_BOOL,)},
    "SessionStarted": {"session_id": (_STR,), "journal_path": (_STR, Opt)},
    "CompileResult": {"exit_code": (_INT,), "stdout": (_BYTES,), "stderr": (_BYTES,), "cached": (_BOOL,)},
    "SessionEnded": {"stats": (_DICT, Opt)},
    "LinkResult": {"exit_code": (_INT,), "stdout": (_BYTES,), "stderr": (_BYTES,), "cached": (_BOOL,),
                   "warning": (_STR, Opt)},
    "Error": {"message": (_STR,)},
    "Cleared": {"artifacts_removed": (_INT,), "metadata_cleared": (_INT,), "dep_graph_contexts_cleared": (_INT,),
                "on_disk_bytes_freed": (_INT,)},
    "SessionStatsResult": {"stats": (_DICT, Opt)},
    "FingerprintCheckResult": {"decision": (_STR,), "reason": (_STR, Opt), "changed_files": (_LIST,)},
    "FingerprintAck": {},
    "RustArtifactList": {"artifacts": (_LIST,)},
    "GenericToolExecResult": {"exit_code": (_INT,), "stdout": (_BYTES,), "stderr": (_BYTES,),
                              "output_files": (_LIST,), "cached": (_BOOL,), "cache_key_hex": (_STR,)},
    "Backpressure": {"queue_depth": (_INT,), "retry_after_ms": (_INT,), "reason": (_STR,)},
    # Sent while a compile, link or tool run is under way, before its answer: a client
    # that hears nothing at all for ZCCACHE_DAEMON_TIMEOUT seconds gives the daemon up.
    "KeepAlive": {},
    "StatsZeroed": {},
    "Warming": {"tools": (_INT,)},
    "ReleaseWorktreeHandlesResult": {"inspected": (_INT,), "released": (_INT,), "sessions_dropped": (_LIST,),
                                     "unreleased": (_LIST,)},
}


class ProtocolError(ValueError):
    """A message that does not follow the tables; the text goes back in an Error."""


def encode(kind: str, table: dict[str, dict[str, tuple[type, ...]]] | None = None, **fields: Any) -> bytes:
    """One framed message; checked against the table so we never send a malformed one."""
    message = {"t": kind, **fields}
    if table is not None:
        validate(message, table)
    return frame(msgpack.packb(message, use_bin_type=True))


def response(kind: str, **fields: Any) -> bytes:
    return encode(kind, RESPONSES, **fields)


def decode(payload: bytes, table: dict[str, dict[str, tuple[type, ...]]]) -> tuple[str, dict[str, Any]]:
    if len(payload) > MAX_FRAME:
        raise ProtocolError("frame too large")
    try:
        message = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except Exception:
        raise ProtocolError("malformed frame: not msgpack") from None
    validate(message, table)
    kind = message.pop("t")
    return kind, message


def validate(message: object, table: dict[str, dict[str, tuple[type, ...]]]) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("malformed message: expected a map with a 't' name")
    fields = table.get(message["t"])
    if fields is None:
        raise ProtocolError(f"unknown message {message['t'][:64]!r}")
    for name, types in fields.items():
        if name not in message:
            raise ProtocolError(f"{message['t']}: missing field {name!r}")
        value = message[name]
        if not isinstance(value, types) or (isinstance(value, bool) and _BOOL not in types):
            raise ProtocolError(f"{message['t']}: field {name!r} has the wrong type")
