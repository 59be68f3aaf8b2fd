"""The engine, driven by a fake tool family in this process: no compiler, no daemon,
no client. What a cache must get right, in milliseconds: a hit gives the miss's
bytes, a changed or new input misses, an old entry comes back, a damaged value is
never restored, a failure is never stored, outputs appended to are appended to."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from zccache.core.config import Config
from zccache.core.engine import Engine
from zccache.core.invocation import Invocation, Memo, RunResult, SearchPath
from zccache.core.store import Store

TICK = 0.015  # the file clock's tick here is 4 ms: an edit is older than the next run's start


def put(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    time.sleep(TICK)
    return path


@dataclass
class FakeFamily:
    """A tool that "compiles" a source by upper-casing it and every file its
    ``include NAME`` lines name (found on its search dirs, in order), writing what
    extra lines ``append``/``data`` ask for. It reports its inputs as a compiler's
    depfile would."""

    dirs: list[str] = field(default_factory=list)
    runs: int = 0
    name: str = "fake"

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        return b"fake 1.0"

    def _find(self, cwd: str, name: str) -> str | None:
        for d in self.dirs:
            if os.path.isfile(os.path.join(cwd, d, name)):
                return os.path.join(d, name)
        return None

    def execute(self, inv: Invocation) -> RunResult:
        self.runs += 1
        text = Path(inv.cwd, inv.sources[0]).read_text()
        if "error" in text:
            return RunResult(1, b"", b"fake: error\n")
        out, headers, data, appended = [text.upper()], [], [], {}
        for line in text.splitlines():
            word, _, name = line.partition(" ")
            if word == "include":
                found = self._find(inv.cwd, name)
                if found is None:
                    return RunResult(1, b"", f"fake: {name} not found\n".encode())
                headers.append(found)
                out.append(Path(inv.cwd, found).read_text().upper())
            elif word == "data":
                data.append(name)
                out.append(Path(inv.cwd, name).read_bytes().hex())
            elif word == "append":
                appended["log"] = f"compiled {inv.sources[0]}\n".encode()
                with open(os.path.join(inv.cwd, inv.outputs["log"]), "ab") as f:
                    f.write(appended["log"])
        Path(inv.cwd, inv.outputs["object"]).write_text("".join(out))
        return RunResult(0, b"", b"fake: a warning\n", headers, data_inputs=data, appended=appended)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        return SearchPath(order=list(self.dirs), system=[])

    def preprocess(self, inv: Invocation) -> RunResult:
        return RunResult(1, b"", b"")


class NoExtras:
    def zccache_key_extras(self, invocation):
        return []


@pytest.fixture
def world(tmp_path):
    cache = tmp_path / "cache"
    config = Config.from_env({"ZCCACHE_CACHE_DIR": str(cache)})
    store = Store(str(cache), config.maxsize)
    family = FakeFamily(dirs=["first", "second"])
    work = tmp_path / "work"
    work.mkdir()
    return Engine(config, store, NoExtras()), family, work


def invocation(family: FakeFamily, work: Path, **extra) -> Invocation:
    outputs = {"object": "a.out", **extra.pop("outputs", {})}
    return Invocation(family=family, tool=sys.executable, args=["a.src"], cwd=str(work), env={}, key_args=["a.src"],
                      sources=["a.src"], outputs=outputs, can_preprocess=False, **extra)


def run(world, **extra):
    engine, family, work = world
    done = engine.run(invocation(family, work, **extra))
    return done.outcome.kind, (work / "a.out").read_text() if (work / "a.out").exists() else None, done


def test_a_hit_gives_the_miss_bytes_and_streams(world):
    _, family, work = world
    put(work / "a.src", "hello\ninclude h.txt\n")
    put(work / "second" / "h.txt", "header one\n")
    kind, first, done = run(world)
    assert kind == "miss" and first == "HELLO\nINCLUDE H.TXT\nHEADER ONE\n" and done.stderr == b"fake: a warning\n"
    (work / "a.out").unlink()
    kind, again, done = run(world)
    assert (kind, again, done.stderr, family.runs) == ("hit", first, b"fake: a warning\n", 1)


def test_a_changed_header_misses_and_the_old_entry_comes_back(world):
    _, family, work = world
    put(work / "a.src", "include h.txt\n")
    put(work / "second" / "h.txt", "one\n")
    assert run(world)[0] == "miss"
    put(work / "second" / "h.txt", "two\n")
    kind, out, _ = run(world)
    assert (kind, out) == ("miss", "INCLUDE H.TXT\nTWO\n")
    put(work / "second" / "h.txt", "one\n")
    kind, out, _ = run(world)
    assert (kind, out, family.runs) == ("hit", "INCLUDE H.TXT\nONE\n", 2)


def test_a_new_header_shadowing_the_one_read_misses(world):
    _, family, work = world
    put(work / "a.src", "include h.txt\n")
    put(work / "second" / "h.txt", "deep\n")
    assert run(world)[0] == "miss" and run(world)[0] == "hit"
    put(work / "first" / "h.txt", "shadow\n")
    kind, out, _ = run(world)
    assert (kind, out) == ("miss", "INCLUDE H.TXT\nSHADOW\n")


def test_a_changed_source_misses(world):
    _, _, work = world
    put(work / "a.src", "one\n")
    assert run(world)[0] == "miss"
    put(work / "a.src", "two\n")
    assert run(world)[:2] == ("miss", "TWO\n")


def test_a_key_file_in_the_key_by_content_or_absence(world):
    _, _, work = world
    put(work / "a.src", "x\n")
    assert run(world, key_files=["flags"])[0] == "miss"
    assert run(world, key_files=["flags"])[0] == "hit"
    put(work / "flags", "-O2")
    assert run(world, key_files=["flags"])[0] == "miss"


def test_data_inputs_are_keyed_and_never_read_as_source_text(world):
    _, _, work = world
    put(work / "a.src", "data blob.bin\n")
    put(work / "blob.bin", b"__DATE__ \x00\x01")
    assert run(world, asm_listed=True)[0] == "miss"
    assert run(world, asm_listed=True)[0] == "hit"
    put(work / "blob.bin", b"other")
    kind, out, _ = run(world, asm_listed=True)
    assert (kind, out) == ("miss", "DATA BLOB.BIN\n" + b"other".hex())


def test_assembler_directives_pass_through_without_the_assemblers_list(world):
    _, _, work = world
    put(work / "a.src", 'asm(".incbin \\"blob.bin\\"")\n')
    assert run(world)[2].outcome.reason == "assembler directive reading a file (.incbin, .include)"
    assert run(world, asm_listed=True)[0] == "miss"


def test_an_appended_output_is_appended_on_a_hit(world):
    _, _, work = world
    put(work / "a.src", "append\n")
    put(work / "build.log", "before\n")
    extra = {"outputs": {"log": "build.log"}, "appended": frozenset({"log"})}
    assert run(world, **extra)[0] == "miss"
    assert run(world, **extra)[0] == "hit"
    assert (work / "build.log").read_text() == "before\ncompiled a.src\ncompiled a.src\n"


def test_a_failure_is_never_stored(world):
    _, family, work = world
    put(work / "a.src", "error\n")
    for _ in range(2):
        kind, _, done = run(world)
        assert (kind, done.returncode, done.stderr) == ("failed", 1, b"fake: error\n")
    assert family.runs == 2


def test_a_damaged_value_is_dropped_never_restored(world):
    engine, family, work = world
    put(work / "a.src", "x" * 100_000 + "\n")  # large enough to live in a file of its own
    assert run(world)[0] == "miss"
    values = [p for p in Path(engine.store.directory).rglob("*.val")]
    assert values
    for path in values:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    (work / "a.out").unlink()
    kind, out, _ = run(world)
    assert kind == "miss" and out == "X" * 100_000 + "\n" and family.runs == 2
