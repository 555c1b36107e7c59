"""In-memory data as pipelines: `from_arrays` (classification) and `as_dataset` (anything `zoo.fit` takes).

Inputs stay in one tensor each (no per-example copies); examples are gathered by
index inside the pipeline. Re-exported by `zoo.data`.

Example:
    >>> ds = from_arrays(["good", "bad", "fine", "awful"], ["pos", "neg", "pos", "neg"], batch_size=4)
    >>> ds.class_names, ds.summary.class_counts
    (['neg', 'pos'], {'neg': 2, 'pos': 2})
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import tensorflow as tf

from zoo.data._text import text_bytes
from zoo.data._files import DataWarning
from zoo.data._dataset import _MIN_SECONDS, Dataset, DataSummary, _check_args, _check_modality, _positive_int, _sort_names
from zoo.errors import InputError
from zoo.data._kinds import kind_of
from zoo.data._pipelines import _batch, _split

__all__ = ["from_arrays", "as_dataset"]
def _infer_modality(inputs: Any) -> str:
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "iufb":
        nd = inputs.ndim - 1
    elif isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], (str, bytes)):
        return "text"
    elif isinstance(inputs, np.ndarray) and inputs.dtype.kind in "USO":
        return "text"
    elif isinstance(inputs, (list, tuple)) and inputs:
        nd = np.ndim(inputs[0])
    else:
        raise InputError(f"cannot tell the modality of inputs of type {type(inputs).__name__}; pass modality=")
    if nd == 1:
        return "audio"
    if nd in (2, 3):
        return "vision"
    raise InputError(f"cannot tell the modality of inputs whose items have {nd} dimensions; pass modality=")


def _text_array(inputs: Any) -> np.ndarray:
    out = []
    for i, s in enumerate(inputs):
        if isinstance(s, np.str_ | np.bytes_):
            s = s.item()
        if not isinstance(s, (str, bytes)):
            raise InputError(f"text inputs must be strings; item {i} is {type(s).__name__} ({s!r:.40})")
        out.append(text_bytes(s))
    return np.asarray(out, dtype=object)


def _image_array(inputs: Any) -> np.ndarray:
    try:
        x = np.asarray(inputs)
    except ValueError:
        x = np.asarray(inputs, dtype=object)
    if x.dtype == object:
        raise InputError("images have different sizes; resize them to one size first (or use zoo.data.from_folder)")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise InputError(f"images must be [N, H, W], [N, H, W, 1], [N, H, W, 3] or [N, H, W, 4]; got shape {x.shape}")
    if x.dtype.kind not in "uif":
        raise InputError(f"images must be numbers (uint8 or float 0-255), got dtype {x.dtype}")
    if x.dtype != np.uint8:
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi > 255:
            raise InputError(f"image values must lie in 0-255, got {lo:g}..{hi:g}")
        if x.dtype.kind == "f" and 0 < hi <= 1.0:
            warnings.warn("float images lie in [0, 1]; zoo expects 0-255 (models rescale inside): multiply by 255",
                          DataWarning, stacklevel=3)
        x = x.astype(np.float32)
    x = x[..., :3]
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def _audio_arrays(inputs: Any, min_len: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for i, c in enumerate(inputs):
        c = np.asarray(c)
        if c.ndim != 1:
            raise InputError(f"audio clip {i} must be a 1-D mono waveform, got shape {c.shape}; mix down with .mean(axis=-1)")
        if c.dtype == np.int16:
            c = c / 32768.0
        c = c.astype(np.float32)
        if c.size and (not np.isfinite(c).all() or np.abs(c).max() > 1.0 + 1e-3):
            raise InputError(f"audio clip {i} must be floats in [-1, 1] (16 kHz); divide 16-bit PCM by 32768")
        out.append(np.pad(c, (0, max(0, min_len - len(c)))))
    splits = np.cumsum([0] + [len(c) for c in out]).astype(np.int64)
    return (np.concatenate(out) if out else np.zeros(0, np.float32)), splits


def _store(inputs: Any, modality: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """A function index -> example for ``inputs`` (arrays stay in one tensor; no per-example copies)."""
    return _STORES[modality](inputs)


def _text_store(inputs: Any) -> Callable[[tf.Tensor], tf.Tensor]:
    t = tf.constant(_text_array(inputs), tf.string)
    return lambda i: tf.gather(t, i)


def _image_store(inputs: Any) -> Callable[[tf.Tensor], tf.Tensor]:
    t = tf.constant(_image_array(inputs))
    return lambda i: tf.cast(tf.gather(t, i), tf.float32)


def _audio_store(inputs: Any) -> Callable[[tf.Tensor], tf.Tensor]:
    flat, splits = _audio_arrays(inputs, int(round(_MIN_SECONDS * 16000)))
    ft, st = tf.constant(flat), tf.constant(splits)
    return lambda i: ft[st[i]:st[i + 1]]


_STORES = {"text": _text_store, "vision": _image_store, "audio": _audio_store}


# stores whose getter takes a vector of indices (ragged audio and dicts go example by example)


def _no_autotune() -> tf.data.Options:
    """In-memory pipelines do almost no work, so they run with fixed parallelism and no
    autotuning thread: deleting an iterator waits for that thread, which stalled training
    and evaluation for up to 8 s per iterator on a busy 2-core machine (measured)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _pipeline(get: Callable, labels: np.ndarray | None, idx: np.ndarray, modality: str, batch_size: int,
              shuffle: bool, seed: int) -> tf.data.Dataset:
    return _index_pipeline(get, labels, idx, modality, batch_size, shuffle, seed).with_options(_no_autotune())


def _index_pipeline(get: Callable, labels: np.ndarray | None, idx: np.ndarray, modality: str, batch_size: int,
                    shuffle: bool, seed: int) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(idx, tf.int64))
    if shuffle:
        ds = ds.shuffle(max(1, len(idx)), seed=seed, reshuffle_each_iteration=True)
    y = None if labels is None else tf.constant(labels)
    if kind_of(modality).whole_batch:  # one gather per batch, as Keras does for NumPy inputs
        ds = ds.batch(batch_size)
        ds = ds.map(get if y is None else (lambda i: (get(i), tf.gather(y, i))), num_parallel_calls=2)
        return ds.prefetch(2)
    if y is None:
        return _batch(ds.map(get, num_parallel_calls=2), modality, batch_size, [None])
    ds = ds.map(lambda i: (get(i), tf.gather(y, i)), num_parallel_calls=2)
    return _batch(ds, modality, batch_size, ([None], list(labels.shape[1:])))


def _class_labels(labels: Any, n: int, class_names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    y = np.asarray(labels)
    if y.shape[:1] != (n,):
        raise InputError(f"got {n} inputs but labels of shape {y.shape}; give one label per input")
    names = None if class_names is None else [str(c) for c in class_names]
    if y.dtype.kind in "USO":
        strs = [s.decode() if isinstance(s, bytes) else str(s) for s in y.reshape(-1)]
        names = names or _sort_names(strs)
        index = {c: i for i, c in enumerate(names)}
        for i, s in enumerate(strs):
            if s not in index:
                raise InputError(f"label {s!r} (item {i}) is not in class_names {names}")
        y = np.asarray([index[s] for s in strs], np.int32)
    elif y.ndim == 2:  # one-hot / multi-hot
        names = names or [str(i) for i in range(y.shape[1])]
        if len(names) != y.shape[1]:
            raise InputError(f"labels have {y.shape[1]} columns but class_names has {len(names)} names")
        y = y.astype(np.float32)
    elif y.ndim == 1 and y.dtype.kind in "biuf":
        if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
            raise InputError("labels are non-integer floats; for regression targets use zoo.data.as_dataset((inputs, labels))")
        y = y.astype(np.int64)
        if n and y.min() < 0:
            raise InputError(f"labels must be class indices >= 0, got {int(y.min())}")
        k = int(y.max()) + 1 if n else 0
        names = names or [str(i) for i in range(k)]
        if k > len(names):
            raise InputError(f"label {k - 1} is out of range for {len(names)} class_names {names}")
        y = y.astype(np.int32)
    else:
        raise InputError(f"labels must be class indices, class-name strings or multi-hot rows; got shape {y.shape}, dtype {y.dtype}")
    if len(names) < 2 or len(set(names)) != len(names):
        raise InputError(f"need at least 2 distinct classes, got class_names {names}")
    return y, names


def from_arrays(inputs: Any, labels: Any, *, class_names: Sequence[str] | None = None, batch_size: int = 32,
                val_split: float | None = None, seed: int = 42, modality: str | None = None) -> Dataset:
    """In-memory inputs and labels as a `Dataset` (same structure as `from_folder`).

    Inputs: a list/array of strings (text); images ``[N, H, W(, C)]`` uint8 or float
    0-255 (grey / RGBA become RGB); or 16 kHz mono waveforms ``[N, T]`` or a list of
    1-D arrays (float in [-1, 1] or int16), each zero-padded to at least 0.975 s.
    Labels: class indices, class-name strings (mapped to sorted names, or to
    ``class_names``) or multi-hot rows ``[N, K]``.

    Example:
        >>> import numpy as np
        >>> ds = from_arrays(np.zeros((4, 8, 8, 3), np.uint8), [0, 1, 0, 1], batch_size=4)
        >>> x, y = next(iter(ds.train)); x.shape, y.dtype.name, ds.class_names
        (TensorShape([4, 8, 8, 3]), 'int32', ['0', '1'])
    """
    val_split = _check_args(batch_size, val_split, seed)
    modality = _check_modality(modality) if modality is not None else _infer_modality(inputs)
    n = len(inputs)
    if n == 0:
        raise InputError("inputs are empty; give at least one example per class")
    y, names = _class_labels(labels, n, class_names)
    get = _store(inputs, modality)
    train_idx, val_idx = _split(y, len(names), val_split, seed)
    counts = y.sum(axis=0) if y.ndim == 2 else np.bincount(y, minlength=len(names))
    summary = DataSummary({c: int(k) for c, k in zip(names, counts)}, len(train_idx), len(val_idx))
    val = _pipeline(get, y, val_idx, modality, batch_size, False, seed) if len(val_idx) else None
    return Dataset(_pipeline(get, y, train_idx, modality, batch_size, True, seed), val, names, summary, modality)


def _generic_store(x: Any) -> tuple[Callable, int, str]:
    """index -> example for arbitrary inputs: strings, numeric arrays, ragged 1-D lists, or dicts of them."""
    if isinstance(x, dict):
        parts = {k: _generic_store(v) for k, v in x.items()}
        sizes = {k: p[1] for k, p in parts.items()}
        if len(set(sizes.values())) > 1:
            raise InputError(f"dict inputs have different lengths {sizes}")
        return (lambda i: {k: p[0](i) for k, p in parts.items()}), next(iter(sizes.values()), 0), "dict"
    if isinstance(x, (tf.Tensor, tf.Variable)):
        x = x.numpy()
    if (isinstance(x, np.ndarray) and x.dtype.kind in "USO") or (isinstance(x, (list, tuple)) and x and isinstance(x[0], (str, bytes))):
        return _store(x, "text"), len(x), "text"
    try:
        arr = np.asarray(x)
    except ValueError:
        arr = np.asarray(x, dtype=object)
    if arr.dtype == object:  # ragged waveforms
        return _store([np.asarray(c, np.float32) for c in x], "audio"), len(x), "audio"
    t = tf.constant(arr)
    return (lambda i: tf.gather(t, i)), len(arr), "array"


def as_dataset(data: Any, batch_size: int = 32, *, shuffle: bool = False, seed: int = 0) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` from what users pass to ``zoo.fit``.

    * a ``tf.data.Dataset``: returned as is (it should already be batched);
    * a `Dataset`: its ``train`` pipeline;
    * an ``(inputs, labels)`` tuple: arrays, lists of strings, lists of 1-D waveforms
      (zero-padded per batch) or a dict of those; labels as given (ints, floats, multi-hot);
    * inputs alone (no tuple): an inputs-only dataset, never shuffled (for predict).

    ``shuffle`` reshuffles the examples every epoch (deterministic per ``seed``).

    Example:
        >>> import numpy as np
        >>> ds = as_dataset((np.zeros((5, 3), np.float32), np.arange(5)), batch_size=2)
        >>> [tuple(x.shape) for x, _ in ds]
        [(2, 3), (2, 3), (1, 3)]
    """
    _positive_int(batch_size, "batch_size")
    if isinstance(data, tf.data.Dataset):
        return data
    if isinstance(data, Dataset):
        return data.train
    if isinstance(data, (str, os.PathLike)):
        raise InputError(f"as_dataset got a path {str(data)!r}; load it with zoo.data.from_folder or from_csv first")
    labels = None
    if isinstance(data, tuple):
        if len(data) != 2:
            raise InputError(f"expected an (inputs, labels) tuple, got a tuple of {len(data)} items")
        data, labels = data
    get, n, kind = _generic_store(data)
    if n == 0:
        raise InputError("inputs are empty")
    y = None
    if labels is not None:
        y = np.asarray(labels.numpy() if isinstance(labels, tf.Tensor) else labels)
        if y.dtype.kind in "USO":
            raise InputError("string labels need a class mapping: use zoo.data.from_arrays(inputs, labels), "
                             "which returns class_names, and pass its result")
        if len(y) != n:
            raise InputError(f"got {n} inputs but {len(y)} labels; give one label per input")
        y = y.astype(np.float32) if y.dtype.kind == "f" else y.astype(np.int32)
    idx = np.arange(n)
    return _pipeline(get, y, idx, kind, batch_size, shuffle and y is not None, seed)
