"""Entity-level scores of a token_classification model over a labelled dataset (``zoo train``, ``zoo evaluate``).

Example:
    >>> import numpy as np
    >>> tags_of(np.array([[2, 0, -1]]), ["O", "B-PER", "I-PER"])
    [['I-PER', 'O']]
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["tags_of", "dataset_entity_scores"]


def tags_of(ids: np.ndarray, names: Sequence[str]) -> list[list[str]]:
    """Tag names per sentence from ``[N, max_words]`` label ids, stopping at the first ``-1``."""
    out = []
    for row in np.asarray(ids):
        n = int(np.argmax(row < 0)) if (row < 0).any() else len(row)
        out.append([names[i] for i in row[:n]])
    return out


def dataset_entity_scores(predict: Callable[[Any], np.ndarray], data: Any, names: Sequence[str]) -> dict:
    """`zoo.data.entity_scores` of ``predict`` (a batch of sentences -> ``[B, max_words, C]`` probabilities, or
    ``[B, max_words]`` tag names as bytes) on ``(sentences, label ids)`` batches."""
    from zoo.data import entity_scores

    truth, pred = [], []
    for x, y in data:
        gold = tags_of(y.numpy(), names)
        out = np.asarray(predict(x))
        rows = [[t.decode() if isinstance(t, bytes) else names[int(t)] for t in r] for r in
                (out if out.dtype.kind in "SOU" else out.argmax(-1))]
        truth += gold
        pred += [r[:len(g)] for r, g in zip(rows, gold)]
    return entity_scores(truth, pred)
