"""What quantizing a run's model cost: its representative set, and the float vs TFLite report.

The representative set for int8 calibration is drawn from the run's own training split
(the run's loader, split and seed): at least 100 examples (all when the split has fewer),
stratified by class, recorded in the report by index. The report runs the float
SavedModel and the TFLite model over the run's validation split, one example at a time as
a device would, with the LiteRT interpreter (``ai-edge-litert``; models that need
TensorFlow's Flex ops fall back to ``tf.lite.Interpreter``, which links them), and gives
the metric of both, the agreement of their top-1 predictions, sizes and latency per example.

Example:
    >>> stratified([0, 0, 0, 1, 1, 2], 3, seed=0)
    [2, 4, 5]
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo.errors import ConfigurationError, ExportError

__all__ = ["stratified", "run_examples", "quantization_report", "format_quantization_report", "tree_size", "check_drop",
           "REPRESENTATIVE_MIN"]

REPRESENTATIVE_MIN = 100


def stratified(labels: Any, n: int, *, seed: int = 0) -> list[int]:
    """``n`` indices of ``labels`` (all when fewer), each class in proportion and at least once, sorted."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return list(range(len(labels)))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    take = np.maximum(1, np.floor(counts * n / len(labels)).astype(int))
    for i in np.argsort(-(counts * n / len(labels) - take)):  # largest remainders fill up to n
        if take.sum() >= n:
            break
        take[i] += 1
    picked = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take)]
    return sorted(int(i) for i in np.concatenate(picked))[:n]


def run_examples(info: dict, meta: dict, split: str) -> tuple[list, np.ndarray, list[str]]:
    """``(inputs one array per example, labels, class names)`` of the run's ``"train"`` or ``"val"`` split,
    read as the run read them. Raises `ConfigurationError` when the run's data are gone."""
    from zoo.runs._evaluate import export_spec
    from zoo.runs._rundir import RunConfig
    from zoo.runs._data import load_data

    if not info.get("config"):
        raise ConfigurationError("this is an exported model, not a run folder: the accuracy report needs the run's "
                                 "data (pass the run folder), or leave out --quantize's report with --no-report")
    cfg = RunConfig.from_dict(info["config"])
    if not cfg.data or not Path(cfg.data).exists():
        raise ConfigurationError(f"the run's training data '{cfg.data}' are gone; restore them (the report and int8 "
                                 "calibration read the run's own data), or use --no-report with dynamic/float16")
    data = load_data(cfg, export_spec(meta), shuffle=False)
    ds = data.train if split == "train" else data.val
    if ds is None:
        raise ConfigurationError("the run has no validation split (val_split 0) to measure the quantized model on; "
                                 "train with --val-split, or use --no-report")
    xs, ys = [], []
    for x, y in ds:
        xs.extend(x.numpy()[i:i + 1] for i in range(int(x.shape[0])))
        ys.append(y.numpy())
    return xs, np.concatenate(ys) if ys else np.zeros(0, int), list(data.class_names)


def tree_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _tflite_runner(path: Path, signature: str, example: dict) -> tuple[Callable, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise ConfigurationError('the quantization report runs the model with LiteRT: pip install "zoo[tflite]" '
                                 "(ai-edge-litert), or use --no-report") from None
    try:
        runner = Interpreter(model_path=str(path)).get_signature_runner(signature)
        runner(**example)  # ops are prepared on the first call
        return runner, "ai-edge-litert"
    except Exception as exc:  # noqa: BLE001 - e.g. Flex (TF Select) ops, which LiteRT's wheel does not link
        first = exc
    import tensorflow as tf

    from zoo.quiet import captured_stderr

    try:
        with captured_stderr():
            runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner(signature)
            runner(**example)
        return runner, "tf.lite.Interpreter (ai-edge-litert could not run it)"
    except Exception:  # noqa: BLE001 - reported as the reason there is no report
        flex = "Select TensorFlow op" in str(first)
        raise ConfigurationError(
            "the TFLite model cannot run on this machine's Python interpreters, so its accuracy cannot be measured: "
            + ("it needs TF Select (Flex) ops, which neither ai-edge-litert nor tf.lite.Interpreter link; run it "
               "with the tensorflow-lite-select-tf-ops runtime on the device" if flex else str(first).splitlines()[0][:200])
        ) from None


def _scores(call: Callable, xs: list) -> tuple[np.ndarray, float]:
    """Scores of every example (batch 1) and the median milliseconds per example (first call excluded)."""
    out, times = [], []
    for x in xs:
        t = time.perf_counter()
        out.append(np.asarray(call(x)).reshape(1, -1))
        times.append(time.perf_counter() - t)
    return np.concatenate(out), 1000 * statistics.median(times[1:] or times)


def _top1(scores: np.ndarray) -> np.ndarray:
    return (scores[:, 0] > 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(1)


def quantization_report(tflite_path: Path, model_dir: Path, meta: dict, info: dict, *, quantize: str,
                        representative: dict | None = None) -> dict:
    """Float SavedModel vs TFLite on the run's validation split: metric of both, ``drop``, top-1 ``agreement``,
    sizes and milliseconds per example (batch 1)."""
    import tensorflow as tf

    from zoo.export import load_model
    from zoo.models.contracts import contract_for_export

    contract = contract_for_export(meta)
    sig, key = contract.eval_signature, contract.eval_input_key(meta)
    xs, ys, class_names = run_examples(info, meta, "val")
    names = list(meta["class_names"])
    remap = np.asarray([names.index(c) for c in class_names])
    ys = remap[ys]
    if meta.get("text_ops"):
        import tensorflow_text  # noqa: F401
    fn = load_model(model_dir).signatures[sig]
    float_scores, float_ms = _scores(lambda x: fn(**{key: tf.constant(x)})["scores"].numpy(), xs)
    def tflite_input(x: Any) -> dict:
        return {key: x.astype(np.float32) if x.dtype != object else x}

    runner, runtime = _tflite_runner(tflite_path, sig, tflite_input(xs[0]))
    quant_scores, quant_ms = _scores(lambda x: runner(**tflite_input(x))["scores"], xs)
    float_pred, quant_pred = _top1(float_scores), _top1(quant_scores)
    float_acc, quant_acc = float(np.mean(float_pred == ys)), float(np.mean(quant_pred == ys))
    return {
        "quantize": quantize, "metric": "accuracy", "split": "validation", "n_examples": int(len(ys)),
        "float": {"accuracy": float_acc, "size_bytes": tree_size(model_dir), "ms_per_example": float_ms,
                  "runtime": "TensorFlow SavedModel"},
        "tflite": {"accuracy": quant_acc, "size_bytes": tree_size(tflite_path), "ms_per_example": quant_ms,
                   "runtime": runtime, "path": str(tflite_path)},
        "drop": float_acc - quant_acc, "agreement_top1": float(np.mean(float_pred == quant_pred)),
        "max_abs_score_difference": float(np.abs(float_scores - quant_scores).max()) if len(ys) else 0.0,
        "representative": representative,
    }


def format_quantization_report(report: dict) -> str:
    """The table ``zoo export`` prints.

    Example:
        >>> r = {"quantize": "int8", "n_examples": 40, "drop": 0.025, "agreement_top1": 0.95,
        ...      "float": {"accuracy": 0.9, "size_bytes": 9e6, "ms_per_example": 20.0},
        ...      "tflite": {"accuracy": 0.875, "size_bytes": 2.5e6, "ms_per_example": 8.0, "runtime": "ai-edge-litert"}}
        >>> print(format_quantization_report(r))  # doctest: +NORMALIZE_WHITESPACE
        model              accuracy   size (MB)   ms/example
        float SavedModel     0.9000       9.00        20.00
        TFLite int8          0.8750       2.50         8.00
        drop 0.0250, top-1 agreement 0.950 on 40 validation examples; TFLite is 0.28x the size, 2.50x as fast (ai-edge-litert)
    """
    f, q = report["float"], report["tflite"]
    rows = [("model", "accuracy", "size (MB)", "ms/example"),
            ("float SavedModel", f"{f['accuracy']:.4f}", f"{f['size_bytes'] / 1e6:.2f}", f"{f['ms_per_example']:.2f}"),
            (f"TFLite {report['quantize']}", f"{q['accuracy']:.4f}", f"{q['size_bytes'] / 1e6:.2f}",
             f"{q['ms_per_example']:.2f}")]
    lines = [f"{a:<18}{b:>9}{c:>12}{d:>13}" for a, b, c, d in rows]
    lines.append(f"drop {report['drop']:.4f}, top-1 agreement {report['agreement_top1']:.3f} on {report['n_examples']} "
                 f"validation examples; TFLite is {q['size_bytes'] / f['size_bytes']:.2f}x the size, "
                 f"{f['ms_per_example'] / q['ms_per_example']:.2f}x as fast ({q['runtime']})")
    return "\n".join(lines)


def check_drop(report: dict, max_drop: float | None) -> None:
    """Raise `ExportError` when the metric dropped by more than ``max_drop``."""
    if max_drop is not None and report["drop"] > max_drop:
        raise ExportError(f"quantized model's accuracy dropped by {report['drop']:.4f} ({report['float']['accuracy']:.4f} "
                          f"-> {report['tflite']['accuracy']:.4f}), more than --max-drop {max_drop:g}; nothing was "
                          "written. Try --quantize dynamic or float16", drop=report["drop"], max_drop=max_drop)
