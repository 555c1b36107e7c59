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
re-exports the rest: the result types from `zoo.dataset`, file scanning and checks
from `zoo.datafiles`, splitting and batching from `zoo.pipelines`, `from_arrays` and
`as_dataset` from `zoo.arrays`, and `make_synthetic_folder` from `zoo.synthetic`.

Example:
    >>> import tempfile, zoo.data as zd
    >>> root = zd.make_synthetic_folder(tempfile.mkdtemp(), "text", n_per_class=4)
    >>> ds = zd.from_folder(root, "text", batch_size=4, val_split=0.25)
    >>> ds.class_names, ds.summary.n_train, ds.summary.n_val
    (['a', 'b', 'c'], 9, 3)
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import tensorflow as tf

from zoo.arrays import (  # noqa: F401 - re-exported
    _audio_arrays, _class_labels, _generic_store, _image_array, _infer_modality, _pipeline, _store, _text_array,
    as_dataset, from_arrays,
)
from zoo.audio_io import read_wav, wav_info, write_wav  # noqa: F401 - read_wav is part of this module's API
from zoo.datafiles import (  # noqa: F401 - re-exported
    _EXTENSIONS, _MAGIC, AUDIO_EXTENSIONS, AUTOTUNE, IMAGE_EXTENSIONS, TEXT_EXTENSIONS, DataWarning, SkippedFile,
    decode_image_bytes, _key, _os_reason, _probe_images, _read_bytes, resize_pixels, _Skips, _tf_reason, _validate,
    _walk_class,
)
from zoo.dataset import (  # noqa: F401 - re-exported
    _MIN_SECONDS, Dataset, DataSummary, _check_args, _check_modality, _check_size, _positive_int, _sort_names,
)
from zoo.errors import ConfigurationError, DataError, InputError  # noqa: F401
from zoo.pipelines import _assemble, _batch, _file_loader, _split  # noqa: F401 - re-exported
from zoo.spec import MODALITIES  # noqa: F401
from zoo.synthetic import _AUDIO_FORMATS, _WORDS, make_synthetic_folder  # noqa: F401 - re-exported

__all__ = [
    "Dataset", "DataSummary", "SkippedFile", "DataWarning", "from_folder", "from_csv", "from_arrays",
    "as_dataset", "read_wav", "read_image", "make_synthetic_folder",
    "IMAGE_EXTENSIONS", "TEXT_EXTENSIONS", "AUDIO_EXTENSIONS",
]


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
    exts = _EXTENSIONS[modality]
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
    items = texts if modality == "text" else [os.fsencode(paths[i]) for i in good]
    loader = None if modality == "text" else _file_loader(modality, image_size, sample_rate, min_seconds)
    return _assemble(items, [labels[i] for i in good], names, modality=modality, skips=skips, keep_empty=False,
                     val_split=val_split, seed=seed, batch_size=batch_size, shuffle=shuffle, loader=loader,
                     source=str(root))


# ---- CSV -----------------------------------------------------------------------------------
_AUTO_COLUMNS = {"text": ("text", "sentence"), "vision": ("image", "image_path"), "audio": ("audio", "audio_path")}
_PATH_COLUMNS = ("path", "filepath", "file_path", "file", "filename")


def _pick_column(header: list[str], text_column: Any, image_column: Any, audio_column: Any,
                 modality: str | None, path: Path) -> tuple[str, str | None]:
    given = [(c, m) for c, m in ((text_column, "text"), (image_column, "vision"), (audio_column, "audio")) if c]
    if len(given) > 1:
        raise ConfigurationError("give only one of text_column, image_column, audio_column")
    if given:
        col, m = given[0]
        if modality is not None and modality != m:
            raise ConfigurationError(f"modality={modality!r} does not match the column argument for {m!r}")
        return col, m
    lower = {h.lower(): h for h in header}
    for m, names in _AUTO_COLUMNS.items():
        if modality in (None, m):
            for n in names:
                if n in lower:
                    return lower[n], m
    for n in _PATH_COLUMNS:
        if n in lower:
            return lower[n], modality  # modality inferred from the file extensions later
    raise DataError(f"'{path}': cannot tell which column holds the inputs (columns: {header}); "
                    "pass text_column=, image_column= or audio_column=")


def from_csv(path: str | os.PathLike, *, text_column: str | None = None, image_column: str | None = None,
             audio_column: str | None = None, label_column: str = "label", class_names: Sequence[str] | None = None,
             modality: str | None = None, base_dir: str | os.PathLike | None = None, batch_size: int = 32,
             val_split: float | None = None, seed: int = 42, image_size: tuple[int, int] = (224, 224),
             sample_rate: int = 16000) -> Dataset:
    """Load a CSV (or .tsv) with one input column and a label column as a `Dataset`.

    The input column holds text, or image / audio file paths relative to ``base_dir``
    (default: the CSV's folder). Without a column argument, a column named text/sentence,
    image/image_path, audio/audio_path or path/file/filename is used. Labels are strings
    mapped to ``class_names`` (default: the sorted distinct labels); an unknown or missing
    label is a `DataError` naming the row. Unusable files are skipped and reported.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
        >>> _ = p.write_text('text,label\\n"good, very",pos\\nbad,neg\\n')
        >>> ds = from_csv(p, batch_size=2)
        >>> ds.class_names, ds.summary.class_counts
        (['neg', 'pos'], {'neg': 1, 'pos': 1})
    """
    val_split = _check_args(batch_size, val_split, seed)
    image_size = _check_size(image_size)
    sample_rate = _positive_int(sample_rate, "sample_rate")
    if modality is not None:
        _check_modality(modality)
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"CSV file '{path}' does not exist or is not a file; pass the path of a .csv file")
    try:
        content = _read_bytes(str(path)).decode("utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read CSV file '{path}': {_os_reason(exc)}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"CSV file '{path}' is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from None
    first = content.split("\n", 1)[0]
    delim = "\t" if path.suffix.lower() == ".tsv" else max(",;\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delim)
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        raise DataError(f"CSV file '{path}' is empty; it needs a header row, e.g. 'text,label'")
    col, modality = _pick_column(header, text_column, image_column, audio_column, modality, path)
    for name in (col, label_column):
        if name not in header:
            raise DataError(f"CSV file '{path}' has no column {name!r} (columns: {header}); pass the right column name")
    ci, li = header.index(col), header.index(label_column)
    skips = _Skips()
    values, raw_labels, where = [], [], []
    for row_no, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            continue
        at = f"row {row_no} (line {reader.line_num})"
        label = row[li].strip() if li < len(row) else ""
        if not label:
            raise DataError(f"CSV file '{path}' {at} has no label in column {label_column!r}; fill it in or delete the row")
        value = row[ci].strip() if ci < len(row) else ""
        if not value:
            skips.add(f"{path}:{reader.line_num}", f"{at} has an empty {col!r} value")
            continue
        values.append(value)
        raw_labels.append(label)
        where.append(at)
    if not values:
        raise DataError(f"CSV file '{path}' has no rows with an input and a label; add rows below the header")
    if class_names is None:
        names = _sort_names(raw_labels)
    else:
        names = [str(c) for c in class_names]
        if len(set(names)) != len(names) or len(names) < 2:
            raise ConfigurationError(f"class_names must be at least 2 distinct names, got {names}")
    index = {n: i for i, n in enumerate(names)}
    for label, at in zip(raw_labels, where):
        if label not in index:
            raise DataError(f"CSV file '{path}' {at} has label {label!r}, which is not in class_names {names}; "
                            "fix the label or add it to class_names")
    labels = [index[label] for label in raw_labels]
    if modality is None:
        exts = {os.path.splitext(v)[1].lower() for v in values}
        found = [m for m in ("vision", "audio") if exts & set(_EXTENSIONS[m])]
        if len(found) != 1:
            raise DataError(f"'{path}': cannot tell the modality of column {col!r} from its file extensions "
                            f"{sorted(exts)}; pass modality='vision' or 'audio'")
        modality = found[0]
    if modality != "text":
        base = Path(base_dir).expanduser() if base_dir is not None else path.parent
        values = [str(base / v) for v in values]
        good, bad, _ = _validate(values, modality, read=_read_bytes)
        for i in sorted(bad):
            skips.add(values[i], f"{bad[i]} [{where[i]} of '{path.name}']")
        if not good:
            raise DataError(f"none of the {len(values)} files listed in '{path}' is usable (e.g. '{values[min(bad)]}': "
                            f"{bad[min(bad)]}); check the paths and base_dir")
        values, labels = [os.fsencode(values[i]) for i in good], [labels[i] for i in good]
    loader = None if modality == "text" else _file_loader(modality, image_size, sample_rate, _MIN_SECONDS)
    return _assemble(values, labels, names, modality=modality, skips=skips, keep_empty=class_names is not None,
                     val_split=val_split, seed=seed, batch_size=batch_size, shuffle=True, loader=loader,
                     source=str(path))


# ---- single files ----------------------------------------------------------------------------
def read_image(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a JPEG/PNG/GIF (first frame)/BMP file as uint8 RGB ``[H, W, 3]``, optionally resized to ``size``.

    Uses the same decoder and (bilinear, antialiased) resize as the folder loaders.

    Example:
        >>> import tempfile
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
    try:
        img = decode_image_bytes(raw)
    except tf.errors.OpError as exc:
        raise DataError(f"cannot decode image '{path}': {_tf_reason(exc)}; re-save or replace the file") from None
    if size is not None:
        img = tf.cast(tf.round(resize_pixels(img, _check_size(size))), tf.uint8)
    return img.numpy()
