"""Clip embeddings from waveform modules that take ONE clip per call (YAMNet, VGGish).

Such a module maps a 1-D waveform to per-frame outputs ``[N, D]``; a clip's
embedding is their mean over the frames. TF Hub's audio modules have no batch
dimension, so the tutorials loop over clips in Python. zoo runs a batch
``[B, T]`` in one graph instead:

* `batched`: the per-clip computation vectorised over the batch with
  ``tf.vectorized_map`` (pfor): every convolution of the module runs once on
  the frames of all clips, with exactly the frames (and zero padding) each clip
  gets alone; ops pfor cannot vectorise run in a loop inside the same graph.
* `per_clip`: one module call per clip (``tf.map_fn``), used when vectorising
  fails for a module, and while the module is being fine-tuned: in graph mode
  pfor does not pass gradients on to the variables the module captures.

Example:
    >>> pick_output(("scores", "embeddings", "log_mel"), None)
    'embeddings'
"""

from __future__ import annotations

import warnings

from typing import Any

from zoo.tfk import tf

__all__ = ["pick_output", "clip_embedding", "batched", "per_clip"]

_TUPLE_KEYS = {"scores": 0, "embeddings": 1, "log_mel_spectrogram": 2}


def pick_output(out: Any, key: str | None) -> Any:
    """The embedding output of a module call (dict by key, YAMNet's tuple by position).

    Example:
        >>> pick_output({"embeddings": 1, "scores": 2}, "scores")
        2
    """
    if isinstance(out, dict):
        return out[key or "embeddings"]
    if isinstance(out, (list, tuple)):
        return out[_TUPLE_KEYS.get(key or "embeddings", 1)]
    return out


def clip_embedding(obj: Any, wave: Any, key: str | None, dim: int) -> Any:
    """``[T]`` -> ``[dim]``: the module's frames for one clip, mean-pooled.

    Example:
        clip_embedding(yamnet, tf.zeros([16000]), "embeddings", 1024).shape
        # -> TensorShape([1024])
    """
    return tf.reduce_mean(tf.reshape(pick_output(obj(wave), key), [-1, dim]), axis=0)


def per_clip(obj: Any, waves: Any, key: str | None, dim: int) -> Any:
    """``[B, T]`` -> ``[B, dim]``: one module call per clip (``tf.map_fn``).

    Example:
        per_clip(yamnet, tf.zeros([2, 16000]), "embeddings", 1024).shape
        # -> TensorShape([2, 1024])
    """
    return tf.map_fn(lambda w: clip_embedding(obj, w, key, dim), waves,
                     fn_output_signature=tf.TensorSpec([dim], tf.float32), parallel_iterations=8)


def batched(obj: Any, waves: Any, key: str | None, dim: int, name: str | None = None) -> Any:
    """``[B, T]`` -> ``[B, dim]``: the module vectorised over the batch; `per_clip` if it cannot be
    (with a warning, once per module, naming ``name`` and the reason).

    Example:
        batched(yamnet, tf.zeros([2, 16000]), "embeddings", 1024).shape
        # -> TensorShape([2, 1024])
    """
    waves = tf.convert_to_tensor(waves, tf.float32)
    try:
        out = tf.vectorized_map(lambda w: clip_embedding(obj, w, key, dim), waves,
                                fallback_to_while_loop=True, warn=False)
    except Exception as exc:  # noqa: BLE001 - a module pfor cannot trace at all: the always-correct path
        _warn_slow_path(obj, name, exc)
        return per_clip(obj, waves, key, dim)
    return tf.ensure_shape(out, [None, dim])


_WARNED: set = set()


def _warn_slow_path(obj: Any, name: str | None, exc: BaseException) -> None:
    """Say once per module that it runs clip by clip (slower, same results), and why."""
    if id(obj) in _WARNED:
        return
    _WARNED.add(id(obj))
    from zoo.models._inputs import InputWarning

    first = (str(exc).strip().splitlines() or [""])[0][:200]
    warnings.warn(f"audio module of {name or type(obj).__name__!r} cannot be vectorised over the batch "
                  f"({type(exc).__name__}: {first}); it runs clip by clip: same results, slower",
                  InputWarning, stacklevel=3)
