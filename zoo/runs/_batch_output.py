"""The output folder of a batch run: refusing to mix runs, the record files, reading them back.

A folder holds ``.zoo-batch`` (written first), the record shards (``embeddings-*`` or
``predictions-*``: JSON lines, ``tf.train.Example`` TFRecords, or one ``.npy`` with an
index), ``errors-*.jsonl`` and, written last, ``manifest.json``.

Example (prose: it needs a finished run)::

    records, vectors = read_batch_output("out/emb")
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np

from zoo.errors import ConfigurationError

__all__ = ["read_batch_output", "read_records", "count_records", "record_prefix", "prepare_out", "write_npy", "FORMATS", "MANIFEST"]

FORMATS = ("jsonl", "tfrecord", "npy")
_MARK = ".zoo-batch"  # written first: the folder holds (maybe unfinished) zoo output
MANIFEST = "manifest.json"


def prepare_out(out: str | os.PathLike, overwrite: bool) -> Path:
    if "://" in os.fspath(out):
        raise ConfigurationError(f"--out '{out}': the output folder must be a local (or mounted) path; the "
                                 "input files may be on any Beam filesystem")
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"--out '{out}' is a file; choose a folder")
    if out.is_dir() and any(out.iterdir()):
        ours = (out / _MARK).exists()
        if not overwrite:
            what = ("the output of an earlier run" if (out / MANIFEST).exists() else
                    "an unfinished run's output" if ours else "other files")
            raise ConfigurationError(f"--out '{out}' already holds {what}; choose an empty folder"
                                     + (" or pass --overwrite to replace it" if ours else ""))
        if not ours:
            raise ConfigurationError(f"--out '{out}' holds files zoo did not write; --overwrite only replaces a "
                                     "folder of zoo output: choose an empty folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARK).write_text("zoo batch output; manifest.json is written when the run has finished\n")
    return out

def write_npy(records: list, *, prefix: str, field: str) -> int:
    """All records -> ``PREFIX.npy`` (rows sorted by path, line) and ``PREFIX-index.jsonl`` (the rest of each)."""
    from zoo.atomic import atomic_write_bytes

    records = sorted(records, key=lambda r: (r["path"], r.get("line") or 0))
    vectors = np.asarray([r.pop(field) for r in records], np.float32)
    buf = io.BytesIO()
    np.save(buf, vectors)
    atomic_write_bytes(prefix + ".npy", buf.getvalue())
    atomic_write_bytes(prefix + "-index.jsonl", "".join(json.dumps(r) + "\n" for r in records).encode())
    return len(records)

def record_prefix(field: str) -> str:
    """The file prefix of a field's shards: embeddings, predictions, errors."""
    return {"embedding": "embeddings", "scores": "predictions"}.get(field, field)


def count_records(out: Path, field: str, fmt: str) -> int:
    """How many records the shards of ``field`` (``"errors"`` too) hold, without reading their vectors.

    Example:
        >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = (d / "errors-00000-of-00001.jsonl").write_text("{}\\n{}\\n")
        >>> count_records(d, "errors", "jsonl")
        2
    """
    prefix = record_prefix(field)
    if fmt == "npy":
        return int(np.load(out / f"{prefix}.npy", mmap_mode="r").shape[0])
    if fmt == "jsonl":
        total = 0
        for shard in out.glob(f"{prefix}-*.jsonl"):
            with open(shard, "rb") as f:
                total += sum(1 for line in f if line.strip())
        return total
    import tensorflow as tf

    return sum(1 for shard in out.glob(f"{prefix}-*.tfrecord") for _ in tf.data.TFRecordDataset(str(shard)))


def read_batch_output(out: str | os.PathLike) -> tuple[list[dict], np.ndarray]:
    """The records of a finished `embed` / `predict_files` folder: (one dict per input without its
    vector, the vectors ``[N, D]``), sorted by path and line, whatever the output format.

    Example:
        records, vectors = read_batch_output("out/emb"); records[0]["path"], vectors.shape
        # -> ('/data/a.jpg', (512, 1280))
    """
    out = Path(out).expanduser()
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigurationError(f"'{out}' holds no finished zoo batch output (no {MANIFEST})") from None
    return read_records(out, manifest["field"], manifest["output_format"])


def read_records(out: Path, field: str, fmt: str) -> tuple[list[dict], np.ndarray]:
    prefix = record_prefix(field)
    rows: list[dict] = []
    if fmt == "npy":
        vectors = np.load(out / f"{prefix}.npy")
        rows = [json.loads(s) for s in (out / f"{prefix}-index.jsonl").read_text(encoding="utf-8").splitlines()]
        return rows, vectors
    if fmt == "jsonl":
        for shard in sorted(out.glob(f"{prefix}-*.jsonl")):
            rows.extend(json.loads(s) for s in shard.read_text(encoding="utf-8").splitlines() if s)
    else:
        import tensorflow as tf

        for shard in sorted(out.glob(f"{prefix}-*.tfrecord")):
            for raw in tf.data.TFRecordDataset(str(shard)).as_numpy_iterator():
                ex = tf.train.Example.FromString(raw)
                row = {}
                for k, v in ex.features.feature.items():
                    kind = v.WhichOneof("kind")
                    vals = list(getattr(v, kind).value)
                    if kind == "bytes_list":
                        vals = [b.decode() for b in vals]
                    row[k] = vals if k in (field, "top_scores", "top_labels") else vals[0]
                rows.append(row)
    rows.sort(key=lambda r: (r["path"], r.get("line") or 0))
    vectors = np.asarray([r.pop(field) for r in rows], np.float32)
    return rows, vectors
