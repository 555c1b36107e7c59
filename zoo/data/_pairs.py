"""Sentence-pair CSV files (paraphrase, entailment, similarity) to datasets of ``({"text_a", "text_b"}, label)``.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.csv"
    >>> _ = p.write_text("premise,hypothesis,label\\nA man sleeps,A man is asleep,entailment\\n"
    ...                  "A man sleeps,A man runs,contradiction\\n")
    >>> ds = from_pairs_csv(p, batch_size=2)
    >>> ds.class_names, sorted(next(iter(ds.train))[0])
    (['contradiction', 'entailment'], ['text_a', 'text_b'])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo.data._dataset import DataSummary, Dataset, _check_args, _sort_names
from zoo.data._csv import read_rows
from zoo.data._pipelines import _split
from zoo.errors import ConfigurationError, DataError

__all__ = ["from_pairs_csv", "PAIR_COLUMNS"]

# column pairs found without text_columns=, in this order (GLUE / SNLI / QQP names among them)
PAIR_COLUMNS = (("text_a", "text_b"), ("sentence1", "sentence2"), ("premise", "hypothesis"),
                ("question1", "question2"), ("question", "sentence"))


def _columns(header: list[str], text_columns: Any, label_column: str, path: Path) -> tuple[int, int, int]:
    if text_columns is None:
        lower = {h.lower(): h for h in header}
        text_columns = next(((lower[a], lower[b]) for a, b in PAIR_COLUMNS if a in lower and b in lower), None)
        if text_columns is None:
            raise DataError(f"'{path}': cannot tell which two columns hold the texts (columns: {header}); name "
                            f"them text_a,text_b (or sentence1,sentence2 / premise,hypothesis) or pass text_columns=")
    if not (isinstance(text_columns, (tuple, list)) and len(text_columns) == 2):
        raise ConfigurationError(f"text_columns must name two columns, e.g. ('premise', 'hypothesis'), got {text_columns!r}")
    for name in (*text_columns, label_column):
        if name not in header:
            raise DataError(f"CSV file '{path}' has no column {name!r} (columns: {header}); pass the right column name")
    return header.index(text_columns[0]), header.index(text_columns[1]), header.index(label_column)


def from_pairs_csv(path: str | os.PathLike, *, text_columns: Sequence[str] | None = None, label_column: str = "label",
                   regression: bool = False, class_names: Sequence[str] | None = None, batch_size: int = 32,
                   val_split: float | None = None, seed: int = 42) -> Dataset:
    """Load a CSV (or .tsv) of text pairs and labels for ``pair_classification`` / ``pair_regression``.

    The two text columns: ``text_columns``, else the first of `PAIR_COLUMNS` present. Labels
    are class names (sorted, or ``class_names``) or, with ``regression=True``, numbers (e.g. an
    STS score). Examples are ``({"text_a": ..., "text_b": ...}, label)``; the validation split
    is stratified per class. An empty text, a missing label or a label that is not a number
    (regression) is a `DataError` naming the row.
    """
    val_split = _check_args(batch_size, val_split, seed)
    path = Path(path).expanduser()
    header, rows = read_rows(path)
    ia, ib, il = _columns(header, text_columns, label_column, path)
    a, b, raw = [], [], []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [row[i].strip() if i < len(row) else "" for i in (ia, ib, il)]
        if not all(cells):
            what = ["text_a", "text_b", "label"][[bool(c) for c in cells].index(False)]
            raise DataError(f"CSV file '{path}' line {line} has an empty {what}; every row needs two texts and a label",
                            path=str(path), line=line)
        a.append(cells[0]), b.append(cells[1]), raw.append(cells[2])
    if not a:
        raise DataError(f"CSV file '{path}' has no rows below the header; add rows of two texts and a label")
    if regression:
        try:
            y = np.asarray([float(v) for v in raw], np.float32)
        except ValueError:
            bad = next(i for i, v in enumerate(raw) if not _is_number(v))
            raise DataError(f"CSV file '{path}' line {bad + 2}: label {raw[bad]!r} is not a number "
                            "(pair_regression needs numeric labels)", path=str(path)) from None
        names: list[str] = []
    else:
        names = [str(c) for c in class_names] if class_names is not None else _sort_names(raw)
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise DataError(f"CSV file '{path}' has labels {unknown} that are not in class_names {names}")
        y = np.asarray([names.index(v) for v in raw], np.int32)
    train, val = _split(y if not regression else np.zeros(len(y), np.int32), max(len(names), 1), val_split, seed)
    texts = {"text_a": np.asarray(a, object), "text_b": np.asarray(b, object)}
    counts = {n: int((y[train] == i).sum() + (y[val] == i).sum()) for i, n in enumerate(names)}
    summary = DataSummary(counts, len(train), len(val))
    val_ds = _pipeline(texts, y, val, batch_size, False, seed) if len(val) else None
    return Dataset(_pipeline(texts, y, train, batch_size, True, seed), val_ds, names, summary, "text")


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _pipeline(texts: dict, y: np.ndarray, idx: np.ndarray, batch_size: int, shuffle: bool, seed: int) -> Any:
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(({k: v[idx].astype(str) for k, v in texts.items()}, y[idx]))
    if shuffle:
        ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
