"""CSV files to datasets: a text column, or a column of image / audio file paths, and a label column.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Sequence

from zoo.data._dataset import _MIN_SECONDS, Dataset, _check_args, _check_modality, _check_size, _positive_int, _sort_names
from zoo.data._files import _os_reason, _read_bytes, _Skips, _validate
from zoo.data._kinds import KINDS
from zoo.data._pipelines import _assemble, _file_loader
from zoo.errors import ConfigurationError, DataError

__all__ = ['from_csv', 'csv_reader', 'read_rows', 'modality_of_files']


# ---- CSV -----------------------------------------------------------------------------------
def csv_reader(path: Path) -> Any:
    """A ``csv.reader`` over a UTF-8 CSV (``.tsv``: tabs; else the most frequent of , ; tab in the header line);
    a missing, unreadable or non-UTF-8 file is a `DataError` naming it."""
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
    return csv.reader(io.StringIO(content, newline=""), delimiter=delim)


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of a CSV read with `csv_reader`; a row csv cannot parse is a `DataError` naming its line."""
    reader = csv_reader(path)
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(f"CSV file '{path}' cannot be parsed at line {reader.line_num}: {exc}") from None
    return header, rows


def modality_of_files(paths: Sequence[str], what: str) -> str:
    """The modality whose file extensions ``paths`` have (vision or audio); a `DataError` naming ``what``
    (e.g. "column 'path' of 'd.csv'") when they are of none or of several."""
    exts = {os.path.splitext(v)[1].lower() for v in paths}
    found = [k.name for k in KINDS.values() if k.path_column and exts & set(k.extensions)]
    if len(found) != 1:
        raise DataError(f"cannot tell the modality of {what} from its file extensions {sorted(exts)}; "
                        "pass modality='vision' or 'audio'")
    return found[0]


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


def _parse(reader: Any, path: Path, text_column: Any, image_column: Any, audio_column: Any, label_column: str,
           modality: Any) -> tuple:
    """Header, column choice and rows of a CSV: ``(column, modality, skips, values, labels, where)``."""
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
    return col, modality, skips, values, raw_labels, where


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
    reader = csv_reader(path)
    try:
        parsed = _parse(reader, path, text_column, image_column, audio_column, label_column, modality)
    except csv.Error as exc:  # e.g. a field over csv's size limit: a damaged or hostile file
        raise DataError(f"CSV file '{path}' cannot be parsed at line {reader.line_num}: {exc}; fix or shorten that "
                        "row (fields are limited to 131072 characters)", path=str(path), line=reader.line_num) from None
    col, modality, skips, values, raw_labels, where = parsed
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
        modality = modality_of_files(values, f"column {col!r} of '{path}'")
    if KINDS[modality].path_column:
        base = Path(base_dir).expanduser() if base_dir is not None else path.parent
        values = [str(base / v) for v in values]
        good, bad, _ = _validate(values, modality, read=_read_bytes)
        for i in sorted(bad):
            skips.add(values[i], f"{bad[i]} [{where[i]} of '{path.name}']")
        if not good:
            raise DataError(f"none of the {len(values)} files listed in '{path}' is usable (e.g. '{values[min(bad)]}': "
                            f"{bad[min(bad)]}); check the paths and base_dir")
        values, labels = [os.fsencode(values[i]) for i in good], [labels[i] for i in good]
    loader = _file_loader(modality, image_size, sample_rate, _MIN_SECONDS)
    return _assemble(values, labels, names, modality=modality, skips=skips, keep_empty=class_names is not None,
                     val_split=val_split, seed=seed, batch_size=batch_size, shuffle=True, loader=loader,
                     source=str(path))
