"""Classifications kept for commands seen again (plans.py), with the real gcc family
classifying real gcc command lines in this process: what is kept, what is given
back, and what makes a kept one be classified again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from zccache.core.invocation import Invocation, Passthrough
from zccache.core.plans import Plans
from zccache.core.settings_file import with_file
from zccache.core.toolchains import gcc

GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="needs gcc")


def classified(argv: list[str], cwd: Path, env) -> Invocation | Passthrough:
    found = gcc.zccache_classify(argv=argv, cwd=str(cwd), env=env)
    assert found is not None
    return found


@pytest.fixture
def env():
    return with_file(dict(os.environ))


def test_a_kept_command_comes_back_as_a_copy_equal_to_a_new_classification(tmp_path, env):
    (tmp_path / "a.c").write_text("int a;\n")
    argv = [GCC, "-O2", "-c", "a.c", "-o", "a.o"]
    plans = Plans()
    first = classified(argv, tmp_path, env)
    plans.keep(argv, str(tmp_path), env, first)
    again = plans.recall(argv, str(tmp_path), env)
    assert isinstance(again, Invocation) and again is not first
    assert again == classified(argv, tmp_path, env)
    again.umask = 0o077  # what the engine sets on the one it runs
    assert plans.recall(argv, str(tmp_path), env).umask is None


def test_another_environment_or_directory_or_word_is_not_the_kept_command(tmp_path, env):
    argv = [GCC, "-c", "a.c"]
    plans = Plans()
    plans.keep(argv, str(tmp_path), env, classified(argv, tmp_path, env))
    assert plans.recall(argv, str(tmp_path), with_file(dict(env))) is None  # equal, but not the same mapping
    assert plans.recall(argv, str(tmp_path / "sub"), env) is None
    assert plans.recall([GCC, "-c", "b.c"], str(tmp_path), env) is None
    assert plans.recall(argv, str(tmp_path), env) is not None


def test_an_output_that_is_no_longer_a_regular_file_is_classified_again(tmp_path, env):
    argv = [GCC, "-c", "a.c", "-o", "a.o", "-MMD", "-MF", "a.d"]
    plans = Plans()
    found = classified(argv, tmp_path, env)
    assert "depfile" in found.outputs
    plans.keep(argv, str(tmp_path), env, found)
    (tmp_path / "a.d").symlink_to(os.devnull)
    assert plans.recall(argv, str(tmp_path), env) is None
    assert "depfile" not in classified(argv, tmp_path, env).outputs
    (tmp_path / "a.d").unlink()
    plans.keep(argv, str(tmp_path), env, classified(argv, tmp_path, env))
    (tmp_path / "a.o").mkdir()
    assert plans.recall(argv, str(tmp_path), env) is None


def test_a_new_assembler_where_the_driver_looks_is_classified_again(tmp_path, env):
    tools = tmp_path / "tools"
    tools.mkdir()
    argv = [GCC, "-B", f"{tools}/", "-c", "a.c", "-o", "a.o"]
    plans = Plans()
    plans.keep(argv, str(tmp_path), env, classified(argv, tmp_path, env))
    assert plans.recall(argv, str(tmp_path), env) is not None
    (tools / "as").write_text("#!/bin/sh\nexec /usr/bin/as \"$@\"\n")
    (tools / "as").chmod(0o755)
    assert plans.recall(argv, str(tmp_path), env) is None


def test_response_files_passthroughs_and_what_reads_more_are_not_kept(tmp_path, env):
    (tmp_path / "args.rsp").write_text("-c a.c -o a.o\n")
    plans = Plans()
    for argv in ([GCC, "@args.rsp"], [GCC, "-E", "a.c"], [GCC, "-march=native", "-c", "a.c"],
                 [GCC, "-fprofile-use", "-c", "a.c"]):
        plans.keep(argv, str(tmp_path), env, classified(argv, tmp_path, env))
        assert plans.recall(argv, str(tmp_path), env) is None, argv


def test_the_copies_of_a_kept_command_share_the_direct_keys_made_from_them(tmp_path, env):
    from zccache.core import engine, keys

    argv = [GCC, "-c", "a.c", "-o", "a.o"]
    plans = Plans()
    fresh = classified(argv, tmp_path, env)
    assert fresh.direct_keys is None
    plans.keep(argv, str(tmp_path), env, fresh)
    first, second = plans.recall(argv, str(tmp_path), env), plans.recall(argv, str(tmp_path), env)
    assert first.direct_keys is second.direct_keys and first.direct_keys == {}
    made = engine._direct_key(first, "tool", ["source-1"], [b"extra"])
    assert made == keys.direct_key(fresh, "tool", ["source-1"], [b"extra"])
    assert engine._direct_key(second, "tool", ["source-1"], [b"extra"]) == made
    assert engine._direct_key(second, "tool", ["source-2"], [b"extra"]) == keys.direct_key(fresh, "tool", ["source-2"], [b"extra"]) != made
    assert engine._direct_key(second, "other tool", ["source-1"], [b"extra"]) != made
    assert len(first.direct_keys) == 3
