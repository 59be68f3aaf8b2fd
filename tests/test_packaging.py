"""setuptools and meson-python builds through zccache: `zccache pip install` of an
sdist twice into a fresh venv (build isolation on, --no-cache-dir --force-reinstall),
the cached build_ext through cmdclass, and meson used directly with the native file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from support import BIN, ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PARTS = 10


def expected_compute(n: int) -> int:
    total = 0
    for i in range(PARTS):
        acc = i
        for k in range(n):
            acc = (acc * 31 + k * (i + 1)) % 1000003
        total += acc
    return total


def sdist(tmp_path: Path, fixture: str, name: str, mutate=None) -> Path:
    """A source archive of the fixture, as an sdist is: pip unpacks it into a
    randomly named directory for every build."""
    src = tmp_path / f"{name}-1.0"
    shutil.copytree(FIXTURES / fixture, src)
    if mutate:
        mutate(src)
    archive = tmp_path / f"{name}-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=src.name)
    return archive


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    path = tmp_path / "venv"
    subprocess.run([os.path.join(BIN, "python"), "-m", "venv", str(path)], check=True)
    return path


def pip_env(zc, venv: Path) -> dict[str, str]:
    return {"PATH": f"{venv / 'bin'}{os.pathsep}{zc.env['PATH']}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def zpip(zc, venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return zc.run("pip", "install", "--no-cache-dir", "--force-reinstall", *args, cwd=cwd, env=pip_env(zc, venv))


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the shims name the launcher: the Python client's run is the failing-build test
def test_zccache_pip_setuptools_sdist_second_build_all_hits(zc, tmp_path, venv):
    archive = sdist(tmp_path, "zcfix-setuptools", "zcfix")
    first = zpip(zc, venv, str(archive), cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    stats = zc.stats()
    assert stats["misses"] == PARTS + 1 and stats["hits"] == 0
    zc.zero()
    second = zpip(zc, venv, str(archive), cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (PARTS + 1, 0)
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import zcfix; print(zcfix.compute(1000))"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == str(expected_compute(1000)), done.stderr


def test_zccache_pip_failing_build_keeps_pips_exit_code_and_message(zc, tmp_path, venv):
    def break_it(src: Path) -> None:
        (src / "src" / "part3.c").write_text("long part3(long n) { return n +; }\n")

    archive = sdist(tmp_path, "zcfix-setuptools", "broken", break_it)
    plain = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-cache-dir", str(archive)],
                           capture_output=True, env={**zc.env, **pip_env(zc, venv)}, cwd=tmp_path)
    done = zpip(zc, venv, str(archive), cwd=tmp_path)
    assert done.returncode == plain.returncode != 0
    output = (done.stdout + done.stderr).decode()
    assert "part3.c:1:" in output and "error:" in output
    assert "Traceback" not in done.stderr.decode().split("error:")[0] or "zccache" not in output
    assert zc.stats()["compile_failed"] >= 1


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the shims name the launcher: the Python client's run is the failing-build test
def test_zccache_pip_meson_python_second_build_all_hits(zc, tmp_path, venv):
    archive = sdist(tmp_path, "zcfix-meson", "zcmeson")
    first = zpip(zc, venv, str(archive), cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert zc.stats()["misses"] == 3
    zc.zero()
    second = zpip(zc, venv, str(archive), cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (3, 0)
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import zcmeson; print(zcmeson.both(7))"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == str(7**2 + 7**3), done.stderr


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # compiles run inside setuptools: no client
def test_cached_build_ext_through_cmdclass(zc, tmp_path, venv):
    """The package names this project in [build-system] requires and uses its
    build_ext; pip builds it in isolation, and the compiles run in the backend's
    own process (no zccache command is involved)."""

    def use_cached_build_ext(src: Path) -> None:
        (src / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=61", "pyzccache @ ' + ROOT.as_uri() + '"]\n'
            'build-backend = "setuptools.build_meta"\n\n[project]\nname = "zcfix"\nversion = "1.0"\n')
        setup = (src / "setup.py").read_text()
        (src / "setup.py").write_text(setup.replace(
            "from setuptools import Extension, setup",
            "from setuptools import Extension, setup\nfrom zccache.plugins.setuptools import build_ext").replace(
            "setup(ext_modules=", 'setup(cmdclass={"build_ext": build_ext}, ext_modules='))

    archive = sdist(tmp_path, "zcfix-setuptools", "zcfix", use_cached_build_ext)
    env = pip_env(zc, venv)
    for round_ in range(2):
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-cache-dir", "--force-reinstall",
                               str(archive)], capture_output=True, env={**zc.env, **env}, cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        stats = zc.stats()
        if round_ == 0:
            assert stats["misses"] == PARTS + 1
            zc.zero()
    # pip built in a new random directory: its name is mapped away, so all hit
    assert (stats["hits"], stats["misses"]) == (PARTS + 1, 0)
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import zcfix; print(zcfix.compute(50))"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == str(expected_compute(50))


def test_cached_build_ext_in_place_hits(zc, tmp_path):
    """The same build_ext, run in a fixed directory: the second build is all hits."""
    src = tmp_path / "pkg"
    shutil.copytree(FIXTURES / "zcfix-setuptools", src)
    setup = (src / "setup.py").read_text()
    (src / "setup.py").write_text(setup.replace(
        "from setuptools import Extension, setup",
        "from setuptools import Extension, setup\nfrom zccache.plugins.setuptools import build_ext").replace(
        "setup(ext_modules=", 'setup(cmdclass={"build_ext": build_ext}, ext_modules='))
    python = os.path.join(BIN, "python")
    for _ in range(2):
        shutil.rmtree(src / "build", ignore_errors=True)
        done = subprocess.run([python, "setup.py", "build_ext", "--inplace", "--parallel", "2"], cwd=src,
                              env=zc.env, capture_output=True)
        assert done.returncode == 0, done.stderr[-3000:]
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (PARTS + 1, PARTS + 1)
    # src-layout: setuptools puts the in-place extension next to the sources
    done = subprocess.run([python, "-c", "import zcfix; print(zcfix.compute(77))"], cwd=src / "src",
                          capture_output=True, text=True)
    assert done.stdout.strip() == str(expected_compute(77))


def test_meson_native_file(zc, tmp_path):
    meson = shutil.which("meson", path=BIN)
    if meson is None:
        pytest.skip("meson is installed by the test extra")
    native = zc.run("meson-native-file", "-o", str(tmp_path / "native.ini"), cwd=tmp_path)
    assert native.returncode == 0, native.stderr
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "meson.build").write_text("project('m', 'c')\nexecutable('m', ['a.c', 'b.c'])\n")
    (proj / "a.c").write_text("int b(void);\nint main(void) { return b() - 42; }\n")
    (proj / "b.c").write_text("int b(void) { return 42; }\n")
    for build in ("b1", "b2"):
        setup = subprocess.run([meson, "setup", "--buildtype=release", str(tmp_path / build), str(proj), "--native-file",
                                str(tmp_path / "native.ini")], capture_output=True, env=zc.env)
        assert setup.returncode == 0, setup.stdout[-2000:]
        compiled = subprocess.run([meson, "compile", "-C", str(tmp_path / build)], capture_output=True, env=zc.env)
        assert compiled.returncode == 0, compiled.stdout[-2000:]
        assert subprocess.run([str(tmp_path / build / "m")]).returncode == 0
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (2, 2)


@pytest.mark.parametrize("zc", ["native"], indirect=True)
def test_pip_shims_run_the_native_launcher_or_the_python_client(zc, tmp_path):
    """A shim is a shell line in front of the native launcher (about 2 ms a run, against
    16 for a Python start); the Python form is for an install without the launcher.
    Both serve the same cache."""
    from support import ZCCACHE_PY, write
    from zccache.plugins.setuptools import pip as zpip_module

    gcc = shutil.which("gcc")
    shims = tmp_path / "shims"
    shims.mkdir()
    native = zpip_module._shim(str(shims), "gcc", gcc, zc.command)
    assert Path(native).read_text() == f"#!/bin/sh\nexec {zc.command} {gcc} \"$@\"\n"
    python = zpip_module._shim(str(shims), "cc", gcc, ZCCACHE_PY)
    assert Path(python).read_text().startswith(f"#!{sys.executable} -SI\n")
    write(tmp_path / "a.c", "int f(void) { return 7; }\n")
    objects = []
    for shim in (native, python):
        done = subprocess.run([shim, "-c", "a.c", "-o", "a.o"], cwd=tmp_path, env=zc.env, capture_output=True)
        assert done.returncode == 0 and done.stderr == b"", done.stderr
        objects.append((tmp_path / "a.o").read_bytes())
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (1, 1) and objects[0] == objects[1]


@pytest.mark.parametrize("zc", ["native"], indirect=True)
def test_what_names_a_random_build_directory_is_not_stored(zc, tmp_path):
    """libsodium's `make check` (pynacl's sdist) compiles its tests with the random
    directory pip unpacked it into in a -D string, which no prefix map reaches: such
    a result, and every link or archive made from it, could never be looked up by
    the next build, which has another directory. They run plainly, counted; what
    names no random directory is stored and hits in the next one."""
    root = tmp_path / "tmp"
    env = {"ZCCACHE_REMAP_TEMP": str(root)}  # as `zccache pip` sets it
    from support import write

    outputs = []
    for build in ("pip-req-build-ab12cd34", "pip-req-build-x9y8z7w6"):
        src = root / build / "test"
        write(src / "t.c", '#include <stdio.h>\nint f(void);\nint main(void) { printf("%s %d\\n", DIR, f()); return 0; }\n')
        write(src / "f.c", "int f(void) { return 7; }\n")
        write(src / "m.c", "int f(void);\nint main(void) { return f() - 7; }\n")
        for argv in (["gcc", "-g", f'-DDIR="{src}"', "-c", "t.c", "-o", "t.o"], ["gcc", "-g", "-c", "f.c", "-o", "f.o"],
                     ["gcc", "-g", "-c", "m.c", "-o", "m.o"], ["ar", "rcs", "libt.a", "t.o"],
                     ["gcc", "t.o", "f.o", "-o", "t"], ["gcc", "m.o", "f.o", "-o", "m"]):
            done = zc.run(*argv, cwd=src, env=env)
            assert done.returncode == 0 and done.stderr == b"", (argv, done.stderr)
        shown = subprocess.run([str(src / "t")], capture_output=True, text=True)
        assert shown.stdout == f"{src} 7\n"
        assert subprocess.run([str(src / "m")]).returncode == 0
        outputs.append((src / "m").read_bytes())
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (2, 2)  # f.c and m.c: mapped, so shared
    assert stats["uncacheable"] == {"names a temporary build directory": 2}
    assert (stats["links"]["hits"], stats["links"]["misses"]) == (1, 1)  # m: made from shared objects
    assert stats["links"]["uncacheable"] == {"made from a temporary build's object": 4}  # libt.a and t, twice
    assert outputs[0] == outputs[1]
