"""Backbones as Keras 3 layers: a TF Hub module inside a ``keras.Model`` (Keras 3, TensorFlow backend).

``hub.KerasLayer`` is a Keras 2 (``tf_keras``) layer, so Keras 3 models cannot hold it
(tensorflow/hub#903). `Backbone3` is a Keras 3 layer that runs the same calling contract
as the tf_keras `zoo.models.Backbone` (raw inputs, preprocessing inside, the same block
grouping behind ``top:K``) and adopts the module's own variables as Keras 3 variables:
``keras.Variable(initializer=tf_variable)`` on the TensorFlow backend wraps the variable
itself (no copy), so Keras 3 optimizers update exactly the variables the module's
functions read. Variable names are made valid scope names (TF names such as
``conv/kernel:0`` are what breaks ``keras.layers.TFSMLayer`` in the optimizer).

A ``.keras`` file keeps the backbone by registry name and handle; loading it reloads
the module from the TF Hub cache and then sets the saved weights.

Example (prose: it needs a cached module)::

    import keras, zoo.keras3
    layer = zoo.keras3.load_backbone("mobilenet_v2", freeze="top:2")
    model = keras.Sequential([keras.Input((224, 224, 3)), layer, keras.layers.Dense(5, "softmax")])
"""

from __future__ import annotations

import re
from typing import Any

import keras

from zoo.errors import ConfigurationError
from zoo.models._backbones import Backbone
from zoo.registry import BackboneSpec, get

__all__ = ["Backbone3", "load_backbone3", "keras3_input"]


def _scope_name(name: str, taken: set) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name.split(":")[0]).strip("_") or "variable"
    out, i = base, 1
    while out in taken:
        i += 1
        out = f"{base}_{i}"
    taken.add(out)
    return out


@keras.saving.register_keras_serializable(package="zoo")
class Backbone3(keras.layers.Layer):
    """Raw inputs -> ``[batch, output_dim]`` float32 embedding of one registered backbone, as a Keras 3 layer.

    ``freeze``: ``"frozen"`` (default), ``"full"`` or ``"top:K"`` (`set_freeze`); the module's
    trainable variables become this layer's trainable weights, its batch-norm statistics and
    frozen variables its non-trainable weights. Batch norm stays in inference mode unless
    ``bn_training``. The layer always computes in float32 (TF Hub modules are float32); under a
    mixed-precision policy only the layers after it use it.
    """

    def __init__(self, backbone: str | BackboneSpec, freeze: str = "frozen", *, bn_training: bool = False,
                 handle: str | None = None, name: str | None = None, **kwargs: Any):
        kwargs.pop("dtype", None)
        spec = backbone if isinstance(backbone, BackboneSpec) else get(backbone)
        if handle is not None and handle != spec.handle:
            raise ConfigurationError(
                f"this model was saved with backbone {spec.name!r} at {handle}, but the registry now maps "
                f"{spec.name!r} to {spec.handle}; register the saved handle (user registry or plugin) to load it",
                backbone=spec.name, saved=handle, registered=spec.handle)
        inner = Backbone(spec, bn_training=bn_training)  # the tf_keras side: contract, blocks, freeze rules
        super().__init__(name=name or inner.name, dtype="float32", **kwargs)
        self._inner = inner
        self.spec, self.bn_training = spec, bn_training
        module = self._inner.module
        taken: set = set()
        sources = list(module._trainable_weights) + list(module._non_trainable_weights)  # noqa: SLF001
        self._module_vars = []
        with keras.name_scope(self.name, caller=self):  # paths like "backbone_x/block_1_conv_kernel"
            for v in sources:
                kv = keras.Variable(initializer=v, shape=v.shape, dtype=v.dtype.name, trainable=False,
                                    name=_scope_name(v.name, taken))
                self._module_vars.append(kv)
                self._track_variable(kv)
        self._refs = tuple(v.ref() for v in sources)  # a tuple of plain references: not tracked for saving
        self.set_freeze(freeze)
        self.built = True

    # ---- freezing -------------------------------------------------------------------------
    def set_freeze(self, freeze: str) -> None:
        """Apply ``"frozen"``, ``"full"`` or ``"top:K"`` (the tf_keras path's rules and errors); recompile after."""
        self._inner.set_freeze(freeze)
        chosen = {v.ref() for v in self._inner.trainable_weights}
        for ref, kv in zip(self._refs, self._module_vars):
            kv.trainable = ref in chosen

    @property
    def freeze_spec(self) -> str:
        """``"frozen"``, ``"full"`` or ``"top:K"``."""
        return self._inner.freeze_spec

    def block_depths(self) -> dict:
        """``{keras variable path: depth from the top}`` of the trained blocks (layer-wise decay)."""
        by_ref = dict(zip(self._refs, self._module_vars))
        return {by_ref[ref].path: d for ref, d in self._inner.block_depths().items() if ref in by_ref}

    # ---- forward ----------------------------------------------------------------------------
    def call(self, inputs: Any, training: Any = None) -> Any:
        return self._inner(inputs, training=training)

    def compute_output_spec(self, inputs: Any, training: Any = None) -> Any:
        return keras.KerasTensor((inputs.shape[0], self.spec.output_dim), dtype="float32")

    # ---- saving -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("dtype", None)
        config.update(backbone=self.spec.name, handle=self.spec.handle, freeze=self.freeze_spec,
                      bn_training=self.bn_training)
        return config

    def save_own_variables(self, store: Any) -> None:
        """The module's variables in the module's own order (not split by trainability, which can change)."""
        for i, v in enumerate(self._module_vars):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Set the module's variables from a ``.keras`` file written by `save_own_variables`."""
        if len(store.keys()) != len(self._module_vars):
            raise ConfigurationError(
                f"the saved weights of backbone {self.spec.name!r} hold {len(store.keys())} variables but module "
                f"{self.spec.handle} has {len(self._module_vars)}: the module in the cache is not the one the model "
                "was saved with", backbone=self.spec.name, handle=self.spec.handle)
        for i, v in enumerate(self._module_vars):
            v.assign(store[str(i)])


def keras3_input(spec: BackboneSpec, name: str | None = None) -> Any:
    """The raw-input ``keras.Input`` (Keras 3) of a backbone: the contract's input, same shape and dtype.

    Example (prose)::

        keras3_input(zoo.get("use")).dtype  # -> 'string'
    """
    from zoo.models.contracts import contract_for

    ref = contract_for(spec).keras_input(spec, name or spec.name)
    return keras.Input(shape=tuple(ref.shape[1:]), dtype=ref.dtype.name, name=name or spec.name)


def load_backbone3(name: str | BackboneSpec, freeze: str = "frozen", *, bn_training: bool = False) -> Backbone3:
    """The backbone ``name`` as a Keras 3 layer taking raw inputs; see `Backbone3`.

    Example (prose)::

        layer = load_backbone3("bert_small", freeze="top:2")
    """
    return Backbone3(name, freeze, bn_training=bn_training)
