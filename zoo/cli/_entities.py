"""CLI output of token_classification runs: ``zoo predict`` prints entities, ``zoo evaluate`` entity-level scores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zoo.data import text_bytes

__all__ = ["print_entity_report", "predict_entities"]


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
