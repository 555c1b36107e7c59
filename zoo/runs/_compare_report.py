"""What `zoo.compare` writes and prints: ranking, Pareto front, the table, CSV and the plot.

Example:
    >>> rows = [{"name": "a", "mean": 0.9, "latency_ms_b32": 5.0}, {"name": "b", "mean": 0.8, "latency_ms_b32": 1.0},
    ...         {"name": "c", "mean": 0.7, "latency_ms_b32": 2.0}]
    >>> pareto_front(rows)
    ['a', 'b']
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from zoo.atomic import atomic_path, atomic_write_text

__all__ = ["pareto_front", "rank_rows", "format_table", "write_csv", "plot_compare", "CSV_COLUMNS"]

CSV_COLUMNS = ("rank", "name", "metric", "mean", "std", "macro_f1", "macro_f1_std", "latency_ms_b1", "latency_ms_b32",
               "params", "size_bytes", "feature_dim", "fine_tunable", "pareto", "head", "handle", "features_reused")


def pareto_front(rows: list[dict]) -> list[str]:
    """Names of the rows no other row beats on both the metric (higher) and per-example latency at
    batch 32 (lower), best metric first."""
    front = []
    for r in rows:
        dominated = any(o is not r and o["mean"] >= r["mean"] and o["latency_ms_b32"] <= r["latency_ms_b32"]
                        and (o["mean"] > r["mean"] or o["latency_ms_b32"] < r["latency_ms_b32"]) for o in rows)
        if not dominated:
            front.append(r)
    return [r["name"] for r in sorted(front, key=lambda r: -r["mean"])]


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def format_table(result: dict) -> str:
    """The aligned terminal table: rank, backbone, metric ± std, macro-F1, latency, parameters, size,
    feature width, fine-tunable, Pareto (``*``); then skipped backbones with the reason and the fix.

    Example:
        >>> print(format_table({"metric": "accuracy", "rows": [], "skipped": []}).splitlines()[0].split()[:3])
        ['#', 'backbone', 'accuracy']
    """
    metric = result["metric"]
    head = ["#", "backbone", metric, "macro-F1", "ms/ex b1", "ms/ex b32", "params", "size", "dim", "tunable", "pareto"]
    lines = [head]
    for r in result["rows"]:
        f1 = f"{r['macro_f1']:.3f}" if r.get("macro_f1") is not None else "-"
        lines.append([str(r["rank"]), r["name"], f"{r['mean']:.3f} ± {r['std']:.3f}", f1, f"{r['latency_ms_b1']:.2f}",
                      f"{r['latency_ms_b32']:.2f}", f"{r['params'] / 1e6:.2f}M", _size(r["size_bytes"]),
                      str(r["feature_dim"]), "yes" if r["fine_tunable"] else "no", "*" if r["pareto"] else ""])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) if i == 1 else c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
           .rstrip() for row in lines]
    for s in result.get("skipped", []):
        out.append(f"skipped {s['name']}: {s['reason']}" + (f" ({s['fix']})" if s.get("fix") else ""))
    return "\n".join(out)


def write_csv(path: Path, result: dict) -> None:
    """``compare.csv``: one row per backbone, `CSV_COLUMNS`, written atomically."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
    w.writeheader()
    for r in result["rows"]:
        w.writerow({**r, "metric": result["metric"]})
    atomic_write_text(path, buf.getvalue())


def plot_compare(path: Path, result: dict) -> int:
    """``compare.png``: the metric (error bar: std over folds) against per-example latency at batch 32
    (log scale), one labelled point per backbone, the Pareto front as a step line. Returns the
    number of points drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    xs, ys = [r["latency_ms_b32"] for r in rows], [r["mean"] for r in rows]
    ax.errorbar(xs, ys, yerr=[r["std"] for r in rows], fmt="o", capsize=3, color="tab:blue", ecolor="tab:gray")
    for r in rows:
        ax.annotate(r["name"], (r["latency_ms_b32"], r["mean"]), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front = sorted((r for r in rows if r["pareto"]), key=lambda r: r["latency_ms_b32"])
    if len(front) > 1:
        ax.step([r["latency_ms_b32"] for r in front], [r["mean"] for r in front], where="post", color="tab:red",
                linewidth=1, label="Pareto front")
        ax.legend(loc="lower right", fontsize=8)
    if xs and min(xs) > 0:
        ax.set_xscale("log")
    ax.set_xlabel("backbone latency per example, batch 32 (ms, this machine)")
    ax.set_ylabel(f"{result['metric']} ({result.get('protocol', '')})")
    ax.set_title(f"zoo compare on {Path(str(result['data']['source'])).name}: {len(rows)} backbones", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return len(rows)


def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort by the metric (best first), number the ranks and mark the Pareto front."""
    rows = sorted(rows, key=lambda r: (-r["mean"], r["latency_ms_b32"]))
    front = set(pareto_front(rows))
    for i, r in enumerate(rows, 1):
        r["rank"], r["pareto"] = i, r["name"] in front
    return rows
