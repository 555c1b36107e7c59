"""The one place zoo imports TensorFlow and Keras 2 (``tf_keras``).

``hub.KerasLayer`` only trains under Keras 2, so every zoo model is built from
``tf_keras`` layers; never mix in Keras 3 (``keras`` / ``tf.keras`` on TF 2.16+).

Example:
    >>> from zoo.tfk import keras, tf
    >>> keras.layers.Dense(2).__class__.__module__.startswith("tf_keras")
    True
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

__all__ = ["tf", "keras"]
