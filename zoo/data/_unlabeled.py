"""Unlabeled data: every usable file of a modality under a folder (distillation's extra inputs).

Example:
    >>> import tempfile
    >>> from zoo.data import make_synthetic_folder
    >>> root = make_synthetic_folder(tempfile.mkdtemp(), "vision", n_per_class=2)
    >>> ds, n, skipped = from_unlabeled(root, "vision", image_size=(16, 16), batch_size=4)
    >>> n, next(iter(ds)).shape.as_list()
    (6, [4, 16, 16, 3])
"""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

from zoo.data._dataset import _MIN_SECONDS, _check_modality, _check_size
from zoo.data._files import _key, _Skips, _read_bytes, _validate, _walk_class
from zoo.data._kinds import KINDS
from zoo.data._pipelines import _batch, _file_loader
from zoo.errors import DataError

__all__ = ["from_unlabeled"]


def from_unlabeled(path: str | os.PathLike, modality: str, *, image_size: tuple[int, int] = (224, 224),
                   sample_rate: int = 16000, min_seconds: float = _MIN_SECONDS,
                   batch_size: int = 32) -> tuple[tf.data.Dataset, int, list]:
    """``(dataset of input batches, number of examples, skipped [(path, reason)])`` for every file of
    ``modality`` under ``path`` (sub-folders included, their names ignored), in sorted path order,
    found and decoded as `from_folder` finds and decodes a class's files: symbolic links followed,
    each folder entered once, hidden files and folders left out. Unusable files are skipped with a
    `DataWarning`."""
    modality = _check_modality(modality)
    image_size = _check_size(image_size)
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"unlabeled data folder '{root}' does not exist or is not a folder")
    exts = KINDS[modality].extensions
    skips = _Skips()
    paths = [f for f in _walk_class(str(root), {_key(root)}, skips)
             if not os.path.basename(f).startswith(".") and os.path.splitext(f)[1].lower() in exts]
    if not paths:
        raise DataError(f"no {modality} files ({', '.join(exts)}) under '{root}'")
    good, bad, texts = _validate(paths, modality, read=_read_bytes)
    for i in sorted(bad):
        skips.add(paths[i], bad[i])
    if not good:
        raise DataError(f"none of the {len(paths)} {modality} files under '{root}' is usable")
    items = [os.fsencode(paths[i]) for i in good] if KINDS[modality].lazy_files else texts
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(items, tf.string), tf.zeros(len(items), tf.int32)))
    loader = _file_loader(modality, image_size, sample_rate, min_seconds)
    if loader is not None:
        ds = ds.map(loader, num_parallel_calls=tf.data.AUTOTUNE)
    ds = _batch(ds, modality, batch_size).map(lambda x, _y: x)
    return ds, len(good), [(s.path, s.reason) for s in skips.items]
