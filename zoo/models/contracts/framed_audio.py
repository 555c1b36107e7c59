"""Framed audio: one mono clip per call, per-frame embeddings (YAMNet, VGGish).

``module(waveform [T] float32 in [-1, 1] at the entry's sample rate) -> embeddings
[N, D]`` (VGGish) or ``(scores, embeddings, log_mel)`` (YAMNet), frames of 0.96 s.
zoo takes ``[B, T]`` waveforms, vectorises the per-clip call over the batch
(`zoo.models._audio_batching`; per clip while the module is being fine-tuned, since pfor drops
gradients to its variables) and mean-pools each clip's frames. Exports serve
``waveforms`` ``float32 [B, T]``; predictions from files run clip by clip, so padding
never changes a clip's result.

Example:
    >>> FramedAudio().serving_input
    'waveforms'
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any, Sequence

from zoo.models.contracts._base import Contract, bad_rows, check_batch_array, check_numeric
from zoo.errors import DataError, InputError

__all__ = ["FramedAudio", "check_waveforms"]

_EAGER: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def check_waveforms(spec: Any, x: Any) -> None:
    """``[batch, samples]`` float waveforms in [-1, 1] at ``spec.sample_rate`` (`InputError` otherwise).

    Example:
        >>> import numpy as np, zoo
        >>> check_waveforms(zoo.get("yamnet"), np.zeros((2, 16000), "float32"))
    """
    import numpy as np

    name = spec.name
    arr = check_batch_array(name, x)
    if arr.ndim == 2 and arr.shape[0] > 0 and arr.shape[1] == 0:
        raise InputError(f"{name}: zero-length clips (shape {arr.shape}): each clip needs at least one sample; drop "
                         f"empty clips or pad them with zeros to {spec.sample_rate} samples (1 s)")
    check_numeric(name, arr)
    if arr.ndim == 1:
        raise InputError(f"{name}: audio must be a batch [batch, samples]; got one clip of shape {arr.shape}: pass x[None]")
    if arr.ndim != 2:
        raise InputError(f"{name}: audio must be [batch, samples] mono at {spec.sample_rate} Hz, got shape {arr.shape}; "
                         "mix stereo down with x.mean(axis=-1) (zoo.data.read_wav does this and resamples)")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise InputError(f"{name}: waveforms {bad_rows(arr)} contain NaN or Inf samples; "
                         "clean them (np.nan_to_num) or drop those clips")
    peak = max(abs(float(arr.min())), abs(float(arr.max())))  # not np.abs: abs(int8 -128) overflows
    if peak > 1.0 + 1e-6:
        raise InputError(f"{name}: waveform values must be floats in [-1, 1], got peak {peak:.4g}; "
                         "divide 16-bit PCM by 32768 (zoo.data.read_wav does this)")


class FramedAudio(Contract):
    """The framed, one-clip-per-call audio contract (see the module docs)."""

    name = "framed_audio"
    modality = "audio"
    families = ("yamnet", "vggish", "starter_audio")
    serving_input = "waveforms"

    def keras_input(self, spec: Any, name: str) -> Any:
        from zoo.tfk import keras, tf

        return keras.Input(shape=(None,), dtype=tf.float32, name=name)

    def check_input(self, spec: Any, x: Any) -> None:
        check_waveforms(spec, x)

    def setup(self, backbone: Any, obj: Any) -> dict:
        backbone._audio_obj = obj
        return {}

    def loader_options(self, spec: Any) -> dict:
        return {"sample_rate": spec.sample_rate or 16000}

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        from zoo.models import _audio_batching as audio_batching
        from zoo.tfk import tf

        obj, key, dim, name = backbone._audio_obj, backbone.spec.output_key, backbone.spec.output_dim, backbone.spec.name
        waves = tf.cast(inputs, tf.float32)
        if backbone.module.trainable:  # pfor drops the gradients to the module's variables in graph mode
            return audio_batching.per_clip(obj, waves, key, dim)
        if not tf.executing_eagerly():
            return audio_batching.batched(obj, waves, key, dim, name)
        fn = _EAGER.get(backbone)  # eager calls: one traced function per backbone, not one per call
        if fn is None:
            fn = _EAGER[backbone] = tf.function(lambda w: audio_batching.batched(obj, w, key, dim, name),
                                                reduce_retracing=True)
        return fn(waves)

    def export_objects(self, backbone: Any) -> list:
        return [backbone._audio_obj]

    # ---- export ----------------------------------------------------------------------------
    def serving_spec(self, meta: dict) -> Any:
        import tensorflow as tf

        return tf.TensorSpec([None, None], tf.float32, name="waveforms")

    def read_inputs(self, items: Sequence[str], meta: dict) -> list:
        from zoo.data import read_wav

        rate = int(meta.get("sample_rate") or 16000)
        out = []
        for item in items:
            p = Path(item).expanduser()
            if not p.is_file():
                raise DataError(f"audio (.wav) file '{item}' does not exist; this is an audio model, so pass .wav files")
            out.append(read_wav(p, rate))
        return out

    def predict_scores(self, fn: Any, inputs: Sequence[Any], batch_size: int = 32) -> Any:
        import numpy as np
        import tensorflow as tf

        out = [fn(waveforms=tf.constant(np.asarray(w, np.float32).reshape(1, -1)))["scores"].numpy() for w in inputs]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def smoke_input(self, meta: dict) -> dict:
        import tensorflow as tf

        return {"waveforms": tf.zeros([1, int(meta.get("sample_rate") or 16000)], tf.float32)}

    def tflite_example(self, meta: dict) -> tuple[str, Any, str]:
        import numpy as np

        rate = int(meta.get("sample_rate") or 16000)
        x = (0.3 * np.sin(np.arange(rate) * 2 * np.pi * 440 / rate)).astype(np.float32)[None]
        return "waveforms", x, f"float32[1, samples] at {rate} Hz"

    # ---- tests ---------------------------------------------------------------------------
    def dummy_input(self, spec: Any, n: int = 2) -> Any:
        import numpy as np

        rate = spec.sample_rate or 16000
        t = np.arange(rate) / rate
        return np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t) for i in range(n)]).astype(np.float32)

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        from zoo.testing.audio_modules import AudioModule

        return AudioModule(spec, workdir, seed)

    def test_module_key(self, spec: Any) -> tuple:
        return (spec.output_dim, spec.fine_tunable, spec.family, spec.sample_rate)
