"""``zoo distill``: a `zoo train` run of a student on a teacher's softened outputs, and its teacher vs student table."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.cli._run_commands import cmd_train
from zoo.errors import ConfigurationError

__all__ = ["cmd_distill"]


def cmd_distill(args: argparse.Namespace) -> int:
    """``zoo distill TEACHER --student NAME --data PATH``: a `zoo train` run that learns the teacher's outputs.

    Example:
        main(["distill", "runs/teacher", "--student", "starter_cnn", "--data", "shapes", "--out", "runs/student"])
        # -> 0
    """
    import json

    if not args.resume and not args.name:
        raise ConfigurationError("give the student: zoo distill TEACHER --student NAME --data PATH")
    args.teacher = str(Path(args.teacher).expanduser().resolve())
    if args.unlabeled:
        args.unlabeled = str(Path(args.unlabeled).expanduser().resolve())
    code = cmd_train(args)
    out = Path(args.out or f"runs/{args.name}")
    report_path = out / "distill_report.json"
    if code == 0 and report_path.exists():
        r = json.loads(report_path.read_text(encoding="utf-8"))
        t, s = r["teacher"], r["student"]
        rows = [("", "accuracy", "params", "size (MB)", "ms/ex b1", "ms/ex b32")]
        for label, m in ((f"teacher {t['backbone']}", t), (f"student {s['backbone']}", s)):
            acc = m.get("accuracy")
            rows.append((label, "-" if acc is None else f"{acc:.4f}", f"{m['params']:,}", f"{m['size_bytes'] / 1e6:.2f}",
                         f"{m.get('ms_per_example_b1', float('nan')):.2f}", f"{m.get('ms_per_example_b32', float('nan')):.2f}"))
        width = max(len(r_[0]) for r_ in rows) + 2
        for r_ in rows:
            print(f"{r_[0]:<{width}}" + "".join(f"{c:>12}" for c in r_[1:]))
        print(f"report: {report_path}")
    return code
