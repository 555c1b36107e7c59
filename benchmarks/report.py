"""Medians, ratios, targets: the results table and ``results.json``.

Every ratio is ``zoo / baseline`` of the row's metric. For throughputs (higher is
better) the target is a lower bound on the ratio, for times and memory (lower is
better) an upper bound. Validation accuracy is "the same within noise": zoo must
be at least the baseline minus ``max(0.05, 2 * sqrt(p (1 - p) / n_val))``.

Example:
    >>> from benchmarks.cases import Row
    >>> r = evaluate_row(Row("j", "s", "time", "s", "lower", 0.2), [10.0, 12.0, 11.0], [2.0, 1.0, 3.0])
    >>> r["baseline"]["median"], r["zoo"]["median"], round(r["ratio"], 3), r["target"], r["met"]
    (11.0, 2.0, 0.182, '<= 0.2', True)
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from benchmarks.cases import CASES, Row

__all__ = ["evaluate_row", "build_rows", "format_table", "write_json", "accuracy_tolerance"]


def accuracy_tolerance(p: float, n: int) -> float:
    """Two binomial standard errors of an accuracy ``p`` measured on ``n`` samples (at least 0.05).

    Example:
        >>> round(accuracy_tolerance(0.5, 100), 2)
        0.1
    """
    return max(0.05, 2.0 * math.sqrt(max(p * (1.0 - p), 0.0) / max(n, 1)))


def _median(values: list[float]) -> float | None:
    vals = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(float(v))]
    return statistics.median(vals) if vals else None


def evaluate_row(row: Row, base: list[float], zoo: list[float], *, n_val: int | None = None) -> dict:
    """One table row from the repetitions of each side."""
    b, z = _median(base), _median(zoo)
    ratio = (z / b) if (b not in (None, 0) and z is not None) else None
    met: bool | None = None
    if row.better == "same":
        tol = accuracy_tolerance(b or 0.0, n_val or 0) if b is not None else None
        target = f">= base - {tol:.2f}" if tol is not None else "same within noise"
        if b is not None and z is not None and tol is not None:
            met = z >= b - tol
    elif row.better == "higher":
        target = f">= {row.target:g}"
        met = None if ratio is None else ratio >= row.target
    else:
        target = f"<= {row.target:g}"
        met = None if ratio is None else ratio <= row.target
    return {
        "job": row.job, "metric": row.metric, "label": row.label, "unit": row.unit, "better": row.better,
        "baseline": {"median": b, "samples": list(base)}, "zoo": {"median": z, "samples": list(zoo)},
        "ratio": ratio, "target": target, "met": met,
    }


def build_rows(cases: list[int], samples: dict, errors: dict) -> dict:
    """``{case: {"title", "rows", "errors"}}`` from ``samples[job][side] = [metrics dict per rep]``."""
    out: dict = {}
    for c in cases:
        case = CASES[c]
        rows, errs = [], []
        for row in case.rows:
            if row.job in errors:
                errs.append(f"{row.job}: {errors[row.job]}")
            base = [s.get(row.metric) for s in samples.get(row.job, {}).get("baseline", [])]
            zoo = [s.get(row.metric) for s in samples.get(row.job, {}).get("zoo", [])]
            n_val = None
            if row.better == "same":
                ns = [s.get("n_val") for s in samples.get(row.job, {}).get("baseline", []) if s.get("n_val")]
                n_val = int(ns[0]) if ns else None
            rows.append(evaluate_row(row, base, zoo, n_val=n_val))
        out[str(c)] = {"title": case.title, "baseline_code": case.baseline, "zoo_code": case.zoo, "rows": rows,
                       "errors": sorted(set(errs))}
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == 0 or 0.01 <= abs(v) < 10000:
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return f"{v:.2e}"
    return str(v)


def format_table(results: dict) -> str:
    """The results table: case, metric, baseline median, zoo median, zoo/baseline, target, met."""
    header = ["case", "metric", "unit", "baseline", "zoo", "zoo/base", "target", "met"]
    lines: list[list[str]] = []
    for c, case in results["cases"].items():
        for row in case["rows"]:
            met = {True: "yes", False: "NO", None: "ERROR" if case["errors"] else "-"}[row["met"]]
            lines.append([f"{c}. {case['title']}" if row is case["rows"][0] else "", row["label"], row["unit"],
                          _fmt(row["baseline"]["median"]), _fmt(row["zoo"]["median"]),
                          _fmt(row["ratio"]), row["target"], met])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    numeric = {3, 4, 5}
    out = []
    for r in [header, ["-" * w for w in widths], *lines]:
        cells = [r[i].rjust(widths[i]) if i in numeric else r[i].ljust(widths[i]) for i in range(len(r))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def write_json(results: dict, path: str | Path) -> Path:
    """Write ``results`` as indented JSON (parent directories created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
