"""Exports of contrastive (CLIP / LiT style) models: embeddings of raw inputs and texts, and zero-shot scores.

Signatures (the first tower's raw input as its backbone's contract serves it: ``images`` encoded
image bytes ``tf.string [B]``, or ``waveforms`` ``float32 [B, T]``):

* ``serving_default(<input>, labels: tf.string [K])`` -> ``scores`` ``[B, K]`` (softmax over the
  labels of the scaled cosine similarities: zero-shot classification; write each label as a
  caption, e.g. "a photo of a cat"), ``top_scores`` / ``top_indices`` / ``top_labels`` (best first).
* ``embed_inputs(<input>)`` and ``embed_text(text: tf.string [B])`` -> ``embeddings`` ``[B, P]``,
  L2-normalised, in the shared space (retrieval: dot products).
* ``logit_scale()``: the learned temperature (the export metadata records it too).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from zoo.errors import ExportError
from zoo.export._task_export import TaskExport

__all__ = ["CONTRASTIVE_EXPORT", "contrastive_serving_module", "embed_export", "zero_shot_export"]

TOP_K = 5


def _meta(model: Any) -> dict:
    head = model.zoo.head_model
    scale = min(float(head.get_layer("logit_scale").log_scale.numpy()), math.log(100.0))
    first, text = model.zoo.backbones
    ops = any(b.spec.text_ops or b.spec.preprocessor for b in (first, text))  # loading needs tensorflow_text
    return {"text_backbone": text.spec.name, "text_ops": bool(ops),
            "projection_dim": int(head.get_layer("text_projection").units), "logit_scale": math.exp(scale)}


def contrastive_serving_module(model: Any, meta: dict, class_names: Sequence[str], hub_objects: list) -> tuple[Any, dict]:
    """``(module, signatures)`` for `zoo.export.write_savedmodel` (see the module docs)."""
    import tensorflow as tf

    from zoo.models.contracts import contract_for_export

    contract = contract_for_export(meta)
    decode = contract.serving_decode(meta)
    first, text = model.zoo.backbones
    head = model.zoo.head_model
    p1, p2 = head.get_layer("first_projection"), head.get_layer("text_projection")
    scale_layer = head.get_layer("logit_scale")
    module = tf.Module()
    module.model_variables = list(model.variables)
    module.hub_objects = hub_objects

    def embed_first(raw: Any) -> Any:
        x = first(decode(raw) if decode is not None else raw, training=False)
        return tf.math.l2_normalize(tf.cast(p1(x), tf.float32), axis=-1)

    def embed_words(strings: Any) -> Any:
        return tf.math.l2_normalize(tf.cast(p2(text(strings, training=False)), tf.float32), axis=-1)

    def scale() -> Any:
        return tf.exp(tf.minimum(scale_layer.log_scale, math.log(100.0)))

    raw_spec = contract.serving_spec(meta)
    label_spec = tf.TensorSpec([None], tf.string, name="labels")

    @tf.function(input_signature=[raw_spec, label_spec], autograph=False)
    def serve(raw: Any, labels: Any) -> dict:
        logits = scale() * tf.matmul(embed_first(raw), embed_words(labels), transpose_b=True)
        probs = tf.nn.softmax(logits, axis=-1)
        top = tf.math.top_k(probs, k=tf.minimum(TOP_K, tf.shape(labels)[0]))
        return {"scores": probs, "top_scores": top.values, "top_indices": top.indices,
                "top_labels": tf.gather(labels, top.indices)}

    @tf.function(input_signature=[raw_spec], autograph=False)
    def embed_inputs(raw: Any) -> dict:
        return {"embeddings": embed_first(raw)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")], autograph=False)
    def embed_text(strings: Any) -> dict:
        return {"embeddings": embed_words(strings)}

    module.serve, module.embed_inputs, module.embed_text = serve, embed_inputs, embed_text
    module.logit_scale = tf.function(scale, input_signature=[])
    return module, {"serving_default": serve, "embed_inputs": embed_inputs, "embed_text": embed_text}


def _smoke(meta: dict) -> dict:
    import tensorflow as tf

    from zoo.models.contracts import contract_for_export

    return {**contract_for_export(meta).smoke_input(meta), "labels": tf.constant(["a zoo export check", "another"])}


def _check(out: dict, meta: dict, path: Any) -> None:
    scores = out["scores"].numpy()
    if scores.shape != (1, 2) or not np.isfinite(scores).all() or abs(float(scores.sum()) - 1.0) > 1e-3:
        raise ExportError(f"'{path}': serving_default returned scores {scores.shape} for one input and two labels; "
                          "expected [1, 2] probabilities")


CONTRASTIVE_EXPORT = TaskExport(serving=contrastive_serving_module, smoke=_smoke, check=_check, meta=_meta)


def embed_export(loaded: Any, meta: dict, inputs: Sequence[Any], *, text: bool = False,
                 batch_size: int = 32) -> np.ndarray:
    """``[N, P]`` L2-normalised embeddings through a loaded contrastive export: raw inputs as its
    first tower's contract reads them (`zoo.export.read_inputs`), or with ``text=True`` strings."""
    from zoo.models.contracts import contract_for_export

    if text:
        fn = loaded.signatures["embed_text"]
        meta = {"modality": "text"}  # strings, in batches
    else:
        fn = loaded.signatures["embed_inputs"]
    embed = lambda **kw: {"scores": fn(**kw)["embeddings"]}  # noqa: E731  (the contract batches and calls)
    out = contract_for_export(meta).predict_scores(embed, list(inputs), batch_size)
    return np.asarray(out, np.float32).reshape(len(inputs), -1) if len(inputs) else np.zeros((0, 0), np.float32)


def zero_shot_export(loaded: Any, meta: dict, inputs: Sequence[Any], labels: Sequence[str], *,
                     template: str = "{}", batch_size: int = 32) -> dict:
    """`zoo.zero_shot` through a loaded export: ``{"labels": [...], "scores": [N, K]}``."""
    from zoo.models import label_captions, zero_shot_scores

    captions = label_captions(labels, template)
    first = embed_export(loaded, meta, inputs, batch_size=batch_size)
    words = embed_export(loaded, meta, captions, text=True, batch_size=batch_size)
    return zero_shot_scores(first, words, labels, float(loaded.logit_scale().numpy()))
