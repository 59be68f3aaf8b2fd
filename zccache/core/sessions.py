"""Build sessions: per-build counters and an optional JSONL journal of every compile.

A build starts a session (``zccache session-start``), exports its id as
``ZCCACHE_SESSION_ID``, and every compile the daemon serves for that id is counted
against it and, when a journal was asked for, written as one JSON line that
``zccache analyze`` reads.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

from zccache.core.hashing import hash_bytes
from zccache.core.invocation import Invocation, Outcome


class SessionError(ValueError):
    pass


@dataclass
class Session:
    id: str
    client_pid: int
    working_dir: str
    track_stats: bool
    journal_path: str | None
    started: float = field(default_factory=time.time)
    counters: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    _journal: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, tool: str, args: list[str], inv: Invocation | None, outcome: Outcome) -> None:
        with self._lock:
            name = outcome.kind if outcome.kind != "hit" else "hit"
            self.counters[name] = self.counters.get(name, 0) + 1
            self.counters["compiles"] = self.counters.get("compiles", 0) + 1
            self.seconds += outcome.seconds
            if self._journal is None:
                return
            line = {
                "ts": round(time.time(), 6),
                "session": self.id,
                "tool": tool,
                "family": inv.family.name if inv else None,
                "args_digest": hash_bytes("\0".join(args).encode("utf-8", "surrogateescape"))[:16],
                "cache_key": outcome.key,
                "result": outcome.kind,
                "reason": outcome.reason,
                "why": outcome.why or None,
                "duration_ms": round(outcome.seconds * 1000, 3),
                "cwd": inv.cwd if inv else None,
                "source": os.path.normpath(os.path.join(inv.cwd, inv.sources[0])) if inv and inv.sources else None,
                "output": inv.outputs.get("object") if inv else None,
                "exit_code": outcome.returncode,
            }
            self._journal.write(json.dumps(line) + "\n")
            self._journal.flush()

    def stats(self) -> dict:
        with self._lock:
            return {
                "session_id": self.id,
                "compilations": self.counters.get("compiles", 0),
                "hits": self.counters.get("hit", 0),
                "misses": self.counters.get("miss", 0),
                "uncacheable": self.counters.get("passthrough", 0),
                "failed": self.counters.get("failed", 0),
                "compile_seconds": round(self.seconds, 6),
                "uptime_seconds": round(time.time() - self.started, 3),
                "journal_path": self.journal_path,
            }

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, client_pid: int, working_dir: str, track_stats: bool, journal_path: str | None) -> Session:
        journal = None
        if journal_path is not None:
            journal_path = os.path.abspath(os.path.join(working_dir, journal_path))
            if not journal_path.endswith(".jsonl"):
                raise SessionError("the journal path must end in .jsonl")
            try:
                journal = open(journal_path, "a", encoding="utf-8")
            except OSError as exc:
                raise SessionError(f"cannot open journal {journal_path}: {exc.strerror}") from None
        session = Session(id=str(uuid.uuid4()), client_pid=client_pid, working_dir=working_dir,
                          track_stats=track_stats, journal_path=journal_path, _journal=journal)
        with self._lock:
            self._by_id[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            return self._by_id.get(session_id)

    def end(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._by_id.pop(session_id, None)
        if session is not None:
            session.close()
        return session

    def under(self, path: str) -> list[Session]:
        prefix = os.path.abspath(path).rstrip(os.sep) + os.sep
        with self._lock:
            return [s for s in self._by_id.values() if (os.path.abspath(s.working_dir) + os.sep).startswith(prefix)
                    or (s.journal_path or "").startswith(prefix)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)
