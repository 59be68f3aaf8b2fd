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
    reasons: Counter = field(default_factory=Counter)
    slowest: list[tuple[float, str, str]] = field(default_factory=list)
    directories: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0.0]))
    bad_lines: int = 0

    @property
    def hit_rate(self) -> float:
        lookups = self.results["hit"] + self.results["miss"]
        return self.results["hit"] / lookups if lookups else 0.0


def analyze(path: str) -> Report:
    report = Report()
    try:
        f = open(path, encoding="utf-8")
    except OSError as exc:
        raise AnalyzeError(f"cannot read {path}: {exc.strerror}") from None
    with f:
        for line in f:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                result = str(row["result"])
                seconds = float(row.get("duration_ms") or 0) / 1000
            except (ValueError, KeyError, TypeError):
                report.bad_lines += 1
                continue
            report.total += 1
            report.results[result] += 1
            if result != "hit" and row.get("reason"):
                report.reasons[f"{result}: {row['reason']}"] += 1
            source = row.get("source") or "(no source)"
            report.slowest.append((seconds, result, source))
            d = report.directories[os.path.dirname(source) if row.get("source") else "(passthrough)"]
            d[0] += 1
            d[1] += result == "hit"
            d[2] += result == "miss"
            d[3] += seconds
    report.slowest.sort(reverse=True)
    return report


def render(report: Report, top: int = 10) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    summary = Table(title="Session journal", show_header=False, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_row("Compiles", str(report.total))
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
    slow = Table(title=f"Slowest {min(top, len(report.slowest))} compiles", title_justify="left")
    slow.add_column("ms", justify="right")
    slow.add_column("result")
    slow.add_column("source")
    for seconds, result, source in report.slowest[:top]:
        slow.add_row(f"{seconds * 1000:.1f}", result, source)
    console.print(slow)
    dirs = Table(title="Per directory", title_justify="left")
    for col in ("directory", "compiles", "hits", "misses", "ms"):
        dirs.add_column(col, justify="left" if col == "directory" else "right")
    for name, (n, hits, misses, seconds) in sorted(report.directories.items(), key=lambda kv: -kv[1][3]):
        dirs.add_row(name, str(n), str(hits), str(misses), f"{seconds * 1000:.1f}")
    console.print(dirs)
