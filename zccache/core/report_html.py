"""`zccache analyze JOURNAL --html REPORT`: one self-contained HTML file about a build.

The page needs nothing at view time: the plots are SVG drawn by matplotlib and
inlined, the journal's figures travel as JSON inside the page, and a few lines of
script build the tables from them and sort them (click a header; ``#sort=table:column``
in the address opens a table sorted, so that a sorted view can be shared).

What it shows: the build's timeline (each compile a bar on the worker lane it ran
on, hits and misses coloured), the hit rate over the build, the slowest misses, the
reasons compiles were not hits, a table per directory, and for the top misses what
differed from the nearest cached entry (the journal's ``why``: a header, an
argument, the compiler, an environment variable).
"""

from __future__ import annotations

import html
import io
import json
import os

from zccache.core.analyze import EMPTY_HINT, AnalyzeError, Row, read_journal, reason_of

COLOURS = {"hit": "#2e7d32", "miss": "#c62828", "passthrough": "#9e9e9e", "failed": "#6a1b9a"}


class ReportError(ValueError):
    pass


def lanes(rows: list[Row]) -> list[int]:
    """A worker lane per row: the lowest lane free when it started."""
    ends: list[float] = []
    out = []
    for r in rows:
        for i, end in enumerate(ends):
            if end <= r.start + 1e-9:
                ends[i] = r.start + r.seconds
                out.append(i)
                break
        else:
            ends.append(r.start + r.seconds)
            out.append(len(ends) - 1)
    return out


def hit_rate_points(rows: list[Row]) -> list[tuple[float, float]]:
    """(seconds since the first start, hit rate so far in %) at the end of each lookup,
    in the order the lookups ended: the line runs forward in time."""
    begin = min((r.start for r in rows), default=0.0)
    points, hits, lookups = [], 0, 0
    for r in sorted(rows, key=lambda r: r.end):
        if r.result in ("hit", "miss"):
            lookups += 1
            hits += r.result == "hit"
            points.append((r.end - begin, 100 * hits / lookups))
    return points


def needs_matplotlib() -> str:
    """'' when the plots can be drawn, else the one line that says what to install."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "the HTML report draws its plots with matplotlib: pip install 'pyzccache[report]'"
    return ""


def figures(rows: list[Row], bad: int, top: int = 15) -> dict:
    """Everything the page shows, as plain data (the test compares it with the page)."""
    counts = {k: sum(r.result == k for r in rows) for k in ("hit", "miss", "passthrough", "failed")}
    lookups = counts["hit"] + counts["miss"]
    dirs: dict[str, list] = {}
    for r in rows:
        if r.kind != "compile":
            continue
        d = dirs.setdefault(os.path.dirname(r.source) if r.source else "(no source)", [0, 0, 0, 0.0])
        d[0] += 1
        d[1] += r.result == "hit"
        d[2] += r.result == "miss"
        d[3] += r.seconds
    reasons: dict[str, int] = {}
    for r in rows:
        if r.result != "hit":
            key = reason_of(r)
            reasons[key] = reasons.get(key, 0) + 1
    misses = sorted((r for r in rows if r.result == "miss"), key=lambda r: -r.seconds)
    begin = rows[0].start if rows else 0.0
    end = max((r.start + r.seconds for r in rows), default=0.0)
    return {
        "compiles": len(rows), **counts, "unreadable": bad,
        "hit_rate": round(100 * counts["hit"] / lookups, 1) if lookups else 0.0,
        "wall_s": round(end - begin, 3),
        "slowest_misses": [{"ms": round(r.seconds * 1000, 1), "kind": r.kind, "source": r.name,
                            "why": r.why or r.reason} for r in misses[:top]],
        "kinds": {k: sum(r.kind == k for r in rows) for k in ("compile", "link", "exec", "passthrough")},
        "reasons": [{"reason": k, "count": v} for k, v in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
        "directories": [{"directory": k, "compiles": v[0], "hits": v[1], "misses": v[2],
                         "hit_rate": round(100 * v[1] / (v[1] + v[2]), 1) if v[1] + v[2] else 0.0,
                         "ms": round(v[3] * 1000, 1)} for k, v in sorted(dirs.items())],
    }


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]  # the XML prologue does not belong inside HTML


def plots(rows: list[Row]) -> tuple[str, str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ReportError("the HTML report needs matplotlib: pip install 'pyzccache[report]'") from None
    begin = rows[0].start if rows else 0.0
    lane_of = lanes(rows)
    n_lanes = max(lane_of, default=0) + 1
    fig, ax = plt.subplots(figsize=(10, 0.4 * n_lanes + 1.2))
    for kind, colour in COLOURS.items():
        for lane in range(n_lanes):
            bars = [(r.start - begin, max(r.seconds, 1e-4)) for r, ln in zip(rows, lane_of) if ln == lane and r.result == kind]
            if bars:
                ax.broken_barh(bars, (lane - 0.4, 0.8), facecolors=colour)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS.values()]
    ax.legend(handles, list(COLOURS), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, fontsize="small",
              frameon=False)
    ax.set_xlabel("seconds since the first compile")
    ax.set_ylabel("worker lane")
    ax.set_yticks(range(n_lanes))
    timeline = _svg(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(10, 2.6))
    points = hit_rate_points(rows)
    ax.plot([x for x, _ in points], [y for _, y in points], color="#1565c0")
    ax.set_ylim(0, 105)
    ax.set_xlabel("seconds since the first compile")
    ax.set_ylabel("hit rate so far (%)")
    rate = _svg(fig)
    plt.close(fig)
    return timeline, rate


_SCRIPT = """
const data = JSON.parse(document.getElementById('data').textContent);
for (const key of ['compiles', 'hit', 'miss', 'passthrough', 'failed', 'hit_rate', 'wall_s']) {
  document.getElementById('n-' + key).textContent = String(data[key]);
}
const tables = {
  misses: [data.slowest_misses, ['ms', 'kind', 'source', 'why']],
  reasons: [data.reasons, ['reason', 'count']],
  dirs: [data.directories, ['directory', 'compiles', 'hits', 'misses', 'hit_rate', 'ms']],
};
function fill(name, column, descending) {
  const [rows, columns] = tables[name];
  const sorted = rows.slice();
  if (column) {
    sorted.sort((a, b) => (a[column] < b[column] ? -1 : a[column] > b[column] ? 1 : 0) * (descending ? -1 : 1));
  }
  const table = document.getElementById('t-' + name);
  table.innerHTML = '';
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement('th');
    th.textContent = c.replace('_', ' ');
    th.onclick = () => fill(name, c, column === c ? !descending : typeof rows[0]?.[c] === 'number');
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of sorted) {
    const tr = body.insertRow();
    for (const c of columns) {
      const td = tr.insertCell();
      td.textContent = String(row[c]);
      if (typeof row[c] === 'number') td.className = 'num';
    }
  }
  table.dataset.sorted = column ? column + (descending ? ' desc' : ' asc') : '';
}
for (const name of Object.keys(tables)) fill(name, null, false);
const m = /sort=(\\w+):(\\w+)(:desc)?/.exec(location.hash);
if (m && tables[m[1]]) fill(m[1], m[2], !!m[3]);
"""

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 7em; }
.card b { display: block; font-size: 1.6em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border-bottom: 1px solid #eee; padding: .25em .8em; text-align: left; }
th { cursor: pointer; background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { max-width: 100%; height: auto; }
"""


def write(journal: str, out: str, top: int = 15) -> dict:
    try:
        rows, bad = read_journal(journal)
    except AnalyzeError as exc:
        raise ReportError(str(exc)) from None
    if not rows:
        raise ReportError(EMPTY_HINT)
    data = figures(rows, bad, top)
    timeline, rate = plots(rows)
    cards = "".join(f'<div class="card">{label}<b id="n-{key}">?</b></div>' for key, label in (
        ("compiles", "compiles"), ("hit", "hits"), ("miss", "misses"), ("passthrough", "passed through"),
        ("failed", "failed"), ("hit_rate", "hit rate (%)"), ("wall_s", "wall time (s)")))
    payload = json.dumps(data).replace("</", "<\\/")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>zccache build report</title>
<style>{_STYLE}</style></head>
<body>
<h1>zccache build report</h1>
<p>{html.escape(os.path.basename(journal))}: {len(rows)} compiles{f", {bad} unreadable lines" if bad else ""}.</p>
<div class="cards">{cards}</div>
<h2>Timeline</h2>{timeline}
<h2>Hit rate over the build</h2>{rate}
<h2>Slowest misses, and why each missed</h2><table id="t-misses"></table>
<h2>Why compiles were not hits</h2><table id="t-reasons"></table>
<h2>Per directory</h2><table id="t-dirs"></table>
<script type="application/json" id="data">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
    tmp = f"{out}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, out)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ReportError(f"cannot write {out}: {exc.strerror}") from None
    return data
