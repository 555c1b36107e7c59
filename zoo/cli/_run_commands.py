"""Implementations of the heavy ``zoo`` commands train, evaluate and predict.

``zoo export`` lives in `zoo.cli._export`; ``zoo cache``, ``demo`` and ``bench`` in
`zoo.cli._tools`; `zoo.cli._heavy.COMMAND_MODULES` says which module holds which command.

Each ``cmd_<name>(args)`` takes the ``argparse.Namespace`` built by `zoo.cli._heavy` and
returns the exit status; errors are raised as `zoo.ZooError` (the CLI prints one line
and exits 2). Arguments are checked before TensorFlow is imported wherever possible.

Example (prose: it needs a trained run)::

    from zoo.cli import main
    main(["predict", "runs/reviews", "a sunny warm day", "--top-k", "1"])
    # -> runs/reviews: text model, labels: rainy, sunny
    # -> a sunny warm day  ->  sunny 0.982
    # -> 0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from zoo.data import text_bytes
from zoo.errors import ConfigurationError, DataError
from zoo.quiet import quiet_tensorflow

__all__ = ["cmd_train", "cmd_evaluate", "cmd_predict", "quiet_tensorflow"]

_TRAIN_FIELDS = {  # argparse dest -> RunConfig field
    "task": "task", "data": "data", "val_split": "val_split", "epochs": "epochs", "batch_size": "batch_size",
    "freeze": "freeze", "schedule": "schedule", "learning_rate": "learning_rate",
    "csv_text_column": "csv_text_column", "csv_image_column": "csv_image_column",
    "csv_audio_column": "csv_audio_column", "csv_label_column": "csv_label_column", "seed": "seed",
    "teacher": "teacher", "temperature": "temperature", "alpha": "alpha", "unlabeled": "unlabeled",
    "deterministic": "deterministic", "max_words": "max_words", "text_backbone": "text_backbone",
    "projection_dim": "projection_dim",
}


# --------------------------------------------------------------------------- train


def _train_config(args: argparse.Namespace) -> tuple[Any, str]:
    from zoo.runs import RunConfig, RunDir

    given = {field: getattr(args, dest) for dest, field in _TRAIN_FIELDS.items() if getattr(args, dest, None) is not None}
    if args.resume:
        if args.force:
            raise ConfigurationError("--resume continues a run and --force starts it over: give only one")
        out = args.out or (f"runs/{args.name}" if args.name else None)
        if out is None:
            raise ConfigurationError("--resume needs the run folder: zoo train --resume --out DIR")
        run = RunDir(out)
        if not run.exists():
            raise ConfigurationError(f"nothing to resume in '{out}' (no run.json); start the run without --resume")
        cfg = run.read_config()
        if args.name and args.name != cfg.backbone:
            raise ConfigurationError(f"'{out}' is a run of {cfg.backbone!r}, not {args.name!r}; drop NAME with --resume")
        if given.get("data"):
            given["data"] = str(Path(given["data"]).expanduser().resolve())
        ignored = sorted(f"--{k.replace('_', '-')}" for k, v in given.items() if getattr(cfg, k) != v)
        if ignored:
            warnings.warn(f"--resume uses the arguments stored in {out}/run.json; ignored: {', '.join(ignored)}",
                          UserWarning, stacklevel=2)
        return cfg, out
    if getattr(args, "like", None):
        like = RunDir(args.like)
        if not like.exists():
            raise ConfigurationError(f"--like '{args.like}' is not a run folder (no run.json)")
        cfg = like.read_config()
        if args.name:
            cfg.backbone = args.name
        for k, v in given.items():
            setattr(cfg, k, str(Path(v).expanduser().resolve()) if k == "data" else v)
        if args.schedule and args.epochs is None:
            cfg.epochs = None
        out = args.out or f"{str(args.like).rstrip('/')}-repeat"
        if Path(out).resolve() == like.path.resolve():
            raise ConfigurationError("--like repeats a run into a new folder: give --out another folder than RUN")
        return cfg, out
    if not args.name:
        raise ConfigurationError("give a backbone NAME (see `zoo list`), e.g. zoo train starter_cnn --data ./shapes; "
                                 "or continue a run with --resume --out DIR")
    if not args.data:
        raise ConfigurationError("--data is required: a folder with one sub-folder per class, or a .csv file")
    if args.schedule and args.epochs is not None:
        raise ConfigurationError("give --epochs or --schedule, not both (the schedule's stages set the epochs)")
    cfg = RunConfig(backbone=args.name, data=str(Path(args.data).expanduser().resolve()))
    for k, v in given.items():
        if k != "data":
            setattr(cfg, k, v)
    if cfg.schedule:
        cfg.epochs = None
    return cfg, args.out or f"runs/{args.name}"


def _check_folder(path: Path) -> None:
    """Cheap checks of a data folder before TensorFlow is loaded (zoo.data does the full ones)."""
    if not path.is_dir():
        return
    classes = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(classes) < 2:
        found = f"only the class folder {classes[0].name!r}" if classes else "no class sub-folders"
        raise DataError(f"data folder '{path}' has {found}; it needs one sub-folder per class (at least 2), "
                        "e.g. data/cats/1.jpg and data/dogs/1.jpg")
    if not any(f for c in classes for _, _, files in os.walk(c) for f in files if not f.startswith(".")):
        raise DataError(f"the class folders of '{path}' ({', '.join(sorted(c.name for c in classes)[:5])}) are empty; "
                        "put the examples of each class in its folder")


def cmd_train(args: argparse.Namespace) -> int:
    """``zoo train``: see ``zoo train --help``.

    Example:
        main(["train", "starter_text", "--data", "reviews", "--epochs", "3", "--out", "runs/r"])
        # -> 0
    """
    from zoo.runs import check_config

    cfg, out = _train_config(args)
    check_config(cfg)
    if not cfg.text_backbone:  # a contrastive run reads files with captions, not class folders
        _check_folder(Path(cfg.data))
    quiet_tensorflow()
    from zoo.runs import train_run
    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    try:
        result = train_run(cfg, out, resume=args.resume, force=args.force, verbose=verbose)
    except KeyboardInterrupt:
        print(f"zoo: training stopped; every finished epoch is checkpointed: continue with "
              f"zoo train --resume --out {out}", file=sys.stderr)
        raise
    if result is None:
        print(f"run '{out}' has already finished all {cfg.total_epochs} epochs; nothing to do "
              "(use --force to train it again)")
        return 0
    m = result.metrics
    if "retrieval" in m:  # contrastive: recall, not accuracy
        r = m["retrieval"]["text_to_input"]
        print(f"trained {cfg.backbone} + {cfg.text_backbone} (contrastive) for {m['epochs']} epochs: val text -> file "
              + "  ".join(f"{k} {v:.4f}" for k, v in r.items()))
        print(f"run folder {result.run.path}: model/ (SavedModel: zero-shot and embedding signatures), metrics.json")
        return 0
    note = "" if m["pretrained"] else f" ({cfg.backbone} is NOT pretrained)"
    acc = m.get("accuracy")
    acc_text = f"{m['accuracy_split']} accuracy {acc:.4f}" if acc is not None else "no accuracy"
    print(f"trained {cfg.backbone} for {m['epochs']} epochs{note}: {acc_text}; "
          f"{m['data']['n_train']} train / {m['data']['n_val']} val examples, {m['data']['n_skipped']} skipped")
    run = result.run
    print(f"run folder {run.path}: model/ (SavedModel), labels.txt, metrics.json, training_curve.png, checkpoints/")
    return 0


# --------------------------------------------------------------------------- evaluate / predict


def _open_run(path: str) -> tuple[Path, dict, dict]:
    """(model dir, export metadata, run.json info or {}) for a run folder or an exported SavedModel."""
    from zoo.export import read_export_meta
    from zoo.runs import RunDir

    p = Path(path).expanduser()
    if not p.exists():
        raise ConfigurationError(f"'{path}' does not exist; pass the --out folder of a `zoo train` run")
    run = RunDir(p)
    if run.exists():
        info = run.info()
        return run.model_dir, read_export_meta(run.model_dir), info
    if (p / "saved_model.pb").exists():
        return p, read_export_meta(p), {}
    raise ConfigurationError(f"'{path}' is not a zoo run folder (no run.json) or an exported model")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``zoo evaluate DIR --data PATH``: accuracy, per-class table, confusion matrix PNG.

    Example:
        main(["evaluate", "runs/r", "--data", "reviews_test"])
        # -> 0
    """
    from zoo.atomic import atomic_write_json
    from zoo.runs import RunDir

    model_dir, meta, info = _open_run(args.run)
    data_path = Path(args.data).expanduser()
    if not data_path.exists():
        raise DataError(f"--data '{args.data}' does not exist; pass a class folder or a .csv file")
    if meta.get("task") != "contrastive":  # captioned files, not class folders
        _check_folder(data_path)
    quiet_tensorflow()
    from zoo.runs import evaluate_export

    report = evaluate_export(model_dir, meta, info, data_path)
    token = report.get("task") in ("token_classification", "question_answering", "contrastive")  # no confusion matrix
    if not token:
        from zoo.runs import plot_confusion_matrix

        out = Path(args.out).expanduser() if args.out else (
            RunDir(args.run).confusion_path if info else model_dir / "confusion_matrix.png")
        plot_confusion_matrix(report["confusion_matrix"], report["class_names"], out,
                              title=f"{meta['backbone']} on {data_path.name}")
        report["confusion_matrix_png"] = str(out)
    if info:
        atomic_write_json(RunDir(args.run).path / "evaluation.json", report)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if report.get("task") == "contrastive":
        from zoo.cli._contrastive import print_recall_report

        return print_recall_report(args, meta, report)
    if token:
        from zoo.cli._entities import print_entity_report, print_squad_report

        return (print_entity_report if report["task"] == "token_classification" else print_squad_report)(
            args, meta, report)
    from zoo.runs import format_report

    print(f"{args.run}: {meta['backbone']} ({meta['modality']}) on {args.data}")
    if report.get("n_skipped"):
        print(f"skipped {report['n_skipped']} unusable file(s) (listed with --json)")
    print(format_report(report))
    print(f"confusion matrix: {out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``zoo predict DIR FILE_OR_TEXT...``: top-k labels with scores from the exported model.

    Example:
        main(["predict", "runs/r", "sunny and warm", "--json"])
        # -> 0
    """
    if getattr(args, "data", None):
        from zoo.cli._batch import predict_data

        return predict_data(args)
    model_dir, meta, info = _open_run(args.run)
    modality = info.get("modality") or meta["modality"]
    quiet_tensorflow()
    from zoo.export import load_model, predict_scores, read_inputs

    if meta.get("task") == "contrastive":
        from zoo.cli._contrastive import predict_zero_shot

        return predict_zero_shot(args, model_dir, meta)
    if getattr(args, "labels", None):
        raise ConfigurationError(f"--labels / --template are for contrastive runs (zero-shot); {args.run} is a "
                                 f"{meta.get('task') or 'classification'} run with its own classes")
    if meta.get("task") in ("token_classification", "question_answering"):
        from zoo.cli._entities import predict_answer, predict_entities

        return (predict_entities if meta["task"] == "token_classification" else predict_answer)(args, model_dir, meta)
    if getattr(args, "question", None):
        raise ConfigurationError(f"--question / --context are for question_answering runs; {args.run} is a "
                                 f"{meta.get('task') or 'classification'} run: pass its inputs instead")
    per = len(meta.get("task_inputs") or ()) or 1  # a text-pair model: TEXT_A TEXT_B per example
    if len(args.inputs) % per:
        raise ConfigurationError(f"this model takes {per} texts per example ({', '.join(meta['task_inputs'])}): "
                                 f"give them in that order for each example; got {len(args.inputs)} texts")
    items = [tuple(args.inputs[i:i + per]) for i in range(0, len(args.inputs), per)] if per > 1 else args.inputs
    inputs = items if per > 1 else read_inputs(meta, args.inputs)
    scores = predict_scores(load_model(model_dir), meta, inputs)
    names = list(meta["class_names"])
    k = min(args.top_k, len(names))
    results = []
    for item, row in zip(items, scores):
        order = row.argsort()[::-1][:k]
        shown = " | ".join(text_bytes(t).decode("utf-8", "replace") for t in (item if per > 1 else [item]))
        results.append({"input": shown, "predictions": [{"label": names[i], "score": float(row[i])} for i in order]})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    note = "" if meta.get("pretrained", True) else f" (backbone {meta['backbone']} is NOT pretrained)"
    print(f"{args.run}: {modality} model, labels: {', '.join(names)}{note}")
    width = min(max(len(r["input"]) for r in results), 50)
    for r in results:
        preds = "  ".join(f"{p['label']} {p['score']:.3f}" for p in r["predictions"])
        text = r["input"] if len(r["input"]) <= 50 else r["input"][:47] + "..."
        print(f"{text.ljust(width)}  ->  {preds}")
    return 0
