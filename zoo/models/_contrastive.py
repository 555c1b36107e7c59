"""Contrastive image–text (or audio–text) models, CLIP / LiT style, and zero-shot classification.

``zoo.build(["efficientnet_b0", "bert_small"], task="contrastive", projection_dim=256)``: the first
backbone encodes the other modality, the second the text; each embedding goes through its own
projection head and L2 normalisation, and a learned temperature scales their cosine similarities.
The loss is the symmetric InfoNCE of CLIP (cross-entropy of each image against the batch's captions
and of each caption against the batch's images; the labels are the pairs' own positions). ``y`` is
the file index of each pair, as `zoo.data.from_captions` gives it, so that two captions of one
image are not each other's negatives (zeros: every pair its own). Freezing follows each
backbone's default (image towers frozen, BERT-style text towers fine-tuned: LiT's "locked image, tuned text"), or ``freeze={name: ...}``. The model outputs
``[B, 2 P + 1]``: image projections, text projections, the logit scale.

Example:
    model = zoo.build(["starter_cnn", "use"], task="contrastive", projection_dim=64)
    zoo.fit(model, ({"starter_cnn": images, "use": captions}, np.zeros(len(images))), epochs=5)
    zoo.zero_shot(model, new_images, ["cat", "dog"], template="a photo of a {}")["labels"]
    # -> ['cat', 'dog', ...]
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from zoo.errors import ConfigurationError
from zoo.tfk import keras, tf

__all__ = ["contrastive_features", "contrastive_head", "contrastive_compile", "ContrastiveLoss", "LogitScale",
           "encode_side", "zero_shot", "zero_shot_scores", "label_captions", "retrieval_recall"]


def contrastive_features(backbones: list, inputs: dict, options: dict) -> Any:
    """Both backbones' embeddings side by side, ``[B, D_first + D_text]``; ``options["split"]`` records ``D_first``
    for the head. The second backbone must be a text one and the first must not."""
    from zoo.models.contracts.text import TextContract  # the contracts that take strings

    texts = [isinstance(b.contract, TextContract) for b in backbones]
    if texts != [False, True]:
        raise ConfigurationError(f"a contrastive model takes two backbones, an image (or audio) one then a text one, "
                                 f"e.g. ['efficientnet_b0', 'bert_small']; got {[b.spec.name for b in backbones]} "
                                 f"({', '.join(b.spec.modality for b in backbones)})")
    first, text = (b(inputs[b.spec.name]) for b in backbones)
    options["split"] = int(first.shape[-1])
    return keras.layers.Concatenate(name="tower_embeddings")([first, text])


class LogitScale(keras.layers.Layer):
    """A learned temperature: ``log(1 / 0.07)`` at first (CLIP), kept at most ``log(100)``; broadcast ``[B, 1]``."""

    def build(self, input_shape: Any) -> None:
        self.log_scale = self.add_weight(name="log_scale", shape=(), trainable=True,
                                         initializer=keras.initializers.Constant(math.log(1 / 0.07)))

    def call(self, x: Any) -> Any:
        scale = tf.minimum(self.log_scale, math.log(100.0))
        return tf.ones_like(x[:, :1]) * scale


def contrastive_head(features: Any, *, num_classes: Any = None, options: dict) -> Any:
    """Projection heads (``projection_dim``, default 256) on each tower's embedding, L2-normalised, and the
    learned log logit scale: ``[B, 2 P + 1]``."""
    split, dim = options["split"], options.get("projection_dim", 256)
    first = keras.layers.Lambda(lambda t: t[:, :split], name="first_embedding")(features)
    text = keras.layers.Lambda(lambda t: t[:, split:], name="text_embedding")(features)
    norm = lambda name: keras.layers.Lambda(lambda t: tf.math.l2_normalize(t, axis=-1), name=name)  # noqa: E731
    z1 = norm("first_normalized")(keras.layers.Dense(dim, name="first_projection")(first))
    z2 = norm("text_normalized")(keras.layers.Dense(dim, name="text_projection")(text))
    return keras.layers.Concatenate(name="contrastive_outputs", dtype="float32")([z1, z2, LogitScale(name="logit_scale")(z1)])


@keras.utils.register_keras_serializable(package="zoo")
class ContrastiveLoss(keras.losses.Loss):
    """CLIP's symmetric InfoNCE on ``[B, 2 P + 1]`` outputs: row i's pair is column i. ``y_true`` is the group
    (file) of each pair: pairs of one group (two captions of one image) are not negatives of each other; an
    all-equal ``y_true`` (e.g. zeros) means every pair is its own."""

    def __init__(self, name: str = "contrastive", **kwargs: Any):
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = tf.cast(y_pred, tf.float32)
        p = (tf.shape(y_pred)[1] - 1) // 2
        z1, z2, scale = y_pred[:, :p], y_pred[:, p:2 * p], tf.exp(y_pred[0, 2 * p])
        logits = scale * tf.matmul(z1, z2, transpose_b=True)
        labels = tf.range(tf.shape(logits)[0])
        g = tf.reshape(tf.cast(y_true, tf.int64), [-1])
        same = tf.equal(g[:, None], g[None, :])
        others = tf.logical_not(tf.cast(tf.eye(tf.shape(logits)[0]), tf.bool))
        grouped = tf.logical_not(tf.reduce_all(same))  # all equal: no groups given
        logits = tf.where(same & others & grouped, tf.cast(-1e9, logits.dtype), logits)
        ce = keras.losses.sparse_categorical_crossentropy
        per_row = (ce(labels, logits, from_logits=True) + ce(labels, tf.transpose(logits), from_logits=True)) / 2.0
        return per_row


def contrastive_compile(*, num_classes: Any = None, options: dict) -> tuple[Any, list]:
    """`ContrastiveLoss`; no metric (zero-shot accuracy and retrieval recall are measured on held-out data)."""
    return ContrastiveLoss(), []


def encode_side(model: Any, side: int, x: Any, batch_size: int = 64) -> np.ndarray:
    """L2-normalised projections of raw inputs through one tower (``0``: image / audio, ``1``: text)."""
    if model.zoo.config.get("task") != "contrastive":
        raise ConfigurationError(f"takes a contrastive model, got task {model.zoo.config.get('task')!r}")
    bb = model.zoo.backbones[side]
    proj = model.zoo.head_model.get_layer("first_projection" if side == 0 else "text_projection")
    out = []
    for i in range(0, len(x), batch_size):
        z = proj(bb(np.asarray(x[i:i + batch_size], dtype=object) if side == 1 else x[i:i + batch_size]))
        out.append(tf.math.l2_normalize(z, axis=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, proj.units), np.float32)


def label_captions(labels: Sequence[str], template: str = "{}") -> list[str]:
    """Each label written into ``template`` where ``{}`` stands (``"a photo of a {}"``).

    Example:
        >>> label_captions(["cat", "dog"], "a photo of a {}")
        ['a photo of a cat', 'a photo of a dog']
    """
    if not isinstance(template, str) or "{}" not in template:
        raise ConfigurationError(f"template must contain '{{}}' where the label goes, got {template!r}")
    labels = [str(label).strip() for label in labels]
    if not labels or not all(labels) or len(set(labels)) != len(labels):
        raise ConfigurationError(f"labels must be distinct, non-empty names (at least one), got {labels}")
    return [template.replace("{}", label) for label in labels]


def zero_shot_scores(first: np.ndarray, text: np.ndarray, labels: Sequence[str], scale: float) -> dict:
    """``{"labels", "scores"}`` from normalised embeddings: softmax over the labels of ``scale`` x cosine."""
    logits = scale * np.asarray(first, np.float64) @ np.asarray(text, np.float64).T
    scores = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    return {"labels": [labels[i] for i in scores.argmax(axis=1)], "scores": scores.astype(np.float32)}


def zero_shot(model: Any, inputs: Any, labels: Sequence[str], *, template: str = "{}", batch_size: int = 64) -> dict:
    """Classify ``inputs`` (images or audio, raw) among ``labels`` never trained on as classes: each label is
    written into ``template`` (``"a photo of a {}"``), encoded by the text tower, and an input takes the label
    whose caption is most similar. Returns ``{"labels": [...], "scores": [N, K] softmax of scaled similarities}``.
    """
    captions = label_captions(labels, template)
    text = encode_side(model, 1, captions, batch_size)
    first = encode_side(model, 0, inputs, batch_size)
    scale = float(np.exp(min(model.zoo.head_model.get_layer("logit_scale").log_scale.numpy(), math.log(100.0))))
    return zero_shot_scores(first, text, [str(label).strip() for label in labels], scale)


def retrieval_recall(first: np.ndarray, text: np.ndarray, ks: Sequence[int] = (1, 5, 10),
                     groups: Sequence[Any] | None = None) -> dict:
    """Recall@K of retrieval between paired embeddings (row i of ``first`` goes with row i of ``text``).

    ``text_to_input``: for each caption, is its own input among the K most similar inputs;
    ``input_to_text``: for each input, is one of its captions among the K most similar captions.
    ``groups`` (e.g. the file of each row) makes rows of one input count as the same input: a
    file with three captions is one candidate, found by any of them. A rank counts the candidates
    strictly more similar than the right one, so identical captions of different files (tied
    similarities) do not hide each other. Returns
    ``{"text_to_input": {"R@1": ...}, "input_to_text": {...}, "n": N}``.

    Example:
        >>> e = np.eye(3, dtype=np.float32)
        >>> retrieval_recall(e, e[[0, 2, 1]], ks=(1, 2))["text_to_input"]
        {'R@1': 0.3333, 'R@2': 1.0}
    """
    first, text = np.asarray(first, np.float64), np.asarray(text, np.float64)
    groups = np.arange(len(first)) if groups is None else np.asarray(groups).reshape(-1)
    _, uniq, groups = np.unique(groups, return_index=True, return_inverse=True)  # each input's first row
    sims = text @ first[uniq].T  # [captions, distinct inputs]
    own = sims[np.arange(len(text)), groups]  # each caption with its own input
    rank_t2i = (sims > own[:, None]).sum(axis=1)  # inputs strictly more similar
    own_best = np.full(len(uniq), -np.inf)
    np.maximum.at(own_best, groups, own)  # each input with its most similar own caption
    rank_i2t = (sims > own_best[None, :]).sum(axis=0)  # per input: captions more similar than its best own one
    out: dict = {"text_to_input": {}, "input_to_text": {}, "n": int(len(text))}
    for k in ks:
        out["text_to_input"][f"R@{k}"] = round(float(np.mean(rank_t2i < k)), 4) if len(text) else 0.0
        out["input_to_text"][f"R@{k}"] = round(float(np.mean(rank_i2t < k)), 4) if len(uniq) else 0.0
    return out
