"""Batched audio: ``module(waveforms [B, T] float32 in [-1, 1] at 16 kHz) -> {"embedding": [B, D]}``.

The contract of TF Hub's TRILLsson models (``google/nonsemantic-speech-benchmark/
trillsson1..5/1``; model pages: "Model input is of the shape [batch size, time]",
``m(audio_samples)['embedding']`` of shape ``[None, 1024]``, "Models internally
aggregate over time", fine-tunable, ``saved_model_2``) and FRILL-style modules. The
whole batch goes through one call; the entry's ``output_key`` (default
``"embedding"``) picks the output. Raw input, checks, file reading and serving
(``waveforms`` ``float32 [B, T]``) are those of the framed audio contract; a clip is
served on its own, so padding never changes its result.

Example:
    >>> BatchedAudio().families, BatchedAudio().serving_input
    (('trillsson',), 'waveforms')
"""

from __future__ import annotations

from typing import Any

from zoo.models.contracts.framed_audio import FramedAudio

__all__ = ["BatchedAudio"]

HIDDEN = 16


class BatchedAudio(FramedAudio):
    """``[B, T]`` waveforms in, a dict with a clip-level ``embedding`` out (see the module docs)."""

    name = "batched_audio"
    families = ("trillsson",)

    def setup(self, backbone: Any, obj: Any) -> dict:
        return {"output_key": backbone.spec.output_key or "embedding"}

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        from zoo.tfk import tf

        return backbone.module(tf.cast(inputs, tf.float32), training=training)

    def export_objects(self, backbone: Any) -> list:
        return []

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        return _test_module(spec, seed)

    def test_module_key(self, spec: Any) -> tuple:
        return (spec.output_dim, spec.fine_tunable)


def frame_encoder(obj: Any, rng: Any, trainable: bool) -> None:
    """Give a test module (a `zoo.testing.hub_object.HubObject`) a tiny speech front end: 25 ms frames
    every 10 ms projected to a hidden width, then two residual blocks (see `encode_frames`)."""
    from zoo.testing.hub_object import normal_weights

    obj.frame_kernel = obj._var("frontend/frame/kernel", normal_weights(rng, (400, HIDDEN), 400) * 4.0, trainable)
    obj.block_kernels = [obj._var(f"encoder/block_{i}/kernel", normal_weights(rng, (HIDDEN, HIDDEN)), trainable)
                         for i in range(2)]


def encode_frames(obj: Any, waveforms: Any) -> Any:
    """``[B, T]`` 16 kHz waveforms -> ``[B, N, hidden]`` frame features with `frame_encoder`'s variables."""
    import tensorflow as tf

    x = tf.convert_to_tensor(waveforms, tf.float32)
    pad = tf.maximum(400 - tf.shape(x)[1], 0)
    frames = tf.signal.frame(tf.pad(x, [[0, 0], [0, pad]]), 400, 160)  # [B, N, 400]
    h = tf.tanh(tf.einsum("bnf,fh->bnh", tf.abs(frames), obj.frame_kernel))
    for k in obj.block_kernels:
        h = h + tf.tanh(tf.einsum("bnh,hk->bnk", h, k)) / 2.0
    return h


def _test_module(spec: Any, seed: int) -> Any:
    """A tiny module with TRILLsson's documented contract: ``[B, T]`` 16 kHz floats -> ``{"embedding":
    [B, D]}`` aggregated over time, ``training`` traced both ways, fine-tunable variables."""
    import numpy as np
    import tensorflow as tf

    from zoo.testing.hub_object import HubObject, normal_weights, trace_call

    class TrillssonLike(HubObject):
        def __init__(self) -> None:
            super().__init__(name="batched_audio")
            rng = np.random.RandomState(seed)
            tr, d = spec.fine_tunable, spec.output_dim
            frame_encoder(self, rng, tr)
            self.out_kernel = self._var("embedding/kernel", normal_weights(rng, (HIDDEN, d)), tr)
            self._expose()
            trace_call(self.__call__, tf.TensorSpec([None, None], tf.float32))

        @tf.function
        def __call__(self, waveforms: tf.Tensor, training: bool = False) -> dict:
            h = encode_frames(self, waveforms)
            return {"embedding": tf.matmul(tf.reduce_mean(h, axis=1), self.out_kernel)}

    return TrillssonLike()
