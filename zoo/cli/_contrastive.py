"""The CLI of contrastive (image-text / audio-text) runs: ``zoo train NAME --task contrastive --text-backbone
TEXT``, zero-shot ``zoo predict RUN FILE --labels a,b,c [--template "a photo of a {}"]``, recall@K from
``zoo evaluate``, and ``zoo search RUN --text "a red car" --images ./folder --top-k 5``.

Only argparse at import (``zoo list`` must not load TensorFlow); the work runs when a command does.

Example:
    >>> from zoo.cli import build_parser
    >>> a = build_parser().parse_args(["search", "runs/clip", "--text", "a red car", "--images", "photos"])
    >>> a.text, a.images, a.top_k
    (['a red car'], 'photos', 5)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register_commands", "contrastive_train_options", "zero_shot_options", "cmd_search",
           "predict_zero_shot", "print_recall_report"]

EPILOG = """examples:
  zoo train efficientnet_b0 --task contrastive --text-backbone bert_small --data captions.csv --out runs/clip
  zoo search runs/clip --text "a red car" --text "a dog on a beach" --images ./photos --top-k 5
  zoo search runs/sounds --text "a dog barking" --images ./clips     # an audio-text run: .wav files

ranks the folder's files (images, or .wav files for an audio-text run) by cosine similarity
to each text in the run's shared embedding space."""


def contrastive_train_options(s: argparse.ArgumentParser) -> None:
    """``zoo train``'s options for contrastive runs."""
    s.add_argument("--text-backbone", metavar="NAME", help="--task contrastive: the text tower (NAME is the image / audio one)")
    s.add_argument("--projection-dim", type=int, metavar="P", help="--task contrastive: shared embedding width (256)")


def zero_shot_options(s: argparse.ArgumentParser) -> None:
    """``zoo predict``'s options for contrastive runs (zero-shot classification)."""
    s.add_argument("--labels", metavar="A,B,C", help="contrastive runs: zero-shot classes, comma-separated")
    s.add_argument("--template", default="{}", metavar="TEXT", help='contrastive runs: caption of a label, e.g. "a photo of a {}"')


def register_commands(cli: Any) -> None:
    """``zoo search`` (the same hook as plugins' commands).

    Example:
        >>> from zoo.cli import build_parser
        >>> build_parser().parse_args(["search", "r", "--text", "x", "--images", "d", "--top-k", "2"]).top_k
        2
    """
    s = cli.add("search", "rank a folder of images (or .wav files) by similarity to a text: a contrastive run",
                epilog=EPILOG)
    s.add_argument("run", metavar="DIR", help="run folder of a `zoo train --task contrastive` run (or its export)")
    s.add_argument("--text", action="append", required=True, metavar="TEXT", help="the query (repeat for several)")
    s.add_argument("--images", required=True, metavar="FOLDER", help="folder of images (or .wav files) to rank")
    s.add_argument("--top-k", type=int, default=5, metavar="K", help="files per query (default 5)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_search)


def _open_contrastive(path: str) -> tuple[Any, dict]:
    from zoo.cli._run_commands import _open_run
    from zoo.errors import ConfigurationError

    model_dir, meta, _ = _open_run(path)
    if meta.get("task") != "contrastive":
        raise ConfigurationError(f"{path} is a {meta.get('task') or 'classification'} run; zoo search needs a "
                                 "contrastive one (zoo train NAME --task contrastive --text-backbone TEXT)")
    return model_dir, meta


def cmd_search(args: argparse.Namespace) -> int:
    """``zoo search RUN --text TEXT --images FOLDER``: the ``--top-k`` files most similar to each text."""
    from zoo.errors import ConfigurationError
    from zoo.quiet import quiet_tensorflow

    if args.top_k < 1:
        raise ConfigurationError(f"--top-k must be a positive integer, got {args.top_k}")
    if not all(t.strip() for t in args.text):
        raise ConfigurationError("--text must not be empty")
    model_dir, meta = _open_contrastive(args.run)
    quiet_tensorflow()
    from zoo.export import load_model
    from zoo.runs import media_files, search_files

    files = media_files(Path(args.images).expanduser(), meta["modality"])
    found = search_files(load_model(model_dir), meta, args.text, files, top_k=args.top_k)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"{args.run}: {meta['backbone']} + {meta['text_backbone']} (contrastive), {len(files)} files in {args.images}")
    for q in found:
        print(f"{q['query']}:")
        for r in q["results"]:
            print(f"  {r['score']:.3f}  {r['path']}")
    return 0


def predict_zero_shot(args: argparse.Namespace, model_dir: Path, meta: dict) -> int:
    """``zoo predict RUN FILE... --labels a,b,c [--template T]``: zero-shot classes of each file."""
    from zoo.errors import ConfigurationError
    from zoo.export import load_model, read_inputs, zero_shot_export
    from zoo.models import label_captions

    if getattr(args, "question", None) or getattr(args, "context", None):
        raise ConfigurationError(f"--question / --context are for question_answering runs; {args.run} is a "
                                 "contrastive run: pass image (or .wav) files and --labels")
    if not args.labels:
        raise ConfigurationError(f"{args.run} is a contrastive run: it has no classes of its own; name them with "
                                 "--labels cat,dog,bird [--template \"a photo of a {}\"]")
    if not args.inputs:
        raise ConfigurationError("give the files to classify: zoo predict RUN FILE... --labels a,b,c")
    labels = [x.strip() for x in args.labels.split(",")]
    label_captions(labels, args.template)  # a bad label list or template: said before the model loads
    found = zero_shot_export(load_model(model_dir), meta, read_inputs(meta, args.inputs), labels,
                             template=args.template)
    k = min(args.top_k, len(labels))
    results = []
    for item, row in zip(args.inputs, found["scores"]):
        order = row.argsort()[::-1][:k]
        results.append({"input": item, "predictions": [{"label": labels[i], "score": float(row[i])} for i in order]})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{args.run}: zero-shot among {', '.join(labels)} (captions: {args.template!r})")
    for r in results:
        print(f"{r['input']}  ->  " + "  ".join(f"{p['label']} {p['score']:.3f}" for p in r["predictions"]))
    return 0


def print_recall_report(args: argparse.Namespace, meta: dict, report: dict) -> int:
    """``zoo evaluate`` of a contrastive run, as text: recall@K both ways."""
    print(f"{args.run}: {meta['backbone']} + {meta['text_backbone']} (contrastive) on {args.data}: "
          f"{report['n_files']} files, {report['n_captions']} captions")
    for way, title in (("text_to_input", "text -> file"), ("input_to_text", "file -> text")):
        print(f"{title:<14}" + "  ".join(f"{k} {v:.4f}" for k, v in report[way].items()))
    return 0
