"""A backbone alone as a SavedModel on raw inputs: what `zoo embed` runs (locally or on a Beam runner).

``serving_default`` takes the raw input of the backbone's contract (vision: encoded image
bytes ``tf.string [B]``, decoded and resized inside with the data loaders' code; text:
``tf.string [B]``; audio: ``float32 [B, T]`` waveforms at the module's rate) and returns
``embedding`` ``[B, D]``, exactly what ``zoo.load_backbone(name)`` gives for the decoded
input. ``assets.extra/zoo_export.json`` records the backbone, its handle and the module's
tree digest (``module_sha256``), which `zoo embed` writes beside every embedding.

Example:
    path, meta = save_embedding_model("mobilenet_v2", "out/model")
    tf.saved_model.load(str(path)).signatures["serving_default"](images=tf.constant([jpeg]))["embedding"]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo.registry import BackboneSpec, get

__all__ = ["save_embedding_model", "module_digest"]


def module_digest(spec: BackboneSpec) -> str | None:
    """sha256 of the module tree ``spec.handle`` resolves to (as ``run.json`` records it), or None.

    Example:
        module_digest(zoo.get("mobilenet_v2"))
        # -> '3f1c...'
    """
    from zoo import hub

    return hub.resolved_tree(spec.handle)[1]


def save_embedding_model(name: str | BackboneSpec, path: str | os.PathLike) -> tuple[Path, dict]:
    """Save backbone ``name`` (frozen, inference mode) with a raw-input ``serving_default`` -> ``embedding``.

    Returns the path and the export metadata (``format`` ``zoo-embedding/1``, ``handle``,
    ``module_sha256``, ``dim``).

    Example:
        save_embedding_model("starter_text", "out/model")[1]["dim"]
        # -> 64
    """
    import tensorflow as tf

    from zoo.export._savedmodel import export_meta, write_savedmodel
    from zoo.models import load_backbone
    from zoo.models.contracts import contract_for

    spec = name if isinstance(name, BackboneSpec) else get(name)
    backbone = load_backbone(spec)
    contract = contract_for(spec)
    meta = export_meta(spec, extra={"format": "zoo-embedding/1", "handle": spec.handle,
                                    "module_sha256": module_digest(spec), "dim": spec.output_dim})
    decode = contract.serving_decode(meta)
    module = tf.Module()
    module.backbone_variables = list(backbone.variables)
    module.hub_objects = backbone.export_objects()

    @tf.function(input_signature=[contract.serving_spec(meta)], autograph=False)
    def serve(raw: Any) -> dict:
        emb = backbone(decode(raw) if decode is not None else raw, training=False)
        return {"embedding": tf.cast(emb, tf.float32)}

    module.serve = serve
    return write_savedmodel(module, {"serving_default": serve}, meta, path), meta
