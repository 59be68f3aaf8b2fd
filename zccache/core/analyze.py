"""``zccache analyze``: read a session journal and say where the build's time went."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field


class AnalyzeError(ValueError):
    pass


@dataclass
class Report:
    total: int = 0
    results: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    slowest: list[tuple[float, str, str]] = field(default_factory=list)
    directories: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0.0]))
    bad_lines: int = 0

    @property
    def hit_rate(self) -> float:
        lookups = self.results["hit"] + self.results["miss"]
        return self.results["hit"] / lookups if lookups else 0.0


@dataclass(frozen=True)
class Row:
    """One journal line: a compile (or a link, an archive, an exec run), when it
    started, how long it took and how it went."""

    start: float  # 0.0 for a line without a timestamp
    seconds: float
    result: str
    reason: str
    why: str
    source: str
    kind: str = "compile"  # compile, link (and archive), exec, or passthrough (no family took it)
    output: str = ""

    @property
    def end(self) -> float:
        return self.start + self.seconds

    @property
    def name(self) -> str:
        """What the row is about: a compile's source, a link's or archive's output."""
        if self.kind == "compile":
            return self.source or self.output or "(no source)"
        return self.output or self.source or f"({self.kind})"


KINDS = {"gcc": "compile", "rustc": "compile", "link": "link", "archive": "link", "exec": "exec"}
EMPTY_HINT = ("the journal holds no compiles: was the session's id exported to the build? "
              "(eval \"$(zccache session-start --journal FILE)\" exports ZCCACHE_SESSION_ID)")
_CATEGORIES = (("header", "a header changed"), ("argument", "an argument changed"), ("source", "the source changed"),
               ("environment", "an environment variable changed"), ("the compiler", "the compiler changed"),
               ("the tool", "the tool changed"), ("nothing cached", "nothing cached for the output yet"))


def category(why: str) -> str:
    """A miss's explanation without its particulars, to count misses by."""
    for start, name in _CATEGORIES:
        if why.startswith(start):
            return name
    if "appeared" in why:
        return "a new file shadows a header"
    return why or "unexplained"


def reason_of(row: Row) -> str:
    """What a row that is not a hit counts under: a miss by what differed."""
    return f"miss: {category(row.why)}" if row.result == "miss" else f"{row.result}: {row.reason or '?'}"


def read_journal(path: str) -> tuple[list[Row], int]:
    """The journal's rows in start order, and how many lines were unreadable."""
    rows, bad = [], 0
    try:
        f = open(path, encoding="utf-8")
    except OSError as exc:
        raise AnalyzeError(f"cannot read {path}: {exc.strerror}") from None
    with f:
        for line in f:
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                seconds = float(d.get("duration_ms") or 0) / 1000
                family = d.get("family")
                rows.append(Row(start=float(d.get("ts") or seconds) - seconds, seconds=seconds, result=str(d["result"]),
                                reason=str(d.get("reason") or ""), why=str(d.get("why") or ""),
                                source=str(d.get("source") or ""),
                                kind=KINDS.get(str(family), "compile") if family else "passthrough",
                                output=str(d.get("output") or "")))
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
    rows.sort(key=lambda r: r.start)
    return rows, bad


def analyze(path: str) -> Report:
    report = Report()
    rows, report.bad_lines = read_journal(path)
    if not rows:
        raise AnalyzeError(EMPTY_HINT)
    for row in rows:
        report.total += 1
        report.results[row.result] += 1
        report.kinds[row.kind] += 1
        if row.result != "hit":
            report.reasons[reason_of(row)] += 1
        report.slowest.append((row.seconds, row.result, f"{row.kind}: {row.name}" if row.kind != "compile" else row.name))
        if row.kind != "compile":
            continue  # the directory table is about sources
        d = report.directories[os.path.dirname(row.source) if row.source else "(no source)"]
        d[0] += 1
        d[1] += row.result == "hit"
        d[2] += row.result == "miss"
        d[3] += row.seconds
    report.slowest.sort(reverse=True)
    return report


def render(report: Report, top: int = 10) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    summary = Table(title="Session journal", show_header=False, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_row("Runs", str(report.total))
    for kind in ("compile", "link", "exec", "passthrough"):
        if report.kinds.get(kind):
            summary.add_row(f"  {kind}{'s' if kind != 'passthrough' else ''}", str(report.kinds[kind]))
    for name in ("hit", "miss", "passthrough", "failed"):
        summary.add_row(name.capitalize(), str(report.results.get(name, 0)))
    summary.add_row("Hit rate", f"{report.hit_rate * 100:.1f} %")
    if report.bad_lines:
        summary.add_row("Unreadable lines", str(report.bad_lines))
    console.print(summary)
    if report.reasons:
        reasons = Table(title="Why not a hit", title_justify="left")
        reasons.add_column("reason")
        reasons.add_column("count", justify="right")
        for reason, count in report.reasons.most_common():
            reasons.add_row(reason, str(count))
        console.print(reasons)
    slow = Table(title=f"Slowest {min(top, len(report.slowest))} runs", title_justify="left")
    slow.add_column("ms", justify="right")
    slow.add_column("result")
    slow.add_column("source (or what was made)")
    for seconds, result, source in report.slowest[:top]:
        slow.add_row(f"{seconds * 1000:.1f}", result, source)
    console.print(slow)
    dirs = Table(title="Per directory", title_justify="left")
    for col in ("directory", "compiles", "hits", "misses", "ms"):
        dirs.add_column(col, justify="left" if col == "directory" else "right")
    for name, (n, hits, misses, seconds) in sorted(report.directories.items(), key=lambda kv: -kv[1][3]):
        dirs.add_row(name, str(n), str(hits), str(misses), f"{seconds * 1000:.1f}")
    console.print(dirs)
