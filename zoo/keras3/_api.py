"""`zoo.keras3`'s functions: TF Hub backbones in Keras 3 models (see the package docs)."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["load_backbone", "build"]


def load_backbone(name: Any, freeze: str = "frozen", *, bn_training: bool = False) -> Any:
    """The registered backbone ``name`` as a Keras 3 layer (`zoo.keras3.Backbone`): raw inputs ->
    ``[batch, output_dim]``, preprocessing inside, ``freeze`` = ``"frozen"``, ``"full"`` or ``"top:K"``.

    Example (prose: it needs a cached module)::

        layer = zoo.keras3.load_backbone("efficientnet_b0", freeze="top:2")
        model = keras.Sequential([keras.Input((None, None, 3)), layer, keras.layers.Dense(5, "softmax")])
    """
    from zoo.models import load_backbone3

    return load_backbone3(name, freeze, bn_training=bn_training)


def build(name: str | Sequence[str], task: str = "classification", **kwargs: Any) -> Any:
    """``zoo.build(name, task, ..., keras=3)``: a compiled Keras 3 model (`zoo.keras3.Model`).

    Example (prose)::

        model = zoo.keras3.build("bert_small", task="sentiment")
    """
    from zoo.models import build as build_model

    kwargs.pop("keras", None)
    return build_model(name, task, keras=3, **kwargs)
