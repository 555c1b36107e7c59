"""From labelled examples to batched ``tf.data`` pipelines: split, load, batch.

`_split` takes a deterministic (per seed) validation split, stratified per class;
`_file_loader` maps file paths to decoded, resized images or 16 kHz waveforms;
`_batch` batches (zero-padding audio to the longest clip of the batch) and
prefetches; `_assemble` does all of it for the folder and CSV loaders of `zoo.data`,
leaving out classes without usable files.

Example:
    >>> import numpy as np
    >>> train, val = _split(np.array([0, 0, 0, 1, 1, 1]), 2, 1 / 3, seed=0)
    >>> len(train), len(val)
    (4, 2)
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from zoo.data._audio_io import read_wav
from zoo.data._files import AUTOTUNE, DataWarning, decode_image_bytes, resize_pixels, _Skips
from zoo.data._dataset import Dataset, DataSummary
from zoo.data._kinds import kind_of
from zoo.errors import DataError

__all__: list[str] = []
def _split(labels: np.ndarray, num_classes: int, val_split: float | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (per seed) split, stratified per class for integer labels."""
    n = len(labels)
    if val_split is None:
        return np.arange(n), np.arange(0)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == c) for c in range(num_classes)] if labels.ndim == 1 else [np.arange(n)]
    train, val = [], []
    for idx in groups:
        perm = rng.permutation(idx)
        k = 0 if len(idx) < 2 else min(len(idx) - 1, max(1, round(len(idx) * val_split)))
        val.append(perm[:k])
        train.append(perm[k:])
    return np.sort(np.concatenate(train)).astype(np.int64), np.sort(np.concatenate(val)).astype(np.int64)


def _batch(ds: tf.data.Dataset, modality: str, batch_size: int, padded_shapes: Any = ([None], [])) -> tf.data.Dataset:
    """Batch (audio: zero-pad to the longest clip of the batch) and prefetch."""
    ragged = kind_of(modality).ragged
    ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes) if ragged else ds.batch(batch_size)
    return ds.prefetch(AUTOTUNE)


def _file_loader(modality: str, image_size: tuple[int, int], sample_rate: int, min_seconds: float) -> Callable | None:
    """``(path, label) -> (example, label)`` for a modality whose examples are files; None otherwise."""
    make = _LOADERS.get(modality) if kind_of(modality).lazy_files else None
    return make(image_size, sample_rate, min_seconds) if make else None


def _image_loader(image_size: tuple[int, int], sample_rate: int, min_seconds: float) -> Callable:
    def load(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return resize_pixels(decode_image_bytes(tf.io.read_file(path)), image_size), label
    return load


def _audio_loader(image_size: tuple[int, int], sample_rate: int, min_seconds: float) -> Callable:
    min_len = int(round(min_seconds * sample_rate))

    def np_load(path: bytes) -> np.ndarray:
        x = read_wav(os.fsdecode(path), sample_rate)
        return np.pad(x, (0, max(0, min_len - len(x))))

    def load_audio(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.numpy_function(np_load, [path], tf.float32, stateful=False)
        x.set_shape([None])
        return x, label
    return load_audio


_LOADERS = {"vision": _image_loader, "audio": _audio_loader}


def _assemble(items: list, labels: list[int], class_names: list[str], *, modality: str, skips: _Skips,
              keep_empty: bool, val_split: float | None, seed: int, batch_size: int, shuffle: bool,
              loader: Callable | None, source: str) -> Dataset:
    """Drop empty classes, split, and build the pipelines."""
    y = np.asarray(labels, np.int64)
    counts = np.bincount(y, minlength=len(class_names)) if len(y) else np.zeros(len(class_names), int)
    dropped: list[str] = []
    if not keep_empty and (counts == 0).any():
        keep = np.flatnonzero(counts > 0)
        dropped = [class_names[c] for c in np.flatnonzero(counts == 0)]
        for name in dropped:
            warnings.warn(f"class {name!r} in '{source}' has no usable files; it is left out", DataWarning, stacklevel=3)
        remap = np.full(len(class_names), -1)
        remap[keep] = np.arange(len(keep))
        y, class_names, counts = remap[y], [class_names[c] for c in keep], counts[keep]
    if len(class_names) < 2:
        raise DataError(
            f"'{source}' has usable examples for {len(class_names)} class(es) {class_names}; classification needs at "
            "least 2: add files for another class" + (f" (left out for having no usable files: {dropped})" if dropped else "")
        )
    train_idx, val_idx = _split(y, len(class_names), val_split, seed)
    if val_split is not None and len(val_idx) == 0:
        warnings.warn(f"'{source}': too few examples for a validation split; val is None", DataWarning, stacklevel=3)

    def build(idx: np.ndarray, shuffled: bool) -> tf.data.Dataset:
        xs = [items[i] for i in idx]
        ds = tf.data.Dataset.from_tensor_slices((tf.constant(xs, tf.string), tf.constant(y[idx], tf.int32)))
        if shuffled:
            ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True)
        if loader is not None:
            ds = ds.map(loader, num_parallel_calls=AUTOTUNE)
        return _batch(ds, modality, batch_size)

    summary = DataSummary({c: int(n) for c, n in zip(class_names, counts)}, int(len(train_idx)), int(len(val_idx)),
                          skips.items, dropped)
    val = build(val_idx, False) if len(val_idx) else None
    return Dataset(build(train_idx, shuffle), val, list(class_names), summary, modality)
