"""Windowed audio: fixed 5 s windows through a named function (Google's bird vocalization classifier).

``module.infer_tf(windows [N, 5 * rate] float32) -> (logits [N, classes], embeddings [N, D])``
is the contract of ``google/bird-vocalization-classifier`` (Perch; model page, versions 1-4:
"a batch of 5-second audio segments, sampled at 32kHz", ``logits, embeddings =
model.infer_tf(waveform[np.newaxis, :])``, ``saved_model_2``, not fine-tunable). The module
has no ``__call__``: `WindowedAudio.module_callable` gives ``hub.KerasLayer`` a `window_call`
that makes the documented call and keeps the embeddings. zoo takes ``[B, T]`` waveforms at the
entry's ``sample_rate`` (files are resampled to it when read), cuts each clip into 5 s windows
without overlap (how the page evaluates the model), zero-pads the last one and averages a
clip's window embeddings. Serving, checks and file reading are the framed audio contract's;
a clip is served on its own, so padding in a batch never changes its result.

Example:
    >>> WindowedAudio().families, WindowedAudio.window_seconds
    (('bird-vocalization',), 5.0)
"""

from __future__ import annotations

from typing import Any

from zoo.models.contracts.framed_audio import FramedAudio

__all__ = ["WindowedAudio", "window_call", "window_clips"]


def window_clips(waves: Any, window: int) -> tuple[Any, Any]:
    """``[B, T]`` -> (``[B * K, window]`` windows, K): K = ceil(T / window) (at least 1), the last zero-padded.

    Example:
        >>> import numpy as np
        >>> w, k = window_clips(np.ones((2, 7), "float32"), 5)
        >>> w.shape.as_list(), int(k), w.numpy()[1].tolist()
        ([4, 5], 2, [1.0, 1.0, 0.0, 0.0, 0.0])
    """
    import tensorflow as tf

    waves = tf.convert_to_tensor(waves, tf.float32)
    k = tf.maximum((tf.shape(waves)[1] + window - 1) // window, 1)
    padded = tf.pad(waves, [[0, 0], [0, k * window - tf.shape(waves)[1]]])
    return tf.reshape(padded, [-1, window]), k


def window_call(obj: Any) -> Any:
    """The callable ``hub.KerasLayer`` wraps for a module called as ``obj.infer_tf(windows)``: a
    ``tf.Module`` that returns the documented second output (the embeddings) and exposes the
    module's variables (none trainable: the page says not fine-tunable)."""
    import tensorflow as tf

    class WindowCall(tf.Module):
        variables: Any = ()
        trainable_variables: Any = ()
        regularization_losses: Any = ()

        def __init__(self) -> None:
            super().__init__(name="windowed_audio_module")
            self.module = obj
            self.variables = list(getattr(obj, "variables", ()))
            self.trainable_variables, self.regularization_losses = [], []

        def __call__(self, windows: Any) -> Any:
            return self.module.infer_tf(windows)[1]

    return WindowCall()


class WindowedAudio(FramedAudio):
    """5 s windows at the entry's rate through ``infer_tf``, mean-pooled per clip (see the module docs)."""

    name = "windowed_audio"
    families = ("bird-vocalization",)
    window_seconds = 5.0

    def setup(self, backbone: Any, obj: Any) -> dict:
        return {}

    def module_callable(self, backbone: Any, obj: Any) -> Any:
        return window_call(obj)

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        from zoo.tfk import tf

        waves = tf.cast(inputs, tf.float32)
        windows, k = window_clips(waves, int(round(self.window_seconds * backbone.spec.sample_rate)))
        emb = backbone.module(windows)
        dim = emb.shape[-1] if emb.shape[-1] is not None else -1
        return tf.reduce_mean(tf.reshape(emb, [tf.shape(waves)[0], k, dim]), axis=1)

    def export_objects(self, backbone: Any) -> list:
        return []

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        from zoo.testing.audio_modules import WindowedAudioModule

        return WindowedAudioModule(spec, seed, self.window_seconds)

    def test_module_key(self, spec: Any) -> tuple:
        return (spec.output_dim, spec.sample_rate, spec.handle)
