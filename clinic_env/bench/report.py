"""Benchmark summaries and reports: bootstrap confidence intervals, Markdown and HTML with SVG plots.

Everything here is a pure function of the episode records that ``clinic_env.bench``
writes to ``results.jsonl`` (one dict per episode, ``status`` "ok" or "error"):

- ``summarize(records)``: counts, and the mean score with a 95% percentile bootstrap
  confidence interval overall, per rubric dimension and per specialty. Errored episodes
  are counted, never scored. The bootstrap resamples *cases* (each with all its
  episodes), so several episodes of one case do not pass for independent evidence; with
  one episode per case it is the ordinary bootstrap over episodes. Means are
  HealthBench's clipped means (the mean, clipped to [0, 1]), and every resampling is
  seeded, so the same records give the same summary.
- ``report_markdown`` / ``report_html``: the tables and three plots (score histogram,
  per-dimension scores with their intervals, cost against score), drawn as SVG by the
  small functions below (no plotting library). All text in the HTML is escaped.
- ``write_reports(out_dir, summary, records)`` writes ``report.md`` (with the plots as
  ``plots/*.svg``) and ``report.html`` (plots inline).
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clinic_rubrics.schema import DIMENSIONS

CI_LEVEL = 0.95
N_RESAMPLES = 1000
PLOTS = {
    "score_histogram": "Score distribution",
    "dimensions": "Score per rubric dimension",
    "cost_vs_score": "Cost of orders against score",
    "llm_cost_vs_score": "LLM cost per episode against score",  # only when the run called an LLM
}
LLM_COUNTS = ("calls", "failed_calls", "cached_calls", "prompt_tokens", "completion_tokens", "total_tokens", "cost")


# ---- statistics ------------------------------------------------------------------------------

def bootstrap_ci(
    values: Sequence[float],
    groups: Sequence[str] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    level: float = CI_LEVEL,
) -> dict[str, Any] | None:
    """The clipped mean of ``values`` and its percentile bootstrap interval.

    ``groups`` (e.g. case ids, aligned with ``values``) makes it a cluster bootstrap: each
    resample draws groups with replacement and takes all their values. None when there
    are no values.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return None
    if not np.all(np.isfinite(x)):
        raise ValueError(f"bootstrap_ci needs finite values, got {values!r}")
    labels = list(groups) if groups is not None else list(range(x.size))
    if len(labels) != x.size:
        raise ValueError(f"{len(labels)} group labels for {x.size} values")
    index = {g: i for i, g in enumerate(dict.fromkeys(labels))}
    ids = np.array([index[g] for g in labels])
    sums = np.bincount(ids, weights=x, minlength=len(index))
    counts = np.bincount(ids, minlength=len(index)).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(index), size=(n_resamples, len(index)))
    means = np.clip(sums[draws].sum(axis=1) / counts[draws].sum(axis=1), 0.0, 1.0)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return {
        "mean": float(np.clip(x.mean(), 0.0, 1.0)),
        "ci_low": float(low),
        "ci_high": float(high),
        "n": int(x.size),
        "n_cases": len(index),
    }


def _ok(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get("status") == "ok"]


def summarize(
    records: Sequence[Mapping[str, Any]],
    n_planned: int | None = None,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    level: float = CI_LEVEL,
) -> dict[str, Any]:
    """Counts and scores with bootstrap intervals, from one record per episode (see module doc)."""
    ok = _ok(records)
    errors = [r for r in records if r.get("status") != "ok"]

    def stat(values: Sequence[float], groups: Sequence[str]) -> dict[str, Any] | None:
        return bootstrap_ci(values, groups, n_resamples=n_resamples, seed=seed, level=level)

    cases = [r["case_id"] for r in ok]
    dimensions: dict[str, Any] = {}
    for dim in [*DIMENSIONS, *sorted({d for r in ok for d in (r.get("dimensions") or {})} - set(DIMENSIONS))]:
        have = [r for r in ok if (r.get("dimensions") or {}).get(dim) is not None]
        if have:
            dimensions[dim] = stat([r["dimensions"][dim] for r in have], [r["case_id"] for r in have])
    specialties: dict[str, Any] = {}
    for specialty in sorted({r.get("specialty") or "unknown" for r in ok}):
        have = [r for r in ok if (r.get("specialty") or "unknown") == specialty]
        specialties[specialty] = stat([r["score"] for r in have], [r["case_id"] for r in have])
    by_case: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in ok:
        by_case[r["case_id"]].append(r)
    costs = [float(r.get("cost") or 0.0) for r in ok]
    turns = [int(r.get("doctor_turns") or 0) for r in ok]
    return {
        "llm": llm_totals(records),
        "n_planned": n_planned if n_planned is not None else len(records),
        "n_episodes": len(records),
        "n_ok": len(ok),
        "n_errors": len(errors),
        "n_missing": max(0, (n_planned if n_planned is not None else len(records)) - len(records)),
        "n_cases": len(by_case),
        "overall": stat([r["score"] for r in ok], cases),
        "healthbench_score": stat([r["raw_score"] for r in ok], cases),
        "dimensions": dimensions,
        "specialties": specialties,
        "cases": {
            case_id: {
                "specialty": rs[0].get("specialty"),
                "n": len(rs),
                "mean_score": float(np.mean([r["score"] for r in rs])),
                "mean_cost": float(np.mean([float(r.get("cost") or 0.0) for r in rs])),
            }
            for case_id, rs in sorted(by_case.items())
        },
        "cost": ({"mean": float(np.mean(costs)), "median": float(np.median(costs)), "max": float(np.max(costs))}
                 if costs else None),
        "doctor_turns": {"mean": float(np.mean(turns)), "max": int(np.max(turns))} if turns else None,
        "terminated_rate": float(np.mean([bool(r.get("terminated")) for r in ok])) if ok else None,
        "truncated_rate": float(np.mean([bool(r.get("truncated")) for r in ok])) if ok else None,
        "errors": {
            "by_type": dict(Counter((r.get("error") or {}).get("type", "unknown") for r in errors).most_common()),
            "episodes": [{"key": r.get("key"), "type": (r.get("error") or {}).get("type"),
                          "message": (r.get("error") or {}).get("message")} for r in errors],
        },
        "ci": {"level": level, "method": "percentile bootstrap resampling cases (clusters of episodes)",
               "n_resamples": n_resamples, "seed": seed},
    }


def format_stat(s: Mapping[str, Any] | None, digits: int = 3) -> str:
    """``0.562 [0.512, 0.610]`` (mean and interval), or ``n/a``."""
    if not s:
        return "n/a"
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def llm_totals(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """LLM calls, tokens and cost summed over every episode (failed ones spent too), with
    means per scored episode; ``None`` when no episode called an LLM."""
    counted = [r["llm"] for r in records if isinstance(r.get("llm"), Mapping)]
    totals: dict[str, Any] = {k: sum(c.get(k) or 0 for c in counted) for k in LLM_COUNTS}
    if not totals["calls"] and not totals["failed_calls"]:
        return None
    ok = [r["llm"] for r in _ok(records) if isinstance(r.get("llm"), Mapping)]
    totals["mean_tokens_per_episode"] = float(np.mean([c.get("total_tokens") or 0 for c in ok])) if ok else None
    totals["mean_cost_per_episode"] = float(np.mean([c.get("cost") or 0.0 for c in ok])) if ok else None
    return totals


# ---- SVG plots --------------------------------------------------------------------------------

W, H = 560, 300
FONT = 'font-family="sans-serif" font-size="11"'
BAR = "#4878a8"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _svg(title: str, body: list[str], height: int = H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" '
            f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>'
            f'<rect width="{W}" height="{height}" fill="white"/>'
            f'<text x="{W / 2}" y="18" text-anchor="middle" font-family="sans-serif" font-size="14">{_e(title)}</text>'
            + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def _no_data(title: str) -> str:
    return _svg(title, [f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" {FONT}>no scored episodes</text>'])


def svg_histogram(values: Sequence[float], title: str = PLOTS["score_histogram"], bins: int = 10) -> str:
    """Histogram of scores in [0, 1] with the mean as a dashed line."""
    if not values:
        return _no_data(title)
    left, right, top, bottom = 50, W - 20, 35, H - 45
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(float(v) * bins)))] += 1
    ymax = max(counts)
    step = max(1, math.ceil(ymax / 5))
    ytop = step * (ymax // step + 1)  # headroom above the tallest bar
    sx = lambda v: left + (right - left) * v  # noqa: E731
    sy = lambda c: bottom - (bottom - top) * c / ytop  # noqa: E731
    body = []
    for c in range(0, ytop + 1, step):
        body.append(f'<line x1="{left}" x2="{right}" y1="{sy(c):.1f}" y2="{sy(c):.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{sy(c) + 4:.1f}" text-anchor="end" {FONT}>{c}</text>')
    for i, c in enumerate(counts):
        x0, x1 = sx(i / bins) + 1, sx((i + 1) / bins) - 1
        body.append(f'<rect x="{x0:.1f}" y="{sy(c):.1f}" width="{x1 - x0:.1f}" height="{sy(0) - sy(c):.1f}" '
                    f'fill="{BAR}"><title>{i / bins:.1f}-{(i + 1) / bins:.1f}: {c}</title></rect>')
    for i in range(0, 11, 2):
        body.append(f'<text x="{sx(i / 10):.1f}" y="{bottom + 15}" text-anchor="middle" {FONT}>{i / 10:.1f}</text>')
    mean = float(np.mean(values))
    body.append(f'<line x1="{sx(mean):.1f}" x2="{sx(mean):.1f}" y1="{top}" y2="{bottom}" stroke="#c03030" '
                f'stroke-dasharray="4 3"/><text x="{sx(mean) + 4:.1f}" y="{top + 10}" {FONT} fill="#c03030">'
                f'mean {mean:.3f}</text>')
    body.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="black"/>'
                f'<text x="{(left + right) / 2}" y="{H - 10}" text-anchor="middle" {FONT}>score</text>'
                f'<text x="14" y="{(top + bottom) / 2}" text-anchor="middle" {FONT} '
                f'transform="rotate(-90 14 {(top + bottom) / 2})">episodes</text>')
    return _svg(title, body)


def svg_bars(stats: Mapping[str, Mapping[str, Any] | None], title: str = PLOTS["dimensions"]) -> str:
    """Horizontal bars of means on [0, 1] with their confidence intervals as whiskers."""
    items = [(name, s) for name, s in stats.items() if s]
    if not items:
        return _no_data(title)
    left, right, top, row = 170, W - 60, 35, 28
    height = top + row * len(items) + 40
    sx = lambda v: left + (right - left) * v  # noqa: E731
    body = []
    for i in range(0, 11, 2):
        x = sx(i / 10)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + row * len(items)}" stroke="#ddd"/>'
                    f'<text x="{x:.1f}" y="{top + row * len(items) + 15}" text-anchor="middle" {FONT}>{i / 10:.1f}</text>')
    for j, (name, s) in enumerate(items):
        y = top + row * j
        body.append(f'<text x="{left - 6}" y="{y + row / 2 + 4:.1f}" text-anchor="end" {FONT}>'
                    f'{_e(name.replace("_", " "))}</text>'
                    f'<rect x="{left}" y="{y + 5}" width="{sx(s["mean"]) - left:.1f}" height="{row - 10}" fill="{BAR}">'
                    f'<title>{_e(name)}: {_e(format_stat(s))}</title></rect>'
                    f'<line x1="{sx(s["ci_low"]):.1f}" x2="{sx(s["ci_high"]):.1f}" y1="{y + row / 2}" '
                    f'y2="{y + row / 2}" stroke="black" stroke-width="1.5"/>'
                    f'<text x="{right + 6}" y="{y + row / 2 + 4:.1f}" {FONT}>{s["mean"]:.3f}</text>')
    body.append(f'<text x="{(left + right) / 2}" y="{height - 8}" text-anchor="middle" {FONT}>'
                f'mean score (bars) with {int(CI_LEVEL * 100)}% bootstrap interval (whiskers)</text>')
    return _svg(title, body, height)


def svg_scatter(points: Sequence[tuple[float, float, str]], title: str = PLOTS["cost_vs_score"],
                xlabel: str = "cost of orders ($)", ylabel: str = "score") -> str:
    """Scatter of (x, score, label) points; score on [0, 1], x from 0 to a round maximum."""
    if not points:
        return _no_data(title)
    left, right, top, bottom = 55, W - 20, 35, H - 45
    xmax = _nice_max(max(p[0] for p in points))
    sx = lambda v: left + (right - left) * v / xmax  # noqa: E731
    sy = lambda v: bottom - (bottom - top) * v  # noqa: E731
    body = []
    for i in range(6):
        x, y = sx(xmax * i / 5), sy(i / 5)
        body.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{i / 5:.1f}</text>'
                    f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle" {FONT}>{xmax * i / 5:g}</text>')
    for x, y, label in points:
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(min(1.0, max(0.0, y))):.1f}" r="3.5" fill="{BAR}" '
                    f'fill-opacity="0.7"><title>{_e(label)}: cost {x:g}, score {y:.3f}</title></circle>')
    body.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="black"/>'
                f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="black"/>'
                f'<text x="{(left + right) / 2}" y="{H - 10}" text-anchor="middle" {FONT}>{_e(xlabel)}</text>'
                f'<text x="14" y="{(top + bottom) / 2}" text-anchor="middle" {FONT} '
                f'transform="rotate(-90 14 {(top + bottom) / 2})">{_e(ylabel)}</text>')
    return _svg(title, body)


def plots(summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The plots as SVG text, keyed as in ``PLOTS``; the LLM one only when the run called an
    LLM (its x axis is the cost, or the tokens when no prices were given)."""
    ok = _ok(records)
    drawn = {
        "score_histogram": svg_histogram([r["score"] for r in ok]),
        "dimensions": svg_bars(summary.get("dimensions") or {}),
        "cost_vs_score": svg_scatter([(float(r.get("cost") or 0.0), float(r["score"]), str(r.get("key")))
                                      for r in ok]),
    }
    llm = summary.get("llm")
    if llm:
        field, label = ("cost", "LLM cost per episode") if llm["cost"] else ("total_tokens", "LLM tokens per episode")
        drawn["llm_cost_vs_score"] = svg_scatter(
            [(float((r.get("llm") or {}).get(field) or 0), float(r["score"]), str(r.get("key"))) for r in ok],
            title=f"{label} against score", xlabel=label)
    return drawn


# ---- tables ------------------------------------------------------------------------------------

def _tables(summary: Mapping[str, Any], config: Mapping[str, Any] | None) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report, as plain text."""
    level = int(summary["ci"]["level"] * 100)
    ci = f"mean [{level}% CI]"
    tables = []
    if config:
        tables.append(("Run", ["setting", "value"], [[k, str(v)] for k, v in config.items()]))
    counts = [["episodes planned", str(summary["n_planned"])], ["episodes scored", str(summary["n_ok"])],
              ["episodes with errors (not scored)", str(summary["n_errors"])],
              ["episodes missing", str(summary["n_missing"])], ["cases", str(summary["n_cases"])]]
    tables.append(("Overall", ["metric", "value"], [
        ["score (reward, clipped per episode), " + ci, format_stat(summary["overall"])],
        ["HealthBench score (clipped mean of raw scores), " + ci, format_stat(summary["healthbench_score"])],
        ["mean cost of orders ($)", f"{summary['cost']['mean']:.1f}" if summary["cost"] else "n/a"],
        *_llm_rows(summary.get("llm")),
        ["mean doctor turns", f"{summary['doctor_turns']['mean']:.1f}" if summary["doctor_turns"] else "n/a"],
        ["ended by the doctor / turn limit",
         f"{summary['terminated_rate']:.0%} / {summary['truncated_rate']:.0%}" if summary["n_ok"] else "n/a"],
        *counts]))
    tables.append(("Per dimension", ["dimension", ci, "episodes"],
                   [[d, format_stat(s), str(s["n"])] for d, s in summary["dimensions"].items() if s]))
    tables.append(("Per specialty", ["specialty", ci, "episodes", "cases"],
                   [[k, format_stat(s), str(s["n"]), str(s["n_cases"])] for k, s in summary["specialties"].items() if s]))
    tables.append(("Per case", ["case", "specialty", "episodes", "mean score", "mean cost ($)"],
                   [[k, str(c["specialty"]), str(c["n"]), f"{c['mean_score']:.3f}", f"{c['mean_cost']:.1f}"]
                    for k, c in summary["cases"].items()]))
    if summary["n_errors"]:
        tables.append(("Errors (excluded from the scores)", ["episode", "error", "message"],
                       [[str(e["key"]), str(e["type"]), _shorten(str(e["message"]))]
                        for e in summary["errors"]["episodes"]]))
    return tables


def _llm_rows(llm: Mapping[str, Any] | None) -> list[list[str]]:
    if not llm:
        return []
    per_episode = llm["mean_tokens_per_episode"]
    return [["LLM calls (failed, from cache)", f"{llm['calls']} ({llm['failed_calls']}, {llm['cached_calls']})"],
            ["LLM tokens sent: prompt / completion", f"{llm['prompt_tokens']} / {llm['completion_tokens']}"],
            ["LLM tokens per scored episode", f"{per_episode:.0f}" if per_episode is not None else "n/a"],
            ["LLM cost, all episodes", f"{llm['cost']:.4f}"]]


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def report_markdown(summary: Mapping[str, Any], config: Mapping[str, Any] | None = None,
                    plot_files: Mapping[str, str] | None = None, title: str = "clinic-env benchmark") -> str:
    """The report as Markdown; ``plot_files`` maps plot names to image paths relative to the report."""
    lines = [f"# {_md_cell(title)}", "", f"**Score: {format_stat(summary['overall'])}** "
             f"(mean over {summary['n_ok']} scored episodes, {int(summary['ci']['level'] * 100)}% "
             f"{summary['ci']['method']}, {summary['ci']['n_resamples']} resamples)", ""]
    if summary["n_errors"]:
        lines += [f"{summary['n_errors']} episode(s) failed and are excluded from every score.", ""]
    for name, header, rows in _tables(summary, config):
        lines += [f"## {name}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    if plot_files:
        lines += ["## Plots", ""]
        for name, path in plot_files.items():
            lines += [f"![{PLOTS[name]}]({path})", ""]
    return "\n".join(lines)


HTML_STYLE = """body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.score{font-size:1.3em}.plots svg{display:block;margin:1em 0}.warn{color:#a33}"""


def report_html(summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                config: Mapping[str, Any] | None = None, title: str = "clinic-env benchmark",
                standalone: bool = True) -> str:
    """The report as one self-contained HTML page with the plots inline; all text is escaped.
    ``standalone=False`` gives a fragment without page styles (for a notebook cell)."""
    head = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{HTML_STYLE}</style></head><body>") if standalone else "<div class=\"clinic-env-bench\">"
    parts = [f"{head}<h1>{_e(title)}</h1>",
             f"<p class=\"score\"><b>Score: {_e(format_stat(summary['overall']))}</b> "
             f"(mean over {summary['n_ok']} scored episodes, {int(summary['ci']['level'] * 100)}% "
             f"{_e(summary['ci']['method'])}, {summary['ci']['n_resamples']} resamples)</p>"]
    if summary["n_errors"]:
        parts.append(f"<p class=\"warn\">{summary['n_errors']} episode(s) failed and are excluded from every score.</p>")
    for name, header, rows in _tables(summary, config):
        parts.append(f"<h2>{_e(name)}</h2><table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("<h2>Plots</h2><div class=\"plots\">" + "".join(plots(summary, records).values()) + "</div>")
    parts.append("</body></html>" if standalone else "</div>")
    return "\n".join(parts)


def write_reports(out_dir: str | Path, summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                  config: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write ``report.md``, ``plots/*.svg`` and ``report.html`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, svg in plots(summary, records).items():
        paths[name] = out / "plots" / f"{name}.svg"
        paths[name].write_text(svg, encoding="utf-8")
    plot_files = {name: f"plots/{name}.svg" for name in paths}
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(report_markdown(summary, config, plot_files),
                                 encoding="utf-8")
    paths["html"] = out / "report.html"
    paths["html"].write_text(report_html(summary, records, config), encoding="utf-8")
    return paths
