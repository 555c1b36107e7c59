"""Data files on disk: finding them in class folders, checking them up front, reporting skips.

The loaders in `zoo.data` never crash on a broken input and never drop one silently:
this module walks class folders (following symbolic links, never entering a folder
twice), sniffs each file (image magic bytes, UTF-8 text, WAV header), decodes images
in parallel to find corrupt ones, and records every file it leaves out in a skip
report (a `SkippedFile` each, with a `DataWarning` unless it is merely hidden).

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("hi"); _ = (d / "b.txt").write_text("")
    >>> good, bad, texts = _validate([str(d / "a.txt"), str(d / "b.txt")], "text")
    >>> good, bad, texts
    ([0], {1: 'empty file'}, ['hi'])
"""

from __future__ import annotations

import errno
import os
import re
import warnings
from typing import Any, Callable, NamedTuple

import tensorflow as tf

from zoo.data._audio_io import wav_info
from zoo.data._image_header import HEADER_BYTES, too_many_pixels
from zoo.errors import DataError, ZooWarning

__all__ = ["decode_image_bytes", "resize_pixels", "image_header_problem", "image_bytes_problem", "text_of", "DataWarning", "SkippedFile"]

AUTOTUNE = tf.data.AUTOTUNE
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
class DataWarning(ZooWarning):
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


# ---- skip reports ------------------------------------------------------------------------
class _Skips:
    def __init__(self) -> None:
        self.items: list[SkippedFile] = []

    def add(self, path: Any, reason: str, *, warn: bool = True) -> None:
        self.items.append(SkippedFile(str(path), reason))
        if warn:
            warnings.warn(f"skipped '{path}': {reason}", DataWarning, stacklevel=3)


# ---- reading and sniffing files -------------------------------------------------------------
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


def decode_image_bytes(raw: tf.Tensor) -> tf.Tensor:
    """JPEG/PNG/GIF (first frame)/BMP bytes -> uint8 RGB ``[H, W, 3]``: the one image decoder of
    zoo (data loaders, serving signatures).

    Example:
        >>> decode_image_bytes(tf.io.encode_png(tf.zeros([2, 3, 1], tf.uint8))).shape
        TensorShape([2, 3, 3])
    """
    img = tf.io.decode_image(raw, channels=3, expand_animations=False, dtype=tf.uint8)
    img.set_shape([None, None, 3])
    return img


def resize_pixels(img: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Pixels -> float32 ``[h, w, 3]`` 0-255 at ``size`` (bilinear, antialiased): the one resize of
    zoo's data loaders and serving signatures.

    Example:
        >>> resize_pixels(tf.zeros([4, 6, 3], tf.uint8), (2, 3)).shape
        TensorShape([2, 3, 3])
    """
    return tf.clip_by_value(tf.image.resize(img, size, method="bilinear", antialias=True), 0.0, 255.0)



def image_header_problem(head: bytes) -> str | None:
    """Why the first bytes of a file are not an image zoo decodes (None: they look fine).

    Example:
        >>> image_header_problem(b"GIF89a" + bytes(10)) is None, image_header_problem(b"hello")
        (True, 'not a JPEG, PNG, GIF or BMP image (unrecognised file header)')
    """
    if not head:
        return "empty file"
    bomb = too_many_pixels(head)
    if bomb:
        return f"image {bomb}"
    return None if head.startswith(_MAGIC) else "not a JPEG, PNG, GIF or BMP image (unrecognised file header)"


def image_bytes_problem(data: bytes) -> str | None:
    """Why a whole image file's bytes are not an image zoo decodes (None: it decodes).

    Example:
        >>> image_bytes_problem(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(30)).startswith("corrupt")
        True
    """
    problem = image_header_problem(data[:HEADER_BYTES])
    if problem:
        return problem
    try:
        decode_image_bytes(data)
    except tf.errors.OpError as exc:
        return f"corrupt or unsupported image: {_tf_reason(exc)}"
    return None


def text_of(data: bytes) -> tuple[str, str | None]:
    """A text file's bytes -> (its stripped text, None), or ("", why it is not usable).

    Example:
        >>> text_of(b"  hi\\n"), text_of(b"\\xff")[1]
        (('hi', None), 'not valid UTF-8 (byte 0); re-save the file as UTF-8')
    """
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        return "", f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
    return (text, None) if text else ("", "empty text file")


def _probe_images(paths: list[bytes]) -> set[int]:
    """Indices of the images that decode, decoded in parallel with tf.data."""
    if not paths:
        return set()
    ds = tf.data.Dataset.from_tensor_slices((tf.range(len(paths), dtype=tf.int64), tf.constant(paths)))
    ds = ds.map(lambda i, p: (i, tf.shape(decode_image_bytes(tf.io.read_file(p)))), num_parallel_calls=AUTOTUNE)
    return {int(i) for i, _ in ds.ignore_errors().as_numpy_iterator()}


def _validate(paths: list[str], modality: str, read: Callable[[str, int], bytes] = _read_bytes,
              ) -> tuple[list[int], dict[int, str], list[str]]:
    """Cheap up-front check of each file: (usable indices, {index: reason}, texts for text).

    ``read(path, n)`` reads the first ``n`` bytes (all for ``n=-1``); `zoo.data` passes its own
    ``_read_bytes`` so that tests can replace that one.
    """
    good: list[int] = []
    bad: dict[int, str] = {}
    texts: list[str] = []
    candidates: list[int] = []
    for i, p in enumerate(paths):
        try:
            head = read(p, -1 if modality == "text" else HEADER_BYTES if modality == "vision" else 16)
        except OSError as exc:
            broken = isinstance(exc, FileNotFoundError) and os.path.islink(p)
            bad[i] = f"broken symbolic link to '{os.readlink(p)}'" if broken else _os_reason(exc)
            continue
        if not head:
            bad[i] = "empty file"
        elif modality == "vision":
            problem = image_header_problem(head)
            if problem:
                bad[i] = problem
            else:
                candidates.append(i)
        elif modality == "text":
            text, problem = text_of(head)
            if problem:
                bad[i] = problem
            else:
                good.append(i)
                texts.append(text)
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
                decode_image_bytes(tf.io.read_file(os.fsencode(paths[i])))
                bad[i] = "could not be decoded"
            except (tf.errors.OpError, OSError) as exc:
                bad[i] = f"corrupt or unsupported image: {_tf_reason(exc)}"
        good.sort()
    return good, bad, texts


# ---- scanning class folders ----------------------------------------------------------------
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
