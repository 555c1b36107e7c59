"""Metrics, tables and PNG plots for ``zoo train`` / ``zoo evaluate`` / ``zoo demo`` (numpy + matplotlib Agg).

Example:
    >>> cm = confusion_matrix([0, 1, 1], [0, 1, 0], 2)
    >>> cm.tolist()
    [[1, 0], [1, 1]]
    >>> [round(r["recall"], 2) for r in per_class_metrics(cm, ["a", "b"])]
    [1.0, 0.5]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "confusion_matrix", "per_class_metrics", "classification_report", "format_report",
    "plot_confusion_matrix", "plot_training_curve",
]


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """``cm[i, j]`` = examples of true class ``i`` predicted as ``j``.

    Example:
        >>> confusion_matrix([0, 0, 1], [0, 1, 1], 2).tolist()
        [[1, 1], [0, 1]]
    """
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def per_class_metrics(cm: np.ndarray, class_names: Sequence[str]) -> list[dict]:
    """Precision, recall, F1 and support per class from a confusion matrix (0 where undefined).

    Example:
        >>> per_class_metrics(np.array([[2, 0], [1, 1]]), ["x", "y"])[0]["precision"]
        0.6666666666666666
    """
    rows = []
    for i, name in enumerate(class_names):
        tp = float(cm[i, i])
        predicted, actual = float(cm[:, i].sum()), float(cm[i, :].sum())
        p = tp / predicted if predicted else 0.0
        r = tp / actual if actual else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append({"class": str(name), "precision": p, "recall": r, "f1": f1, "support": int(actual)})
    return rows


def classification_report(y_true: Sequence[int], scores: np.ndarray, class_names: Sequence[str]) -> dict:
    """Accuracy, macro F1, per-class metrics and the confusion matrix for class ``scores`` ``[N, C]``.

    Example:
        >>> r = classification_report([0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]), ["a", "b"])
        >>> r["accuracy"], r["confusion_matrix"]
        (1.0, [[1, 0], [0, 1]])
    """
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(scores).argmax(axis=-1) if len(y_true) else np.zeros(0, np.int64)
    cm = confusion_matrix(y_true, y_pred, len(class_names))
    classes = per_class_metrics(cm, class_names)
    present = [c for c in classes if c["support"]]
    return {
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else 0.0,
        "macro_f1": float(np.mean([c["f1"] for c in present])) if present else 0.0,
        "n_examples": int(len(y_true)),
        "per_class": classes,
        "confusion_matrix": cm.tolist(),
        "class_names": [str(c) for c in class_names],
    }


def format_report(report: dict) -> str:
    """The per-class table and summary lines of a `classification_report`.

    Example:
        >>> r = classification_report([0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]), ["a", "b"])
        >>> print(format_report(r).splitlines()[0])
        accuracy 1.0000 on 2 examples (macro F1 1.0000)
    """
    width = max([len("class")] + [len(c["class"]) for c in report["per_class"]])
    lines = [f"accuracy {report['accuracy']:.4f} on {report['n_examples']} examples (macro F1 {report['macro_f1']:.4f})",
             f"{'class'.ljust(width)}  precision  recall     f1  support"]
    for c in report["per_class"]:
        lines.append(f"{c['class'].ljust(width)}  {c['precision']:9.3f}  {c['recall']:6.3f}  {c['f1']:5.3f}  {c['support']:7d}")
    return "\n".join(lines)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike) -> Path:
    from zoo.atomic import atomic_path

    path = Path(path)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    finally:
        _pyplot().close(fig)
    return path


def plot_confusion_matrix(cm: Sequence[Sequence[int]], class_names: Sequence[str], path: str | os.PathLike,
                          title: str = "confusion matrix") -> Path:
    """Write the confusion matrix as a PNG heat map with counts (rows: true class, columns: predicted).

    Example:
        >>> import tempfile; p = plot_confusion_matrix([[3, 1], [0, 4]], ["a", "b"], tempfile.mkdtemp() + "/cm.png")
        >>> p.read_bytes()[:4]
        b'\\x89PNG'
    """
    plt = _pyplot()
    cm = np.asarray(cm)
    n = len(class_names)
    size = min(3 + 0.5 * n, 20)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(n), [str(c) for c in class_names], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(c) for c in class_names])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 30:
        top = cm.max() or 1
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center",
                        color="white" if cm[i, j] > top / 2 else "black", fontsize=9)
    return _save(fig, path)


def plot_training_curve(history: dict, path: str | os.PathLike, *, stage_starts: Sequence[int] = (),
                        title: str = "training") -> Path:
    """Write loss (left) and accuracy or the first other metric (right) per epoch, train and val, as a PNG.

    ``stage_starts``: 0-based epochs where a freeze-schedule stage begins (drawn as lines).

    Example:
        >>> import tempfile
        >>> p = plot_training_curve({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, tempfile.mkdtemp() + "/c.png")
        >>> p.suffix
        '.png'
    """
    plt = _pyplot()
    metrics = [k for k in history if not k.startswith("val_") and k not in ("loss", "lr", "learning_rate")]
    second = "accuracy" if "accuracy" in history else (metrics[0] if metrics else None)
    fig, axes = plt.subplots(1, 2 if second else 1, figsize=(10 if second else 5, 4), squeeze=False)
    for ax, key in zip(axes[0], ["loss"] + ([second] if second else [])):
        for name, style in ((key, "-o"), (f"val_{key}", "--s")):
            values = history.get(name)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=name, markersize=4)
        for s in stage_starts:
            if s > 0:
                ax.axvline(s + 0.5, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return _save(fig, path)
