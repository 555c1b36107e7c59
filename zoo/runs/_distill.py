"""Knowledge distillation as a ``zoo train`` run: a student learns a trained teacher's softened outputs.

The teacher is a run folder or an exported zoo SavedModel of the same modality (any backbone:
fine-tuned BERT, a fusion, ...), used through its exported raw-input signature, so it is
frozen by construction. Its probabilities on the training split, the validation split and
the optional unlabeled folder are computed once and kept in ``OUT/teacher_outputs.npz``
(reused on ``--resume``); the student then trains on ``[label or -1, teacher probabilities]``
targets with the ``distillation`` task (`zoo.models.DistillationLoss`), through `zoo.fit` (so a
frozen student trains on cached features). The run is a normal run directory; it also
gets ``distill_report.json``: teacher vs student on the validation split (accuracy,
parameters, size on disk, ms per example at batch 1 and 32).

Example (prose: it needs a trained teacher run)::

    result = zoo.distill("runs/teacher", "starter_cnn", "data/shapes", unlabeled="data/more", out="runs/student")
    json.load(open("runs/student/distill_report.json"))["student"]["accuracy"]
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo.errors import ConfigurationError, DataError

__all__ = ["Teacher", "open_teacher", "distill_inputs", "distill_report", "check_distill", "distill"]

TEACHER_OUTPUTS = "teacher_outputs.npz"


@dataclass
class Teacher:
    """A frozen teacher: ``probs(x batch) -> [B, C]``, its export metadata and folder."""

    model_dir: Path
    meta: dict
    probs: Callable[[Any], np.ndarray]
    loaded: Any

    @property
    def class_names(self) -> list[str]:
        """The teacher's classes, in output order."""
        return list(self.meta["class_names"])


def open_teacher(path: str | os.PathLike) -> Teacher:
    """Load a teacher from a run folder or an exported zoo SavedModel."""
    from zoo.export import load_model, read_export_meta, require_classifier
    from zoo.models.contracts import contract_for_export
    from zoo.runs._rundir import RunDir

    p = Path(path).expanduser()
    run = RunDir(p)
    model_dir = run.model_dir if run.exists() else p
    if not (model_dir / "saved_model.pb").exists():
        raise ConfigurationError(f"teacher '{path}' is not a finished zoo run folder or an exported zoo model "
                                 "(no model/saved_model.pb); train it first with `zoo train`", teacher=str(path))
    meta = read_export_meta(model_dir)
    require_classifier(meta, "distillation")
    loaded = load_model(model_dir)
    contract = contract_for_export(meta)
    fn, key = loaded.signatures[contract.eval_signature], contract.eval_input_key(meta)

    def probs(x: Any) -> np.ndarray:
        import tensorflow as tf

        return fn(**{key: tf.constant(x)})["scores"].numpy()

    return Teacher(model_dir, meta, probs, loaded)


def check_distill(cfg: Any, spec: Any) -> None:
    """Validate a distillation run's own arguments (teacher, temperature, alpha, unlabeled folder) without TensorFlow."""
    if not cfg.teacher:
        return
    p = Path(cfg.teacher).expanduser()
    if not ((p / "model" / "saved_model.pb").exists() or (p / "saved_model.pb").exists()):
        raise ConfigurationError(f"teacher '{cfg.teacher}' is not a finished zoo run folder or an exported zoo model")
    if not (isinstance(cfg.temperature, (int, float)) and cfg.temperature > 0):
        raise ConfigurationError(f"--temperature must be a positive number, got {cfg.temperature!r}")
    if not (isinstance(cfg.alpha, (int, float)) and 0 <= cfg.alpha <= 1):
        raise ConfigurationError(f"--alpha must be in [0, 1] (the weight of the labels), got {cfg.alpha!r}")
    if cfg.unlabeled and not Path(cfg.unlabeled).expanduser().is_dir():
        raise DataError(f"--unlabeled '{cfg.unlabeled}' is not a folder")
    if cfg.task != "classification":
        raise ConfigurationError("distillation trains a softmax classifier: use --task classification")


def _materialize(ds: Any) -> tuple[np.ndarray, np.ndarray | None]:
    xs, ys = [], []
    for item in ds:
        x, y = item if isinstance(item, tuple) else (item, None)
        xs.append(x.numpy())
        if y is not None:
            ys.append(y.numpy())
    if xs and xs[0].ndim == 2 and xs[0].dtype != object and len({x.shape[1] for x in xs}) > 1:  # audio batches
        width = max(x.shape[1] for x in xs)  # are zero-padded to their longest clip: pad them all alike
        xs = [np.pad(x, ((0, 0), (0, width - x.shape[1]))) for x in xs]
    return np.concatenate(xs), (np.concatenate(ys) if ys else None)


def _key(teacher: Teacher, parts: dict) -> str:
    """What the cached outputs depend on: the teacher's graph and weights index, and every input's bytes."""
    import hashlib

    h = hashlib.sha256()
    for f in ("saved_model.pb", "variables/variables.index"):
        p = teacher.model_dir / f
        h.update(p.read_bytes() if p.exists() else b"")
    for k in sorted(parts):
        x = parts[k]
        h.update(k.encode())
        h.update(np.ascontiguousarray(x).tobytes() if x.dtype != object else b"\0".join(map(bytes, x.ravel())))
    return h.hexdigest()


def _teacher_outputs(teacher: Teacher, parts: dict, cache: Path, batch: int = 32) -> dict:
    """Teacher probabilities of every part, from ``cache`` when it was made by the same teacher on the same inputs."""
    key = _key(teacher, parts)
    if cache.exists():
        with np.load(cache, allow_pickle=False) as old:
            if "key" in old and str(old["key"]) == key and all(k in old for k in parts):
                return {k: old[k] for k in parts}
    out = {k: (np.concatenate([teacher.probs(x[i:i + batch]) for i in range(0, len(x), batch)])
               if len(x) else np.zeros((0, len(teacher.class_names)), np.float32)) for k, x in parts.items()}
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, key=np.asarray(key), **out)
    os.replace(tmp, cache)
    return out


def distill_inputs(cfg: Any, spec: Any, run_path: Path, say: Callable[[str], Any]) -> dict:
    """Data of a distillation run: ``train`` / ``val`` datasets of ``(inputs, [label or -1, teacher probs])``,
    ``class_names`` (the teacher's), ``data`` (the labeled `zoo.data.Dataset`), the teacher and its outputs."""
    import tensorflow as tf

    from zoo import data as zdata
    from zoo.models.contracts import contract_for
    from zoo.runs._data import load_data

    teacher = open_teacher(cfg.teacher)
    if teacher.meta["modality"] != spec.modality:
        raise ConfigurationError(f"the teacher takes {teacher.meta['modality']} inputs but student {spec.name!r} is "
                                 f"{spec.modality}; pick a student of the same modality")
    data = load_data(cfg, spec, shuffle=False)
    names = teacher.class_names
    unknown = [c for c in data.class_names if c not in names]
    if unknown:
        raise DataError(f"classes {unknown} of '{cfg.data}' are not classes of the teacher ({', '.join(names)})")
    remap = np.asarray([names.index(c) for c in data.class_names])
    x_train, y_train = _materialize(data.train)
    parts = {"train": x_train}
    y_val = None
    if data.val is not None:
        parts["val"], y_val = _materialize(data.val)
    if cfg.unlabeled:
        opts = contract_for(spec).loader_options(spec)
        ds, n, skipped = zdata.from_unlabeled(cfg.unlabeled, spec.modality, batch_size=cfg.batch_size,
                                              **{k: v for k, v in opts.items() if k in ("image_size", "sample_rate")})
        parts["unlabeled"] = _materialize(ds)[0]
        say(f"unlabeled: {n} examples from '{cfg.unlabeled}'" + (f" ({len(skipped)} skipped)" if skipped else ""))
    started = time.perf_counter()
    probs = _teacher_outputs(teacher, parts, run_path / TEACHER_OUTPUTS)
    say(f"teacher outputs for {sum(len(v) for v in parts.values())} examples "
        f"({time.perf_counter() - started:.1f} s; kept in {TEACHER_OUTPUTS})")

    def targets(labels: Any, p: np.ndarray) -> np.ndarray:
        col = np.full(len(p), -1.0, np.float32) if labels is None else remap[labels].astype(np.float32)
        return np.concatenate([col[:, None], p.astype(np.float32)], axis=1)

    xs = [x_train] + ([parts["unlabeled"]] if "unlabeled" in parts else [])
    ys = [targets(y_train, probs["train"])] + ([targets(None, probs["unlabeled"])] if "unlabeled" in parts else [])
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    train = tf.data.Dataset.from_tensor_slices((x_all, y_all)).shuffle(len(x_all), seed=int(cfg.seed)).batch(cfg.batch_size)
    val = None
    if y_val is not None:
        val = tf.data.Dataset.from_tensor_slices((parts["val"], targets(y_val, probs["val"]))).batch(cfg.batch_size)
    return {"train": train, "val": val, "class_names": names, "data": data, "teacher": teacher,
            "val_x": parts.get("val"), "timing_x": parts["val"][:32] if "val" in parts else x_train[:32], "val_y": None if y_val is None else remap[y_val], "val_probs": probs.get("val"),
            "n_unlabeled": len(parts.get("unlabeled", []))}


def _facts(model_dir: Path, loaded: Any, meta: dict, xs: np.ndarray | None, reps: int = 5) -> dict:
    from zoo.models.contracts import contract_for_export
    from zoo.runs._quantized import tree_size

    contract = contract_for_export(meta)
    fn, key = loaded.signatures[contract.eval_signature], contract.eval_input_key(meta)
    import tensorflow as tf

    saved = tf.train.list_variables(str(model_dir / "variables" / "variables"))
    params = sum(int(np.prod(shape)) for name, shape in saved if "OBJECT_GRAPH" not in name)
    facts = {"params": params, "size_bytes": tree_size(model_dir)}
    if xs is not None and len(xs):
        for b in (1, 32):
            x = tf.constant(np.concatenate([xs] * (b // len(xs) + 1))[:b])
            fn(**{key: x})
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                fn(**{key: x})["scores"].numpy()
                times.append(time.perf_counter() - t)
            facts[f"ms_per_example_b{b}"] = 1000 * statistics.median(times) / b
    return facts


def distill_report(prepared: dict, student_dir: Path) -> dict:
    """Teacher vs student on the validation split: accuracy, parameters, size on disk, latency at batch 1 and 32."""
    from zoo.export import load_model, read_export_meta

    teacher: Teacher = prepared["teacher"]
    student_meta, student = read_export_meta(student_dir), load_model(student_dir)
    xs, ys, timing = prepared["val_x"], prepared["val_y"], prepared["timing_x"]
    report = {"teacher": {"path": str(teacher.model_dir), "backbone": teacher.meta["backbone"],
                          **_facts(teacher.model_dir, teacher.loaded, teacher.meta, timing)},
              "student": {"path": str(student_dir), "backbone": student_meta["backbone"],
                          **_facts(student_dir, student, student_meta, timing)},
              "n_unlabeled": prepared["n_unlabeled"], "split": "validation"}
    if xs is not None and len(xs):
        from zoo.models.contracts import contract_for_export

        contract = contract_for_export(student_meta)
        fn, key = student.signatures[contract.eval_signature], contract.eval_input_key(student_meta)
        import tensorflow as tf

        pred = np.concatenate([fn(**{key: tf.constant(xs[i:i + 32])})["scores"].numpy() for i in range(0, len(xs), 32)])
        report["teacher"]["accuracy"] = float(np.mean(prepared["val_probs"].argmax(1) == ys))
        report["student"]["accuracy"] = float(np.mean(pred.argmax(1) == ys))
        report["n_examples"] = int(len(ys))
        report["student_vs_teacher_accuracy"] = (report["student"]["accuracy"] / report["teacher"]["accuracy"]
                                                 if report["teacher"]["accuracy"] else None)
    t, s = report["teacher"], report["student"]
    report["size_ratio"] = t["size_bytes"] / s["size_bytes"] if s["size_bytes"] else None
    report["params_ratio"] = t["params"] / s["params"] if s["params"] else None
    return report


def distill(teacher: str | os.PathLike, student: str, data: str | os.PathLike, *, out: str | os.PathLike,
            unlabeled: str | os.PathLike | None = None, temperature: float = 4.0, alpha: float = 0.5,
            freeze: str | None = None, epochs: int = 5, resume: bool = False, force: bool = False,
            verbose: Any = 1, say: Callable[[str], Any] = print, **config: Any) -> Any:
    """Distil ``teacher`` (a run folder or exported zoo model) into registered backbone ``student``
    on ``data`` (class folder or CSV, plus an optional ``unlabeled`` folder); a `TrainResult` of the run ``out``.

    ``temperature`` softens both distributions; ``alpha`` weighs the labels against the teacher.
    Other keyword arguments are `RunConfig` fields (``learning_rate``, ``batch_size``, ``val_split``, ...).
    """
    from zoo.runs._config import RunConfig
    from zoo.runs._train import train_run

    cfg = RunConfig(backbone=student, data=str(data), teacher=str(teacher), temperature=float(temperature),
                    alpha=float(alpha), unlabeled=str(unlabeled) if unlabeled else None, freeze=freeze,
                    epochs=epochs, **config)
    return train_run(None if resume else cfg, out, resume=resume, force=force, verbose=verbose, say=say)
