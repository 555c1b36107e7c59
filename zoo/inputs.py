"""Checking raw inputs before they reach TensorFlow (clear `InputError`s).

Example:
    >>> import numpy as np, zoo
    >>> check_inputs([zoo.get("yamnet")], np.zeros((2, 16000), "float32"))
    >>> try:
    ...     check_inputs([zoo.get("yamnet")], np.zeros((2, 16000, 2), "float32"))
    ... except zoo.InputError as e:
    ...     print(str(e)[:40])
    yamnet: audio must be [batch, samples] m
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.spec import BackboneSpec

__all__ = ["check_inputs", "check_one", "InputWarning", "text_bytes"]


def text_bytes(s: str | bytes) -> bytes:
    """UTF-8 bytes of a text input; undecodable bytes (surrogate-escaped, as in ``sys.argv``)
    pass through unchanged, and the model replaces them with U+FFFD.

    Example:
        >>> text_bytes("café"), text_bytes(b"x")
        (b'caf\\xc3\\xa9', b'x')
    """
    return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)


class InputWarning(UserWarning):
    """Input that zoo handled but that may not be what the user meant."""


def check_inputs(specs: list[BackboneSpec], x: Any, *, fused: bool = False) -> None:
    """Validate raw inputs for a model over ``specs`` (a dict keyed by backbone name when fused).

    Example:
        >>> check_inputs([zoo.get("use")], ["a sentence"])                 # doctest: +SKIP
    """
    if fused or isinstance(x, dict):
        if not isinstance(x, dict):
            names = ", ".join(repr(s.name) for s in specs)
            raise InputError(f"this model fuses several backbones: pass a dict of inputs keyed by {names}")
        missing = [s.name for s in specs if s.name not in x]
        if missing:
            raise InputError(
                f"input dict is missing {', '.join(map(repr, missing))}; the model needs one entry per backbone: "
                f"{', '.join(repr(s.name) for s in specs)} (got {', '.join(map(repr, x))})"
            )
        extra = [k for k in x if k not in {s.name for s in specs}]
        if extra:
            raise InputError(f"input dict has unknown key(s) {', '.join(map(repr, extra))}; expected {[s.name for s in specs]}")
        for s in specs:
            check_one(s, x[s.name])
        return
    check_one(specs[0], x)


def check_one(spec: BackboneSpec, x: Any) -> None:
    """Validate raw input for one backbone; raise `InputError` naming the problem and the fix.

    Example:
        >>> check_one(zoo.get("use"), ["ok"])                                # doctest: +SKIP
    """
    name = spec.name
    if spec.modality == "text":
        if isinstance(x, (str, bytes)):
            raise InputError(f"{name}: text input must be a batch (list) of strings, got one string; wrap it: [text]")
        dtype = getattr(x, "dtype", None)
        if dtype is not None and not isinstance(x, np.ndarray):  # a tf.Tensor (or alike): as plain tf_keras takes it
            if getattr(dtype, "name", str(dtype)) != "string":
                raise InputError(f"{name}: text input must be a string tensor, got dtype {getattr(dtype, 'name', dtype)}")
            shape = getattr(x, "shape", None)
            if shape is not None and len(shape) == 0:
                raise InputError(f"{name}: text input must be a batch of strings, got one scalar string; use tf.constant([text])")
            if shape is not None and len(shape) and shape[0] == 0:
                raise InputError(f"{name}: empty batch: pass at least one string")
            return
        try:
            n = len(x)
        except TypeError:
            if hasattr(x, "shape"):
                return  # a tensor: checked by TensorFlow
            raise InputError(f"{name}: text input must be a list of strings, got {type(x).__name__}") from None
        if n == 0:
            raise InputError(f"{name}: empty batch: pass at least one string")
        for item in list(x)[:10000]:
            if isinstance(item, bytes):
                continue
            if not isinstance(item, (str, np.str_, np.bytes_)):
                raise InputError(f"{name}: text input must contain strings, found {type(item).__name__} {item!r}")
        return
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        raise InputError(f"{name}: inputs must be a rectangular array (a batch of equally shaped examples)") from None
    if arr.dtype == object:
        raise InputError(f"{name}: inputs must be numbers in one rectangular array, got ragged or object data")
    if spec.modality == "audio" and arr.ndim == 2 and arr.shape[0] > 0 and arr.shape[1] == 0:
        raise InputError(
            f"{name}: zero-length clips (shape {arr.shape}): each clip needs at least one sample; drop empty clips "
            f"or pad them with zeros to {spec.sample_rate} samples (1 s)"
        )
    if arr.size == 0 or (arr.ndim and arr.shape[0] == 0):
        raise InputError(f"{name}: empty input (shape {arr.shape}): pass at least one example")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool):
        raise InputError(f"{name}: inputs must be real numbers (uint8 or float32), got dtype {arr.dtype}")
    if spec.modality == "vision":
        if arr.ndim == 3:
            raise InputError(
                f"{name}: images must be a batch [batch, height, width, channels]; got shape {arr.shape}: "
                "add the batch axis (x[None]) or, for grey-scale, the channel axis (x[..., None])"
            )
        if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
            raise InputError(f"{name}: images must be [batch, height, width, 1|3|4] pixels, got shape {arr.shape}")
        if arr.dtype == bool:
            return
        if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            raise InputError(
                f"{name}: images {_bad_rows(arr)} contain NaN or Inf pixel values; "
                "replace them (np.nan_to_num) or drop those images"
            )
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 255:
            raise InputError(
                f"{name}: pixel values must be in 0-255 (or 0-1), got range [{lo:.3g}, {hi:.3g}]; "
                "rescale to 0-255 (e.g. 16-bit images: x / 257)"
            )
        if np.issubdtype(arr.dtype, np.floating):
            if hi <= 1.0 and hi > 0:
                warnings.warn(
                    f"{name}: float images in [0, 1] detected; zoo expects 0-255 pixels and treats these as "
                    "already scaled (not divided by 255 again)", InputWarning, stacklevel=4,
                )
        return
    # audio
    if arr.ndim == 1:
        raise InputError(
            f"{name}: audio must be a batch [batch, samples]; got one clip of shape {arr.shape}: pass x[None]"
        )
    if arr.ndim != 2:
        raise InputError(
            f"{name}: audio must be [batch, samples] mono at {spec.sample_rate} Hz, got shape {arr.shape}; "
            "mix stereo down with x.mean(axis=-1) (zoo.data.read_wav does this and resamples)"
        )
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise InputError(
            f"{name}: waveforms {_bad_rows(arr)} contain NaN or Inf samples; "
            "clean them (np.nan_to_num) or drop those clips"
        )
    peak = max(abs(float(arr.min())), abs(float(arr.max())))  # not np.abs: abs(int8 -128) overflows
    if peak > 1.0 + 1e-6:
        raise InputError(
            f"{name}: waveform values must be floats in [-1, 1], got peak {peak:.4g}; "
            "divide 16-bit PCM by 32768 (zoo.data.read_wav does this)"
        )


def _bad_rows(arr: np.ndarray) -> str:
    """``"[0, 3]"``: indices (first 5) of the examples holding NaN or Inf."""
    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1))
    shown = ", ".join(str(i) for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
    return f"[{shown}]"
