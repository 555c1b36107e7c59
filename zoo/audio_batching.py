"""Clip embeddings from waveform modules that take ONE clip per call (YAMNet, VGGish).

Such a module maps a 1-D waveform to per-frame outputs ``[N, D]``; a clip's
embedding is their mean. Two ways to run a batch ``[B, T]`` through it:

* `per_clip`: one module call per clip (``tf.map_fn``); works for any module.
* `framed`: for modules whose frames are a fixed window sliding by a fixed hop
  (registry fields ``frame_window`` / ``frame_hop``, seconds), every clip is
  zero-padded to a whole number of hops and the batch is concatenated into one
  waveform: one module call, and each clip keeps the frames that start inside
  it and end before the next clip. The frames it keeps see exactly the samples
  (and zero padding) a call on the clip alone sees, so the embeddings are the
  same; `check_framing` proves that on the loaded module before it is used.

Example:
    >>> import numpy as np
    >>> framing_samples(0.975, 0.48, 16000)
    (15600, 7680)
    >>> clip_layout(16000, 15600, 7680)   # 1 s clips: 2 frames each, 4 hops apart
    (2, 4)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from zoo.tfk import tf

__all__ = ["FramingWarning", "framing_samples", "clip_layout", "pick_output", "per_clip", "framed", "check_framing"]

_TUPLE_KEYS = {"scores": 0, "embeddings": 1, "log_mel_spectrogram": 2}


class FramingWarning(UserWarning):
    """A backbone's declared ``frame_window`` / ``frame_hop`` do not match its module."""


def framing_samples(window_s: float, hop_s: float, sample_rate: int) -> tuple[int, int]:
    """``(window, hop)`` in samples.

    Example:
        >>> framing_samples(0.96, 0.48, 16000)
        (15360, 7680)
    """
    return int(round(window_s * sample_rate)), int(round(hop_s * sample_rate))


def clip_layout(length: int, window: int, hop: int) -> tuple[int, int]:
    """``(frames per clip, hops between clip starts)`` for clips of ``length`` samples.

    A clip yields ``1 + ceil((max(length, window) - window) / hop)`` frames and
    needs ``window + (frames - 1) * hop`` samples; the next clip starts at the
    next whole hop after that.

    Example:
        >>> clip_layout(160000, 15600, 7680)   # 10 s clips
        (20, 22)
    """
    frames = 1 + -(-max(length - window, 0) // hop)
    needed = window + (frames - 1) * hop
    return frames, -(-needed // hop)


def pick_output(out: Any, key: str | None) -> Any:
    """The embedding output of a module call (dict by key, YAMNet's tuple by position).

    Example:
        >>> pick_output(("s", "e", "m"), "embeddings")
        'e'
    """
    if isinstance(out, dict):
        return out[key or "embeddings"]
    if isinstance(out, (list, tuple)):
        return out[_TUPLE_KEYS.get(key or "embeddings", 1)]
    return out


def per_clip(obj: Any, waves: Any, key: str | None, dim: int) -> Any:
    """``[B, T]`` -> ``[B, dim]``: one module call per clip, frames mean-pooled.

    Example:
        >>> per_clip(yamnet, tf.zeros([2, 16000]), "embeddings", 1024).shape   # doctest: +SKIP
        TensorShape([2, 1024])
    """

    def one(wave: Any) -> Any:
        return tf.reduce_mean(tf.reshape(pick_output(obj(wave), key), [-1, dim]), axis=0)

    return tf.map_fn(one, waves, fn_output_signature=tf.TensorSpec([dim], tf.float32), parallel_iterations=8)


def framed(obj: Any, waves: Any, key: str | None, dim: int, window: int, hop: int) -> Any:
    """``[B, T]`` -> ``[B, dim]`` with ONE module call on the clips laid end to end (see module docs).

    Example:
        >>> framed(yamnet, tf.zeros([2, 16000]), "embeddings", 1024, 15600, 7680).shape   # doctest: +SKIP
        TensorShape([2, 1024])
    """
    waves = tf.convert_to_tensor(waves, tf.float32)
    batch, length = tf.shape(waves)[0], tf.shape(waves)[1]
    frames = 1 + (tf.maximum(length - window, 0) + hop - 1) // hop
    stride = (window + (frames - 1) * hop + hop - 1) // hop
    padded = tf.pad(waves, [[0, 0], [0, stride * hop - length]])
    out = tf.reshape(pick_output(obj(tf.reshape(padded, [-1])), key), [-1, dim])
    index = tf.range(batch)[:, None] * stride + tf.range(frames)[None, :]  # [B, frames]
    pooled = tf.reduce_mean(tf.gather(out, index), axis=1)
    return tf.ensure_shape(pooled, [None, dim])


def check_framing(obj: Any, key: str | None, dim: int, window: int, hop: int, *, name: str) -> bool:
    """True if `framed` gives what `per_clip` gives on this module (probe: 3 clips, 2 lengths).

    On a mismatch (or an error) warns with `FramingWarning` and returns False;
    the backbone then runs one call per clip.

    Example:
        >>> check_framing(yamnet, "embeddings", 1024, 15600, 7680, name="yamnet")   # doctest: +SKIP
        True
    """
    rng = np.random.RandomState(0)
    try:
        with tf.init_scope():
            for length in (window + hop + hop // 3, max(hop // 2, 1)):
                waves = tf.constant(rng.uniform(-0.5, 0.5, (3, length)).astype(np.float32))
                want = per_clip(obj, waves, key, dim).numpy()
                got = framed(obj, waves, key, dim, window, hop).numpy()
                scale = float(np.abs(want).max()) or 1.0
                if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-4 * scale):
                    err = float(np.abs(got - want).max()) if got.shape == want.shape else float("nan")
                    raise ValueError(f"batched embeddings differ from per-clip ones by up to {err:.3g}")
    except Exception as exc:  # noqa: BLE001 - any failure: fall back to the always-correct path
        warnings.warn(
            f"backbone {name!r}: frame_window/frame_hop ({window}/{hop} samples) do not match its module ({exc}); "
            "running one module call per clip instead. Fix or remove frame_window/frame_hop in its registry entry",
            FramingWarning, stacklevel=3)
        return False
    return True
