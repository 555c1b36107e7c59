"""The benchmark suite still runs (``python -m benchmarks --quick``); no timing is asserted.

The quick run uses a cheap subset of the cases (feature caching, audio, export,
start-up); the modules it needs are built once into ``benchmarks/out/hub``
(git-ignored) and reused by later runs.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICK_CASES = ["1", "4", "5", "6"]


def test_table_and_targets_without_running_anything():
    from benchmarks.__main__ import _cases
    from benchmarks.cases import CASES, Row, jobs_for
    from benchmarks.report import evaluate_row, format_table

    assert _cases("all") == sorted(CASES) and _cases("3,1") == [1, 3]
    assert jobs_for([6]) == ["serve", "startup"]
    faster = evaluate_row(Row("j", "rate", "throughput", "img/s", "higher", 1.0), [10.0, 12.0], [13.0, 11.0])
    assert faster["ratio"] == pytest.approx(12.0 / 11.0) and faster["met"] is True and faster["target"] == ">= 1"
    slower = evaluate_row(Row("j", "s", "time", "s", "lower", 0.2), [10.0], [3.0])
    assert slower["met"] is False
    acc = evaluate_row(Row("j", "acc", "accuracy", "", "same"), [0.8], [0.78], n_val=128)
    assert acc["met"] is True
    table = format_table({"cases": {"1": {"title": "t", "rows": [faster, slower], "errors": []}}})
    assert "zoo/base" in table and "NO" in table and "yes" in table


@pytest.mark.slow
def test_quick_benchmark_runs_and_writes_results(tmp_path):
    out = tmp_path / "results.json"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--cases", ",".join(QUICK_CASES), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-4000:])
    results = json.loads(out.read_text())
    assert sorted(results["cases"]) == QUICK_CASES
    for number, case in results["cases"].items():
        assert case["rows"] and not case["errors"], (number, case["errors"])
        for row in case["rows"]:
            for side in ("baseline", "zoo"):
                median = row[side]["median"]
                assert isinstance(median, (int, float)) and math.isfinite(median), (number, row["label"], side)
            assert isinstance(row["ratio"], float) and row["met"] in (True, False)
    assert "zoo/base" in proc.stdout and "target" in proc.stdout
