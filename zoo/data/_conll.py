"""CoNLL-style tagged words (NER, POS): reading, IOB2 checks, entities and entity-level scores.

A file has one word per line with its tag in the last column (CoNLL-2003: ``word POS chunk
NER``), a blank line between sentences, and ``-DOCSTART-`` lines that are skipped. Entity
tags are IOB2 (``B-PER`` starts an entity, ``I-PER`` continues it, ``O`` is outside);
`entity_scores` counts an entity as found when its type and its exact word span match
(the CoNLL / seqeval definition).

Example:
    >>> iob2_entities(["B-PER", "I-PER", "O", "B-LOC"])
    [('PER', 0, 2), ('LOC', 3, 4)]
    >>> entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["f1"]
    0.0
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo.errors import DataError

__all__ = ["from_conll", "read_conll", "check_iob2", "iob2_entities", "entity_scores"]


def read_conll(path: str | os.PathLike) -> tuple[list[list[str]], list[list[str]]]:
    """``(sentences, tags)``: words and last-column tags per sentence, with `check_iob2` applied.

    Raises `DataError` naming the line for a line without a tag or a broken IOB2 sequence.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"CoNLL file '{path}' does not exist or is not a file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"CoNLL file '{path}' is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from None
    sentences, tags, words, wtags, starts, first = [], [], [], [], [], 0
    for number, line in enumerate(lines + [""], start=1):
        cols = line.split()
        if not cols or cols[0] == "-DOCSTART-":
            if words:
                check_iob2(wtags, where=f"'{path}' sentence at line {first}")
                sentences.append(words), tags.append(wtags), starts.append(first)
            words, wtags = [], []
            continue
        if len(cols) < 2:
            raise DataError(f"CoNLL file '{path}' line {number}: {line.strip()!r} has no tag column; each line is "
                            "'WORD ... TAG' (tag last), with a blank line between sentences", path=str(path), line=number)
        if not words:
            first = number
        words.append(cols[0]), wtags.append(cols[-1])
    if not sentences:
        raise DataError(f"CoNLL file '{path}' has no tagged sentences")
    return sentences, tags


def check_iob2(tags: Sequence[str], *, where: str = "tags") -> None:
    """Raise `DataError` unless ``tags`` are IOB2: ``O``, ``B-X``, or ``I-X`` right after ``B-X``/``I-X``.

    Example:
        >>> check_iob2(["B-PER", "I-PER", "O"])
        >>> try:
        ...     check_iob2(["O", "I-PER"])
        ... except DataError as e:
        ...     print(str(e)[:40])
        tags word 2: I-PER follows O; in IOB2 an
    """
    prev = "O"
    for i, tag in enumerate(tags, start=1):
        if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
            raise DataError(f"{where} word {i}: tag {tag!r} is not IOB2 (O, B-TYPE or I-TYPE)")
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            raise DataError(f"{where} word {i}: {tag} follows {prev}; in IOB2 an entity starts with B-{tag[2:]} "
                            "(an IOB1 file: turn each I- that starts an entity into B-)")
        prev = tag


def iob2_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(type, start, end)`` word spans of the entities in one sentence's IOB2 tags (end exclusive); a
    stray ``I-X`` (a model's output need not be valid IOB2) starts an entity, as conlleval counts it."""
    spans, kind, start = [], None, 0
    for i, tag in enumerate(list(tags) + ["O"]):
        continues = tag.startswith("I-") and tag[2:] == kind
        if kind is not None and not continues:
            spans.append((kind, start, i))
            kind = None
        if tag != "O" and not continues:
            kind, start = tag[2:], i
    return spans


def entity_scores(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> dict:
    """Entity-level precision, recall and F1 (micro over all entities) and per type: an entity counts when
    its type and exact span match (CoNLL-2003 / seqeval's definition).

    Example:
        >>> s = entity_scores([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "B-PER"]])
        >>> s["precision"], s["recall"], s["per_type"]["LOC"]["recall"]
        (0.5, 0.5, 0.0)
    """
    found: dict[str, list[int]] = {}  # type -> [true positives, predicted, true]
    for truth, pred in zip(true_tags, pred_tags):
        t, p = set(iob2_entities(truth)), set(iob2_entities(pred))
        for kind in {e[0] for e in t | p}:
            tk, pk = {e for e in t if e[0] == kind}, {e for e in p if e[0] == kind}
            row = found.setdefault(kind, [0, 0, 0])
            row[0] += len(tk & pk)
            row[1] += len(pk)
            row[2] += len(tk)

    def prf(tp: int, npred: int, ntrue: int) -> dict:
        precision, recall = (tp / npred if npred else 0.0), (tp / ntrue if ntrue else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": ntrue}

    total = [sum(r[i] for r in found.values()) for i in range(3)]
    return {**prf(*total), "per_type": {k: prf(*found[k]) for k in sorted(found)}}


def from_conll(path: str | os.PathLike, *, class_names: Sequence[str] | None = None, max_words: int = 64,
               batch_size: int = 32, val_split: float | None = None, seed: int = 42) -> Any:
    """Load a CoNLL file (`read_conll`) as a `zoo.data.Dataset` for ``task="token_classification"``.

    Inputs are the sentences as strings (words joined by spaces: the model splits them on spaces
    again); labels are ``[max_words]`` tag ids, ``-1`` past the last word (masked out of the loss).
    ``class_names``: the tags (default: ``O`` first, then the others sorted); a sentence longer
    than ``max_words`` is a `DataError` (raise ``max_words``).
    """
    from zoo.data._dataset import DataSummary, Dataset, _check_args, _positive_int
    from zoo.data._pipelines import _split

    val_split = _check_args(batch_size, val_split, seed)
    max_words = _positive_int(max_words, "max_words")
    sentences, tags = read_conll(path)
    names = list(class_names) if class_names is not None else sorted({t for s in tags for t in s},
                                                                     key=lambda t: (t != "O", t[2:], t))
    index = {n: i for i, n in enumerate(names)}
    y = np.full((len(sentences), max_words), -1, np.int32)
    for i, (words, wtags) in enumerate(zip(sentences, tags)):
        if len(words) > max_words:
            raise DataError(f"CoNLL file '{path}': a sentence has {len(words)} words, over max_words={max_words} "
                            f"(it starts {' '.join(words[:5])!r}); pass max_words={len(words)} or more (zoo train: "
                            f"--max-words {len(words)})")
        unknown = [t for t in wtags if t not in index]
        if unknown:
            raise DataError(f"CoNLL file '{path}': tag {unknown[0]!r} is not in class_names {names}")
        y[i, :len(words)] = [index[t] for t in wtags]
    text = np.asarray([" ".join(w) for w in sentences], object)
    train, val = _split(np.zeros(len(text), np.int32), 1, val_split, seed)
    counts = {n: int((y == i).sum()) for i, n in enumerate(names)}
    summary = DataSummary(counts, len(train), len(val))

    def pipeline(idx: np.ndarray, shuffle: bool) -> Any:
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((text[idx].astype(str), y[idx]))
        ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True) if shuffle else ds
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    return Dataset(pipeline(train, True), pipeline(val, False) if len(val) else None, names, summary, "text")
