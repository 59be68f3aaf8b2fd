"""cargo through RUSTC_WRAPPER=zccache, offline, on a workspace with libraries, a
proc-macro crate, a build script, and regex from Debian's crate packages.

RUSTC is a logging wrapper named rustc: zccache runs it only on a miss, so its log
says exactly which crates the real compiler built."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support import ZCCACHE

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cargo-ws"
DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")
CARGO = shutil.which("cargo")
OUR_CRATES = {"alpha", "beta", "gamma", "zmacro", "app", "build_script_build"}
EXPECTED = b"alpha=7 beta=17 gamma=7 answer=42 regex=true version=0.1.0\n"

pytestmark = [
    pytest.mark.skipif(CARGO is None, reason="cargo is not installed"),
    pytest.mark.skipif(not any(DEBIAN_REGISTRY.glob("regex-1*")), reason="apt install librust-regex-dev"),
]


class Workspace:
    def __init__(self, zc, tmp_path: Path) -> None:
        self.zc = zc
        self.root = tmp_path / "ws"
        shutil.copytree(FIXTURE, self.root)
        self.log = tmp_path / "rustc.log"
        real = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
        wrapper = tmp_path / "bin" / "rustc"
        wrapper.parent.mkdir()
        wrapper.write_text(f'#!/bin/sh\necho "$@" >> {self.log}\nexec {real}/bin/rustc "$@"\n')
        wrapper.chmod(0o755)
        self.env = {"RUSTC": str(wrapper), "RUSTC_WRAPPER": zc.command, "CARGO_INCREMENTAL": "0",
                    "CARGO_TERM_COLOR": "never"}

    def cargo(self, *args: str, env=None, check=True) -> subprocess.CompletedProcess:
        done = subprocess.run([CARGO, *args], cwd=self.root, env={**self.zc.env, **self.env, **(env or {})},
                              capture_output=True)
        if check:
            assert done.returncode == 0, done.stderr.decode()[-4000:]
        return done

    def compiled(self) -> set[str]:
        """Crates the real rustc compiled since the last call."""
        return set(self.compiles())

    def compiles(self) -> list[str]:
        """The crate name of every compile the real rustc ran since the last call."""
        if not self.log.exists():
            return []
        names = []
        for line in self.log.read_text().splitlines():
            words = line.split()
            if "--crate-name" in words and "-" not in words:
                names.append(words[words.index("--crate-name") + 1])
        self.log.unlink()
        return names

    def run_app(self, profile: str = "debug") -> bytes:
        return subprocess.run([str(self.root / "target" / profile / "app")], capture_output=True, check=True).stdout


@pytest.fixture
def ws(zc, tmp_path) -> Workspace:
    return Workspace(zc, tmp_path)


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the suite's time; RUSTC_WRAPPER with the Python client: test_cargo's other tests
def test_clean_rebuild_runs_no_compiler_and_cargo_test_works(ws, zc):
    built = ws.cargo("build")
    assert b"jobserver" not in built.stderr
    first = ws.compiles()
    assert OUR_CRATES | {"regex", "regex_syntax", "aho_corasick", "memchr"} <= set(first)
    assert ws.run_app() == EXPECTED
    stats = zc.stats()
    assert stats["misses"] >= len(first)  # every crate; cargo asks rustc -vV more than once, so queries hit too
    ws.cargo("clean")
    zc.zero()
    rebuilt = ws.cargo("build")
    assert ws.compiled() == set()  # bins, build scripts and proc-macros included
    assert b"warning" not in rebuilt.stderr
    assert ws.run_app() == EXPECTED
    assert zc.stats()["misses"] == 0 and zc.stats()["hits"] >= len(first)
    listing = zc.run("rust-artifacts", cwd=ws.root)
    assert listing.returncode == 0 and b"zmacro [proc-macro]" in listing.stdout and b"app [bin]" in listing.stdout
    # cargo test through the wrapper; after a clean, the test build comes from the cache too
    tested = ws.cargo("test")
    assert b"test result: ok. 1 passed" in tested.stdout
    ws.compiled()
    ws.cargo("clean")
    again = ws.cargo("test")
    assert b"test result: ok. 1 passed" in again.stdout
    assert ws.compiled() == set()
    # cargo's own questions to rustc (-vV, --print) are answered from the cache too
    assert "-vV" not in (ws.log.read_text() if ws.log.exists() else "")


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # (the longest test: one client; others run both)
def test_changes_miss_for_exactly_the_affected_crates(ws, zc):
    ws.cargo("build")
    everything = ws.compiled()
    # a feature of beta: beta and what depends on it
    ws.cargo("build", "--features", "beta/extra")
    assert ws.compiled() == {"beta", "app"}
    assert ws.run_app() == EXPECTED.replace(b"beta=17", b"beta=117")
    # one dependency's source, after a clean: that crate and its dependents only
    ws.cargo("clean")
    lib = ws.root / "alpha" / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("x * 3 + 1", "x * 3 + 2"))
    ws.cargo("build")
    assert ws.compiled() == {"alpha", "beta", "app"}
    assert ws.run_app() == EXPECTED.replace(b"alpha=7 beta=17", b"alpha=8 beta=18")
    # a module file rustc found through `mod inner;`
    inner = ws.root / "beta" / "src" / "inner.rs"
    inner.write_text(inner.read_text().replace("10", "20"))
    ws.cargo("build")
    assert ws.compiled() == {"beta", "app"}
    # a profile setting: everything is built anew (debuginfo off: an optimised
    # profile would only make regex slower to build, and ask nothing more of us)
    ws.cargo("build", env={"CARGO_PROFILE_DEV_DEBUG": "0"})
    assert ws.compiled() == everything
    # RUSTFLAGS: every crate's arguments change
    ws.cargo("build", env={"RUSTFLAGS": "--cfg zccache_test"})
    assert ws.compiled() == everything


def test_compile_error_is_replayed_exactly_and_never_stored(ws, zc):
    lib = ws.root / "alpha" / "src" / "lib.rs"
    lib.write_text("pub fn alpha(x: u32) -> u32 {\n    x * 3 +\n}\n")
    plain = subprocess.run([CARGO, "build", "-p", "alpha"], cwd=ws.root, capture_output=True,
                           env={**zc.env, "CARGO_INCREMENTAL": "0", "CARGO_TERM_COLOR": "never"})
    shutil.rmtree(ws.root / "target", ignore_errors=True)
    for _ in range(2):
        done = ws.cargo("build", "-p", "alpha", check=False)
        assert done.returncode == plain.returncode != 0
        error_lines = [line for line in plain.stderr.splitlines() if line.startswith((b"error", b"  -->"))]
        assert error_lines and all(line in done.stderr.splitlines() for line in error_lines)
        assert "alpha" in ws.compiled()  # the real compiler ran both times
    assert zc.stats()["compile_failed"] == 2
