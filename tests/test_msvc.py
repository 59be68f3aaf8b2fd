"""cl.exe-syntax compiles, links and archives (issue: Windows targets built on Linux),
against the real clang-cl, lld-link and llvm-lib: every hit byte-identical to the
tool's own output, and a header edit, a shadowing header or library, a changed /D,
a changed object or precompiled header misses."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import no_traceback, write
from support.builds import CMAKE
from support.checks import checked, outputs_of, same_as_plain

TARGET = "--target=x86_64-pc-windows-msvc"


def tool(name: str, package: str) -> str:
    """The tool, versioned or not, as Debian installs it (clang-cl-14 ...)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/bin/{name}-[0-9]*"), reverse=True)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (.ci/run installs {package})")
        pytest.skip(f"{name} is not installed: apt-get install {package}")
    return found


@pytest.fixture
def cl() -> str:
    return tool("clang-cl", "clang")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "include" / "a.h", "#define A 3\n")
    write(tmp_path / "include" / "n.h", '#include "a.h"\n')
    write(tmp_path / "a.c", '#include "n.h"\nint f(void) { return A; }\n')
    write(tmp_path / "m.c", "int f(void);\nint main(void) { return f(); }\n")
    write(tmp_path / "fi.h", "#define FORCED 2\n")
    return tmp_path


def counts(zc, kind: str = "compiles") -> tuple[int, int]:
    stats = zc.stats()
    part = stats if kind == "compiles" else stats["links"]
    return part["misses"], part["hits"]


FORMS = {
    "slash": ["/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X", "/Brepro", "/O2", "/DNDEBUG", "/W3", "/TC"],
    "dash, separate values, FI": ["-nologo", "-c", "a.c", "-Foa.obj", "/I", "include", "-X", "-Brepro", "-O2",
                                  "/D", "X=1", "-MD", "/FIfi.h", "/FI", "fi.h"],
    "Z7": ["/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X", "/Brepro", "/Z7"],
    "Zi and Fd, Fo directory": ["/nologo", "/c", "a.c", "/Foout/", "/Iinclude", "/X", "/Brepro", "/Zi",
                                "/Fdvc.pdb"],
    "showIncludes, Tc, Fo without extension": ["/nologo", "/c", "/Tca.c", "/Foa", "/Iinclude", "/X", "/Brepro",
                                               "/showIncludes"],
    "CMake's": ["/nologo", "-TP", "-Iinclude", "/DWIN32", "/D_WINDOWS", "/GR", "/EHsc", "/O2", "/Ob2", "-MD",
                "/Brepro", "/X", "-Xclang", "-fno-pch-timestamp", "/Foa.obj", "/Fdvc.pdb", "-c", "--", "{abs}/a.c"],
    "response file": ["@args.rsp"],
}
OBJECT = {"Zi and Fd, Fo directory": "out/a.obj"}


@pytest.mark.parametrize("form", list(FORMS))
def test_a_hit_is_the_compilers_own_object_stdout_and_stderr(zc, project, cl, form):
    args = [a.replace("{abs}", str(project)) for a in FORMS[form]]
    (project / "out").mkdir()
    if form == "response file":
        # Windows' quoting: a quoted word with a space, backslashes kept before no quote
        write(project / "args.rsp", '/nologo /c a.c /Foa.obj /Iinclude /X /Brepro "/DMSG=\\"a b\\"" /DP=x\\y\n')
    args = [TARGET, *args]
    assert same_as_plain(zc, project, args, [OBJECT.get(form, "a.obj")], compiler=cl) == "hit"
    assert zc.stats()["uncacheable_total"] == 0


def test_show_includes_is_replayed_exactly_and_kept_out_when_not_asked(zc, project, cl):
    base = [TARGET, "/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X", "/Brepro"]
    for _ in range(2):
        done = zc.run(cl, *base, cwd=project)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    plain = zc.plain(cl, *base, "/showIncludes", cwd=project)
    assert b"Note: including file:  include/a.h" in plain.stdout
    for _ in range(2):
        done = zc.run(cl, *base, "/showIncludes", cwd=project)
        assert done.stdout == plain.stdout
    assert counts(zc) == (2, 2)


def test_a_header_edit_a_shadowing_header_and_a_changed_define_miss(zc, project, cl):
    write(project / "first" / "README", "an include directory searched before include/\n")
    args = [TARGET, "/nologo", "/c", "a.c", "/Foa.obj", "/Ifirst", "/Iinclude", "/X", "/Brepro", "/DV=1"]
    checked(zc, project, cl, args, ["a.obj"])
    checked(zc, project, cl, args, ["a.obj"])
    assert counts(zc) == (1, 1)
    write(project / "include" / "a.h", "#define A 4\n")  # an edit of a header two levels down
    checked(zc, project, cl, args, ["a.obj"])
    assert counts(zc) == (2, 1)
    write(project / "first" / "a.h", "#define A 5\n")  # now found before include/a.h
    checked(zc, project, cl, args, ["a.obj"])
    assert counts(zc) == (3, 1)
    checked(zc, project, cl, [*args[:-1], "/DV=2"], ["a.obj"])
    assert counts(zc) == (4, 1)
    checked(zc, project, cl, args, ["a.obj"])
    assert counts(zc) == (4, 2)


def test_a_precompiled_header_is_read_by_content_and_creating_one_passes_through(zc, project, cl):
    write(project / "pch.h", '#include "include/a.h"\n#define P 5\n')
    write(project / "pch.c", '#include "pch.h"\n')
    write(project / "u.c", '#include "pch.h"\nint g(void) { return A + P; }\n')
    create = [TARGET, "/nologo", "/c", "pch.c", "/Ycpch.h", "/Fpx.pch", "/Fopch.obj", "/X", "/Brepro",
              "-Xclang", "-fno-pch-timestamp"]
    use = [TARGET, "/nologo", "/c", "u.c", "/Yupch.h", "/Fpx.pch", "/Fou.obj", "/X", "/Brepro"]
    assert zc.run(cl, *create, cwd=project).returncode == 0
    checked(zc, project, cl, use, ["u.obj"])
    checked(zc, project, cl, use, ["u.obj"])
    assert counts(zc) == (1, 1)
    # the same size: the .pch refers to the header's text rather than holding it,
    # and comes out byte for byte the same
    write(project / "pch.h", '#include "include/a.h"\n#define P 6\n')
    assert zc.run(cl, *create, cwd=project).returncode == 0
    checked(zc, project, cl, use, ["u.obj"])
    assert counts(zc) == (2, 1)
    write(project / "include" / "a.h", "#define A 4\n")  # a header the .pch was made from
    assert zc.run(cl, *create, cwd=project).returncode == 0
    checked(zc, project, cl, use, ["u.obj"])
    assert counts(zc) == (3, 1)
    checked(zc, project, cl, use, ["u.obj"])
    assert counts(zc) == (3, 2)
    assert zc.stats()["uncacheable"] == {"unsupported option /Yc": 3}


@pytest.mark.parametrize("extra, reason", [
    (["/Faa.asm"], "unsupported option /Fa"),
    (["/P"], "unsupported option /P"),
    (["/Zs"], "unsupported option /Zs"),
    (["-Xclang", "-dump-tokens"], "unsupported option -Xclang -dump-tokens"),
    (["/clang:-MD"], "unsupported option /clang:-MD"),
    (["-ftime-trace"], "unsupported option -ftime-trace"),
    (["/frobnicate"], "unsupported option /frobnicate"),
])
def test_what_it_cannot_follow_passes_through_with_its_reason(zc, project, cl, extra, reason):
    args = [TARGET, "/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X", *extra]
    plain = zc.plain(cl, *args, cwd=project)
    done = zc.run(cl, *args, cwd=project)
    no_traceback(done)
    assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert zc.stats()["uncacheable"] == {reason: 1}


def test_without_brepro_a_hit_gives_the_stamp_of_the_compile_that_stored_it(zc, project, cl):
    args = [TARGET, "/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X"]
    assert same_as_plain(zc, project, args, ["a.obj"], compiler=cl, deterministic=False) == "hit"


def test_the_cl_environment_variable_and_a_link_pass_through(zc, project, cl):
    args = [TARGET, "/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X"]
    assert zc.run(cl, *args, cwd=project, env={"CL": "/DX=1"}).returncode == 0
    assert zc.stats()["uncacheable"] == {"CL environment options": 1}


# -- lld-link and llvm-lib -------------------------------------------------------------------


@pytest.fixture
def objects(zc, project, cl) -> Path:
    for name in ("a", "m"):
        done = zc.plain(cl, TARGET, "/nologo", "/c", f"{name}.c", f"/Fo{name}.obj", "/Iinclude", "/X", "/Brepro",
                        cwd=project)
        assert done.returncode == 0, done.stderr
    return project


def test_lld_link_hits_and_misses_on_a_changed_object(zc, objects, cl):
    link = tool("lld-link", "lld")
    args = ["/nologo", "/nodefaultlib", "/entry:main", "/out:app.exe", "a.obj", "m.obj", "/Brepro"]
    checked(zc, objects, link, args, ["app.exe"])
    checked(zc, objects, link, args, ["app.exe"])
    assert counts(zc, "links") == (1, 1)
    write(objects / "include" / "a.h", "#define A 9\n")
    assert zc.plain(cl, TARGET, "/nologo", "/c", "a.c", "/Foa.obj", "/Iinclude", "/X", "/Brepro",
                    cwd=objects).returncode == 0
    checked(zc, objects, link, args, ["app.exe"])
    assert counts(zc, "links") == (2, 1)


def test_lld_link_default_libraries_from_libpath_and_lib_are_inputs_and_probed(zc, objects):
    """foo.lib is asked for by /defaultlib and found in the second /libpath directory,
    then through LIB: a changed foo.lib, or one put in an earlier directory, misses;
    the import library /implib names is not written (nothing is exported), and a hit
    leaves it unwritten too."""
    link, lib = tool("lld-link", "lld"), tool("llvm-lib", "llvm")
    (objects / "L1").mkdir()
    (objects / "L2").mkdir()
    assert zc.plain(lib, "/out:L2/foo.lib", "a.obj", cwd=objects).returncode == 0
    args = ["/nologo", "/nodefaultlib:libcmt.lib", "/nodefaultlib:oldnames.lib", "/entry:main", "/out:app.exe",
            "m.obj", "/libpath:L1", "/libpath:L2", "/defaultlib:foo.lib", "/Brepro", "/implib:app.lib"]
    for _ in range(2):
        checked(zc, objects, link, args, ["app.exe"])
        assert not (objects / "app.lib").exists()
    assert counts(zc, "links") == (1, 1)
    shutil.copy(objects / "L2" / "foo.lib", objects / "L1" / "foo.lib")  # same bytes, earlier directory
    checked(zc, objects, link, args, ["app.exe"])
    assert counts(zc, "links") == (2, 1)
    by_env = [a for a in args if not a.startswith("/libpath")]
    env = {"LIB": str(objects / "L1")}
    checked(zc, objects, link, by_env, ["app.exe"], env=env)
    checked(zc, objects, link, by_env, ["app.exe"], env=env)
    assert counts(zc, "links") == (3, 2)
    write(objects / "a2.c", "int f(void) { return 7; }\n")
    assert zc.plain(tool("clang-cl", "clang"), TARGET, "/nologo", "/c", "a2.c", "/Foa.obj", "/X", "/Brepro",
                    cwd=objects).returncode == 0
    assert zc.plain(lib, "/out:L1/foo.lib", "a.obj", cwd=objects).returncode == 0
    checked(zc, objects, link, by_env, ["app.exe"], env=env)
    assert counts(zc, "links") == (4, 2)


def test_a_dll_and_its_import_library_are_both_restored_and_its_def_file_is_an_input(zc, objects, cl):
    write(objects / "e.c", "__declspec(dllexport) int e(void) { return 1; }\nint g(void) { return 2; }\n")
    assert zc.plain(cl, TARGET, "/nologo", "/c", "e.c", "/Foe.obj", "/X", "/Brepro", cwd=objects).returncode == 0
    write(objects / "e.def", "EXPORTS\n  e\n")
    link = tool("lld-link", "lld")
    args = ["/nologo", "/nodefaultlib", "/noentry", "/dll", "/out:e.dll", "e.obj", "/def:e.def", "/Brepro"]
    checked(zc, objects, link, args, ["e.dll", "e.lib"])
    checked(zc, objects, link, args, ["e.dll", "e.lib"])
    assert counts(zc, "links") == (1, 1)
    write(objects / "e.def", "EXPORTS\n  e\n  g\n")  # one more export: another DLL and import library
    checked(zc, objects, link, args, ["e.dll", "e.lib"])
    assert counts(zc, "links") == (2, 1)


def test_link_options_that_write_files_it_does_not_name_pass_through(zc, objects):
    link = tool("lld-link", "lld")
    args = ["/nologo", "/nodefaultlib", "/entry:main", "/out:app.exe", "a.obj", "m.obj", "/Brepro"]
    for extra in (["/debug"], ["/map"], ["/verbose"]):
        plain = zc.plain(link, *args, *extra, cwd=objects)
        done = zc.run(link, *args, *extra, cwd=objects)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert zc.stats()["links"]["uncacheable"] == {"unsupported option /debug": 1, "unsupported option /map": 1,
                                                  "unsupported option /verbose": 1}


def test_llvm_lib_hits_and_misses_on_a_changed_member(zc, objects, cl):
    lib = tool("llvm-lib", "llvm")
    args = ["/nologo", "/out:x.lib", "a.obj", "m.obj"]
    checked(zc, objects, lib, args, ["x.lib"])
    checked(zc, objects, lib, args, ["x.lib"])
    assert counts(zc, "links") == (1, 1)
    write(objects / "m.c", "int main(void) { return 2; }\n")
    assert zc.plain(cl, TARGET, "/nologo", "/c", "m.c", "/Fom.obj", "/X", "/Brepro", cwd=objects).returncode == 0
    checked(zc, objects, lib, args, ["x.lib"])
    assert counts(zc, "links") == (2, 1)


# -- CMake, a Windows target from Linux ------------------------------------------------------

TOOLCHAIN = """\
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER {cl})
set(CMAKE_C_COMPILER_TARGET x86_64-pc-windows-msvc)
set(CMAKE_LINKER {link})
set(CMAKE_AR {lib})
set(CMAKE_MT /bin/true)
set(CMAKE_RC_COMPILER /bin/true)
# no Windows SDK here: try-compiles build static libraries, and nothing links a C library
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "/X /Brepro")
set(CMAKE_EXE_LINKER_FLAGS_INIT "/nodefaultlib /entry:main /Brepro /manifest:no")
set(CMAKE_C_STANDARD_LIBRARIES "" CACHE STRING "")
"""
LISTS = """\
cmake_minimum_required(VERSION 3.20)
project(win C)
add_library(util STATIC util.c)
target_include_directories(util PUBLIC include)
add_executable(app main.c)
target_link_libraries(app util)
"""


def test_cmake_builds_a_windows_program_with_clang_cl_and_a_fresh_build_dir_is_all_hits(zc, tmp_path, cl):
    link, lib = tool("lld-link", "lld"), tool("llvm-lib", "llvm")
    source = tmp_path / "src"
    write(source / "toolchain.cmake", TOOLCHAIN.format(cl=cl, link=link, lib=lib))
    write(source / "CMakeLists.txt", LISTS)
    write(source / "include" / "util.h", "int twice(int x);\n")
    write(source / "util.c", '#include "util.h"\nint twice(int x) { return 2 * x; }\n')
    write(source / "main.c", '#include "util.h"\nint main(void) { return twice(21); }\n')
    built = {}
    for build in ("b1", "b2"):
        configure = subprocess.run(
            [CMAKE, "-G", "Ninja", "-S", str(source), "-B", str(tmp_path / build),
             f"-DCMAKE_TOOLCHAIN_FILE={source / 'toolchain.cmake'}", "-DCMAKE_BUILD_TYPE=Release",
             "-DCMAKE_C_COMPILER_LAUNCHER=zccache", "-DCMAKE_C_LINKER_LAUNCHER=zccache"],
            env=zc.env, capture_output=True, text=True)
        assert configure.returncode == 0, configure.stdout + configure.stderr
        zc.zero()
        done = subprocess.run([CMAKE, "--build", str(tmp_path / build)], env=zc.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        built[build] = outputs_of(tmp_path / build, ["app.exe", "util.lib"])
        stats = zc.stats()
        if build == "b1":
            assert (stats["misses"], stats["hits"]) == (2, 0), stats
        else:
            assert (stats["misses"], stats["hits"], stats["links"]["misses"]) == (0, 2, 0), stats
            assert stats["links"]["hits"] == 1, stats  # the program (CMake runs llvm-lib itself, not launched)
    assert built["b1"] == built["b2"]
    assert built["b1"]["app.exe"][:2] == b"MZ"


def test_a_has_include_name_that_appears_and_another_vc_installation_miss(zc, project, cl):
    """__has_include("opt.h") false, then opt.h made in the /I directory; and
    <xv.h> from the MSVC installation VCToolsInstallDir names, then another one's.
    /showIncludes names neither the absent file nor where the installation is."""
    write(project / "h.c", '#if __has_include("opt.h")\n#include "opt.h"\n#else\n#define OPT 0\n#endif\nint o = OPT;\n')
    args = [TARGET, "/nologo", "/c", "h.c", "/Foh.obj", "/Iinclude", "/X", "/Brepro"]
    checked(zc, project, cl, args, ["h.obj"])
    checked(zc, project, cl, args, ["h.obj"])
    assert counts(zc) == (1, 1)
    write(project / "include" / "opt.h", "#define OPT 5\n")
    checked(zc, project, cl, args, ["h.obj"])
    assert counts(zc) == (2, 1)
    for n in (1, 2):
        write(project / f"vc{n}" / "include" / "xv.h", f"#define XV {n}\n")
    write(project / "v.c", "#include <xv.h>\nint v = XV;\n")
    no_x = [TARGET, "/nologo", "/c", "v.c", "/Fov.obj", "/Brepro"]
    for n in (1, 2, 1):
        checked(zc, project, cl, no_x, ["v.obj"], env={"VCToolsInstallDir": str(project / f"vc{n}")})
    assert counts(zc) == (4, 2)


def test_lld_link_with_options_in_the_link_environment_variable_passes_through(zc, objects):
    """lld-link puts LINK's words before its command line and _LINK_'s after."""
    link = tool("lld-link", "lld")
    args = ["/nologo", "/nodefaultlib", "/entry:main", "/out:app.exe", "a.obj", "m.obj", "/Brepro"]
    for name in ("LINK", "_LINK_"):
        env = {name: "/out:other.exe"}
        plain = zc.plain(link, *args, cwd=objects, env=env)
        done = zc.run(link, *args, cwd=objects, env=env)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert zc.stats()["links"]["uncacheable"] == {"LINK environment options": 2}
