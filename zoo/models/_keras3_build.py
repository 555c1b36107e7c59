"""``zoo.build(..., keras=3)``: the same backbones, tasks and defaults as a compiled Keras 3 model.

The arguments are checked by the same code as the tf_keras path (`plan_build`); the task's
head function builds the head with Keras 3 (``options["keras"]``); every backbone is a
`Backbone3`. `ZooModel3` is a functional ``keras.Model`` whose ``train_step`` applies the
same per-variable learning-rate scales as the tf_keras `ZooModel` (the head's own rate while
a backbone fine-tunes, layer-wise decay); the optimizer is the same recipe (Adam, or AdamW
with linear warm-up for BERT-style encoders).

Example (prose: it needs a cached module)::

    model = zoo.build("mobilenet_v2", task="classification", num_classes=5, keras=3)
    model.fit(images, labels); model.save("flowers.keras"); model.export("serving/")
"""

from __future__ import annotations

from typing import Any

import keras

from zoo.errors import ConfigurationError, StrategyError
from zoo.models._builder import head_options, mixed_policy
from zoo.models._distribute import resolve_strategy
from zoo.models._heads import ContrastiveLossBody
from zoo.models._inputs import check_inputs
from zoo.models._keras3 import Backbone3, keras3_input
from zoo.models._model import _text_ready
from zoo.models._optimizers import WarmupLinearBody, adamw_recipe, learning_rates
from zoo.registry import resolve_callable

__all__ = ["build3", "ZooModel3", "SupervisedContrastiveLoss3", "WarmupLinear3"]


@keras.saving.register_keras_serializable(package="zoo")
class WarmupLinear3(WarmupLinearBody, keras.optimizers.schedules.LearningRateSchedule):
    """Keras 3 twin of `zoo.models.WarmupLinear` (the same `WarmupLinearBody`)."""


@keras.saving.register_keras_serializable(package="zoo")
class SupervisedContrastiveLoss3(ContrastiveLossBody, keras.losses.Loss):
    """Keras 3 twin of `zoo.models.SupervisedContrastiveLoss` (the same `ContrastiveLossBody`)."""


@keras.saving.register_keras_serializable(package="zoo")
class ZooModel3(keras.Model):
    """A functional Keras 3 model that scales each variable's update by ``lr_scales[variable.path]``
    (1.0 when absent), as the tf_keras `ZooModel` does; ``zoo_config`` records how it was built."""

    def __init__(self, *args: Any, lr_scales: dict | None = None, zoo_config: dict | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lr_scales = dict(lr_scales or {})
        self.zoo_config = dict(zoo_config or {})

    def _ready(self, x: Any) -> Any:
        """Check raw inputs as the tf_keras path does; strings as a string tensor (Keras 3 takes them no other
        way); integer images (0-255 by definition) as float pixels in [0, 1], so that the cast to the float
        input keeps their meaning."""
        import numpy as np

        backbones = [layer for layer in self.layers if isinstance(layer, Backbone3)]
        if x is None or not backbones or not isinstance(x, (np.ndarray, list, tuple, dict)):
            return x
        check_inputs([b.spec for b in backbones], x, fused=len(backbones) > 1)
        x = _text_ready(x)

        def pixels(a: Any) -> Any:
            if isinstance(a, np.ndarray) and a.ndim == 4 and np.issubdtype(a.dtype, np.integer):
                return a.astype(np.float32) / 255.0
            if isinstance(a, np.ndarray) and a.dtype.kind in "OSU":  # Keras 3's array adapters take no strings
                import tensorflow as tf

                return tf.constant(a.astype(object) if a.dtype.kind == "U" else a)
            return a

        return {k: pixels(v) for k, v in x.items()} if isinstance(x, dict) else pixels(x)

    def fit(self, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        return super().fit(self._ready(x), *args, **kwargs)

    def evaluate(self, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        return super().evaluate(self._ready(x), *args, **kwargs)

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        return super().predict(self._ready(x), *args, **kwargs)

    def train_step(self, data: Any) -> Any:
        scaled = [(v, self.lr_scales[v.path]) for v in self.trainable_variables
                  if self.lr_scales.get(v.path, 1.0) != 1.0]
        if not scaled:
            return super().train_step(data)
        import tensorflow as tf

        before = [tf.identity(v.value) for v, _ in scaled]
        with tf.control_dependencies(before):
            logs = super().train_step(data)
        for (v, s), old in zip(scaled, before):
            v.assign(old + s * (v.value - old))
        return logs

    def get_config(self) -> dict:
        return {**super().get_config(), "lr_scales": self.lr_scales, "zoo_config": self.zoo_config}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> "ZooModel3":
        config = dict(config)
        scales, zoo_config = config.pop("lr_scales", {}), config.pop("zoo_config", {})
        model = super().from_config(config, custom_objects=custom_objects)
        model.lr_scales, model.zoo_config = dict(scales), dict(zoo_config)
        return model


def _optimizer(plan: dict, backbones: list, policy: str | None) -> Any:
    specs, freezes = plan["specs"], [bb.freeze_spec for bb in backbones]
    base, _ = learning_rates(specs, freezes, plan["learning_rate"], plan["head_learning_rate"])
    if adamw_recipe(specs, freezes):
        opt = keras.optimizers.AdamW(learning_rate=WarmupLinear3(base, 10), weight_decay=0.01)
    else:
        opt = keras.optimizers.Adam(learning_rate=base)
    return keras.optimizers.LossScaleOptimizer(opt) if policy == "mixed_float16" else opt


def _lr_scales(plan: dict, backbones: list, head_model: Any) -> dict:
    freezes = [bb.freeze_spec for bb in backbones]
    base, head = learning_rates(plan["specs"], freezes, plan["learning_rate"], plan["head_learning_rate"])
    scales: dict = {}
    decay = plan["layer_decay"]
    if decay and decay != 1:
        for bb in backbones:
            if bb.freeze_spec != "frozen":
                scales.update({path: float(decay) ** d for path, d in bb.block_depths().items()})
    if head != base:
        scales.update({v.path: head / base for v in head_model.trainable_variables})
    return scales


def build3(plan: dict, *, head: Any, strategy: Any, fusion: str, fusion_dim: Any, dropout: float,
           mixed_precision: bool, bn_training: bool, **task_options: Any) -> ZooModel3:
    """The Keras 3 model of a checked `plan_build` plan (see ``zoo.build``)."""
    specs, task, num_classes = plan["specs"], plan["task"], plan["num_classes"]
    head_fn, options = head_options(head, dropout, task_options, keras)
    if len(specs) > 1 and fusion != "concat":
        raise ConfigurationError(f"fusion={fusion!r} is not available with keras=3; use fusion='concat' "
                                 "(or keras=2 for 'gated')", fusion=fusion)
    strat = resolve_strategy(strategy)
    if plan["layer_decay"] and strat.num_replicas_in_sync > 1:
        raise StrategyError("layer_decay is not supported with several replicas yet; drop layer_decay or use one device")
    policy = mixed_policy(mixed_precision)
    with strat.scope():
        inputs, features, backbones = {}, [], []
        for s, f in zip(specs, plan["freezes"]):
            bb = Backbone3(s, f, bn_training=bn_training)
            inputs[s.name] = keras3_input(s)
            backbones.append(bb)
            features.append(bb(inputs[s.name]))
        feat_inputs = [keras.Input(shape=(s.output_dim,), name=f"{s.name}_features") for s in specs]
        fused = feat_inputs[0] if len(feat_inputs) == 1 else keras.layers.Concatenate(name="fusion_concat")(feat_inputs)
        if policy:
            fused = keras.layers.Activation("linear", dtype=policy, name="to_compute_dtype")(fused)
        if head_fn is not None:
            outputs = head_fn(fused)
        else:
            outputs = resolve_callable(task.head)(fused, num_classes=num_classes,
                                                  options={**options, "policy": policy, "keras": keras})
        if not isinstance(outputs, keras.KerasTensor) and not (
                isinstance(outputs, (list, tuple, dict)) and all(isinstance(o, keras.KerasTensor)
                                                                  for o in keras.tree.flatten(outputs))):
            raise ConfigurationError(
                f"task {task.name!r}: its head did not build Keras 3 layers (got {type(outputs).__name__}); a task's "
                "head function must build its layers with options['keras'] to work with keras=3", task=task.name)
        head_model = keras.Model(feat_inputs if len(feat_inputs) > 1 else feat_inputs[0], outputs, name="head")
        outputs = head_model(features if len(features) > 1 else features[0])
        config = {"backbones": [s.name for s in specs], "task": task.name, "num_classes": num_classes,
                  "freeze": {s.name: bb.freeze_spec for s, bb in zip(specs, backbones)},
                  "class_names": plan["class_names"], "mixed_precision_policy": policy}
        model = ZooModel3(inputs=inputs if len(specs) > 1 else inputs[specs[0].name], outputs=outputs,
                          name=f"zoo_{task.name}", lr_scales=_lr_scales(plan, backbones, head_model),
                          zoo_config=config)
        if task.compile is None:
            raise ConfigurationError(f"task {task.name!r} defines no loss; give its TaskSpec a compile function")
        loss, metrics = resolve_callable(task.compile)(num_classes=num_classes, options={**options, "keras": keras})
        model.compile(optimizer=_optimizer(plan, backbones, policy), loss=loss, metrics=metrics)
    return model
