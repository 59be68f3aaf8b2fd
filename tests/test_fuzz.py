"""Fuzzing with hypothesis, on a fixed budget: the wire codec, the daemon's request
handling, the command-line parsers of every tool family, depfiles and response
files. Whatever the input, the answer is a value or the module's own error: never
another exception (which a user would see as a traceback or a dead daemon)."""

from __future__ import annotations

import os
import socket
import string
import struct
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zccache_wire
from zccache.core import protocol
from zccache.core.invocation import Batch, Invocation, Passthrough
from zccache.core.toolchains import archiver, cmdline, gcc, linker, rustc

BUDGET = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# msgpack values as the wire carries them
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=40) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


@BUDGET
@given(values)
def test_client_codec_round_trips_what_msgpack_writes(value):
    assert zccache_wire.unpack(msgpack.packb(value, use_bin_type=True)) == value
    if not isinstance(value, float):  # the client packs what it sends: no floats there
        assert msgpack.unpackb(zccache_wire.pack(value), raw=False, strict_map_key=False) == value


@BUDGET
@given(st.binary(max_size=200))
def test_client_codec_rejects_garbage_with_its_own_error(data):
    try:
        zccache_wire.unpack(data)
    except zccache_wire.WireError:
        pass


@BUDGET
@given(st.binary(max_size=300))
def test_daemon_decoder_rejects_garbage_with_its_own_error(data):
    try:
        protocol.decode(data, protocol.REQUESTS)
    except protocol.ProtocolError:
        pass


# -- command lines ------------------------------------------------------------------------

_WORDS = ["-c", "-S", "-E", "-o", "a.o", "a.c", "b.cpp", "-MD", "-MMD", "-MF", "a.d", "-MT", "x", "-I", "inc",
          "-include", "h.h", "-x", "c", "c++", "none", "-Xclang", "-include-pch", "-Wp,-MD,a.d", "-Wl,-Map=m",
          "-Wl,--build-id=uuid", "-l", "m", "-lfoo", "-L", "lib", "-shared", "-static", "-flto", "-g", "-gsplit-dwarf",
          "-fprofile-use", "-fprofile-use=p", "-ffile-prefix-map=/a=b", "-march=native", "-", "@rsp", "-fuse-ld=gold",
          "--crate-name", "--crate-type", "lib", "--emit", "link", "--out-dir", "-C", "opt-level=2", "main.rs",
          "rcs", "qc", "libx.a", "-D", "ru", "s", "--plugin", "T", "", "=", "-Xlinker", "-T", "x.ld"]
argvs = st.lists(st.sampled_from(_WORDS) | st.text(string.printable, max_size=12), max_size=14)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    for name, text in (("a.c", "int a;\n"), ("b.cpp", "int b;\n"), ("main.rs", "fn main() {}\n"),
                       ("rsp", "-c a.c -o a.o\n"), ("inc/h.h", "\n"), ("x.ld", "SECTIONS {}\n")):
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    for name in ("a.o", "libx.a"):
        (d / name).write_bytes(b"\x7fELF")
    return d


@BUDGET
@given(argvs)
def test_gcc_and_link_parsers_answer_every_command_line(workdir, args):
    env = {"PATH": os.environ.get("PATH", "")}
    for tool in ("/usr/bin/gcc", "/usr/bin/ld"):
        for found in (gcc.classify([tool, *args], str(workdir), env),
                      linker.classify_driver([tool, *args], str(workdir), env) if tool.endswith("gcc") else
                      linker.classify_ld([tool, *args], str(workdir), env)):
            assert found is None or isinstance(found, (Invocation, Batch, Passthrough))


@BUDGET
@given(argvs)
def test_archive_and_rustc_parsers_answer_every_command_line(workdir, args):
    env = {"PATH": os.environ.get("PATH", "")}
    for found in (archiver.classify_ar(["/usr/bin/ar", *args], str(workdir), env),
                  archiver.classify_ranlib(["/usr/bin/ranlib", *args], str(workdir), env),
                  rustc.zccache_classify(["rustc", *args], str(workdir), env)):
        assert found is None or isinstance(found, (Invocation, Batch, Passthrough))


@BUDGET
@given(st.text(max_size=300))
def test_depfile_parser_answers_any_text(text):
    deps = cmdline.parse_depfile(text)
    assert all(isinstance(d, str) and d for d in deps)


@BUDGET
@given(st.text(max_size=200))
def test_response_files_expand_any_text(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("rsp")
    (d / "r").write_text(text, errors="surrogateescape")
    (d / "loop").write_text("@loop\n")
    out = cmdline.expand_response_files(["@r", "@loop", "@missing"], str(d))
    assert all(isinstance(a, str) for a in out)


# -- the daemon, over its socket -------------------------------------------------------------

# requests that do, when well formed, what they say: stop the daemon, write a
# fingerprint file at the path given
_HARMFUL = {"Shutdown", "FingerprintMarkSuccess", "FingerprintMarkFailure", "FingerprintInvalidate"}
requests = st.one_of(
    st.binary(max_size=200),  # not msgpack at all
    st.builds(lambda v: msgpack.packb(v, use_bin_type=True), values),  # msgpack, any shape
    st.builds(lambda kind, fields: msgpack.packb({"t": kind, **fields}, use_bin_type=True),  # known kinds, wrong fields
              st.sampled_from(sorted(set(protocol.REQUESTS) - _HARMFUL)), st.dictionaries(
                  st.sampled_from(["args", "cwd", "env", "compiler", "tool", "session_id", "stdin", "umask",
                                   "client_pid", "cache_key", "artifact", "path", "cache_file"]), values, max_size=6)),
)


@pytest.mark.parametrize("zc", ["native"], indirect=True)
def test_daemon_survives_any_request(zc, tmp_path):
    import json

    assert zc.run("start", cwd=tmp_path).returncode == 0
    pid = json.loads(zc.run("status", "--json", cwd=tmp_path).stdout)["pid"]
    sock_path = zccache_wire.daemon_paths(zc.env)[1]

    @settings(BUDGET, max_examples=150)
    @given(requests, st.sampled_from(["exact", "short", "huge"]))
    def one(payload, framing):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(sock_path)
            if framing == "exact":
                s.sendall(struct.pack(">I", len(payload)) + payload)
            elif framing == "short":  # a length that promises more than comes
                s.sendall(struct.pack(">I", len(payload) + 10) + payload)
            else:
                s.sendall(struct.pack(">I", 0xFFFFFFFF) + payload[:16])
            s.shutdown(socket.SHUT_WR)  # and nothing more: the daemon answers, or closes
            try:
                while s.recv(65536):
                    pass
            except (ConnectionResetError, BrokenPipeError):
                pass

    one()
    status = zc.run("status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    answered = json.loads(status.stdout)
    assert answered["pid"] == pid  # the same daemon, still answering
    assert answered["bad_frames"] > 0 and answered["requests"] > 0  # and the fuzz reached it


@pytest.mark.parametrize("target", ["wire", "argv", "text"])
def test_coverage_guided_fuzzing(target, tmp_path):
    """atheris (libFuzzer) on the same contracts, guided by coverage: it found what
    hypothesis had not (a msgpack map keyed by a map: a TypeError out of the client's
    codec; a NUL in an argument: a ValueError out of the link parser). A fixed seed
    and number of runs: the same inputs in every CI run."""
    import subprocess
    import sys

    script = Path(__file__).parent / "fuzz" / "atheris_targets.py"
    done = subprocess.run([sys.executable, str(script), target, "-runs=5000", "-seed=1", "-max_len=512",
                           f"-artifact_prefix={tmp_path}/"], capture_output=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    assert b"Done 5000 runs" in done.stderr
