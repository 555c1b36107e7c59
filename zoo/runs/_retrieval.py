"""Retrieval with contrastive models: recall@K on captioned data (``zoo train``, ``zoo evaluate``) and
ranking a folder of files for a text query (``zoo search``).

Example:
    >>> import numpy as np
    >>> out = np.concatenate([np.eye(2), np.eye(2), np.zeros((2, 1))], axis=1)  # [z_input, z_text, log scale]
    >>> dataset_recall(lambda x: out, [(None, np.array([0, 1]))], ks=(1,))["text_to_input"]
    {'R@1': 1.0}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from zoo.errors import DataError

__all__ = ["dataset_recall", "export_recall", "search_files", "media_files", "RECALL_KS"]

RECALL_KS = (1, 5, 10)


def dataset_recall(predict: Callable[[Any], np.ndarray], data: Any, ks: Sequence[int] = RECALL_KS) -> dict:
    """`zoo.models.retrieval_recall` of a contrastive model's outputs (``[B, 2 P + 1]``) on ``(inputs, file
    index)`` batches (`zoo.data.from_captions`): captions of one file count as one input."""
    from zoo.models import retrieval_recall

    z1, z2, groups = [], [], []
    for x, y in data:
        out = np.asarray(predict(x), np.float32)
        p = (out.shape[1] - 1) // 2
        z1.append(out[:, :p]), z2.append(out[:, p:2 * p]), groups.append(np.asarray(y).reshape(-1))
    if not z1:
        raise DataError("no (file, caption) pairs to measure retrieval on")
    return retrieval_recall(np.concatenate(z1), np.concatenate(z2), ks, groups=np.concatenate(groups))


def export_recall(loaded: Any, meta: dict, data_path: Path, ks: Sequence[int] = RECALL_KS, *,
                  media_column: str | None = None, caption_column: str | None = None) -> dict:
    """Recall@K of a contrastive export on a captions CSV or folder (`zoo.data.from_captions` formats); files
    that are missing or unreadable are skipped and listed, as training skips them."""
    from zoo.data import read_captions
    from zoo.export import embed_export, read_inputs
    from zoo.models import retrieval_recall

    files, captions, skips = read_captions(data_path, modality=meta["modality"], media_column=media_column,
                                           caption_column=caption_column)
    raw, skipped = {}, [{"path": s.path, "reason": s.reason} for s in skips.items]
    for f in sorted(set(files)):
        try:
            raw[f] = read_inputs(meta, [f])[0]
        except DataError as exc:
            skipped.append({"path": f, "reason": str(exc)})
    if not raw:
        raise DataError(f"none of the files of '{data_path}' is usable (e.g. {skipped[0]['path']}: "
                        f"{skipped[0]['reason']})")
    distinct = list(raw)
    index = {f: i for i, f in enumerate(distinct)}
    kept = [(f, c) for f, c in zip(files, captions) if f in index]
    first = embed_export(loaded, meta, [raw[f] for f in distinct])
    text = embed_export(loaded, meta, [c for _, c in kept], text=True)
    groups = np.asarray([index[f] for f, _ in kept])
    report = retrieval_recall(first[groups], text, ks, groups=groups)
    return {"task": "contrastive", **report, "n_files": len(distinct), "n_captions": len(kept),
            "skipped": skipped, "data": str(data_path)}


def media_files(folder: Path, modality: str) -> list[Path]:
    """The files of ``modality`` (by extension) under ``folder``, sorted; hidden ones left out
    (`zoo.data.files_of_kind`), and a `DataError` when there are none."""
    from zoo.data import KINDS, files_of_kind

    exts = set(KINDS[modality].extensions)
    if not folder.is_dir():
        raise DataError(f"'{folder}' is not a folder; pass a folder of {modality} files "
                        f"({', '.join(sorted(exts))})")
    found = files_of_kind(folder, modality)
    if not found:
        raise DataError(f"folder '{folder}' has no {modality} files ({', '.join(sorted(exts))})")
    return found


def search_files(loaded: Any, meta: dict, queries: Sequence[str], files: Sequence[os.PathLike], *,
                 top_k: int = 5) -> list[dict]:
    """For each text query, the ``top_k`` files most similar to it: ``[{"query", "results": [{"path", "score"}]}]``
    (score: cosine similarity in the shared space)."""
    from zoo.export import embed_export, read_inputs

    first = embed_export(loaded, meta, read_inputs(meta, [str(f) for f in files]))
    text = embed_export(loaded, meta, list(queries), text=True)
    sims = text @ first.T
    out = []
    for q, row in zip(queries, sims):
        order = np.argsort(-row, kind="stable")[:top_k]
        out.append({"query": q, "results": [{"path": str(files[i]), "score": round(float(row[i]), 4)} for i in order]})
    return out
