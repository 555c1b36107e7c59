"""The data loaders' file-type table: what each modality's files are and how its examples batch.

Everything in `zoo.data` that differs between images, text and audio is looked up here
(or in the small per-kind function tables beside the code that uses them), never
branched on: a loader asks ``KINDS[modality]`` whether examples are files loaded lazily,
whether they vary in length (zero-padded batches), and which extensions they have.

Example:
    >>> KINDS["audio"].ragged, KINDS["text"].lazy_files, kind_of("array").whole_batch
    (True, False, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileKind", "KINDS", "kind_of", "files_of_kind", "IMAGE_EXTENSIONS", "TEXT_EXTENSIONS", "AUDIO_EXTENSIONS"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
TEXT_EXTENSIONS = (".txt",)
AUDIO_EXTENSIONS = (".wav",)


@dataclass(frozen=True)
class FileKind:
    """One kind of example: its file extensions and how a pipeline handles it.

    ``lazy_files``: examples are files read inside the pipeline (images, WAVs); otherwise
    the content is read up front (text). ``path_column``: a CSV column of this kind holds
    file paths. ``ragged``: examples vary in length, batches are zero-padded. ``whole_batch``:
    in-memory examples are gathered a batch at a time (one op per batch, as Keras does).
    """

    name: str
    extensions: tuple[str, ...] = ()
    lazy_files: bool = False
    ragged: bool = False
    whole_batch: bool = True

    @property
    def path_column(self) -> bool:
        """A CSV column of this kind names files (rather than holding the example itself)."""
        return self.lazy_files


KINDS = {
    "vision": FileKind("vision", IMAGE_EXTENSIONS, lazy_files=True),
    "text": FileKind("text", TEXT_EXTENSIONS),
    "audio": FileKind("audio", AUDIO_EXTENSIONS, lazy_files=True, ragged=True, whole_batch=False),
}
# in-memory inputs that are not a modality's raw data (zoo.data.as_dataset)
_GENERIC = {"array": FileKind("array"), "dict": FileKind("dict", whole_batch=False)}


def kind_of(name: str) -> FileKind:
    """The `FileKind` called ``name`` (a modality, or ``"array"`` / ``"dict"`` for generic inputs)."""
    return KINDS.get(name) or _GENERIC[name]


def files_of_kind(folder: Path, modality: str | None = None) -> list[Path]:
    """The files under ``folder`` (sub-folders included) with the extensions of ``modality``, or of every kind
    whose examples are files (images, WAVs) when None; sorted, anything under a name starting with "." left out."""
    exts = {e for m, k in KINDS.items() if k.path_column and modality in (None, m) for e in k.extensions}
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in exts
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))
