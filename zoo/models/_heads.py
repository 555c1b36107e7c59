"""Task heads, losses and metrics for the built-in tasks (tf_keras).

A head function takes the backbone features and returns the outputs; a compile
function returns ``(loss, metrics)``. Plugins point their `zoo.TaskSpec` at
functions of the same shape.

Example:
    from zoo.tfk import keras
    feats = keras.Input((16,)); out = softmax_head(feats, num_classes=3, options={})
    out.shape
    # -> TensorShape([None, 3])
"""

from __future__ import annotations

from typing import Any

from zoo.tfk import keras, tf

__all__ = [
    "softmax_head", "binary_head", "sigmoid_head", "linear_head", "embedding_head",
    "classification_compile", "binary_compile", "multilabel_compile", "regression_compile", "embedding_compile",
    "SupervisedContrastiveLoss", "ContrastiveLossBody", "supervised_contrastive",
]


def _k(options: dict) -> Any:
    """The Keras a head is built with: ``options["keras"]`` (Keras 3 for ``zoo.build(..., keras=3)``), else tf_keras."""
    return options.get("keras") or keras


def _hidden(features: Any, options: dict) -> Any:
    x = features
    for layer in options.get("hidden_layers") or []:
        x = layer(x)
    rate = options.get("dropout", 0.2)
    if rate:
        x = _k(options).layers.Dropout(rate, name="head_dropout")(x)
    return x


def _dense(units: int, activation: str | None, name: str, options: dict) -> Any:
    # the output layer always computes in float32 (safe under mixed precision)
    return _k(options).layers.Dense(units, activation=activation, name=name, dtype="float32")


def softmax_head(features: Any, *, num_classes: int, options: dict) -> Any:
    """Dropout + softmax over ``num_classes``.

    Example:
        softmax_head(keras.Input((8,)), num_classes=3, options={}).shape.as_list()
        # -> [None, 3]
    """
    return _dense(num_classes, "softmax", "probabilities", options)(_hidden(features, options))


def binary_head(features: Any, *, num_classes: int | None, options: dict) -> Any:
    """Dropout + one sigmoid output (probability of the positive class).

    Example:
        binary_head(keras.Input((8,)), num_classes=None, options={}).shape.as_list()
        # -> [None, 1]
    """
    return _dense(1, "sigmoid", "probability", options)(_hidden(features, options))


def sigmoid_head(features: Any, *, num_classes: int, options: dict) -> Any:
    """Dropout + one sigmoid per class (multi-label).

    Example:
        sigmoid_head(keras.Input((8,)), num_classes=4, options={}).shape.as_list()
        # -> [None, 4]
    """
    return _dense(num_classes, "sigmoid", "probabilities", options)(_hidden(features, options))


def linear_head(features: Any, *, num_classes: int | None, options: dict) -> Any:
    """Dropout + linear outputs (``num_classes`` outputs, default 1).

    Example:
        linear_head(keras.Input((8,)), num_classes=None, options={}).shape.as_list()
        # -> [None, 1]
    """
    return _dense(num_classes or 1, None, "values", options)(_hidden(features, options))


def embedding_head(features: Any, *, num_classes: int | None, options: dict) -> Any:
    """Optional projection (``projection_dim``), then L2 normalisation.

    Example:
        embedding_head(keras.Input((8,)), num_classes=None, options={"projection_dim": 4}).shape.as_list()
        # -> [None, 4]
    """
    x = features
    for layer in options.get("hidden_layers") or []:
        x = layer(x)
    dim = options.get("projection_dim")
    if dim:
        x = _dense(int(dim), None, "projection", options)(x)
    return _k(options).layers.UnitNormalization(axis=-1, name="l2_normalize", dtype="float32")(x)


class ContrastiveLossBody:
    """What the tf_keras and the Keras 3 supervised contrastive loss share (``temperature``, ``call``, config);
    each Keras version's class puts this before its own ``Loss`` base."""

    def __init__(self, temperature: float = 0.1, name: str = "supervised_contrastive", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.temperature = temperature

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return supervised_contrastive(y_true, y_pred, self.temperature)

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature}


@keras.utils.register_keras_serializable(package="zoo")
class SupervisedContrastiveLoss(ContrastiveLossBody, keras.losses.Loss):
    """In-batch supervised contrastive loss on L2-normalised embeddings and integer labels.

    Example:
        loss = SupervisedContrastiveLoss()
        float(loss(tf.constant([0, 0, 1]), tf.math.l2_normalize(tf.eye(3), -1))) > 0
        # -> True
    """


def supervised_contrastive(y_true: Any, y_pred: Any, temperature: float) -> Any:
    """Per-example supervised contrastive loss (the math behind both Keras versions' loss classes).

    Example:
        float(tf.reduce_mean(supervised_contrastive(tf.constant([0, 0, 1]), tf.eye(3), 0.1))) > 0
        # -> True
    """
    labels = tf.reshape(tf.cast(y_true, tf.int32), [-1])
    emb = tf.cast(y_pred, tf.float32)
    logits = tf.matmul(emb, emb, transpose_b=True) / temperature
    n = tf.shape(labels)[0]
    not_self = 1.0 - tf.eye(n)
    same = tf.cast(tf.equal(labels[:, None], labels[None, :]), tf.float32) * not_self
    logits = logits - 1e9 * (1.0 - not_self)
    log_prob = logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True)
    pos = tf.reduce_sum(same, axis=1)
    per_row = -tf.reduce_sum(same * log_prob, axis=1) / tf.maximum(pos, 1.0)
    return tf.where(pos > 0, per_row, tf.zeros_like(per_row))


def classification_compile(*, num_classes: int, options: dict) -> tuple[Any, list]:
    """Sparse categorical cross-entropy, accuracy.

    Example:
        classification_compile(num_classes=3, options={})[1][0].name
        # -> 'accuracy'
    """
    k = _k(options)
    return k.losses.SparseCategoricalCrossentropy(), [k.metrics.SparseCategoricalAccuracy(name="accuracy")]


def binary_compile(*, num_classes: int | None, options: dict) -> tuple[Any, list]:
    """Binary cross-entropy, accuracy and AUC.

    Example:
        binary_compile(num_classes=None, options={})[1][0].name
        # -> 'accuracy'
    """
    k = _k(options)
    return k.losses.BinaryCrossentropy(), [k.metrics.BinaryAccuracy(name="accuracy"), k.metrics.AUC(name="auc")]


def multilabel_compile(*, num_classes: int, options: dict) -> tuple[Any, list]:
    """Binary cross-entropy per label, element-wise accuracy and multi-label AUC.

    Example:
        multilabel_compile(num_classes=4, options={})[1][1].name
        # -> 'auc'
    """
    k = _k(options)
    return k.losses.BinaryCrossentropy(), [
        k.metrics.BinaryAccuracy(name="accuracy"), k.metrics.AUC(name="auc", multi_label=True),
    ]


def regression_compile(*, num_classes: int | None, options: dict) -> tuple[Any, list]:
    """Mean squared error loss, MAE metric.

    Example:
        regression_compile(num_classes=None, options={})[1][0].name
        # -> 'mae'
    """
    k = _k(options)
    return k.losses.MeanSquaredError(), [k.metrics.MeanAbsoluteError(name="mae")]


def embedding_compile(*, num_classes: int | None, options: dict) -> tuple[Any, list]:
    """Supervised contrastive loss on integer class labels; no metric.

    Example:
        embedding_compile(num_classes=None, options={})[0].name
        # -> 'supervised_contrastive'
    """
    if _k(options) is not keras:
        from zoo.models._keras3_build import SupervisedContrastiveLoss3

        return SupervisedContrastiveLoss3(options.get("temperature", 0.1)), []
    return SupervisedContrastiveLoss(options.get("temperature", 0.1)), []
