"""The bundled example projects and the build tools that build them (CMake with
Ninja or Makefiles, SCons), as the end-to-end tests drive them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from support import BIN, ROOT

CMAKE = shutil.which("cmake", path=BIN) or shutil.which("cmake")
TRANSLATION_UNITS = 26
LINKS = 3  # zdemo, zcheck, libzplugin.so (the static archives are not launched)
ARCHIVE_RUNS = 4  # ar and ranlib for each static library, through include(zccache)
EXPECTED_OUTPUT = b"checksum 25240\n"
SCORE = b"score 763695, step 121\n"

SCONS = shutil.which("scons", path=BIN)
SCONS_DEMO = ROOT / "examples" / "scons-demo"
UNITS = 22
LINK_RUNS = 4  # ar and ranlib for libutil.a, the links of libplug.so and of the program
EXPECTED = b"total 730 plug 43\n"


def configure_and_build(zc, source: Path, build: Path, generator: str, extra: list[str], env=None) -> None:
    env = {**zc.env, **(env or {})}
    done = subprocess.run([CMAKE, "-G", generator, "-S", str(source), "-B", str(build), *extra],
                          env=env, capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([CMAKE, "--build", str(build), "-j", "2"], env=env, capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr


def launchers() -> list[str]:
    return [f"-DCMAKE_{lang}_{kind}_LAUNCHER=zccache" for lang in ("C", "CXX") for kind in ("COMPILER", "LINKER")]


def program_output(build: Path) -> bytes:
    done = subprocess.run([str(build / "app" / "zdemo")], capture_output=True)
    assert done.returncode == 0
    return done.stdout


def scons(zc, cwd: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([SCONS, "-Q", "-j", "2", *args], cwd=cwd, env={**zc.env, **(env or {})},
                          capture_output=True)


def project(tmp_path: Path, name: str = "proj") -> Path:
    dest = tmp_path / name
    shutil.copytree(SCONS_DEMO, dest)
    return dest


def run_app(cwd: Path) -> bytes:
    return subprocess.run([str(cwd / "app")], capture_output=True, check=True).stdout
