"""``zoo embed`` and ``zoo predict RUN --data GLOB``: batch inference on Apache Beam (see `zoo.runs.embed`).

The argument definitions import no TensorFlow; the commands import it when they run.
Options after a standalone ``--`` go to Beam (``--project``, ``--region``, ``--temp_location``,
``--direct_num_workers`` ...).

Example:
    >>> split_beam_args(["embed", "use", "--data", "d", "--out", "o", "--", "--direct_num_workers=2"])
    (['embed', 'use', '--data', 'd', '--out', 'o'], ['--direct_num_workers=2'])
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register_commands", "batch_options", "split_beam_args", "check_predict_args", "cmd_embed", "predict_data",
           "EPILOG"]

EPILOG = """examples:
  zoo embed mobilenet_v2 --data './photos/**.jpg' --out emb/photos --format npy
  zoo embed use --data 'gs://bucket/notes/*.txt' --out emb/notes --projector
  zoo embed yamnet --data ./calls --out emb/calls --runner DataflowRunner -- --project P --region R --temp_location gs://b/tmp
  zoo predict runs/flowers --data './incoming/**' --out pred/incoming --format jsonl

every matched file is read with Beam's filesystems and checked as the data loaders check it
(images and WAVs: one input each; text files: one input per non-empty line); OUT gets one record
per input (path, line, the vector, the model's handle and digest), errors-*.jsonl (files refused,
with the reason) and manifest.json. A folder that already holds output is refused (--overwrite
replaces it). Needs Apache Beam: pip install "zoo[beam]". Locally the DirectRunner runs one
process per core."""


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """``argv`` of ``zoo embed`` / ``zoo predict --data`` split at a standalone ``--`` (the rest goes
    to Beam); other commands' ``--`` is left for argparse."""
    if "--" not in argv:
        return argv, []
    i = argv.index("--")
    head = argv[:i]
    if head[:1] == ["embed"] or (head[:1] == ["predict"] and "--data" in head):
        return head, argv[i + 1:]
    return argv, []


def batch_options(s: argparse.ArgumentParser, *, data_required: bool) -> None:
    """The options `zoo embed` and ``zoo predict --data`` share."""
    from zoo.cli._heavy import _positive_int

    s.add_argument("--data", required=data_required, metavar="GLOB",
                   help="folder or glob of input files (any Beam filesystem: local, gs://, ...)")
    s.add_argument("--out", metavar="DIR", help="output folder (must be empty, or zoo output with --overwrite)")
    s.add_argument("--format", dest="out_format", choices=["jsonl", "tfrecord", "npy"], default="jsonl",
                   help="record files: JSON lines, tf.train.Example TFRecords, or one .npy + index (default jsonl)")
    s.add_argument("--batch-size", type=_positive_int, default=32, metavar="B", help="inputs per model call (default 32)")
    s.add_argument("--runner", default="DirectRunner", metavar="RUNNER",
                   help="Beam runner (default DirectRunner: one process per core); options after --")
    s.add_argument("--overwrite", action="store_true", help="replace the zoo output already in --out")


def register_commands(cli: Any) -> None:
    """``zoo embed`` (same hook as plugins)."""
    def run(args: argparse.Namespace) -> int:
        return cmd_embed(args)

    s = cli.add("embed", "embed many files with a backbone on Apache Beam (local processes, Dataflow, Flink, Spark)",
                run, epilog=EPILOG)
    s.add_argument("name", metavar="NAME", help="registered backbone (see `zoo list`)")
    batch_options(s, data_required=True)
    s.add_argument("--projector", action="store_true", help="also write a TensorBoard projector into OUT/projector")


def _common(args: argparse.Namespace) -> dict:
    """Beam checked, --out given, TensorFlow quiet: the keyword arguments both commands pass on."""
    from zoo.errors import ConfigurationError
    from zoo.quiet import quiet_tensorflow
    from zoo.runs import import_beam

    import_beam()
    if not args.out:
        raise ConfigurationError("--out DIR is required: the folder the records go to")
    quiet_tensorflow()
    return {"out": args.out, "fmt": args.out_format, "batch_size": args.batch_size, "runner": args.runner,
            "beam_args": getattr(args, "beam_args", []), "overwrite": args.overwrite}


def cmd_embed(args: argparse.Namespace) -> int:
    """Run `zoo.runs.embed` with the command's arguments."""
    from zoo.runs import embed

    embed(args.name, args.data, projector=args.projector, **_common(args))
    return 0


def check_predict_args(args: argparse.Namespace) -> None:
    """``zoo predict`` takes inputs on the command line or ``--data GLOB``: exactly one of them
    (checked after parsing, before the command runs: argparse cannot say "one or the other").

    Example:
        >>> check_predict_args(argparse.Namespace(inputs=["a sunny day"], data=None))
    """
    from zoo.errors import ConfigurationError

    qa = [o for o in ("question", "context") if getattr(args, o, None)]
    if qa and (len(qa) != 2 or args.inputs or args.data):
        raise ConfigurationError("a question_answering run takes --question TEXT --context TEXT_OR_FILE, both, and "
                                 "no other inputs")
    if args.inputs and args.data:
        raise ConfigurationError("give inputs on the command line or --data GLOB, not both")
    if not args.inputs and not args.data and not qa:
        raise ConfigurationError("give inputs to predict (files or strings), or --data GLOB --out DIR for many files")


def predict_data(args: argparse.Namespace) -> int:
    """``zoo predict RUN --data GLOB --out DIR``: `zoo.runs.predict_files` with the command's arguments."""
    from zoo.runs import predict_files

    predict_files(args.run, args.data, top_k=args.top_k, **_common(args))
    return 0
