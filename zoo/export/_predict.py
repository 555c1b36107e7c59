"""Predicting with an exported zoo model: CLI arguments to raw inputs, and class scores from its signature.

Example:
    >>> read_inputs({"modality": "text"}, ["a sunny day"])
    ['a sunny day']
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["predict_scores", "read_inputs"]


def predict_scores(loaded: Any, meta: dict, inputs: Sequence[Any], *, batch_size: int = 32) -> np.ndarray:
    """Class probabilities ``[N, C]`` from the ``serving_default`` signature of a loaded export.

    ``inputs``: raw inputs as the export's contract reads them (`read_inputs`): encoded
    image bytes, strings, or 1-D float waveforms (each clip run on its own, so no padding
    changes its result).

    Example:
        predict_scores(load_model("runs/t/model"), meta, ["a sunny day"]).shape
        # -> (1, 3)
    """
    from zoo.models.contracts import contract_for_export

    import tensorflow as tf

    fn, names = loaded.signatures["serving_default"], meta.get("task_inputs")
    if names:  # inputs: one tuple of texts per example, in the order of `names`
        from zoo.data import text_bytes

        rows = [list(map(text_bytes, row)) for row in inputs]
        out = [fn(**{n: tf.constant([r[i] for r in rows[j:j + batch_size]]) for i, n in enumerate(names)})["scores"]
               .numpy() for j in range(0, len(rows), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, len(meta["class_names"])), np.float32)
    return contract_for_export(meta).predict_scores(fn, list(inputs), batch_size)


def read_inputs(meta: dict, items: Sequence[str]) -> list:
    """Turn CLI arguments into raw model inputs for an export (its contract reads them: image
    files -> bytes, wav files -> waveforms at the export's rate, text as it is).

    Example:
        >>> read_inputs({"modality": "text"}, ["a sunny day"])
        ['a sunny day']
    """
    from zoo.models.contracts import contract_for_export

    return contract_for_export(meta).read_inputs(list(items), meta)
