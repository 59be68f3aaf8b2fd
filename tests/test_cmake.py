"""CMake adapter: launcher variables with Ninja and Makefiles, the include()-able module,
fresh build directories and checkouts at other paths (ZCCACHE_BASEDIR)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import BIN, DEMO, write
from support.builds import (ARCHIVE_RUNS, CMAKE, EXPECTED_OUTPUT, LINKS, SCORE, TRANSLATION_UNITS,
                            configure_and_build, launchers, program_output)

pytestmark = pytest.mark.skipif(CMAKE is None, reason="cmake is installed by the test extra")


@pytest.mark.parametrize("generator", ["Ninja", "Unix Makefiles"])
def test_fresh_build_dir_is_all_hits(zc, tmp_path, generator):
    if generator == "Unix Makefiles" and not shutil.which("make"):
        pytest.skip("make is not installed")
    configure_and_build(zc, DEMO, tmp_path / "b1", generator, launchers())
    first = zc.stats()
    assert first["misses"] == TRANSLATION_UNITS and first["hits"] == 0
    # the links come through the linker launcher and are stored (ar is not launched)
    assert (first["links"]["misses"], first["links"]["hits"], first["uncacheable"]) == (LINKS, 0, {})
    assert program_output(tmp_path / "b1").endswith(EXPECTED_OUTPUT)
    zc.zero()
    configure_and_build(zc, DEMO, tmp_path / "b2", generator, launchers())
    second = zc.stats()
    assert second["hits"] == TRANSLATION_UNITS and second["misses"] == 0
    assert (second["links"]["hits"], second["links"]["misses"]) == (LINKS, 0)
    assert program_output(tmp_path / "b2") == program_output(tmp_path / "b1")
    for linked in ("app/zdemo", "tools/zcheck", "plugin/libzplugin.so"):
        assert (tmp_path / "b2" / linked).read_bytes() == (tmp_path / "b1" / linked).read_bytes()
    assert os.access(tmp_path / "b2" / "tools" / "zcheck", os.X_OK)
    assert subprocess.run([str(tmp_path / "b2" / "tools" / "zcheck")], capture_output=True).stdout == SCORE


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the Python client's run of a CMake build is test_fresh_build_dir_is_all_hits
def test_header_edit_rebuilds_exactly_its_dependents(zc, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(DEMO, source)
    configure_and_build(zc, source, tmp_path / "b1", "Ninja", launchers())
    config = source / "mathlib" / "include" / "mathlib" / "config.h"
    config.write_text(config.read_text().replace("MATHLIB_SCALE 3", "MATHLIB_SCALE 5"))
    zc.zero()
    configure_and_build(zc, source, tmp_path / "b2", "Ninja", launchers())
    stats = zc.stats()
    assert stats["misses"] == 10 and stats["hits"] == TRANSLATION_UNITS - 10  # the ten step*.c include config.h
    # every link reads the changed library, directly or through libzplugin.so
    assert (stats["links"]["misses"], stats["links"]["hits"]) == (LINKS, 0)
    plain = tmp_path / "plain"
    configure_and_build(zc, source, plain, "Ninja", [])
    assert program_output(tmp_path / "b2") == program_output(plain) != program_output(tmp_path / "b1")
    zcheck = [subprocess.run([str(b / "tools" / "zcheck")], capture_output=True).stdout for b in (tmp_path / "b2", plain)]
    assert zcheck[0] == zcheck[1] != SCORE


def test_module_sets_launchers(zc, tmp_path):
    module_dir = zc.run("cmake-module-dir", cwd=tmp_path).stdout.decode().strip()
    project = tmp_path / "proj"
    write(project / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(m C)\ninclude(zccache)\n"
          "add_executable(m main.c)\n")
    write(project / "main.c", "int main(void) { return 0; }\n")
    configure_and_build(zc, project, tmp_path / "b", "Ninja", [f"-DCMAKE_MODULE_PATH={module_dir}"])
    stats = zc.stats()
    assert stats["misses"] == 1
    # and without editing the project, through CMake's top-level include hook
    plain = tmp_path / "plain"
    write(plain / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(p C)\nadd_executable(p main.c)\n")
    write(plain / "main.c", "int main(void) { return 1 - 1; }\n")
    configure_and_build(zc, plain, tmp_path / "b2", "Ninja",
                        [f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module_dir}/zccache.cmake"])
    assert zc.stats()["misses"] == 2


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the Python client's run of a CMake build is test_fresh_build_dir_is_all_hits
def test_module_caches_links_and_archives_in_a_fresh_build_dir(zc, tmp_path):
    """include(zccache) through CMake's top-level include hook: compiles, links, and
    the ar and ranlib of CMake's archive rules, all hits in a second build dir."""
    module = zc.run("cmake-module-dir", cwd=tmp_path).stdout.decode().strip() + "/zccache.cmake"
    hook = [f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module}"]
    configure_and_build(zc, DEMO, tmp_path / "b1", "Ninja", hook)
    first = zc.stats()
    assert (first["misses"], first["links"]["misses"]) == (TRANSLATION_UNITS, LINKS + ARCHIVE_RUNS)
    zc.zero()
    configure_and_build(zc, DEMO, tmp_path / "b2", "Ninja", hook)
    second = zc.stats()
    assert (second["hits"], second["misses"]) == (TRANSLATION_UNITS, 0)
    assert (second["links"]["hits"], second["links"]["misses"]) == (LINKS + ARCHIVE_RUNS, 0)
    for linked in ("app/zdemo", "tools/zcheck", "plugin/libzplugin.so", "mathlib/libmathlib.a",
                   "textlib/libtextlib.a"):
        assert (tmp_path / "b2" / linked).read_bytes() == (tmp_path / "b1" / linked).read_bytes(), linked
    assert program_output(tmp_path / "b2").endswith(EXPECTED_OUTPUT)


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the Python client's run of a CMake build is test_fresh_build_dir_is_all_hits
def test_basedir_shares_hits_between_checkouts(zc, tmp_path):
    for name in ("one", "two", "three"):
        shutil.copytree(DEMO, tmp_path / name / "proj")
    configure_and_build(zc, tmp_path / "one" / "proj", tmp_path / "one" / "build", "Ninja", launchers(),
                        env={"ZCCACHE_BASEDIR": str(tmp_path / "one")})
    zc.zero()
    # without base_dir, absolute paths differ and nothing may be shared
    configure_and_build(zc, tmp_path / "three" / "proj", tmp_path / "three" / "build", "Ninja", launchers())
    assert zc.stats()["hits"] == 0
    zc.zero()
    configure_and_build(zc, tmp_path / "two" / "proj", tmp_path / "two" / "build", "Ninja", launchers(),
                        env={"ZCCACHE_BASEDIR": str(tmp_path / "two")})
    stats = zc.stats()
    assert stats["hits"] == TRANSLATION_UNITS and stats["misses"] == 0
    assert program_output(tmp_path / "two" / "build").endswith(EXPECTED_OUTPUT)

