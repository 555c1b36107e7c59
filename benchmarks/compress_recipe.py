"""The edge recipe on REAL data and a REAL pretrained teacher: distill -> prune -> export --quantize.

Teacher: all-MiniLM-L6-v2 (real sentence-transformers weights, the TF-Hub-format pair of
`benchmarks.pretrained_bert`, mean pooling) with a trained head, as a user registry entry.
Student: ``--student``, ``starter_text`` (zoo's random-weight starter, trained from scratch here) or
``starter_text_wide`` (`benchmarks.wide_student`: 8x its hash buckets, 5.4x fewer parameters than
the teacher, registered from the benchmark's registry TOML) or ``starter_text_wide_init`` (the same
student whose word table starts from the teacher's word embeddings, PCA to 64). Data: the
human-rated Rotten Tomatoes sentences of VADER (`benchmarks.pretrained_bert.load_sentences`):
``--labeled`` per class for training (20 % of it the runs' validation split), ``--unlabeled``
sentences without labels, 250 per class held out for the test.

Steps, each through the CLI as a user runs them:
1. ``zoo train minilm_mean`` (the teacher, frozen encoder + head);
2. ``zoo distill`` into ``starter_text`` with the unlabeled pool; ``zoo train starter_text`` on the
   labels alone as the comparison;
3. ``zoo prune`` the student's head to 50 %;
4. ``zoo export --format tflite --quantize dynamic`` of the pruned student (its text ops run
   through TF Select), with the float-vs-TFLite report.
Accuracy of every model on the held-out test sentences (``zoo.runs.evaluate_export``).

    python -m benchmarks.compress_recipe [--labeled 400] [--unlabeled 3000] [--student starter_text_wide_init]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

OUT = Path("benchmarks/out/compress_recipe")


def _write(folder: Path, texts, labels=None) -> Path:
    for i, t in enumerate(texts):
        sub = folder / (("neg", "pos")[int(labels[i])] if labels is not None else "pool")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05d}.txt").write_text(str(t), encoding="utf-8")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labeled", type=int, default=400, help="labeled training sentences per class")
    ap.add_argument("--unlabeled", type=int, default=100000, help="unlabeled sentences (default: all the rest)")
    ap.add_argument("--epochs", type=int, default=8, help="teacher epochs")
    ap.add_argument("--student-epochs", type=int, default=20)
    ap.add_argument("--student-lr", type=float, default=0.003)
    ap.add_argument("--student", default="starter_text",
                    choices=("starter_text", "starter_text_wide", "starter_text_wide_init"),
                    help="student backbone: starter_text (549 k parameters), starter_text_wide (4.2 M, "
                         "benchmarks.wide_student: 5.4x fewer than the teacher) or starter_text_wide_init (the "
                         "same, its word table started from the teacher's word embeddings)")
    ap.add_argument("--more-unlabeled", action="store_true",
                    help="add unlabeled text the teacher labels: the neutral-rated movie sentences (dropped from "
                         "the labeled set) and VADER's tweets, product reviews and editorial snippets; none of "
                         "the test sentences")
    args = ap.parse_args()
    import shutil

    from benchmarks import wide_student
    from benchmarks.pretrained_bert import load_sentences, make_pretrained_pair

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    encoder, preprocessor = make_pretrained_pair(verbose=False)
    (OUT / "registry.toml").write_text(
        f'[minilm_mean]\nmodality = "text"\nhandle = "{Path(encoder).resolve()}"\n'
        f'preprocessor = "{Path(preprocessor).resolve()}"\noutput_dim = 384\noutput_key = "pooled_output"\n'
        'pooling = "mean"\ntext_ops = true\nblock_pattern = "transformer/layer_(\\\\d+)/"\nblocks = 6\n'
        'description = "all-MiniLM-L6-v2, real weights (benchmarks.pretrained_bert)"\n'
        + wide_student.registry_entry("starter_text_wide", (OUT / "starter_text_wide").resolve())
        + wide_student.registry_entry("starter_text_wide_init", (OUT / "starter_text_wide_init").resolve(),
                                      "build_from_teacher"), encoding="utf-8")
    os.environ["ZOO_REGISTRY"] = str(OUT / "registry.toml")
    texts, labels = load_sentences("movies", per_class=None, seed=0)
    pos = [t for t, y in zip(texts, labels) if y == 1]
    neg = [t for t, y in zip(texts, labels) if y == 0]
    n, test_n = args.labeled, 250
    train = [(t, 1) for t in pos[:n]] + [(t, 0) for t in neg[:n]]
    test = [(t, 1) for t in pos[n:n + test_n]] + [(t, 0) for t in neg[n:n + test_n]]
    rest = pos[n + test_n:] + neg[n + test_n:]
    pool = rest[: args.unlabeled]
    if args.more_unlabeled:  # real text without labels, never a test sentence
        held = {t for t, _ in test} | {t for t, _ in train} | set(pool)
        for corpus in ("movies", "tweets", "amazon", "nyt"):
            pool += [t for t in load_sentences(corpus, per_class=None, min_abs_rating=0.0, seed=0)[0] if t not in held]
    _write(OUT / "train", [t for t, _ in train], [y for _, y in train])
    _write(OUT / "test", [t for t, _ in test], [y for _, y in test])
    _write(OUT / "unlabeled", pool)

    from zoo.cli import main as zoo
    from zoo.export import read_export_meta
    from zoo.runs import RunDir, evaluate_export

    def run(*argv: str) -> float:
        t = time.perf_counter()
        assert zoo(list(argv)) == 0, argv
        return time.perf_counter() - t

    runs = OUT / "runs"
    seconds = {
        "teacher": run("train", "minilm_mean", "--data", str(OUT / "train"), "--epochs", str(args.epochs),
                       "--out", str(runs / "teacher"), "-q"),
        "student": run("distill", str(runs / "teacher"), "--student", args.student, "--data", str(OUT / "train"),
                       "--unlabeled", str(OUT / "unlabeled"), "--freeze", "full", "--epochs", str(args.student_epochs),
                       "--learning-rate", str(args.student_lr), "--out", str(runs / "student"), "-q"),
        "alone": run("train", args.student, "--data", str(OUT / "train"), "--freeze", "full",
                     "--epochs", str(args.student_epochs), "--learning-rate", str(args.student_lr),
                     "--out", str(runs / "alone"), "-q"),
        "pruned": run("prune", str(runs / "student"), "--sparsity", "0.5", "--out", str(runs / "student-pruned")),
        "export": run("export", str(runs / "student-pruned"), "--format", "tflite", "--quantize", "dynamic",
                      "--select-tf-ops"),
    }
    accuracy = {}
    for name in ("teacher", "student", "alone", "student-pruned"):
        r = RunDir(runs / name)
        accuracy[name] = evaluate_export(r.model_dir, read_export_meta(r.model_dir), r.info(), OUT / "test")["accuracy"]
    distill = json.loads((runs / "student" / "distill_report.json").read_text())
    report_path = runs / "student-pruned" / "export_report.json"
    export = (json.loads(report_path.read_text())["exports"]["model_dynamic.tflite"] if report_path.exists() else
              {"float": None, "tflite": {"size_bytes": (runs / "student-pruned" / "model_dynamic.tflite").stat().st_size},
               "drop": None, "agreement_top1": None,
               "note": "not measured: the text student's TFLite model needs TF Select ops, which no interpreter here links"})
    prune = json.loads((runs / "student-pruned" / "prune_report.json").read_text())
    result = {"student": args.student, "more_unlabeled": args.more_unlabeled, "labeled_per_class": n, "unlabeled": len(pool), "test": 2 * test_n, "accuracy_test": accuracy,
              "student_keeps": accuracy["student"] / accuracy["teacher"], "seconds": seconds,
              "params": {"teacher": distill["teacher"]["params"], "student": distill["student"]["params"]},
              "size_bytes": {"teacher": distill["teacher"]["size_bytes"], "student": distill["student"]["size_bytes"]},
              "ms_b1": {"teacher": distill["teacher"]["ms_per_example_b1"], "student": distill["student"]["ms_per_example_b1"]},
              "prune": {k: prune[k] for k in ("layers", "accuracy_before", "accuracy_after", "gzip_bytes_before",
                                              "gzip_bytes_after")},
              "export": export}
    (OUT / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
