"""Command lines and depfiles as gcc-like tools and make write them: what the compile,
link, rustc and exec families share."""

from __future__ import annotations

import os
import re
import stat


def not_a_file(cwd: str, path: str) -> bool:
    """True for an existing path that is no regular file (/dev/null, a fifo): a
    compile may write there, a restore must never replace it."""
    try:
        return not stat.S_ISREG(os.stat(os.path.join(cwd, path)).st_mode)
    except OSError:
        return False
    except ValueError:  # a NUL in the name (only a daemon request can carry one): no file
        return True


def expand_response_files(args: list[str], cwd: str, depth: int = 0) -> list[str]:
    """Expand @file arguments as gcc does (nested ones too); a missing file stays literal."""
    if depth > 10 or not any(a.startswith("@") for a in args):
        return list(args)
    out: list[str] = []
    for a in args:
        if a.startswith("@") and len(a) > 1:
            path = os.path.join(cwd, a[1:])
            if not os.path.isfile(path):
                out.append(a)
                continue
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                out.extend(expand_response_files(split_response(f.read()), cwd, depth + 1))
        else:
            out.append(a)
    return out


def split_response(text: str) -> list[str]:
    """libiberty's buildargv: whitespace separates, quotes group, backslash escapes."""
    args: list[str] = []
    cur: list[str] = []
    have = False
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i + 1])
            have = True
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
            else:
                cur.append(c)
        elif c in "'\"":
            quote = c
            have = True
        elif c.isspace():
            if have:
                args.append("".join(cur))
                cur, have = [], False
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        args.append("".join(cur))
    return args


def parse_depfile(text: str) -> list[str]:
    """Prerequisites of every rule in a Make depfile as gcc writes it. A line with
    no escape (no backslash, no $) is split by str.split: the per-character reading
    cost 0.8 ms a depfile of a hundred headers, on every miss."""
    text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    deps: list[str] = []
    for line in text.splitlines():
        if "\\" in line or "$" in line:
            colon = _rule_colon(line)
            if colon >= 0:
                deps.extend(_split_make_words(line[colon + 1 :]))
            continue
        m = _RULE_COLON.search(line)
        if m is not None:
            deps.extend(w for w in line[m.end() :].replace("\t", " ").split(" ") if w)
    return list(dict.fromkeys(deps))


_RULE_COLON = re.compile(r":(?=[ \t]|$)")  # _rule_colon's, for a line without a backslash


def _rule_colon(line: str) -> int:
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == ":" and (i + 1 == len(line) or line[i + 1] in " \t"):
            return i
        i += 1
    return -1


def _split_make_words(s: str) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in " #\\":
            cur.append(s[i + 1])
            i += 2
            continue
        if c == "$" and i + 1 < len(s) and s[i + 1] == "$":
            cur.append("$")
            i += 2
            continue
        if c in " \t":
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(c)
        i += 1
    if cur:
        words.append("".join(cur))
    return words
