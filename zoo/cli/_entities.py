"""CLI output of the word-level tasks: token_classification (``zoo predict`` prints entities, ``zoo evaluate``
entity-level scores) and question_answering (the answer; SQuAD's exact match and F1)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zoo.data import text_bytes

__all__ = ["print_entity_report", "predict_entities", "print_squad_report", "predict_answer"]


def print_entity_report(args: argparse.Namespace, meta: dict, report: dict) -> int:
    """``zoo evaluate`` of a token_classification run, as text: entity-level scores, overall and per type."""
    print(f"{args.run}: {meta['backbone']} (token_classification) on {args.data}, {report['n_sentences']} sentences")
    print(f"entity-level precision {report['precision']:.4f}  recall {report['recall']:.4f}  F1 {report['f1']:.4f}")
    print(f"{'type':<10} precision  recall     f1  support")
    for kind, r in report["per_type"].items():
        print(f"{kind:<10} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f} {r['support']:8d}")
    return 0


def predict_entities(args: argparse.Namespace, model_dir: Path, meta: dict) -> int:
    """``zoo predict`` of a token_classification run: the entities of each sentence (``--json``: words and tags too)."""
    from zoo.export import entities, load_model, tag_texts

    texts = [text_bytes(t).decode("utf-8", "replace") for t in args.inputs]
    rows = tag_texts(load_model(model_dir).signatures["serving_default"], texts)
    results = [{"input": t, "words": w, "tags": g, "entities": entities(w, g)} for t, (w, g) in zip(texts, rows)]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        found = ", ".join(f"{e['text']} ({e['type']})" for e in r["entities"]) or "no entities"
        print(f"{r['input']}  ->  {found}")
    return 0


def print_squad_report(args: argparse.Namespace, meta: dict, report: dict) -> int:
    """``zoo evaluate`` of a question_answering run, as text: SQuAD's exact match and F1."""
    print(f"{args.run}: {meta['backbone']} (question_answering) on {args.data}, {report['count']} questions "
          f"({report['without_answer']} without an answer)")
    print(f"exact match {report['exact_match']:.4f}  F1 {report['f1']:.4f}")
    for key, title in (("has_answer", "with an answer"), ("no_answer", "without an answer")):
        if key in report:
            r = report[key]
            print(f"  {title:<18} exact match {r['exact_match']:.4f}  F1 {r['f1']:.4f}  ({r['count']} questions)")
    return 0


def predict_answer(args: argparse.Namespace, model_dir: Path, meta: dict) -> int:
    """``zoo predict RUN --question Q --context TEXT_OR_FILE``: the best answer span and its score."""
    from zoo.errors import ConfigurationError
    from zoo.export import answer_export, load_model

    if not (args.question and args.context):
        raise ConfigurationError(f"{args.run} answers questions: pass --question TEXT --context TEXT_OR_FILE")
    context = args.context
    try:
        is_file = Path(context).expanduser().is_file()
    except (OSError, ValueError):  # too long for a file name, or a NUL in it: the context itself
        is_file = False
    if is_file:
        try:
            context = Path(context).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"--context file '{context}' cannot be read as UTF-8 text: {exc}") from None
    found = answer_export(load_model(model_dir).signatures["serving_default"], meta, [args.question], [context])[0]
    if args.json:
        print(json.dumps({"question": args.question, **found}, indent=2))
        return 0
    if not found["answer"]:
        print(f"(no answer in the context: score {found['score']:.3f})")
        return 0
    print(f"{found['answer']}  (score {found['score']:.3f}, words {found['start']}-{found['end']})")
    return 0
