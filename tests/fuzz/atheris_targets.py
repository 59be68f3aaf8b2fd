"""Coverage-guided fuzzing (atheris, libFuzzer's engine) of what reads untrusted bytes.

Run by tests/test_fuzz.py in a subprocess with a fixed number of runs and a fixed
seed (libFuzzer ends the process when done): ``python atheris_targets.py TARGET
-runs=N -seed=1``. A target's contract is the same as hypothesis's: a value or the
module's own error, never any other exception."""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    import zccache_wire
    from zccache.core import protocol
    from zccache.core.invocation import Batch, Invocation, Passthrough
    from zccache.core.toolchains import archiver, cmdline, gcc, linker, rustc

WORKDIR = tempfile.mkdtemp(prefix="zc-atheris-")
ENV = {"PATH": os.environ.get("PATH", "")}


def wire(data: bytes) -> None:
    try:
        zccache_wire.unpack(data)
    except zccache_wire.WireError:
        pass
    try:
        protocol.decode(data, protocol.REQUESTS)
    except protocol.ProtocolError:
        pass


def argv(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    args = [fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 16)) for _ in range(fdp.ConsumeIntInRange(0, 12))]
    found = [
        gcc.classify(["/usr/bin/gcc", *args], WORKDIR, ENV),
        linker.classify_driver(["/usr/bin/gcc", *args], WORKDIR, ENV),
        linker.classify_ld(["/usr/bin/ld", *args], WORKDIR, ENV),
        archiver.classify_ar(["/usr/bin/ar", *args], WORKDIR, ENV),
        rustc.zccache_classify(["rustc", *args], WORKDIR, ENV),
    ]
    for f in found:
        if not (f is None or isinstance(f, (Invocation, Batch, Passthrough))):
            raise AssertionError(f"a parser answered {type(f).__name__}")


def text(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    for dep in cmdline.parse_depfile(fdp.ConsumeUnicodeNoSurrogates(400)):
        if not isinstance(dep, str) or not dep:
            raise AssertionError("a depfile entry that is not a path")
    with open(os.path.join(WORKDIR, "r"), "wb") as f:
        f.write(fdp.ConsumeBytes(300))
    cmdline.expand_response_files(["@r", "@missing"], WORKDIR)


TARGETS = {"wire": wire, "argv": argv, "text": text}

if __name__ == "__main__":
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
