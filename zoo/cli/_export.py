"""``zoo export``: a run's SavedModel copied and checked, or converted to TFLite and compared.

Example (prose: it needs a trained run), in Python::

    from zoo.cli import main
    main(["export", "runs/shapes", "--format", "tflite"])
    # -> TFLite runs/shapes/model.tflite (2417.3 KiB, quantize=none); input float32[1, 224, 224, 3] pixels 0-255; ...
    # -> 0
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from zoo.cli._run_commands import _open_run
from zoo.errors import ConfigurationError
from zoo.quiet import quiet_tensorflow

__all__ = ["cmd_export", "cmd_prune"]


# --------------------------------------------------------------------------- export


def _representative(info: dict, meta: dict) -> tuple[Any, dict]:
    """``(callable yielding [example], record)``: at least 100 stratified examples of the run's training split."""
    import numpy as np

    from zoo.runs import REPRESENTATIVE_MIN, run_examples, stratified

    xs, ys, class_names = run_examples(info, meta, "train")
    picked = stratified(ys, REPRESENTATIVE_MIN, seed=int(info.get("config", {}).get("seed") or 0))
    counts = {class_names[c]: int(n) for c, n in zip(*np.unique(ys[picked], return_counts=True))}
    record = {"split": "train", "n": len(picked), "per_class": counts, "indices": picked,
              "note": None if len(picked) >= REPRESENTATIVE_MIN else
              f"the training split has only {len(picked)} examples; all of them were used"}

    def gen() -> Any:
        for i in picked:
            x = xs[i]
            yield [x.astype(np.float32) if x.dtype != object else x]

    return gen, record


def cmd_export(args: argparse.Namespace) -> int:
    """``zoo export DIR --format savedmodel|tflite``.

    Example:
        main(["export", "runs/shapes", "--format", "tflite", "--quantize", "dynamic"])
        # -> 0
    """
    model_dir, meta, info = _open_run(args.run)
    quiet_tensorflow()
    if args.format == "savedmodel":
        if args.quantize or args.select_tf_ops:
            raise ConfigurationError("--quantize and --select-tf-ops apply to --format tflite")
        from zoo.export import copy_savedmodel, verify_export
        target = copy_savedmodel(model_dir, args.out) if args.out else model_dir
        checked = verify_export(target)
        inputs = ", ".join(f"{k}: {v}" for k, v in checked["inputs"].items())
        print(f"SavedModel {target}: serving_default({inputs}) -> {', '.join(checked['outputs'])}; "
              f"{len(checked['class_names'])} classes; checked on a dummy input")
        return 0
    return _export_tflite(args, model_dir, meta, info)


def _export_tflite(args: argparse.Namespace, model_dir: Path, meta: dict, info: dict) -> int:
    """Convert to a temporary file beside the target, measure it on the run's validation split, and only
    then (and only if ``--max-drop`` holds) put it and ``export_report.json`` in place."""
    import os
    import uuid

    from zoo.atomic import atomic_write_json
    from zoo.export import export_tflite
    from zoo.runs import check_drop, format_quantization_report, quantization_report

    quantize = args.quantize or "none"
    max_drop = getattr(args, "max_drop", None)
    if max_drop is not None and (getattr(args, "no_report", False) or not 0 <= max_drop <= 1):
        raise ConfigurationError("--max-drop is a fraction in [0, 1] of accuracy and needs the report (drop --no-report)"
                                 if getattr(args, "no_report", False) else f"--max-drop must be in [0, 1], got {max_drop}")
    default_name = "model.tflite" if quantize == "none" else f"model_{quantize}.tflite"
    base = model_dir.parent if info else model_dir
    out = Path(args.out).expanduser() if args.out else base / default_name
    rep, rep_record = _representative(info, meta) if quantize.startswith("int8") else (None, None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        export_tflite(model_dir, tmp, quantize=quantize, select_tf_ops=args.select_tf_ops, representative=rep)
        report, why_not = None, None
        if not getattr(args, "no_report", False):
            try:
                report = quantization_report(tmp, model_dir, meta, info, quantize=quantize, representative=rep_record)
            except ConfigurationError as exc:
                if max_drop is not None:
                    raise
                why_not = str(exc)
        if report is not None:
            check_drop(report, max_drop)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    # the report already compared both models over the validation split: no second load and run of one example
    detail = _check_tflite(out, model_dir, meta) if report is None else _report_detail(report, meta)
    print(f"TFLite {out} ({out.stat().st_size / 1024:.1f} KiB, quantize={quantize}){detail}")
    if report is not None:
        report["tflite"]["path"] = str(out)
        path = base / "export_report.json"
        reports = _read_json(path).get("exports", {})
        reports[out.name] = report
        atomic_write_json(path, {"exports": reports, "latest": out.name})
        print(format_quantization_report(report))
        print(f"report: {path}")
    elif why_not:
        print(f"no accuracy report: {why_not}")
    return 0


def _read_json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _report_detail(report: dict, meta: dict) -> str:
    """The note `_check_tflite` prints, from a quantization report's comparison on the validation split."""
    from zoo.models.contracts import contract_for_export

    shown = contract_for_export(meta).tflite_example(meta)[2]
    return (f"; input {shown}; max |score difference| vs SavedModel {report['max_abs_score_difference']:.2g} "
            f"over {report['n_examples']} validation examples")


def _check_tflite(path: Path, model_dir: Path, meta: dict) -> str:
    """Run the TFLite model once and compare it with the SavedModel; a note for the user."""
    import numpy as np
    import tensorflow as tf

    from zoo.export import load_model
    from zoo.quiet import captured_stderr

    from zoo.models.contracts import contract_for_export

    contract = contract_for_export(meta)
    sig = contract.eval_signature
    key, x, shown = contract.tflite_example(meta)
    try:
        with captured_stderr():
            runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner(sig)
            got = runner(**{key: x})["scores"]
    except Exception as exc:  # noqa: BLE001 - informational only
        return f"; input {shown}; could not run it here ({type(exc).__name__})"
    want = load_model(model_dir).signatures[sig](**{key: tf.constant(x)})["scores"].numpy()
    return f"; input {shown}; max |score difference| vs SavedModel {np.abs(got - want).max():.2g}"


def cmd_prune(args: argparse.Namespace) -> int:
    """``zoo prune DIR --sparsity F``: see ``zoo prune --help``.

    Example:
        main(["prune", "runs/student", "--sparsity", "0.5"])
        # -> 0
    """
    from zoo.runs import prune_run

    quiet_tensorflow()
    prune_run(args.run, sparsity=args.sparsity, epochs=args.epochs, out=args.out, backbone=args.backbone)
    return 0
