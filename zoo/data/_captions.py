"""(image or audio file, caption) pairs for contrastive models: a CSV of paths and captions, or a folder of
files each with a caption file beside it.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from zoo.data import write_wav
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(4):
    ...     write_wav(d / f"{i}.wav", np.zeros(1600, np.float32), 16000)
    ...     _ = (d / f"{i}.txt").write_text(f"sound number {i}\\nanother caption {i}\\n")
    >>> ds = from_captions(d, keys=("audio", "text"), batch_size=8)
    >>> ds.summary.n_train, sorted(next(iter(ds.train))[0])
    (8, ['audio', 'text'])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo.data._csv import modality_of_files, read_rows
from zoo.data._dataset import _MIN_SECONDS, DataSummary, Dataset, _check_args, _check_modality, _check_size, _positive_int
from zoo.data._files import _os_reason, _read_bytes, _Skips, _validate
from zoo.data._kinds import files_of_kind
from zoo.errors import ConfigurationError, DataError

__all__ = ["from_captions", "read_captions", "CAPTION_COLUMNS", "MEDIA_COLUMNS"]

CAPTION_COLUMNS = ("caption", "captions", "text", "sentence", "description")
MEDIA_COLUMNS = ("image", "image_path", "audio", "audio_path", "path", "filepath", "file_path", "file", "filename")
CAPTION_FILES = ("captions.csv", "captions.tsv")


def _csv_pairs(path: Path, media_column: str | None, caption_column: str | None,
               base_dir: Any) -> tuple[list[str], list[str]]:
    header, rows = read_rows(path)
    lower = {h.lower(): h for h in header}
    media = media_column or next((lower[n] for n in MEDIA_COLUMNS if n in lower), None)
    caption = caption_column or next((lower[n] for n in CAPTION_COLUMNS if n in lower), None)
    if media is None or caption is None:
        raise DataError(f"'{path}': cannot tell which columns hold the files and the captions (columns: {header}); "
                        "name them image (or audio, path) and caption, or pass media_column= / caption_column= "
                        "(zoo train: --csv-image-column / --csv-audio-column and --csv-text-column)")
    for name in (media, caption):
        if name not in header:
            raise DataError(f"CSV file '{path}' has no column {name!r} (columns: {header}); pass the right column name")
    mi, ci = header.index(media), header.index(caption)
    base = Path(base_dir).expanduser() if base_dir is not None else path.parent
    files, captions = [], []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        f, c = (row[i].strip() if i < len(row) else "" for i in (mi, ci))
        if not f or not c:
            raise DataError(f"CSV file '{path}' line {line} has an empty {'file' if not f else 'caption'}; every row "
                            "needs a file and its caption", path=str(path), line=line)
        files.append(os.path.normpath(base / f)), captions.append(c)
    if not files:
        raise DataError(f"CSV file '{path}' has no rows below the header; add rows of a file and its caption")
    return files, captions


def _folder_pairs(path: Path, modality: str | None, skips: _Skips) -> tuple[list[str], list[str]]:
    files, captions = [], []
    for f in files_of_kind(path, modality):
        side = f.with_suffix(".txt")
        if not side.is_file():
            skips.add(str(f), f"no caption file '{side.name}' beside it")
            continue
        try:
            lines = [ln.strip() for ln in side.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            reason = _os_reason(exc) if isinstance(exc, OSError) else "not UTF-8 text"
            skips.add(str(f), f"caption file '{side.name}' unreadable: {reason}")
            continue
        if not lines:
            skips.add(str(f), f"caption file '{side.name}' is empty")
        for line in lines:
            files.append(str(f)), captions.append(line)
    if not files:
        raise DataError(f"folder '{path}' has no image / audio files with a caption file beside them (cat.jpg + "
                        "cat.txt, one caption per line) and no captions.csv; add them" +
                        (f" ({len(skips.items)} file(s) without captions)" if skips.items else ""))
    return files, captions


def read_captions(path: str | os.PathLike, *, media_column: str | None = None, caption_column: str | None = None,
                  base_dir: str | os.PathLike | None = None, modality: str | None = None) -> tuple[list, list, Any]:
    """``(files, captions, skips)``: every (file, caption) pair of a captions CSV or folder, unchecked files
    (see `from_captions` for the formats)."""
    path = Path(path).expanduser()
    skips = _Skips()
    if path.is_dir():
        listed = next((path / n for n in CAPTION_FILES if (path / n).is_file()), None)
        files, captions = (_csv_pairs(listed, media_column, caption_column, base_dir) if listed is not None
                           else _folder_pairs(path, modality, skips))
    elif path.is_file():
        files, captions = _csv_pairs(path, media_column, caption_column, base_dir)
    else:
        raise DataError(f"'{path}' does not exist; pass a captions .csv (image,caption) or a folder of files with "
                        "caption files beside them")
    return files, captions, skips


def from_captions(path: str | os.PathLike, *, keys: Sequence[str] = ("inputs", "caption"), modality: str | None = None,
                  media_column: str | None = None, caption_column: str | None = None,
                  base_dir: str | os.PathLike | None = None, batch_size: int = 32, val_split: float | None = None,
                  seed: int = 42, image_size: tuple[int, int] = (224, 224), sample_rate: int = 16000) -> Dataset:
    """Load (image or audio file, caption) pairs for ``task="contrastive"``.

    ``path``: a .csv/.tsv with a file column (image, audio, path, file ...) and a caption column
    (caption, text ...), paths relative to ``base_dir`` (default: the CSV's folder), a file may
    have several rows; or a folder where each file has a caption file of the same name
    (``cat1.jpg`` + ``cat1.txt``, one caption per line), or holding a ``captions.csv``.
    Examples are ``({keys[0]: image or waveform, keys[1]: caption}, file index)``: pass
    ``keys=model.zoo.config["backbones"]`` to feed a model built from two backbones. The label
    (the file's index) is what retrieval recall groups by; the loss ignores it. The validation
    split is by file: every caption of a file lands on the same side. Unreadable files and
    files without a caption are skipped and reported in ``summary.skipped``.
    """
    val_split = _check_args(batch_size, val_split, seed)
    image_size = _check_size(image_size)
    sample_rate = _positive_int(sample_rate, "sample_rate")
    if modality is not None:
        _check_modality(modality)
    if not (isinstance(keys, (tuple, list)) and len(keys) == 2 and all(isinstance(k, str) and k for k in keys)
            and keys[0] != keys[1]):
        raise ConfigurationError(f"keys must be two distinct names (the model's two inputs), got {keys!r}")
    files, captions, skips = read_captions(path, media_column=media_column, caption_column=caption_column,
                                           base_dir=base_dir, modality=modality)
    if modality is None:
        modality = modality_of_files(files, f"the files of '{path}'")
    distinct = sorted(set(files))
    good, bad, _ = _validate(distinct, modality, read=_read_bytes)
    for i in sorted(bad):
        skips.add(distinct[i], bad[i])
    usable = {distinct[i]: n for n, i in enumerate(good)}
    if not usable:
        raise DataError(f"none of the {len(distinct)} files of '{path}' is usable (e.g. '{distinct[min(bad)]}': "
                        f"{bad[min(bad)]}); check the paths and base_dir")
    rows = [(f, c) for f, c in zip(files, captions) if f in usable]
    group = np.asarray([usable[f] for f, _ in rows], np.int64)
    from zoo.data._pipelines import _split

    train_files, val_files = _split(np.zeros(len(usable), np.int64), 1, val_split, seed)
    val_set = set(val_files.tolist())
    train = np.asarray([i for i, g in enumerate(group) if g not in val_set], np.int64)
    val = np.asarray([i for i, g in enumerate(group) if g in val_set], np.int64)
    summary = DataSummary({}, len(train), len(val), skips.items)

    def build(idx: np.ndarray, shuffle: bool) -> Any:
        return _pipeline([rows[i] for i in idx], group[idx], keys, modality, image_size, sample_rate, batch_size,
                         shuffle, seed)

    return Dataset(build(train, True), build(val, False) if len(val) else None, [], summary, modality)


def _pipeline(rows: list, group: np.ndarray, keys: Sequence[str], modality: str, image_size: tuple, sample_rate: int,
              batch_size: int, shuffle: bool, seed: int) -> Any:
    import tensorflow as tf

    from zoo.data._pipelines import AUTOTUNE, _batch, _file_loader

    load = _file_loader(modality, image_size, sample_rate, _MIN_SECONDS)
    ds = tf.data.Dataset.from_tensor_slices(([os.fsencode(f) for f, _ in rows], [c for _, c in rows],
                                             group.astype(np.int32)))
    if shuffle:
        ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)

    def pair(path: Any, caption: Any, g: Any) -> Any:
        x, g = load(path, g)
        return {keys[0]: x, keys[1]: caption}, g

    ds = ds.map(pair, num_parallel_calls=AUTOTUNE)
    return _batch(ds, modality, batch_size, padded_shapes=({keys[0]: [None], keys[1]: []}, []))
