"""Metrics that are a share counted over batches (hits / counted): the base of zoo's own accuracies.

Example:
    >>> import numpy as np
    >>> class Exact(ShareMetric):
    ...     def counts(self, y_true, y_pred):
    ...         hit = tf.cast(tf.equal(tf.cast(y_true, tf.float32), y_pred), tf.float32)
    ...         return tf.reduce_sum(hit), tf.cast(tf.size(hit), tf.float32)
    >>> m = Exact(); m.update_state(np.array([1.0, 2.0]), np.array([1.0, 3.0])); float(m.result())
    0.5
"""

from __future__ import annotations

from typing import Any

from zoo.tfk import keras, tf

__all__ = ["ShareMetric"]


class ShareMetric(keras.metrics.Metric):
    """``hits / counted`` summed over the batches; a subclass returns both from ``counts(y_true, y_pred)``."""

    def __init__(self, name: str = "accuracy", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.correct = self.add_weight(name="correct", initializer="zeros")
        self.count = self.add_weight(name="count", initializer="zeros")

    def counts(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        """``(hits, counted)`` of one batch, float32 scalars."""
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        hits, counted = self.counts(y_true, y_pred)
        self.correct.assign_add(hits)
        self.count.assign_add(counted)

    def result(self) -> Any:
        return tf.math.divide_no_nan(self.correct, self.count)

    def reset_state(self) -> None:
        self.correct.assign(0.0)
        self.count.assign(0.0)
