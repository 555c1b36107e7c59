"""Sentence pairs: two texts per example joined into one feature vector (pair classification / regression).

A backbone whose contract packs pairs (``packs_pairs``: BERT-style encoders) reads the pair as
one sequence, ``[CLS] a [SEP] b [SEP]`` with segment ids 0 and 1, and its pooled output is the
feature. Any other text backbone (USE, LaBSE, sentence-T5, ...) encodes each text on its own,
with the same weights, and the features are ``[u, v, |u - v|, u * v]`` (Sentence-BERT's
classification objective, Reimers & Gurevych 2019).

Example:
    import zoo
    model = zoo.build("use", task="pair_classification", num_classes=3)
    model.predict({"text_a": ["a man plays"], "text_b": ["someone plays"]}).shape
    # -> (1, 3)
"""

from __future__ import annotations

from typing import Any

from zoo.errors import ConfigurationError
from zoo.tfk import keras, tf

__all__ = ["pair_features", "combine_pair"]


def combine_pair(uv: Any) -> Any:
    """``[u, v]`` (each ``[B, D]``) -> ``[B, 4 D]``: ``[u, v, |u - v|, u * v]``.

    Example:
        >>> import numpy as np
        >>> combine_pair([np.array([[1.0, 2.0]]), np.array([[3.0, 0.5]])]).numpy().tolist()
        [[1.0, 2.0, 3.0, 0.5, 2.0, 1.5, 3.0, 1.0]]
    """
    u, v = (tf.cast(t, tf.float32) for t in uv)
    return tf.concat([u, v, tf.abs(u - v), u * v], axis=-1)


def pair_features(backbones: list, inputs: dict, options: dict | None = None) -> Any:
    """The feature tensor of a pair task: one joint encoding (a contract that packs pairs) or
    ``[u, v, |u - v|, u * v]`` of the two texts encoded apart (`combine_pair`).

    ``backbones``: exactly one text backbone; ``inputs``: Keras inputs ``text_a``, ``text_b``.
    """
    if len(backbones) != 1:  # the task's modalities already keep it to text backbones
        names = [b.spec.name for b in backbones]
        raise ConfigurationError(f"a sentence-pair task takes one text backbone, got {names}; e.g. "
                                 "zoo.build('bert_small', task='pair_classification', num_classes=2)")
    bb = backbones[0]
    a, b = inputs["text_a"], inputs["text_b"]
    if bb.contract.packs_pairs:
        return bb([a, b])
    return keras.layers.Lambda(combine_pair, name="pair_combine")([bb(a), bb(b)])
