"""`ZooModel`: a functional ``tf_keras.Model`` that knows its backbones.

It is an ordinary Keras model (``fit``, ``predict``, ``save`` work as usual);
zoo adds input checks on ``predict``/``evaluate``/``fit`` with NumPy or list
inputs, per-variable learning rates (layer-wise decay, the head's own rate while
a backbone fine-tunes), integer images taken as 0-255 whatever their values, and
references to the feature and head sub-models used by feature caching.

Example:
    model = zoo.build("mobilenet_v2", num_classes=5)
    [b.spec.name for b in model.zoo.backbones]
    # -> ['mobilenet_v2']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.data import text_bytes
from zoo.models._inputs import check_inputs
from zoo.tfk import keras, tf

__all__ = ["ZooModel", "ZooParts"]


@dataclass(eq=False)
class ZooParts:
    """Plain (untracked) references zoo keeps beside a model.

    Example:
        >>> ZooParts().lr_scales
        {}
    """

    backbones: list = field(default_factory=list)
    feature_model: Any = None
    head_model: Any = None
    task: Any = None
    strategy: Any = None
    config: dict = field(default_factory=dict)
    lr_scales: dict = field(default_factory=dict)


def _text_ready(x: Any) -> Any:
    """Lists of strings (the documented text input) as arrays: Keras' data adapters
    reject a plain list of str once labels are given (``evaluate``/``fit``)."""
    if isinstance(x, dict):
        return {k: _text_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(isinstance(s, (str, bytes)) for s in x):
        return np.asarray([text_bytes(s) for s in x], dtype=object)
    return x


class ZooModel(keras.Model):
    """A functional tf_keras model built by `zoo.build`.

    Example:
        model.zoo.config["task"]
        # -> 'classification'
    """

    @property
    def zoo(self) -> ZooParts:
        """zoo's references for this model (backbones, sub-models, config)."""
        parts = self.__dict__.get("_zoo_parts")
        if parts is None:
            parts = ZooParts()
            object.__setattr__(self, "_zoo_parts", parts)
        return parts

    def _check(self, x: Any) -> None:
        specs = [b.spec for b in self.zoo.backbones]
        if specs and not isinstance(x, (tf.data.Dataset, keras.utils.Sequence)) and x is not None:
            check_inputs(specs, x, fused=len(specs) > 1, names=self.zoo.config.get("inputs"))

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(x)
        return super().predict(_text_ready(x), *args, **kwargs)

    def evaluate(self, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._check(x)
        return super().evaluate(_text_ready(x), *args, **kwargs)

    def fit(self, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._check(x)
        return super().fit(_text_ready(x), *args, **kwargs)

    def _conform_to_reference_input(self, tensor: Any, ref_input: Any) -> Any:
        # Keras casts every input to its Input's dtype (float32 for images), which would lose
        # that integer pixels are 0-255 by definition: scale them to [0, 1] here, where the
        # dtype is still known (the backbone keeps images already in [0, 1] as they are).
        if isinstance(tensor, tf.Tensor) and tensor.dtype.is_integer and ref_input.shape.rank == 4 \
                and ref_input.dtype == tf.float32:
            tensor = tf.cast(tensor, tf.float32) / 255.0
        return super()._conform_to_reference_input(tensor, ref_input)

    def train_step(self, data: Any) -> Any:
        scales = self.zoo.lr_scales
        if not scales:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        variables = self.trainable_variables
        scaled = [(v, scales[v.ref()]) for v in variables if scales.get(v.ref(), 1.0) != 1.0]
        before = [tf.identity(v) for v, _ in scaled]
        with tf.control_dependencies(before):
            self.optimizer.minimize(loss, variables, tape=tape)  # minimize: loss scaling under mixed precision
        # per-variable rates (layer-wise decay, the head's own rate): scale each update
        for (v, s), old in zip(scaled, before):
            v.assign(old + s * (v - old))
        return self.compute_metrics(x, y, y_pred, sample_weight)
