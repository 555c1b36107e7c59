"""One clip as a batch of one, per-frame embeddings out: FRILL.

``module(waveform [1, T] float32 (or int16) at 16 kHz) -> {"embedding": [N, 2048]}``: the contract of
``google/nonsemantic-speech-benchmark/frill/1`` (model page: ``batched_input = np.expand_dims(wav, axis=0)``,
``emb = module(batched_input)['embedding']``, "`emb` is a [time, feature_dim] Tensor", 2048 wide, any
length, 16 kHz; ``saved_model_2``, fine-tunable). It is the framed audio contract (one clip per call, frames
mean-pooled per clip, the same batching, serving and file reading) with each clip given the batch axis the
module wants (`clip_call`).

Example:
    >>> ClipFrames().families, ClipFrames().serving_input
    (('frill',), 'waveforms')
"""

from __future__ import annotations

from typing import Any

from zoo.models.contracts.framed_audio import FramedAudio

__all__ = ["ClipFrames", "clip_call"]


def clip_call(obj: Any) -> Any:
    """A callable taking one clip ``[T]`` that calls ``obj`` on ``[1, T]`` (exposing ``obj``'s variables)."""
    import tensorflow as tf

    class ClipCall(tf.Module):
        variables: Any = ()
        trainable_variables: Any = ()
        regularization_losses: Any = ()

        def __init__(self) -> None:
            super().__init__(name="clip_frames_module")
            self.module = obj
            self.variables = list(getattr(obj, "variables", ()))
            self.trainable_variables = list(getattr(obj, "trainable_variables", ()))
            self.regularization_losses = list(getattr(obj, "regularization_losses", ()))

        def __call__(self, waveform: Any) -> Any:
            return self.module(waveform[None])

    return ClipCall()


class ClipFrames(FramedAudio):
    """Framed audio whose module takes each clip as ``[1, T]`` (see the module docs)."""

    name = "clip_frames"
    families = ("frill",)

    def setup(self, backbone: Any, obj: Any) -> dict:
        backbone._audio_obj = clip_call(obj)
        return {}

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        return _test_module(spec, seed)

    def test_module_key(self, spec: Any) -> tuple:
        return (spec.handle, spec.output_dim, spec.fine_tunable)


def _test_module(spec: Any, seed: int) -> Any:
    """A tiny module with FRILL's documented call: ``[1, T]`` 16 kHz -> ``{"embedding": [N, D]}`` (no batch
    axis in the output), trainable variables."""
    import numpy as np
    import tensorflow as tf

    from zoo.models.contracts.batched_audio import HIDDEN, encode_frames, frame_encoder
    from zoo.testing.facts import facts_for
    from zoo.testing.hub_object import HubObject, normal_weights

    facts = facts_for(spec.handle)  # the page's width for FRILL, never the entry's; a user's module: its entry
    dim = facts.output_dim if facts else spec.output_dim

    class FrillLike(HubObject):
        def __init__(self) -> None:
            super().__init__(name="clip_frames")
            rng = np.random.RandomState(seed)
            frame_encoder(self, rng, spec.fine_tunable)
            self.out_kernel = self._var("embedding/kernel", normal_weights(rng, (HIDDEN, dim)), spec.fine_tunable)
            self._expose()
            self.__call__.get_concrete_function(tf.TensorSpec([1, None], tf.float32))

        @tf.function
        def __call__(self, waveform: tf.Tensor) -> dict:
            tf.debugging.assert_equal(tf.shape(waveform)[0], 1, message="FRILL takes one clip: [1, samples]")
            return {"embedding": tf.einsum("nh,hd->nd", encode_frames(self, waveform)[0], self.out_kernel)}

    return FrillLike()
