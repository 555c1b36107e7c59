"""The ``zoo train`` pipeline: data folder or CSV -> model -> per-epoch checkpoints -> exported run directory.

`check_config` validates every argument before TensorFlow is loaded; `train_run` does
the work (used by ``zoo train`` and ``zoo demo``); it reads data with `zoo.runs.load_data`
(``zoo evaluate`` reads new data the same way).

Example:
    cfg = RunConfig(backbone="starter_text", data="data/reviews", schedule="frozen:3@1e-2,top:1:1@1e-3")
    result = train_run(cfg, "runs/reviews")
    result.metrics["accuracy"] > 0.8
    # -> True
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from zoo.errors import ConfigurationError, DataError
from zoo.atomic import atomic_write_json, atomic_write_text
from zoo.runs._checkpoints import checkpoint_callback, restore_latest
from zoo.runs._data import CSV_SUFFIXES, load_data
from zoo.runs._towers import CONTRASTIVE, check_towers
from zoo.runs._provenance import provenance
from zoo.runs._rundir import RunConfig, RunDir

__all__ = ["TrainResult", "check_config", "train_run", "supported_task"]

@dataclass
class TrainResult:
    """What `train_run` produced: the in-memory model, the run directory and the final metrics.

    Example:
        result.run.model_dir
        # -> PosixPath('runs/reviews/model')
    """

    model: Any
    run: RunDir
    class_names: list
    history: dict
    metrics: dict
    data: Any
    resumed_from: int | None
    seconds: float


def supported_task(task: Any) -> bool:
    """True for tasks ``zoo train`` can learn from class folders / label columns (softmax or one sigmoid).

    Example:
        >>> import zoo; supported_task(zoo.get_task("classification")), supported_task(zoo.get_task("regression"))
        (True, False)
    """
    return task.label_kind in ("int", "binary", "token", "span") and task.name != "embedding" or task.name == CONTRASTIVE


def check_config(cfg: RunConfig) -> tuple[Any, Any]:
    """Validate a run's arguments without loading TensorFlow; returns ``(backbone spec, task spec)``.

    Example:
        >>> check_config(RunConfig(backbone="starter_text", data="/nonexistent"))
        Traceback (most recent call last):
        ...
        zoo.errors.DataError: --data '/nonexistent' does not exist; pass a folder with one sub-folder per class, or a .csv file
    """
    import zoo
    from zoo.models import FreezeSchedule, check_freeze

    spec = zoo.get(cfg.backbone)
    task = zoo.get_task(cfg.task)
    if not supported_task(task):
        raise ConfigurationError(f"zoo train learns class labels (or word tags); task {task.name!r} needs other "
                                 "targets: use classification, binary, sentiment, pair_classification, "
                                 "token_classification, question_answering or contrastive here, or the Python API "
                                 "(zoo.build / zoo.fit)")
    check_towers(cfg, spec, task)
    if task.modalities and spec.modality not in task.modalities:
        raise ConfigurationError(f"task {task.name!r} is for {'/'.join(task.modalities)} backbones, but {spec.name!r} "
                                 f"is {spec.modality}; use --task classification")
    data = Path(cfg.data).expanduser()
    if not data.exists():
        raise DataError(f"--data '{cfg.data}' does not exist; pass a folder with one sub-folder per class, or a .csv file")
    if data.is_file() and data.suffix.lower() not in CSV_SUFFIXES and task.label_kind not in ("token", "span"):
        raise DataError(f"--data '{cfg.data}' is a {data.suffix or 'extension-less'} file; pass a folder with one "
                        "sub-folder per class, or a .csv/.tsv file")
    if any([cfg.csv_text_column, cfg.csv_image_column, cfg.csv_audio_column]) and not data.is_file():
        raise ConfigurationError("--csv-*-column options apply to a .csv --data file, but --data is a folder")
    if isinstance(cfg.val_split, bool) or not isinstance(cfg.val_split, (int, float)) or not 0 <= cfg.val_split < 1:
        raise ConfigurationError(f"--val-split must be a fraction in [0, 1), e.g. 0.2, got {cfg.val_split!r}")
    if not isinstance(cfg.batch_size, int) or cfg.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be a positive integer, got {cfg.batch_size!r}")
    if cfg.learning_rate is not None and not (math.isfinite(cfg.learning_rate) and cfg.learning_rate > 0):
        raise ConfigurationError(f"--learning-rate must be a positive number, got {cfg.learning_rate!r}")
    if cfg.schedule:
        if cfg.freeze:
            raise ConfigurationError("give --freeze or --schedule, not both (a schedule sets the freeze of each stage)")
        for stage in FreezeSchedule.parse(cfg.schedule).stages:
            check_freeze(spec, stage.freeze, what="--schedule stage")
    else:
        if not isinstance(cfg.epochs, int) or cfg.epochs < 1:
            raise ConfigurationError(f"--epochs must be a positive integer, got {cfg.epochs!r}")
        if cfg.freeze:
            check_freeze(spec, cfg.freeze, what="--freeze")
    from zoo.runs._distill import check_distill

    check_distill(cfg, spec)
    return spec, task


def _summary(data: Any) -> dict:
    s = data.summary
    return {"class_counts": dict(s.class_counts), "n_train": s.n_train, "n_val": s.n_val,
            "n_skipped": s.n_skipped, "skipped": [{"path": k.path, "reason": k.reason} for k in s.skipped],
            "dropped_classes": list(s.dropped_classes)}


def _stage_starts(cfg: RunConfig) -> list[int]:
    if not cfg.schedule:
        return [0]
    from zoo.models import FreezeSchedule

    starts, at = [], 0
    for s in FreezeSchedule.parse(cfg.schedule).stages:
        starts.append(at)
        at += s.epochs
    return starts


def _log_confusion(model: Any, val: Any, class_names: list, logdir: Path, *, step: int, title: str) -> None:
    """The validation confusion matrix of the finished model, as a PNG beside the logs and a TensorBoard image."""
    import numpy as np

    from zoo.runs._reports import classification_report, plot_confusion_matrix
    from zoo.training import log_image

    ys, scores = [], []
    for x, y in val:
        p = model.predict(x, verbose=0)
        scores.append(np.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p)
        y = y.numpy()
        ys.append(y[:, 0].astype(int) if y.ndim == 2 else y.astype(int))  # distillation targets: [label, teacher...]
    report = classification_report(np.concatenate(ys), np.concatenate(scores), class_names)
    png = plot_confusion_matrix(report["confusion_matrix"], class_names, logdir / "confusion_matrix.png", title=title)
    log_image(logdir, "confusion_matrix", png.read_bytes(), step=step)


def _final_metrics(history: dict) -> dict:
    train = {k: v[-1] for k, v in history.items() if not k.startswith("val_") and v}
    val = {k[4:]: v[-1] for k, v in history.items() if k.startswith("val_") and v}
    return {"train": train, "val": val}


def train_run(cfg: RunConfig | None, out: str | os.PathLike, *, resume: bool = False, force: bool = False,
              verbose: Any = 1, say: Callable[[str], Any] = print) -> TrainResult | None:
    """Train ``cfg`` into run directory ``out``; with ``resume`` continue its last checkpoint.

    With ``resume`` the configuration stored in ``out/run.json`` is used (``cfg`` may be None).

    Writes a checkpoint after every epoch, then ``model/`` (SavedModel, atomically),
    ``labels.txt``, ``metrics.json`` and ``training_curve.png``. Returns None when
    ``resume`` finds the run already finished.

    Example:
        train_run(RunConfig("starter_cnn", "data/shapes", epochs=3), "runs/shapes").metrics["accuracy"]
        # -> 0.93
    """
    started = time.time()
    run = RunDir(out)
    if not resume:
        check_config(cfg)  # before anything in ``out`` is touched (``force`` deletes the old run)
    with run.lock():
        run.clean_temp()
        if resume:
            if not run.exists():
                raise ConfigurationError(f"nothing to resume in '{run.path}' (no run.json); start the run without --resume")
            if run.status() == "finished":
                return None
            cfg = run.read_config()
        else:
            run.check_fresh(force=force)
        spec, task = check_config(cfg)

        from zoo.models import build as build_model
        from zoo.export import save_model
        from zoo.models import FreezeSchedule
        from zoo.runs._reports import plot_training_curve
        from zoo.tfk import keras
        from zoo.training import fit

        keras.utils.set_random_seed(int(cfg.seed))
        if cfg.deterministic:  # process-wide in TensorFlow (no public switch back): zoo train runs in its own process
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        prepared, build_task, task_options = None, cfg.task, ({"max_words": cfg.max_words} if cfg.max_words else {})
        if cfg.teacher:  # distillation: the teacher's outputs (computed once) join the labels
            from zoo.runs._distill import distill_inputs

            prepared = distill_inputs(cfg, spec, run.path, say)
            data, class_names = prepared["data"], list(prepared["class_names"])
            train_data, val_data = prepared["train"], prepared["val"]
            build_task, task_options = "distillation", {"temperature": cfg.temperature, "alpha": cfg.alpha}
        else:
            data = load_data(cfg, spec)
            class_names = list(data.class_names)
            train_data, val_data = data.train, data.val
        if task.label_kind == "binary" and len(class_names) != 2:
            raise DataError(f"task {task.name!r} needs exactly 2 classes, the data has {len(class_names)}: "
                            f"{class_names}; use --task classification")
        info = run.info() if run.exists() else {}
        if resume and info.get("class_names") and info["class_names"] != class_names:
            raise DataError(f"the data's classes {class_names} differ from the run's {info['class_names']}; "
                            "resume with the same data, or start a new run")
        extra = {} if info.get("provenance") else {"provenance": provenance(spec, cfg.data, seed=cfg.seed,
                                                                            deterministic=cfg.deterministic)}
        run.write_config(cfg, status="running", class_names=class_names, modality=spec.modality,
                         pretrained=spec.pretrained, total_epochs=cfg.total_epochs, **extra)
        if cfg.projection_dim:  # contrastive (check_towers); else the head's default width
            task_options["projection_dim"] = cfg.projection_dim
        model = build_model([cfg.backbone, cfg.text_backbone] if task.name == CONTRASTIVE else cfg.backbone,
                            task=build_task, class_names=class_names,
                            num_classes=len(class_names) if task.needs_num_classes else None,
                            freeze=cfg.freeze, learning_rate=cfg.learning_rate, **task_options)
        variables = list(model.variables)  # checkpoint order: taken before any freeze change
        ck = restore_latest(run, variables, say) if resume else None
        history: dict = {}
        initial = 0
        if ck is not None:
            history = {k: list(v) for k, v in ck.history.items()}
            initial = ck.epoch
            say(f"resuming '{run.path}' after epoch {ck.epoch} of {cfg.total_epochs}")
        callback = checkpoint_callback(run, variables, cfg, history, ck, say)
        schedule = FreezeSchedule.parse(cfg.schedule) if cfg.schedule else None
        if initial < cfg.total_epochs:
            fit(model, train_data, epochs=None if schedule else cfg.epochs, schedule=schedule,
                validation_data=val_data, callbacks=[callback], initial_epoch=initial, verbose=verbose,
                tensorboard=run.path / "tensorboard")
        binary = task.label_kind == "binary"
        save_model(model, run.model_dir, spec=spec, class_names=class_names, binary=binary,
                   extra={"task": task.name, "seed": cfg.seed, **({"distilled_from": cfg.teacher} if cfg.teacher else {})})
        atomic_write_text(run.labels_path, "".join(f"{c}\n" for c in class_names))
        if val_data is not None and task.label_kind not in ("token", "span", "none"):  # no classes: no confusion matrix
            _log_confusion(model, val_data, class_names, run.path / "tensorboard", step=cfg.total_epochs,
                           title=f"{spec.name}: validation confusion matrix")
        final = _final_metrics(history)
        headline = final["val"].get("accuracy", final["train"].get("accuracy"))
        metrics = {
            "accuracy": headline, "accuracy_split": "val" if "accuracy" in final["val"] else "train",
            "final": final, "history": history, "epochs": len(next(iter(history.values()), [])),
            "total_epochs": cfg.total_epochs, "backbone": spec.name, "pretrained": spec.pretrained,
            "task": task.name, "class_names": class_names, "data": _summary(data),
            "resumed_from_epoch": ck.epoch if ck else None,
            "optimizer_restored": bool(getattr(callback, "optimizer_restored", False)) if ck else None,
            "seconds": round(time.time() - started, 2),
        }
        if task.label_kind == "token" and val_data is not None:  # the task's own metric: entity-level F1
            from zoo.runs._entities import dataset_entity_scores

            metrics["entities"] = dataset_entity_scores(lambda x: model.predict(x, verbose=0), val_data, class_names)
        if task.name == CONTRASTIVE and val_data is not None:  # retrieval recall@1/5/10 on the held-out files
            from zoo.runs._retrieval import dataset_recall

            metrics["retrieval"] = dataset_recall(lambda x: model.predict(x, verbose=0), val_data)
        if prepared is not None:
            from zoo.runs._distill import distill_report

            metrics["distill"] = distill_report(prepared, run.model_dir)
            atomic_write_json(run.path / "distill_report.json", metrics["distill"])
        atomic_write_json(run.metrics_path, metrics)
        if history:
            plot_training_curve(history, run.curve_path, stage_starts=_stage_starts(cfg),
                                title=f"{spec.name} on {Path(cfg.data).name} ({task.name})")
        run.write_config(cfg, status="finished")
        return TrainResult(model, run, class_names, history, metrics, data, ck.epoch if ck else None,
                           time.time() - started)
