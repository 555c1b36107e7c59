"""The base of zoo's test modules: a ``tf.Module`` saved the way TF Hub's reusable SavedModels are.

`HubObject` keeps ``variables`` / ``trainable_variables`` / ``regularization_losses`` as
saved attributes; `trace_call` traces ``__call__`` for both values of ``training``;
`normal_weights` draws scaled Gaussian weights. Family modules (`zoo.testing.modules`,
`zoo.testing.text_modules`, a contract's own test module) build on these.

Example:
    >>> import numpy as np
    >>> normal_weights(np.random.RandomState(0), (4, 2)).shape
    (4, 2)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ["HubObject", "trace_call", "normal_weights"]


class HubObject(tf.Module):
    """A ``tf.Module`` whose ``variables``/``trainable_variables``/``regularization_losses``
    are saved as plain attributes (what the TF Hub reusable-SavedModel API reads).

    Subclasses create variables with `_var` (full name, creation order kept) and
    call `_expose` once all variables exist.
    """

    # Shadow tf.Module's computed properties so instances can store saved lists.
    variables: Any = ()
    trainable_variables: Any = ()
    regularization_losses: Any = ()

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self._created: list[tf.Variable] = []
        self._expose()

    def _var(self, full_name: str, value: Any, trainable: bool = True) -> tf.Variable:
        scope, _, leaf = full_name.rpartition("/")
        value = np.asarray(value, dtype=np.float32)
        if scope:
            with tf.name_scope(scope + "/"):  # trailing "/": absolute scope, no uniquifying
                v = tf.Variable(value, name=leaf, trainable=trainable)
        else:
            v = tf.Variable(value, name=leaf, trainable=trainable)
        self._created.append(v)
        return v

    def _expose(self) -> None:
        self.variables = list(self._created)
        self.trainable_variables = [v for v in self._created if v.trainable]
        self.regularization_losses = []


def trace_call(fn: Any, *specs: Any, training_values: tuple[bool, ...] = (False, True), **kwargs: Any) -> None:
    """Trace ``fn`` for each Python value of ``training`` so the SavedModel keeps both."""
    for training in training_values:
        fn.get_concrete_function(*specs, training=training, **kwargs)


def normal_weights(rng: np.random.RandomState, shape: tuple[int, ...], fan_in: int | None = None) -> np.ndarray:
    """Gaussian weights scaled by ``1/sqrt(fan_in)`` (fan-in defaults to the first dimension)."""
    fan_in = fan_in or (shape[0] if shape else 1)
    return rng.normal(0.0, 1.0 / math.sqrt(max(fan_in, 1)), size=shape)
