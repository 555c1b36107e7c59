"""``zoo prune``: magnitude pruning of a run's head with tensorflow-model-optimization, into a new run folder.

``tfmot.sparsity.keras.prune_low_magnitude`` wraps Keras layers; the head's ``Dense`` layers are
such layers, and are pruned to the requested sparsity (a constant schedule) while they train a
few epochs on the run's data (backbone features computed once: the backbone does not change).
A zoo backbone is a TF Hub SavedModel (starters too): its variables belong to the SavedModel's
functions, not to Keras layers, so the API cannot wrap them; asking for that is an error that
says so and points to distillation (``zoo distill``: a smaller student, then prune its head).

The result is a run folder (default ``RUN-pruned``): the pruned model exported with the
same signatures, ``labels.txt``, ``run.json`` (``pruned_from``) and ``prune_report.json``:
sparsity reached per layer, gzip-compressed export size and validation accuracy, before and after.

Example (prose: it needs a trained run)::

    report = prune_run("runs/student", sparsity=0.5, epochs=2)
    report["layers"]["probabilities"]["sparsity"]  # -> 0.5
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo.errors import ConfigurationError

__all__ = ["prune_run", "gzip_size", "import_tfmot"]


def import_tfmot() -> Any:
    """``tensorflow_model_optimization``, imported without its process-wide side effect: on import it sets
    ``TF_USE_LEGACY_KERAS=1``, which would turn ``tf.keras`` into Keras 2 for the rest of the process."""
    import tensorflow as tf

    before = os.environ.get("TF_USE_LEGACY_KERAS")
    _ = tf.keras.__name__  # resolve tf.keras under the user's own setting first
    try:
        import tensorflow_model_optimization as tfmot
    except ImportError:
        raise ConfigurationError('pruning needs tensorflow-model-optimization: pip install "zoo[compress]"') from None
    finally:
        if before is None:
            os.environ.pop("TF_USE_LEGACY_KERAS", None)
        else:
            os.environ["TF_USE_LEGACY_KERAS"] = before
    return tfmot


def gzip_size(path: str | os.PathLike) -> int:
    """Bytes of a file or folder as a gzip-compressed tar (what pruning's zeros save in transit)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        tar.add(str(path), arcname=Path(path).name)
    return buf.tell()


def _rebuild(run: Any, cfg: Any, class_names: list) -> Any:
    from zoo.models import build
    from zoo.registry import get_task
    from zoo.runs._checkpoints import restore_weights

    task = get_task(cfg.task)
    model = build(cfg.backbone, task=cfg.task, class_names=class_names,
                  num_classes=len(class_names) if task.needs_num_classes else None, freeze=cfg.freeze,
                  learning_rate=cfg.learning_rate)
    ck = run.latest_checkpoint()
    if ck is None:
        raise ConfigurationError(f"run '{run.path}' has no checkpoint to prune from; train it first")
    restore_weights(list(model.variables), ck)
    return model


def _accuracy(model: Any, ds: Any) -> float | None:
    if ds is None:
        return None
    hits = n = 0
    for x, y in ds:
        p = model.predict(x, verbose=0)
        pred = (p[:, 0] > 0.5).astype(int) if p.shape[1] == 1 else p.argmax(1)
        hits += int(np.sum(pred == y.numpy()))
        n += len(pred)
    return hits / n if n else None


def prune_run(run_path: str | os.PathLike, *, sparsity: float = 0.5, epochs: int = 2, out: str | os.PathLike | None = None,
              backbone: bool = False, learning_rate: float = 1e-3, say: Callable[[str], Any] = print) -> dict:
    """Prune the head of run ``run_path`` to ``sparsity`` and write the pruned run to ``out``; the report."""
    from zoo.atomic import atomic_write_json, atomic_write_text
    from zoo.export import save_model
    from zoo.registry import get, get_task
    from zoo.runs._rundir import RunDir
    from zoo.runs._data import load_data
    from zoo.tfk import keras

    if not (isinstance(sparsity, (int, float)) and 0 < sparsity < 1):
        raise ConfigurationError(f"--sparsity must be a fraction in (0, 1), got {sparsity!r}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigurationError(f"--epochs must be a positive integer, got {epochs!r}")
    run = RunDir(run_path)
    if not run.exists() or run.status() != "finished":
        raise ConfigurationError(f"'{run_path}' is not a finished zoo run folder; train it first with `zoo train`")
    cfg, info = run.read_config(), run.info()
    spec = get(cfg.backbone)
    if get_task(cfg.task).label_kind not in ("int", "binary"):  # the report is accuracy before and after
        raise ConfigurationError(f"zoo prune measures class accuracy before and after; '{run_path}' is a {cfg.task} "
                                 "run: prune a classification run (or quantize this one's SavedModel yourself)")
    if backbone:
        raise ConfigurationError(
            f"the backbone of this run ({spec.name}, {spec.handle}) is a TF Hub SavedModel: its variables belong to "
            "the SavedModel's functions, not to Keras layers, and tensorflow-model-optimization's prune_low_magnitude "
            "can only wrap Keras layers. Distil it into a smaller student (zoo distill) and prune the student's head, "
            "or quantize it (zoo export --format tflite --quantize int8)", backbone=spec.name)
    tfmot = import_tfmot()
    target = Path(out) if out else run.path.with_name(run.path.name + "-pruned")
    if target.exists() and any(target.iterdir()):
        raise ConfigurationError(f"--out '{target}' exists and is not empty; choose a new folder")
    class_names = list(info["class_names"])
    model = _rebuild(run, cfg, class_names)
    data = load_data(cfg, spec, shuffle=False)
    before = _accuracy(model, data.val)
    head = model.zoo.head_model
    features = [(model.zoo.feature_model.predict(x, verbose=0), y.numpy()) for x, y in data.train]
    fx, fy = np.concatenate([f for f, _ in features]), np.concatenate([y for _, y in features])
    schedule = tfmot.sparsity.keras.ConstantSparsity(float(sparsity), begin_step=0, frequency=1)

    def wrap(layer: Any) -> Any:  # tfmot's recipe: the head's own layers, Dense ones wrapped (weights shared)
        if isinstance(layer, keras.layers.Dense):
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    pruned = keras.models.clone_model(head, clone_function=wrap)
    from zoo.models import loss_and_metrics

    loss, metrics = loss_and_metrics(model.zoo)
    pruned.compile(keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    pruned.fit(fx, fy, epochs=epochs, batch_size=cfg.batch_size, verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    tfmot.sparsity.keras.strip_pruning(pruned)  # the masked kernels are the head's own variables
    after = _accuracy(model, data.val)
    layers = {}
    for layer in head.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel = layer.kernel.numpy()
            layers[layer.name] = {"sparsity": float(np.mean(kernel == 0)), "weights": int(kernel.size)}
    target.mkdir(parents=True, exist_ok=True)
    save_model(model, target / "model", spec=spec, class_names=class_names, binary=get_task(cfg.task).label_kind == "binary",
               extra={"task": cfg.task, "seed": cfg.seed, "pruned_from": str(run.path), "sparsity": float(sparsity)})
    atomic_write_text(target / "labels.txt", "".join(f"{c}\n" for c in class_names))
    shutil.copyfile(run.config_path, target / "run.json")
    record = RunDir(target)
    record.write_config(cfg, status="finished", pruned_from=str(run.path))
    report = {"sparsity_requested": float(sparsity), "epochs": epochs, "layers": layers,
              "accuracy_before": before, "accuracy_after": after, "split": "validation",
              "gzip_bytes_before": gzip_size(run.model_dir), "gzip_bytes_after": gzip_size(target / "model"),
              "backbone_pruned": False, "out": str(target)}
    atomic_write_json(target / "prune_report.json", report)
    say(f"pruned the head of {run.path} to {sparsity:.0%} sparsity: " + ", ".join(
        f"{k} {v['sparsity']:.1%} of {v['weights']}" for k, v in layers.items()))
    say(f"validation accuracy {_fmt(before)} -> {_fmt(after)}; gzip export {report['gzip_bytes_before'] / 1e6:.2f} MB "
        f"-> {report['gzip_bytes_after'] / 1e6:.2f} MB; run folder {target}")
    return report


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"
