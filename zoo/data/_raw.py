"""The raw model inputs a file's bytes hold, checked as the data loaders check files.

Batch inference (`zoo embed`, ``zoo predict --data``) reads files from any filesystem
(local, ``gs://``) as bytes; this turns them into what a model's serving signature
takes, with the folder loaders' checks and reasons: an image file -> its bytes (decoded
inside the model), a WAV file -> a mono float32 waveform at the model's rate, a text
file -> one string per non-empty line.

Example:
    >>> file_inputs("notes.txt", b"first line\\n\\nsecond line\\n", "text")
    [(1, 'first line'), (3, 'second line')]
"""

from __future__ import annotations

from typing import Any

from zoo.errors import DataError, InputError

__all__ = ["file_inputs"]


def _bad(name: str, reason: str) -> DataError:
    err = DataError(f"'{name}': {reason}")
    err.reason = reason  # type: ignore[attr-defined] - the bare reason, for side outputs
    return err


def file_inputs(name: str, data: bytes, modality: str, *, sample_rate: int = 16000) -> list[tuple[int | None, Any]]:
    """``[(line, raw input)]`` for one file: text gives one per non-empty line (1-based line
    numbers), an image or a WAV file one (line None). ``name`` is the file named in errors.

    Raises `DataError` (with ``.reason``) for a file the loaders would skip: empty,
    undecodable image, invalid UTF-8, unreadable WAV.

    Example:
        >>> file_inputs("x.txt", b"\\xff", "text")
        Traceback (most recent call last):
        ...
        zoo.errors.DataError: 'x.txt': not valid UTF-8 (byte 0); re-save the file as UTF-8
    """
    if not data:
        raise _bad(name, "empty file")
    read = _READERS.get(modality)
    if read is None:
        raise InputError(f"unknown modality {modality!r}; expected one of {', '.join(_READERS)}")
    return read(name, data, sample_rate)


def _image(name: str, data: bytes, sample_rate: int) -> list:
    from zoo.data._files import image_bytes_problem

    problem = image_bytes_problem(data)
    if problem:
        raise _bad(name, problem)
    return [(None, data)]


def _text(name: str, data: bytes, sample_rate: int) -> list:
    from zoo.data._files import text_of

    _, problem = text_of(data)
    if problem:
        raise _bad(name, problem)
    lines = data.decode("utf-8-sig").split("\n")
    return [(i, line.strip()) for i, line in enumerate(lines, 1) if line.strip()]


def _audio(name: str, data: bytes, sample_rate: int) -> list:
    from zoo.data._audio_io import read_wav_bytes

    try:
        return [(None, read_wav_bytes(data, sample_rate, name=name))]
    except DataError as exc:
        raise _bad(name, getattr(exc, "reason", str(exc))) from None


# what one file holds, per modality (the data loaders' checks and decoding)
_READERS = {"vision": _image, "text": _text, "audio": _audio}
