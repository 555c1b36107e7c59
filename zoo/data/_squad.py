"""SQuAD v1.1 / v2.0 files: questions on contexts, answers as word spans, and SQuAD's exact match and F1.

Answers are located on the context's space-separated words: the words that overlap the
answer's characters (``answer_start`` .. its end). Contexts longer than ``max_words`` words are
cut into windows every ``stride`` words; a window that holds the whole answer is labelled with
its span, any other window (and every window of a SQuAD v2.0 unanswerable question) with "no
answer", ``[max_words, max_words]``, as BERT's SQuAD 2.0 recipe labels [CLS].

Example:
    >>> squad_scores({"q1": "the Eiffel Tower"}, {"q1": ["Eiffel Tower", "tower"]})
    {'exact_match': 1.0, 'f1': 1.0, 'count': 1, 'without_answer': 0}
"""

from __future__ import annotations

import collections
import json
import os
import re
import string
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo.errors import DataError

__all__ = ["read_squad", "from_squad", "squad_scores", "answer_words", "normalize_answer"]


def read_squad(path: str | os.PathLike) -> list[dict]:
    """The questions of a SQuAD JSON file: ``{"id", "question", "context", "answers": [text], "starts": [char],
    "impossible"}`` each (v2.0's ``is_impossible`` read, v1.1's absent = False)."""
    path = Path(path).expanduser()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        articles = doc["data"]
    except FileNotFoundError:
        raise DataError(f"SQuAD file '{path}' does not exist") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"'{path}' is not a SQuAD JSON file ({{'data': [{{'paragraphs': [...]}}]}}): {exc}") from None
    out = []
    for article in articles:
        for para in article.get("paragraphs", []):
            for qa in para.get("qas", []):
                answers = qa.get("answers", [])
                out.append({"id": str(qa.get("id", len(out))), "question": qa["question"], "context": para["context"],
                            "answers": [a["text"] for a in answers], "starts": [int(a["answer_start"]) for a in answers],
                            "impossible": bool(qa.get("is_impossible", False)) or not answers})
    if not out:
        raise DataError(f"SQuAD file '{path}' has no questions")
    return out


def answer_words(context: str, start: int, text: str) -> tuple[int, int] | None:
    """``(first, last)`` indices of the space-separated words of ``context`` that the answer's characters overlap
    (None if the answer is not at ``start``).

    Example:
        >>> answer_words("Merkel visited Paris, then Rome.", 15, "Paris")
        (2, 2)
    """
    if context[start:start + len(text)] != text or not text.strip():
        return None
    spans = [m.span() for m in re.finditer(r"\S+", context)]
    end = start + len(text)
    hit = [i for i, (a, b) in enumerate(spans) if a < end and b > start]
    return (hit[0], hit[-1]) if hit else None


def from_squad(path: str | os.PathLike, *, max_words: int = 64, stride: int = 32, batch_size: int = 32,
               val_split: float | None = None, seed: int = 42) -> Any:
    """A `zoo.data.Dataset` of ``({"question", "context"}, [start_word, end_word])`` windows for
    ``task="question_answering"`` (the model's ``max_words`` must equal this one; "no answer" is
    ``[max_words, max_words]``). ``summary.class_counts`` counts the windows with the answer, the windows
    without it, and the unanswerable questions."""
    from zoo.data._dataset import DataSummary, Dataset, _check_args, _positive_int
    from zoo.data._pipelines import _split

    val_split = _check_args(batch_size, val_split, seed)
    max_words, stride = _positive_int(max_words, "max_words"), _positive_int(stride, "stride")
    questions, contexts, labels, owner = [], [], [], []
    counts = collections.Counter()
    for number, ex in enumerate(read_squad(path)):
        span = None
        if ex["impossible"]:
            counts["unanswerable questions"] += 1
        else:
            span = answer_words(ex["context"], ex["starts"][0], ex["answers"][0])
            if span is None:
                raise DataError(f"SQuAD file '{path}', question {ex['id']}: answer {ex['answers'][0]!r} is not at "
                                f"character {ex['starts'][0]} of its context")
        words = ex["context"].split()
        for lo in range(0, max(len(words) - max_words, 0) + stride, stride):
            inside = span is not None and lo <= span[0] and span[1] < lo + max_words
            questions.append(ex["question"]), contexts.append(" ".join(words[lo:lo + max_words]))
            labels.append((span[0] - lo, span[1] - lo) if inside else (max_words, max_words)), owner.append(number)
            counts["windows with the answer" if inside else "windows without an answer"] += 1
            if lo + max_words >= len(words):
                break
    if not counts["windows with the answer"]:
        raise DataError(f"SQuAD file '{path}' has no answerable question whose answer fits in {max_words} words")
    y = np.asarray(labels, np.int32)
    x = {"question": np.asarray(questions, object), "context": np.asarray(contexts, object)}
    owner = np.asarray(owner)  # split by question: a question's overlapping windows stay on one side
    asked = np.unique(owner)
    train_q, val_q = _split(np.zeros(len(asked), np.int32), 1, val_split, seed)
    train, val = np.flatnonzero(np.isin(owner, asked[train_q])), np.flatnonzero(np.isin(owner, asked[val_q]))

    def pipeline(idx: np.ndarray, shuffle: bool) -> Any:
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(({k: v[idx].astype(str) for k, v in x.items()}, y[idx]))
        ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True) if shuffle else ds
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    return Dataset(pipeline(train, True), pipeline(val, False) if len(val) else None, [],
                   DataSummary(dict(counts), len(train), len(val)), "text")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles (a, an, the), single spaces.

    Example:
        >>> normalize_answer("The  Eiffel-Tower!")
        'eiffeltower'
    """
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def _f1(pred: str, gold: str) -> float:
    p, g = normalize_answer(pred).split(), normalize_answer(gold).split()
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if common == 0:  # SQuAD v1.1's script: also when both are empty after normalisation
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], answers: dict[str, Sequence[str]]) -> dict:
    """SQuAD's exact match and F1 (fractions), each the best over a question's gold answers, averaged over the
    questions in ``answers`` (a missing prediction counts as no answer). A question with gold answers is scored
    as SQuAD v1.1's script does; one without (v2.0's unanswerable) as v2.0's does: right (1 and 1) when the
    prediction is empty after normalisation, else wrong. With unanswerable questions, ``has_answer`` and
    ``no_answer`` give the two groups' scores (v2.0's HasAns / NoAns).

    Example:
        >>> squad_scores({"1": "Paris", "2": ""}, {"1": ["Paris"], "2": []})["no_answer"]
        {'exact_match': 1.0, 'f1': 1.0, 'count': 1}
    """
    groups: dict = {True: [0.0, 0.0, 0], False: [0.0, 0.0, 0]}  # has an answer -> [em, f1, count]
    for qid, golds in answers.items():
        pred = predictions.get(qid, "")
        g = groups[bool(golds)]
        if golds:
            g[0] += max(float(normalize_answer(pred) == normalize_answer(x)) for x in golds)
            g[1] += max(_f1(pred, x) for x in golds)
        else:
            right = float(normalize_answer(pred) == "")
            g[0], g[1] = g[0] + right, g[1] + right
        g[2] += 1
    n = max(len(answers), 1)
    out = {"exact_match": (groups[True][0] + groups[False][0]) / n, "f1": (groups[True][1] + groups[False][1]) / n,
           "count": len(answers), "without_answer": groups[False][2]}
    if groups[False][2]:
        for key, has in (("has_answer", True), ("no_answer", False)):
            em, f1, count = groups[has]
            out[key] = {"exact_match": em / max(count, 1), "f1": f1 / max(count, 1), "count": count}
    return out
