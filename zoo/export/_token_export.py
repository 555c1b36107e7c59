"""Exports of token_classification models: sentences in, one tag per word out.

``serving_default(text: tf.string [B])`` -> ``words`` (``[B, max_words]``, the sentence split
on spaces, ``""`` past its end), ``tags`` (``[B, max_words]`` tag names, ``""`` past the end),
``num_words`` (``[B]``, at most ``max_words``) and ``scores`` (``[B, max_words, C]``
probabilities). `entities` turns one row into entity spans.

Example:
    >>> entities(["Angela", "Merkel", "visited", "Paris"], ["B-PER", "I-PER", "O", "B-LOC"])
    [{'text': 'Angela Merkel', 'type': 'PER', 'start': 0, 'end': 2}, {'text': 'Paris', 'type': 'LOC', 'start': 3, 'end': 4}]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from zoo.errors import ExportError
from zoo.export._task_export import TaskExport

__all__ = ["TOKEN_TASK", "TOKEN_EXPORT", "token_serving_module", "check_token_outputs", "tag_texts", "entities"]

TOKEN_TASK = "token_classification"


def token_serving_module(model: Any, meta: dict, class_names: Sequence[str], hub_objects: list) -> tuple[Any, dict]:
    """``(module, signatures)`` for `zoo.export.write_savedmodel`: the model's variables and TF Hub objects
    tracked, ``serving_default`` on strings (see the module docs), ``labels()``."""
    import tensorflow as tf

    labels = tf.constant([str(c) for c in class_names])
    width = int(meta["max_words"])
    module = tf.Module()
    module.model_variables = list(model.variables)
    module.hub_objects = hub_objects
    module.labels = tf.function(lambda: labels, input_signature=[])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")], autograph=False)
    def serve(text: Any) -> dict:
        probs = tf.cast(model(text, training=False), tf.float32)
        split = tf.strings.split(text)
        n = tf.minimum(tf.cast(split.row_lengths(), tf.int32), width)
        inside = tf.sequence_mask(n, width)
        tags = tf.where(inside, tf.gather(labels, tf.argmax(probs, axis=-1)), "")
        return {"scores": probs, "tags": tags, "num_words": n,
                "words": split.to_tensor(default_value="", shape=[None, width])}

    module.serve = serve
    return module, {"serving_default": serve}


def check_token_outputs(out: dict, meta: dict, path: Any) -> None:
    """Raise `ExportError` unless a one-sentence call returned ``[1, max_words, C]`` probabilities and tags."""
    scores, width, n = out["scores"].numpy(), int(meta["max_words"]), len(meta["class_names"])
    if scores.shape != (1, width, n) or not np.allclose(scores.sum(-1), 1.0, atol=1e-3) or out["tags"].shape != (1, width):
        raise ExportError(f"'{path}': serving_default returned scores {scores.shape} and tags {out['tags'].shape}; "
                          f"expected [1, {width}, {n}] probabilities and [1, {width}] tags")


def _smoke(meta: dict) -> dict:
    import tensorflow as tf

    return {"text": tf.constant(["zoo export check"])}


def _meta(model: Any) -> dict:
    return {"max_words": int(model.output_shape[1])}


TOKEN_EXPORT = TaskExport(serving=token_serving_module, smoke=_smoke, check=check_token_outputs, meta=_meta)


def tag_texts(fn: Any, texts: Sequence[str], batch_size: int = 32) -> list[tuple[list[str], list[str]]]:
    """``(words, tags)`` per text through an export's ``serving_default`` (words past ``max_words`` untagged: ``"O"``)."""
    import tensorflow as tf

    texts = [" ".join(str(t).split()) for t in texts]  # the model splits on ASCII spaces only: no other space left
    out = []
    for i in range(0, len(texts), batch_size):
        res = fn(text=tf.constant(list(texts[i:i + batch_size])))
        for text, row, n in zip(texts[i:i + batch_size], res["tags"].numpy(), res["num_words"].numpy()):
            words = str(text).split()
            out.append((words, [t.decode() for t in row[:n]] + ["O"] * (len(words) - int(n))))
    return out


def entities(words: Sequence[str], tags: Sequence[str]) -> list[dict]:
    """The entities of one tagged sentence: text, type and word span (``end`` exclusive)."""
    from zoo.data import iob2_entities

    return [{"text": " ".join(words[s:e]), "type": kind, "start": s, "end": e} for kind, s, e in iob2_entities(tags)]
