"""Argument definitions of the commands that need TensorFlow: train, evaluate, predict, export, cache, demo.

Only argparse here (importing this module never imports TensorFlow); the work is
done in `zoo.cli._run_commands`, `zoo.cli._export` and `zoo.cli._tools`, imported
when a command runs.

Example:
    >>> from zoo.cli import build_parser
    >>> args = build_parser().parse_args(["predict", "runs/x", "a sunny day", "--top-k", "2"])
    >>> args.inputs, args.top_k
    (['a sunny day'], 2)
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from zoo.cli._batch import batch_options, check_predict_args
from zoo.cli._contrastive import contrastive_train_options, zero_shot_options
from zoo.registry import hookimpl

__all__ = ["register_commands", "EPILOGS", "COMMAND_MODULES"]

# command name -> module holding ``cmd_<name>`` (imported only when the command runs)
COMMAND_MODULES = {"train": "zoo.cli._run_commands", "evaluate": "zoo.cli._run_commands", "predict": "zoo.cli._run_commands",
                   "export": "zoo.cli._export", "cache": "zoo.cli._tools", "demo": "zoo.cli._tools",
                   "bench": "zoo.cli._tools", "compare": "zoo.cli._compare", "distill": "zoo.cli._distill",
                   "prune": "zoo.cli._export"}

EPILOGS = {
    "distill": """examples:
  zoo distill runs/teacher --student starter_cnn --data ./flowers --unlabeled ./more_images --out runs/student
  zoo distill runs/bert --student nnlm_en_50 --data reviews.csv --temperature 2 --alpha 0.3 --epochs 10

The teacher (a run folder or exported zoo model) runs once over the data; its probabilities
are kept in OUT/teacher_outputs.npz. OUT is a normal run folder (resume with --resume --out OUT)
with distill_report.json: teacher vs student accuracy, parameters, size, latency.""",
    "train": """examples:
  zoo train starter_cnn --data ./shapes --epochs 5 --out runs/shapes
  zoo train mobilenet_v2 --data ./flowers --schedule "frozen:2@1e-3,top:2:1@1e-4" --out runs/flowers
  zoo train starter_text --task sentiment --data reviews.csv --csv-text-column review --csv-label-column stars
  zoo train --resume --out runs/flowers          # continue an interrupted run from its last checkpoint

data: a folder with one sub-folder per class (images .jpg/.png/.bmp/.gif, text .txt,
audio .wav; the backbone decides which), or a .csv/.tsv with an input and a label column.
--schedule: comma-separated FREEZE:EPOCHS[@LR] stages; FREEZE is frozen, full or top:K.
The run folder gets run.json, checkpoints/ (one per epoch), model/ (SavedModel taking raw
inputs), labels.txt, metrics.json and training_curve.png.""",
    "evaluate": """examples:
  zoo evaluate runs/flowers --data ./flowers_test
  zoo evaluate runs/reviews --data test.csv --json

prints accuracy and per-class precision / recall / F1, and writes the confusion
matrix as a PNG (default DIR/confusion_matrix.png).""",
    "predict": """examples:
  zoo predict runs/flowers rose1.jpg tulip.png
  zoo predict runs/reviews "what a wonderful film" "dull and too long" --top-k 2
  zoo predict runs/sounds clip.wav --json
  zoo predict runs/flowers --data './incoming/**.jpg' --out pred/incoming   # Apache Beam, see zoo embed -h

inputs are image or .wav files, or literal strings for text models (the run's
modality decides); the exported SavedModel (DIR/model) is used, not a rebuild.""",
    "prune": """examples:
  zoo prune runs/student --sparsity 0.5 --epochs 2            # -> runs/student-pruned
  zoo export runs/student-pruned --format tflite --quantize int8

The head's Dense layers are pruned with tensorflow-model-optimization (pip install "zoo[compress]");
prune_report.json gives the sparsity reached, gzip size and validation accuracy before and after.""",
    "export": """examples:
  zoo export runs/flowers --format savedmodel --out /srv/models/flowers/1
  zoo export runs/flowers --format tflite --quantize dynamic
  zoo export runs/flowers --format tflite --quantize int8 --out flowers_int8.tflite
  zoo export runs/flowers --format tflite --quantize int8-full --max-drop 0.01
  zoo export runs/reviews --format tflite --select-tf-ops

savedmodel: copy DIR/model and check its serving signature on a dummy input.
tflite: vision models take float32 [B, H, W, 3] pixels 0-255; ops TFLite cannot run
are named in the error (--select-tf-ops lets TensorFlow run them via Flex).""",
    "cache": """examples:
  zoo cache ls
  zoo cache prefetch mobilenet_v2 yamnet
  zoo cache verify
  zoo cache clear mobilenet_v2
  zoo cache pack mobilenet_v2 bert_small --to bundle.tar.gz
  zoo cache unpack bundle.tar.gz        # on the offline machine""",
    "demo": """examples:
  zoo demo
  zoo demo --quick --out /tmp/zoo-demo

trains vision, text and audio models on small generated datasets with the starter
backbones (random weights, NOT pretrained; offline), evaluates them on held-out
data, exports, reloads the export and predicts, then prints a report.""",
    "compare": """examples:
  zoo compare mobilenet_v3_small efficientnet_b0 inception_v3 bit_m_r50x1 --data ./flowers --folds 5
  zoo compare --modality vision --tag imagenet --data ./flowers --budget 10m
  zoo compare use labse bert_small --data reviews.csv --out cmp/reviews
  zoo compare mobilenet_v2 efficientnet_b0 --data ./flowers --fine-tune-top 1

each backbone's features are computed once (decoded data shared, cached in OUT/features:
a re-run with one more backbone computes only that one); a logistic-regression probe
(scikit-learn, pip install "zoo[compare]"; a Keras head without it) is scored over the
folds. OUT gets compare.json, compare.csv and compare.png (metric vs latency, Pareto front).
Backbones selected by --modality/--tag that are not cached are skipped, never downloaded.""",
    "bench": """examples:
  zoo bench --quick
  zoo bench --cases 1,3 --reps 5

needs a source checkout (the benchmarks/ folder); prints medians, zoo/baseline
ratios and targets, and writes benchmarks/results.json.""",
}


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1), e.g. 0.2, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _heavy(name: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs ``cmd_<name>`` of ``COMMAND_MODULES[name]`` (imported when it runs)."""
    def run(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(COMMAND_MODULES[name]), f"cmd_{name}")(args)

    return run


@hookimpl
def _train_options(s: argparse.ArgumentParser) -> None:
    """The options ``zoo train`` and ``zoo distill`` share (data, split, epochs, freeze, rates, run folder)."""
    s.add_argument("--task", metavar="TASK", help="classification (default); `zoo tasks` lists the others")
    s.add_argument("--data", metavar="PATH", help="class folder, .csv/.tsv, CoNLL file (tokens), SQuAD JSON (QA)")
    s.add_argument("--val-split", type=_fraction, metavar="F", help="fraction held out for validation (default 0.2; 0: none)")
    s.add_argument("--epochs", type=_positive_int, metavar="N", help="epochs without --schedule (default 5)")
    s.add_argument("--batch-size", type=_positive_int, metavar="B", help="default 32")
    s.add_argument("--freeze", metavar="SPEC", help="frozen (default), full or top:K (blocks nearest the output)")
    s.add_argument("--schedule", metavar="STAGES", help='gradual unfreezing, e.g. "frozen:2@1e-3,top:2:1@1e-4"')
    s.add_argument("--learning-rate", type=_positive_float, metavar="LR", help="default 3e-3 frozen (the head), 1e-4 fine-tuning (3e-5 BERT-style); the new head trains at 1e-3 while fine-tuning")
    s.add_argument("--csv-text-column", metavar="COLUMN", help="CSV column holding the text")
    s.add_argument("--csv-image-column", metavar="COLUMN", help="CSV column holding image paths (relative to the CSV's folder)")
    s.add_argument("--csv-audio-column", metavar="COLUMN", help="CSV column holding .wav paths (relative to the CSV's folder)")
    s.add_argument("--csv-label-column", metavar="COLUMN", help="CSV column holding the labels (default: label)")
    s.add_argument("--max-words", type=_positive_int, metavar="N", help="words per sentence / QA context window (64)")
    contrastive_train_options(s)
    s.add_argument("--out", metavar="DIR", help="run folder (default: runs/NAME)")
    s.add_argument("--resume", action="store_true", help="continue the interrupted run in --out from its last checkpoint")
    s.add_argument("--force", action="store_true", help="overwrite an existing run in --out")
    s.add_argument("--seed", type=int, metavar="S", help="random seed for the split, shuffling and initialisation (default 42)")
    s.add_argument("--deterministic", action="store_true", default=None,
                   help="TensorFlow op determinism: the same seed and data give bit-identical weights (slower)")
    s.add_argument("--like", metavar="RUN", help="repeat RUN: its stored arguments, with the ones given here changed")
    s.add_argument("-q", "--quiet", action="store_true", help="no per-epoch progress")


def register_commands(cli: Any) -> None:
    """zoo's train / evaluate / predict / export / cache / demo / bench commands (the same hook as plugins;
    their modules, and TensorFlow, are imported only when a command runs).

    Example:
        >>> from zoo.cli import build_parser
        >>> build_parser().parse_args(["train", "starter_cnn", "--data", "d"]).val_split is None
        True
    """
    def cmd(name: str, help_text: str) -> argparse.ArgumentParser:
        return cli.add(name, help_text, epilog=EPILOGS.get(name))
    s = cmd("train", "train a backbone + head on a class folder or CSV; checkpoints every epoch, exports at the end")
    s.add_argument("name", nargs="?", metavar="NAME", help="registered backbone (see `zoo list`); optional with --resume")
    _train_options(s)
    s.set_defaults(func=_heavy("train"))

    s = cmd("distill", "train a student backbone on a trained teacher's softened outputs (knowledge distillation)")
    s.add_argument("teacher", metavar="TEACHER", help="teacher: a run folder of `zoo train` or an exported zoo model")
    s.add_argument("--student", dest="name", metavar="NAME", help="registered backbone of the same modality")
    s.add_argument("--unlabeled", metavar="DIR", help="folder of unlabeled files the teacher labels too")
    s.add_argument("--temperature", type=_positive_float, metavar="T", help="softening temperature (default 4)")
    s.add_argument("--alpha", type=_fraction, metavar="A", help="weight of the labels vs the teacher (default 0.5)")
    _train_options(s)
    s.set_defaults(func=_heavy("distill"))

    s = cmd("evaluate", "evaluate a trained run on labelled data: accuracy, per-class table, confusion matrix PNG")
    s.add_argument("run", metavar="DIR", help="run folder written by `zoo train`")
    s.add_argument("--data", required=True, metavar="PATH", help="class folder or CSV with the same classes")
    s.add_argument("--out", metavar="PNG", help="confusion matrix PNG (default DIR/confusion_matrix.png)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_heavy("evaluate"))

    s = cmd("predict", "predict with a trained run's exported model: top-k labels with scores")
    s.add_argument("run", metavar="DIR", help="run folder written by `zoo train` (or an exported SavedModel)")
    s.add_argument("inputs", nargs="*", metavar="FILE_OR_TEXT", help="image / .wav files, or strings for text models")
    s.add_argument("--top-k", type=_positive_int, default=3, metavar="K", help="labels per input (default 3)")
    s.add_argument("--question", metavar="TEXT", help="question_answering runs: the question (with --context)")
    s.add_argument("--context", metavar="TEXT_OR_FILE", help="question_answering runs: the context, or a text file")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    zero_shot_options(s)
    batch_options(s, data_required=False)  # --data GLOB --out DIR: every file, on Apache Beam (zoo embed's options)
    s.set_defaults(func=_heavy("predict"), check_args=check_predict_args)

    s = cmd("export", "export a trained run as a SavedModel or TFLite file")
    s.add_argument("run", metavar="DIR", help="run folder written by `zoo train`")
    s.add_argument("--format", choices=["savedmodel", "tflite"], default="savedmodel")
    s.add_argument("--quantize", choices=["dynamic", "float16", "int8", "int8-full"],
                   help="TFLite quantization (int8: int8 kernels with float fallback; int8-full: int8 kernels only); "
                        "int8 calibrates on >= 100 stratified examples of the run's training split")
    s.add_argument("--max-drop", type=float, metavar="F",
                   help="refuse the export (exit 1, nothing written) if the TFLite model's validation accuracy is "
                        "more than F below the float model's")
    s.add_argument("--no-report", action="store_true",
                   help="TFLite: skip the float vs TFLite report on the run's validation split (export_report.json)")
    s.add_argument("--select-tf-ops", action="store_true", help="TFLite: allow TensorFlow ops (Flex delegate)")
    s.add_argument("--out", metavar="PATH", help="target path (default: DIR/model.tflite; savedmodel: verify DIR/model in place)")
    s.set_defaults(func=_heavy("export"))

    s = cmd("prune", "magnitude-prune a run's head (tensorflow-model-optimization) into a new run folder")
    s.add_argument("run", metavar="DIR", help="run folder written by `zoo train` or `zoo distill`")
    s.add_argument("--sparsity", type=_fraction, default=0.5, metavar="F", help="fraction of head weights set to zero (default 0.5)")
    s.add_argument("--epochs", type=_positive_int, default=2, metavar="N", help="epochs of training while pruning (default 2)")
    s.add_argument("--out", metavar="DIR", help="the pruned run folder (default DIR-pruned)")
    s.add_argument("--backbone", action="store_true", help="also prune the backbone (refused for TF Hub SavedModels: see the error)")
    s.set_defaults(func=_heavy("prune"))

    s = cmd("cache", "inspect and manage the TF Hub module cache (offline / air-gapped use)")
    sub = s.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=type(s))
    sub.required = True

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text)

    a = action("ls", "list cached modules")
    a.add_argument("--json", action="store_true")
    a = action("prefetch", "download the modules of backbones into the cache")
    a.add_argument("names", nargs="+", metavar="NAME")
    a = action("verify", "check cached modules (complete, sha256 pins, loadable); exit 1 if any fails")
    a.add_argument("names", nargs="*", metavar="NAME", help="default: every cached module")
    a.add_argument("--no-load", action="store_true", help="skip loading each module (faster)")
    a.add_argument("--json", action="store_true")
    a = action("clear", "remove a backbone's cached modules (--all: every module)")
    a.add_argument("names", nargs="*", metavar="NAME")
    a.add_argument("--all", action="store_true")
    a = action("pack", "write the cached modules of backbones into a bundle (tar, .tar.gz, .tar.xz)")
    a.add_argument("names", nargs="+", metavar="NAME")
    a.add_argument("--to", required=True, metavar="BUNDLE")
    a = action("unpack", "install the modules of a bundle into the cache")
    a.add_argument("bundle", metavar="BUNDLE")
    s.set_defaults(func=_heavy("cache"))

    s = cmd("demo", "end-to-end demo on generated data with the starter backbones (offline, a few minutes)")
    s.add_argument("--out", metavar="DIR", help="folder for data, runs and report (default: a new temp folder)")
    s.add_argument("--quick", action="store_true", help="smaller data and fewer epochs (under a minute)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=_heavy("demo"))

    s = cmd("compare", "rank backbones on your data: frozen features + a linear probe, latency, size, Pareto front")
    s.add_argument("names", nargs="*", metavar="NAME", help="backbones to compare (or select with --modality/--tag)")
    s.add_argument("--data", required=True, metavar="PATH", help="folder with one sub-folder per class, or a .csv file")
    s.add_argument("--task", default="classification", choices=["classification"], help="the probe's task")
    s.add_argument("--folds", type=_positive_int, metavar="K", help="K-fold cross-validation (default: one hold-out)")
    s.add_argument("--val-split", type=_fraction, default=0.2, metavar="F", help="hold-out fraction without --folds (default 0.2)")
    s.add_argument("--budget", metavar="TIME", help="stop starting backbones after this long, e.g. 10m, 90s, 1h")
    s.add_argument("--modality", choices=["vision", "text", "audio"], help="select the cached backbones of a modality")
    s.add_argument("--tag", metavar="TAG", help="select the cached backbones with a tag (see `zoo list --tag`)")
    s.add_argument("--mlp", action="store_true", help="a one-hidden-layer MLP probe instead of logistic regression")
    s.add_argument("--fine-tune-top", type=_positive_int, default=0, metavar="N", help="also fine-tune the best N")
    s.add_argument("--batch-size", type=_positive_int, default=32, metavar="B", help="feature extraction batch (default 32)")
    s.add_argument("--seed", type=int, default=0, metavar="S", help="folds and probe seed (default 0)")
    s.add_argument("--out", metavar="DIR", help="results folder (default: compare)")
    s.add_argument("--json", action="store_true", help="print compare.json instead of the table")
    s.set_defaults(func=_heavy("compare"))

    s = cmd("bench", "benchmark zoo against hand-written hub.KerasLayer code (runs python -m benchmarks)")
    s.add_argument("--quick", action="store_true", help="small N, 1 repetition: proves it runs, timings meaningless")
    s.add_argument("--cases", help="comma-separated case numbers, e.g. 1,3 (default: all)")
    s.add_argument("--reps", type=int, help="repetitions per side (default 3)")
    s.add_argument("--out", metavar="JSON", help="results file (default benchmarks/results.json)")
    s.set_defaults(func=_heavy("bench"))
