"""Data loaders: folders, CSV files and arrays to datasets; image, text and audio decoding.

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "as_dataset": "_arrays",
    "from_arrays": "_arrays",
    "WavInfo": "_audio_io",
    "read_wav": "_audio_io",
    "read_wav_bytes": "_audio_io",
    "resample": "_audio_io",
    "wav_info": "_audio_io",
    "write_wav": "_audio_io",
    "from_csv": "_csv",
    "from_captions": "_captions",
    "read_captions": "_captions",
    "from_conll": "_conll",
    "from_squad": "_squad",
    "read_squad": "_squad",
    "squad_scores": "_squad",
    "answer_words": "_squad",
    "normalize_answer": "_squad",
    "read_conll": "_conll",
    "check_iob2": "_conll",
    "iob2_entities": "_conll",
    "entity_scores": "_conll",
    "from_pairs_csv": "_pairs",
    "PAIR_COLUMNS": "_pairs",
    "DataSummary": "_dataset",
    "Dataset": "_dataset",
    "DataWarning": "_files",
    "SkippedFile": "_files",
    "decode_image_bytes": "_files",
    "resize_pixels": "_files",
    "from_folder": "_folders",
    "from_unlabeled": "_unlabeled",
    "file_inputs": "_raw",
    "read_image": "_folders",
    "HEADER_BYTES": "_image_header",
    "image_dimensions": "_image_header",
    "max_image_pixels": "_image_header",
    "too_many_pixels": "_image_header",
    "AUDIO_EXTENSIONS": "_kinds",
    "FileKind": "_kinds",
    "IMAGE_EXTENSIONS": "_kinds",
    "KINDS": "_kinds",
    "TEXT_EXTENSIONS": "_kinds",
    "kind_of": "_kinds",
    "files_of_kind": "_kinds",
    "make_synthetic_folder": "_synthetic",
    "text_bytes": "_text",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
