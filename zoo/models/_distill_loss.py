"""Knowledge distillation's loss and metric (tf_keras), for the built-in ``distillation`` task.

Targets are ``[label, teacher probabilities...]`` rows (``[B, 1 + C]``): ``label`` is the class id,
or -1 for an unlabeled example. The loss is ``alpha * cross-entropy(label, student)`` on labeled
rows plus ``(1 - alpha) * T^2 * cross-entropy(softmax(log teacher / T), softmax(log student / T))``
on every row (Hinton et al., 2015: the T^2 keeps the soft term's gradients on the scale of the
hard one). The student's head is the softmax head; its probabilities are what a run exports.

Example:
    >>> import numpy as np
    >>> y = np.array([[0, 0.9, 0.1], [-1, 0.2, 0.8]], np.float32)
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    >>> round(float(DistillationLoss(temperature=1.0, alpha=0.0)(y, p)), 4)  # soft targets = the teacher's own
    0.4127
    >>> float(LabeledAccuracy()(y, p))
    1.0
"""

from __future__ import annotations

from typing import Any

from zoo.models._metrics import ShareMetric
from zoo.tfk import keras, tf

__all__ = ["DistillationLoss", "LabeledAccuracy", "distillation_compile"]

_EPS = 1e-7


@keras.utils.register_keras_serializable(package="zoo")
class DistillationLoss(keras.losses.Loss):
    """``alpha`` x hard cross-entropy (labeled rows) + ``(1 - alpha)`` x T² x soft cross-entropy (all rows)."""

    def __init__(self, temperature: float = 4.0, alpha: float = 0.5, name: str = "distillation", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.temperature, self.alpha = float(temperature), float(alpha)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = tf.cast(y_true, tf.float32), tf.cast(y_pred, tf.float32)
        label, teacher = y_true[:, 0], y_true[:, 1:]
        t = self.temperature
        soft_teacher = tf.nn.softmax(tf.math.log(teacher + _EPS) / t, axis=-1)
        log_soft_student = tf.nn.log_softmax(tf.math.log(y_pred + _EPS) / t, axis=-1)
        soft = -tf.reduce_sum(soft_teacher * log_soft_student, axis=-1) * t * t
        labeled = label >= 0
        hard = -tf.math.log(tf.gather(y_pred, tf.cast(tf.maximum(label, 0), tf.int32), batch_dims=1) + _EPS)
        hard = tf.where(labeled, hard, tf.zeros_like(hard))
        return self.alpha * hard + (1.0 - self.alpha) * soft

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature, "alpha": self.alpha}


@keras.utils.register_keras_serializable(package="zoo")
class LabeledAccuracy(ShareMetric):
    """Accuracy of the student on the labeled rows (label >= 0) of ``[label, teacher...]`` targets."""

    def counts(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        label = tf.cast(tf.cast(y_true, tf.float32)[:, 0], tf.int64)
        labeled = tf.cast(label >= 0, tf.float32)
        hit = tf.cast(tf.equal(tf.argmax(y_pred, axis=-1), label), tf.float32) * labeled
        return tf.reduce_sum(hit), tf.reduce_sum(labeled)


def distillation_compile(*, num_classes: int, options: dict) -> tuple[Any, list]:
    """`DistillationLoss` (``temperature``, ``alpha`` from the options) and `LabeledAccuracy`.

    Example:
        >>> distillation_compile(num_classes=3, options={"temperature": 2})[0].temperature
        2.0
    """
    if options.get("keras") not in (None, keras):
        from zoo.errors import ConfigurationError

        raise ConfigurationError("task 'distillation' trains on the tf_keras path (zoo distill); build the student "
                                 "without keras=3")
    return (DistillationLoss(options.get("temperature", 4.0), options.get("alpha", 0.5)), [LabeledAccuracy()])
