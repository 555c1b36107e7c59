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

Example:
    >>> import tempfile, zoo.data as zd
    >>> root = zd.make_synthetic_folder(tempfile.mkdtemp(), "text", n_per_class=4)
    >>> ds = zd.from_folder(root, "text", batch_size=4, val_split=0.25)
    >>> ds.class_names, ds.summary.n_train, ds.summary.n_val
    (['a', 'b', 'c'], 9, 3)
"""

from __future__ import annotations

import colorsys
import csv
import errno
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import tensorflow as tf

from zoo.audio_io import read_wav, wav_info, write_wav
from zoo.errors import ConfigurationError, DataError, InputError
from zoo.spec import MODALITIES

__all__ = [
    "Dataset", "DataSummary", "SkippedFile", "DataWarning", "from_folder", "from_csv", "from_arrays",
    "as_dataset", "read_wav", "read_image", "make_synthetic_folder",
    "IMAGE_EXTENSIONS", "TEXT_EXTENSIONS", "AUDIO_EXTENSIONS",
]

AUTOTUNE = tf.data.AUTOTUNE
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
TEXT_EXTENSIONS = (".txt",)
AUDIO_EXTENSIONS = (".wav",)
_EXTENSIONS = {"vision": IMAGE_EXTENSIONS, "text": TEXT_EXTENSIONS, "audio": AUDIO_EXTENSIONS}
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_MIN_SECONDS = 0.975


class DataWarning(UserWarning):
    """A file or class that a loader skipped (the message names it and why).

    Example:
        >>> issubclass(DataWarning, UserWarning)
        True
    """


class SkippedFile(NamedTuple):
    """A skipped file (or CSV row) and the reason.

    Example:
        >>> SkippedFile("data/a/x.png", "empty file").reason
        'empty file'
    """

    path: str
    reason: str


@dataclass
class DataSummary:
    """What a loader found: usable examples per class, the split and what it skipped.

    Example:
        >>> s = DataSummary({"a": 3, "b": 2}, n_train=4, n_val=1)
        >>> s.n_examples, s.n_skipped
        (5, 0)
    """

    class_counts: dict[str, int]
    n_train: int
    n_val: int
    skipped: list[SkippedFile] = field(default_factory=list)
    dropped_classes: list[str] = field(default_factory=list)

    @property
    def n_examples(self) -> int:
        """Usable examples (train + validation)."""
        return self.n_train + self.n_val

    @property
    def n_skipped(self) -> int:
        """Number of skipped files / rows."""
        return len(self.skipped)

    def __str__(self) -> str:
        lines = [f"{len(self.class_counts)} classes, {self.n_examples} examples "
                 f"(train {self.n_train}, val {self.n_val}), {self.n_skipped} skipped"]
        lines += [f"  {name}: {n}" for name, n in self.class_counts.items()]
        lines += [f"  left out class {name!r}: no usable files" for name in self.dropped_classes]
        lines += [f"  skipped {s.path}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)


@dataclass
class Dataset:
    """Batched ``train`` / ``val`` pipelines of ``(inputs, labels)``, the class names and a summary.

    Example:
        >>> ds = from_arrays(["good", "bad", "fine", "awful"], ["pos", "neg", "pos", "neg"], batch_size=2)
        >>> ds.class_names, ds.num_classes
        (['neg', 'pos'], 2)
    """

    train: tf.data.Dataset
    val: tf.data.Dataset | None
    class_names: list[str]
    summary: DataSummary
    modality: str | None = None

    @property
    def num_classes(self) -> int:
        """``len(class_names)``."""
        return len(self.class_names)


# ----------------------------------------------------------------------------- helpers


class _Skips:
    def __init__(self) -> None:
        self.items: list[SkippedFile] = []

    def add(self, path: Any, reason: str, *, warn: bool = True) -> None:
        self.items.append(SkippedFile(str(path), reason))
        if warn:
            warnings.warn(f"skipped '{path}': {reason}", DataWarning, stacklevel=3)


def _read_bytes(path: str, n: int = -1) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied; make it readable (e.g. chmod a+r) or move it out of the data folder"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    return f"cannot read: {exc.strerror or exc}"


def _tf_reason(exc: Exception) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    msg = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", msg)
    return re.sub(r"\s*\[Op:\w+\]", "", msg).strip()


def _sort_names(names: Any) -> list[str]:
    """Sorted class names; all-integer names sort numerically ('2' before '10')."""
    names = sorted(set(names))
    if names and all(re.fullmatch(r"-?\d+", n) for n in names):
        names.sort(key=int)
    return names


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_args(batch_size: Any, val_split: Any, seed: Any) -> float | None:
    _positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigurationError(f"seed must be an integer, got {seed!r}")
    if val_split is None or (isinstance(val_split, (int, float)) and not isinstance(val_split, bool) and val_split == 0):
        return None
    if isinstance(val_split, bool) or not isinstance(val_split, (int, float)) or not 0 < val_split < 1:
        raise ConfigurationError(f"val_split must be a fraction between 0 and 1 (e.g. 0.2) or None, got {val_split!r}")
    return float(val_split)


def _check_modality(modality: Any) -> str:
    if modality not in MODALITIES:
        raise ConfigurationError(f"modality must be one of {', '.join(map(repr, MODALITIES))}, got {modality!r}")
    return modality


def _check_size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (tuple, list)) or len(image_size) != 2:
        raise ConfigurationError(f"image_size must be (height, width), e.g. (224, 224), got {image_size!r}")
    return _positive_int(image_size[0], "image_size height"), _positive_int(image_size[1], "image_size width")


def _decode_image(raw: tf.Tensor) -> tf.Tensor:
    img = tf.io.decode_image(raw, channels=3, expand_animations=False, dtype=tf.uint8)
    img.set_shape([None, None, 3])
    return img


def _resize(img: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    return tf.clip_by_value(tf.image.resize(img, size, method="bilinear", antialias=True), 0.0, 255.0)


def _probe_images(paths: list[bytes]) -> set[int]:
    """Indices of the images that decode, decoded in parallel with tf.data."""
    if not paths:
        return set()
    ds = tf.data.Dataset.from_tensor_slices((tf.range(len(paths), dtype=tf.int64), tf.constant(paths)))
    ds = ds.map(lambda i, p: (i, tf.shape(_decode_image(tf.io.read_file(p)))), num_parallel_calls=AUTOTUNE)
    return {int(i) for i, _ in ds.ignore_errors().as_numpy_iterator()}


def _validate(paths: list[str], modality: str) -> tuple[list[int], dict[int, str], list[str]]:
    """Cheap up-front check of each file: (usable indices, {index: reason}, texts for text)."""
    good: list[int] = []
    bad: dict[int, str] = {}
    texts: list[str] = []
    candidates: list[int] = []
    for i, p in enumerate(paths):
        try:
            head = _read_bytes(p, -1 if modality == "text" else 16)
        except OSError as exc:
            broken = isinstance(exc, FileNotFoundError) and os.path.islink(p)
            bad[i] = f"broken symbolic link to '{os.readlink(p)}'" if broken else _os_reason(exc)
            continue
        if not head:
            bad[i] = "empty file"
        elif modality == "vision":
            if head.startswith(_MAGIC):
                candidates.append(i)
            else:
                bad[i] = "not a JPEG, PNG, GIF or BMP image (unrecognised file header)"
        elif modality == "text":
            try:
                text = head.decode("utf-8-sig").strip()
            except UnicodeDecodeError as exc:
                bad[i] = f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
                continue
            if text:
                good.append(i)
                texts.append(text)
            else:
                bad[i] = "empty text file"
        else:
            try:
                wav_info(p)
                good.append(i)
            except DataError as exc:
                bad[i] = getattr(exc, "reason", str(exc))
    if candidates:
        ok = _probe_images([os.fsencode(paths[i]) for i in candidates])
        for j, i in enumerate(candidates):
            if j in ok:
                good.append(i)
                continue
            try:
                _decode_image(tf.io.read_file(os.fsencode(paths[i])))
                bad[i] = "could not be decoded"
            except (tf.errors.OpError, OSError) as exc:
                bad[i] = f"corrupt or unsupported image: {_tf_reason(exc)}"
        good.sort()
    return good, bad, texts


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
    ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes) if modality == "audio" else ds.batch(batch_size)
    return ds.prefetch(AUTOTUNE)


def _file_loader(modality: str, image_size: tuple[int, int], sample_rate: int, min_seconds: float) -> Callable:
    if modality == "vision":
        def load(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return _resize(_decode_image(tf.io.read_file(path)), image_size), label
        return load
    min_len = int(round(min_seconds * sample_rate))

    def np_load(path: bytes) -> np.ndarray:
        x = read_wav(os.fsdecode(path), sample_rate)
        return np.pad(x, (0, max(0, min_len - len(x))))

    def load_audio(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.numpy_function(np_load, [path], tf.float32, stateful=False)
        x.set_shape([None])
        return x, label
    return load_audio


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


# ----------------------------------------------------------------------------- folders


def _key(path: Any) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _walk_class(class_dir: str, visited: set, skips: _Skips) -> list[str]:
    """All files under ``class_dir``; follows symbolic links but never enters a folder twice."""
    files: list[str] = []

    def onerror(exc: OSError) -> None:
        skips.add(exc.filename, f"folder {_os_reason(exc)}")

    for dirpath, dirnames, filenames in os.walk(class_dir, onerror=onerror, followlinks=True):
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if d.startswith("."):
                skips.add(full, "hidden folder", warn=False)
                continue
            try:
                key = _key(full)
            except OSError as exc:
                skips.add(full, f"folder {_os_reason(exc)}")
                continue
            if key in visited:
                skips.add(full, "symbolic link to a folder that is already scanned (a loop or a duplicate); not followed")
                continue
            visited.add(key)
            keep.append(d)
        dirnames[:] = keep
        files += [os.path.join(dirpath, f) for f in filenames]
    return sorted(files)


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
    good, bad, texts = _validate(paths, modality)
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


# ----------------------------------------------------------------------------- CSV

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
        good, bad, _ = _validate(values, modality)
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


# ----------------------------------------------------------------------------- arrays


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
        out.append(s.encode("utf-8") if isinstance(s, str) else s)
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
    if modality == "text":
        t = tf.constant(_text_array(inputs), tf.string)
        return lambda i: tf.gather(t, i)
    if modality == "vision":
        t = tf.constant(_image_array(inputs))
        return lambda i: tf.cast(tf.gather(t, i), tf.float32)
    flat, splits = _audio_arrays(inputs, int(round(_MIN_SECONDS * 16000)))
    ft, st = tf.constant(flat), tf.constant(splits)
    return lambda i: ft[st[i]:st[i + 1]]


def _pipeline(get: Callable, labels: np.ndarray | None, idx: np.ndarray, modality: str, batch_size: int,
              shuffle: bool, seed: int) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(idx, tf.int64))
    if shuffle:
        ds = ds.shuffle(max(1, len(idx)), seed=seed, reshuffle_each_iteration=True)
    if labels is None:
        return _batch(ds.map(get, num_parallel_calls=AUTOTUNE), modality, batch_size, [None])
    y = tf.constant(labels)
    ds = ds.map(lambda i: (get(i), tf.gather(y, i)), num_parallel_calls=AUTOTUNE)
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
    return _pipeline(get, y, idx, "audio" if kind == "audio" else kind, batch_size, shuffle and y is not None, seed)


# ----------------------------------------------------------------------------- single files and demo data


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
        img = _decode_image(raw)
    except tf.errors.OpError as exc:
        raise DataError(f"cannot decode image '{path}': {_tf_reason(exc)}; re-save or replace the file") from None
    if size is not None:
        img = tf.cast(tf.round(_resize(img, _check_size(size))), tf.uint8)
    return img.numpy()


_WORDS = (("sunny", "bright", "warm", "cheerful", "golden"), ("rainy", "cold", "grey", "gloomy", "wet"),
          ("engine", "wheel", "road", "fast", "garage"), ("kitten", "puppy", "fur", "paw", "playful"),
          ("violin", "melody", "concert", "piano", "rhythm"), ("forest", "river", "mountain", "tree", "valley"))
_AUDIO_FORMATS = ((16000, 1, 2), (44100, 2, 2), (8000, 1, 1), (22050, 2, 3), (48000, 1, 4))


def make_synthetic_folder(root: str | os.PathLike, modality: str, *, n_per_class: int = 8,
                          classes: Sequence[str] = ("a", "b", "c"), seed: int = 0) -> Path:
    """Write a small, learnable ``root/<class>/<file>`` dataset and return ``root`` as a Path.

    vision: PNG/JPEG images (16-48 px, varied sizes) with one background colour per class
    and a random square; text: templated sentences with class-specific words; audio:
    WAV tones with one frequency per class at varied rates (8-48 kHz), channel counts and
    bit depths (8/16/24/32-bit), 0.5-1.3 s long.

    Example:
        >>> import tempfile
        >>> root = make_synthetic_folder(tempfile.mkdtemp(), "audio", n_per_class=2, classes=("lo", "hi"))
        >>> sorted(p.name for p in root.iterdir())
        ['hi', 'lo']
    """
    modality = _check_modality(modality)
    n_per_class = _positive_int(n_per_class, "n_per_class")
    rng = np.random.default_rng(seed)
    root = Path(root)
    for c, name in enumerate(classes):
        folder = root / str(name)
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(n_per_class):
            stem = folder / f"{name}_{j:03d}"
            if modality == "vision":
                h, w = (int(v) for v in rng.integers(16, 49, size=2))
                colour = np.array(colorsys.hsv_to_rgb(c / max(1, len(classes)), 0.8, 0.9)) * 255
                img = colour * rng.uniform(0.85, 1.0) + rng.normal(0, 8, (h, w, 3))
                s = max(2, min(h, w) // 3)
                y0, x0 = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
                img[y0:y0 + s, x0:x0 + s] = 255 - colour
                img = np.clip(img, 0, 255).astype(np.uint8)
                jpeg = j % 3 == 2
                data = tf.io.encode_jpeg(img, quality=95) if jpeg else tf.io.encode_png(img)
                stem.with_suffix(".jpg" if jpeg else ".png").write_bytes(data.numpy())
            elif modality == "text":
                words = [f"{w}{c // len(_WORDS) or ''}" for w in _WORDS[c % len(_WORDS)]]
                a, b = rng.choice(words, size=2, replace=False)
                opener = rng.choice(["Today", "I think", "The story is", "Everyone said it was", "Honestly"])
                stem.with_suffix(".txt").write_text(f"{opener} {a} and {b}, really {rng.choice(words)}.\n", "utf-8")
            else:
                sr, channels, width = _AUDIO_FORMATS[(c + j) % len(_AUDIO_FORMATS)]
                t = np.arange(int(sr * (0.5 + 0.4 * (j % 3)))) / sr
                tone = rng.uniform(0.3, 0.6) * np.sin(2 * np.pi * 220 * 2 ** (c / 2) * t + rng.uniform(0, 6.3))
                wav = tone[:, None] + rng.normal(0, 0.01, (len(t), channels))
                write_wav(stem.with_suffix(".wav"), wav, sr, sample_width=width)
    return root
