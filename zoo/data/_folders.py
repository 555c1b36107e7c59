"""Turn folders, CSV files and arrays into batched ``tf.data`` pipelines for `zoo.fit`.

Every loader returns a `Dataset`: ``train`` / ``val`` pipelines of ``(inputs, labels)``
batches, ``class_names`` (label ``i`` is ``class_names[i]``) and a `DataSummary`.

What each modality yields:
    vision: float32 ``[B, H, W, 3]`` RGB with values 0-255, resized (bilinear, antialiased)
            to ``image_size``. Images are *not* rescaled to [0, 1]: zoo models rescale
            inside, exactly as the backbone needs.
            Grey-scale and RGBA are converted to RGB; a GIF gives its first frame.
    text:   tf.string ``[B]`` (a .txt file is one example, UTF-8).
    audio:  float32 ``[B, T]`` mono 16 kHz waveforms in [-1, 1], zero-padded to the
            longest clip of the batch (and each clip to at least ``min_seconds``).
Labels are int32 class indices ``[B]``. Class names are sorted (numerically when every
name is an integer, so "2" comes before "10").

Broken inputs never crash a run and never silently disappear: files that cannot be
read or decoded, or have the wrong type, are skipped with one `DataWarning` each and
listed in ``summary.skipped``. Hidden files and folders (name starting with ".")
are listed there too, without a warning.

This module holds the file loaders (`from_folder`, `from_csv`, `read_image`) and
re-exports the rest: the result types from `zoo.data._dataset`, file scanning and checks
from `zoo.data._files`, splitting and batching from `zoo.data._pipelines`, `from_arrays` and
`as_dataset` from `zoo.data._arrays`, and `make_synthetic_folder` from `zoo.data._synthetic`.

Example:
    >>> import tempfile, zoo.data as zd
    >>> root = zd.make_synthetic_folder(tempfile.mkdtemp(), "text", n_per_class=4)
    >>> ds = zd.from_folder(root, "text", batch_size=4, val_split=0.25)
    >>> ds.class_names, ds.summary.n_train, ds.summary.n_val
    (['a', 'b', 'c'], 9, 3)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.data._dataset import _MIN_SECONDS, Dataset, _check_args, _check_modality, _check_size, _positive_int, _sort_names
from zoo.data._files import (
    _MAGIC, _key, _os_reason, _read_bytes, _Skips, _tf_reason, _validate, _walk_class, decode_image_bytes,
    resize_pixels,
)
from zoo.data._image_header import HEADER_BYTES, too_many_pixels
from zoo.data._kinds import KINDS
from zoo.data._pipelines import _assemble, _file_loader
from zoo.errors import ConfigurationError, DataError
from zoo.data._csv import from_csv

__all__ = ["from_folder", "from_csv", "read_image"]


# ---- folders -------------------------------------------------------------------------------
def from_folder(path: str | os.PathLike, modality: str, *, image_size: tuple[int, int] = (224, 224),
                sample_rate: int = 16000, min_seconds: float = _MIN_SECONDS, batch_size: int = 32,
                val_split: float | None = None, seed: int = 42, shuffle: bool = True) -> Dataset:
    """Load ``path/<class>/<files>`` (one sub-folder per class, searched recursively) as a `Dataset`.

    Class names are the sorted sub-folder names (numerically if all are integers); label
    ``i`` is ``class_names[i]``. Files: images .jpg/.jpeg/.png/.bmp/.gif, text .txt, audio
    .wav (extensions case-insensitive). Every file is checked up front; unusable ones are
    skipped with a `DataWarning` and listed in ``summary.skipped``. With ``val_split`` a
    deterministic (per ``seed``) split is taken from each class; ``shuffle`` reshuffles
    the training set every epoch. Images come out 0-255 (not rescaled), resized to
    ``image_size``; audio as 16 kHz mono padded to ``min_seconds``.

    Example:
        >>> import tempfile
        >>> from zoo.data import make_synthetic_folder
        >>> root = make_synthetic_folder(tempfile.mkdtemp(), "vision", n_per_class=2)
        >>> ds = from_folder(root, "vision", image_size=(32, 32), batch_size=6)
        >>> x, y = next(iter(ds.train)); x.shape, x.dtype.name, ds.num_classes
        (TensorShape([6, 32, 32, 3]), 'float32', 3)
    """
    modality = _check_modality(modality)
    val_split = _check_args(batch_size, val_split, seed)
    image_size = _check_size(image_size)
    sample_rate = _positive_int(sample_rate, "sample_rate")
    if isinstance(min_seconds, bool) or not isinstance(min_seconds, (int, float)) or min_seconds < 0:
        raise ConfigurationError(f"min_seconds must be a number >= 0, got {min_seconds!r}")
    root = Path(path).expanduser()
    layout = "put one sub-folder per class in it, e.g. data/cats/1.jpg and data/dogs/1.jpg"
    if not root.exists():
        raise DataError(f"data folder '{root}' does not exist; pass the folder that holds the class sub-folders ({layout})")
    if not root.is_dir():
        hint = "; for a CSV file use zoo.data.from_csv" if root.suffix.lower() in (".csv", ".tsv") else ""
        raise DataError(f"'{root}' is a file, not a folder: pass the folder that holds the class sub-folders{hint}")
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"cannot list data folder '{root}': {_os_reason(exc)}") from None
    skips = _Skips()
    class_dirs, loose = [], []
    for e in entries:
        if e.name.startswith("."):
            skips.add(e.path, "hidden", warn=False)
        elif e.is_dir():
            class_dirs.append(e)
        else:
            loose.append(e.path)
    if len(class_dirs) < 2:
        found = f"only one class folder {class_dirs[0].name!r}" if class_dirs else "no class sub-folders"
        extra = f" ({len(loose)} files lie directly in it)" if loose and not class_dirs else ""
        raise DataError(f"data folder '{root}' has {found}{extra}; classification needs at least 2 classes: {layout}")
    for f in loose:
        skips.add(f, "not inside a class folder; move it into one of the class sub-folders")
    names = _sort_names(e.name for e in class_dirs)
    by_name = {e.name: e.path for e in class_dirs}
    visited = {_key(root)}
    for e in class_dirs:
        try:
            visited.add(_key(e.path))
        except OSError:
            pass
    exts = KINDS[modality].extensions
    paths: list[str] = []
    labels: list[int] = []
    other: list[tuple[str, str, bool]] = []  # reported once we know the modality is right
    for c, name in enumerate(names):
        for f in _walk_class(by_name[name], visited, skips):
            base = os.path.basename(f)
            ext = os.path.splitext(base)[1].lower()
            if base.startswith("."):
                other.append((f, "hidden file", False))
            elif ext not in exts:
                what = f"file type '{ext}'" if ext else "file without an extension"
                other.append((f, f"unsupported {what} for {modality} data (expected {', '.join(exts)})", True))
            else:
                paths.append(f)
                labels.append(c)
    if not paths:
        found = sorted({os.path.splitext(f)[1].lower() or "(none)" for f, _, warn in other if warn})
        raise DataError(f"no {modality} files ({', '.join(exts)}) under '{root}' (found extensions: {found}); "
                        "check the modality argument and that the class sub-folders hold such files")
    for f, reason, warn in other:
        skips.add(f, reason, warn=warn)
    good, bad, texts = _validate(paths, modality, read=_read_bytes)  # looked up here: tests patch it
    for i in sorted(bad):
        skips.add(paths[i], bad[i])
    if not good:
        raise DataError(f"none of the {len(paths)} {modality} files under '{root}' is usable (e.g. "
                        f"'{paths[min(bad)]}': {bad[min(bad)]}); fix or replace the files")
    items = [os.fsencode(paths[i]) for i in good] if KINDS[modality].lazy_files else texts
    loader = _file_loader(modality, image_size, sample_rate, min_seconds)
    return _assemble(items, [labels[i] for i in good], names, modality=modality, skips=skips, keep_empty=False,
                     val_split=val_split, seed=seed, batch_size=batch_size, shuffle=shuffle, loader=loader,
                     source=str(root))


# ---- single files ----------------------------------------------------------------------------
def read_image(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a JPEG/PNG/GIF (first frame)/BMP file as uint8 RGB ``[H, W, 3]``, optionally resized to ``size``.

    Uses the same decoder and (bilinear, antialiased) resize as the folder loaders.

    Example:
        >>> import tempfile
        >>> from zoo.data import make_synthetic_folder
        >>> root = make_synthetic_folder(tempfile.mkdtemp(), "vision", n_per_class=1)
        >>> read_image(sorted(root.glob("a/*"))[0], size=(10, 12)).shape
        (10, 12, 3)
    """
    try:
        raw = _read_bytes(os.fspath(path))
    except OSError as exc:
        raise DataError(f"cannot read image '{path}': {_os_reason(exc)}") from None
    if not raw.startswith(_MAGIC):
        raise DataError(f"'{path}' is not a JPEG, PNG, GIF or BMP image (unrecognised file header)")
    bomb = too_many_pixels(raw[:HEADER_BYTES])
    if bomb:
        raise DataError(f"image '{path}' {bomb}", path=str(path))
    try:
        img = decode_image_bytes(raw)
    except tf.errors.OpError as exc:
        raise DataError(f"cannot decode image '{path}': {_tf_reason(exc)}; re-save or replace the file") from None
    if size is not None:
        img = tf.cast(tf.round(resize_pixels(img, _check_size(size))), tf.uint8)
    return img.numpy()
