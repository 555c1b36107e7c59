"""Speech frames: ``module(samples=[B, T] float32 at 16 kHz, sample_rate=16000) -> {"embedding": [B, N, D], ...}``.

The contract of TF Hub's TRILL models (``google/nonsemantic-speech-benchmark/trill/3`` and
``trill-distilled/3``; model pages: called as ``module(samples=..., sample_rate=16000)``,
a dict with ``embedding`` per frame, TRILL also ``layer19``; ``saved_model_2``,
fine-tunable). The exporter checks ``sample_rate == 16000``; a ``[B, T]`` input gives
``[B, N, D]`` frame embeddings, which this contract averages over frames into one
vector per clip (the entry's ``output_key`` picks the output, default ``embedding``).
Raw input, checks, file reading and serving are those of the batched audio contract.

Example:
    >>> SpeechFrames().families, SpeechFrames().serving_input
    (('trill',), 'waveforms')
"""

from __future__ import annotations

from typing import Any

from zoo.models.contracts.batched_audio import HIDDEN, BatchedAudio, encode_frames, frame_encoder

__all__ = ["SpeechFrames"]

SAMPLE_RATE = 16000  # the only rate the TRILL exporter accepts
# output widths per frame on the model pages (assets/docs/google/models/nonsemantic-speech-benchmark/):
# trill/3 "embedding [None, 512]", "layer19 [None, 12288]"; trill-distilled/3 "embedding [None, 2048]"
_PAGE_OUTPUTS = {
    "https://tfhub.dev/google/nonsemantic-speech-benchmark/trill/3": {"embedding": 512, "layer19": 12288},
    "https://tfhub.dev/google/nonsemantic-speech-benchmark/trill-distilled/3": {"embedding": 2048},
}


class SpeechFrames(BatchedAudio):
    """``[B, T]`` waveforms in as ``samples=`` with ``sample_rate=``; per-frame embeddings averaged per clip."""

    name = "speech_frames"
    families = ("trill",)

    def module_arguments(self, spec: Any) -> dict:
        return {"sample_rate": SAMPLE_RATE}

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        from zoo.tfk import tf

        frames = backbone.module(tf.cast(inputs, tf.float32), training=training)  # [B, N, D]
        return tf.reduce_mean(frames, axis=1)

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        return _test_module(spec, seed)

    def test_module_key(self, spec: Any) -> tuple:
        return (spec.handle, tuple(sorted(_outputs(spec).items())), spec.fine_tunable)


def _outputs(spec: Any) -> dict:
    """The module's outputs and their widths: the model page's for a known handle (never the entry's),
    else the entry's own output (a user's module)."""
    return _PAGE_OUTPUTS.get(spec.handle) or {spec.output_key or "embedding": spec.output_dim}


def _test_module(spec: Any, seed: int) -> Any:
    """A tiny module with TRILL v3's documented call: ``(samples [B, T], sample_rate)`` -> per-frame
    outputs with the page's keys and widths (TRILL: ``embedding`` 512 and ``layer19`` 12288),
    refusing any rate but 16 kHz as the exporter does."""
    import numpy as np
    import tensorflow as tf

    from zoo.testing.hub_object import HubObject, normal_weights

    class TrillLike(HubObject):
        def __init__(self) -> None:
            super().__init__(name="speech_frames")
            rng = np.random.RandomState(seed)
            tr, outputs = spec.fine_tunable, _outputs(spec)
            frame_encoder(self, rng, tr)
            self.out_kernels = {key: self._var(f"{key}/kernel", normal_weights(rng, (HIDDEN, d)), tr)
                                for key, d in sorted(outputs.items())}
            self._expose()
            self.__call__.get_concrete_function(tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([], tf.int32))

        @tf.function
        def __call__(self, samples: tf.Tensor, sample_rate: tf.Tensor) -> dict:
            tf.debugging.assert_equal(tf.cast(sample_rate, tf.int32), SAMPLE_RATE, message="sample_rate must be 16000")
            h = encode_frames(self, samples)
            return {key: tf.einsum("bnh,hd->bnd", h, k) for key, k in self.out_kernels.items()}

    return TrillLike()
