"""TF Hub backbones in Keras 3 models, trainable.

``hub.KerasLayer`` is a Keras 2 layer; since TensorFlow 2.16 ``tf.keras`` is Keras 3 and
rejects it (tensorflow/hub#903). This package gives the same backbones as Keras 3 layers
(`load_backbone`, `Backbone`) and whole compiled Keras 3 models (`build`, same as
``zoo.build(..., keras=3)``): the module's variables are Keras 3 weights that Keras 3
optimizers train, ``frozen`` / ``full`` / ``top:K`` freeze the same blocks as the
tf_keras path, batch norm stays in inference mode, and ``model.save("m.keras")``,
``keras.saving.load_model`` and ``model.export(dir)`` work (a ``.keras`` file names the
backbone by registry name and handle and reloads the module from the TF Hub cache).

Where it differs from the tf_keras path: ``zoo.fit`` (feature caching, freeze schedules),
``zoo train``/``zoo export`` take tf_keras models; with Keras 3 use ``model.fit`` and
``model.export``. Fusion is ``concat`` only. Mixed precision and ``tf.distribute``
strategies work as on the tf_keras path (``zoo.build(..., strategy=..., mixed_precision=True,
keras=3)``): the backbone computes in float32, the head in the mixed policy.

Public surface: the names in ``__all__``; names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "load_backbone": "_api",
    "build": "_api",
}
_MODELS = {"Backbone": "Backbone3", "Model": "ZooModel3"}

__all__ = sorted([*_EXPORTS, *_MODELS])
_getattr, __dir__ = attach(__name__, _EXPORTS)


def __getattr__(name: str):
    if name in _MODELS:  # the Keras 3 classes live beside the tf_keras ones, in zoo.models
        import zoo.models

        return getattr(zoo.models, _MODELS[name])
    return _getattr(name)
