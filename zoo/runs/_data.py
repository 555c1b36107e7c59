"""How a run reads its data: a class folder, a CSV of inputs and labels, or a CSV of text pairs.

`load_data` reads them the way the run's config says (task, image size, sample rate, columns);
``zoo train``, ``zoo evaluate``, ``zoo prune``, ``zoo distill`` and the quantization report
all read through it, so new data are read as the training data were.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo.errors import DataError
from zoo.runs._rundir import RunConfig

__all__ = ["load_data", "CSV_SUFFIXES"]

CSV_SUFFIXES = (".csv", ".tsv")


def load_data(cfg: RunConfig, spec: Any, *, path: str | os.PathLike | None = None, val_split: float | None = -1.0,
              shuffle: bool = True) -> Any:
    """Load the run's data as a `zoo.data.Dataset` the way the run ``cfg`` does (task, image size, rate, columns):
    a class folder or CSV, a CSV of text pairs, a CoNLL file (token_classification), a SQuAD file (question_answering).

    ``val_split=-1`` means the run's own split; ``None`` keeps every example in ``train``.

    Example:
        ds = load_data(cfg, zoo.get(cfg.backbone), path="data/test", val_split=None, shuffle=False)
    """
    from zoo import data as zdata

    path = Path(path if path is not None else cfg.data).expanduser()
    split = cfg.val_split if val_split == -1.0 else val_split
    split = split or None
    from zoo.models.contracts import contract_for
    from zoo.registry import get_task

    task = get_task(cfg.task)
    if cfg.text_backbone:  # contrastive: (image or audio file, caption) pairs, keyed by the two backbones
        return zdata.from_captions(path, keys=(spec.name, cfg.text_backbone), batch_size=cfg.batch_size,
                                   val_split=split, seed=cfg.seed, modality=spec.modality,
                                   media_column=cfg.csv_image_column or cfg.csv_audio_column,
                                   caption_column=cfg.csv_text_column,
                                   **contract_for(spec).loader_options(spec))
    if task.label_kind == "span":  # extractive QA: a SQuAD JSON file
        if not path.is_file():
            raise DataError(f"task {task.name!r} reads a SQuAD v1.1 / v2.0 JSON file; '{path}' is not a file")
        words = cfg.max_words or 64
        return zdata.from_squad(path, max_words=words, stride=max(1, words // 2), batch_size=cfg.batch_size,
                                val_split=split, seed=cfg.seed)
    if task.label_kind == "token":  # one tag per word: a CoNLL file
        if not path.is_file():
            raise DataError(f"task {task.name!r} reads a CoNLL file (WORD ... TAG per line, a blank line between "
                            f"sentences); '{path}' is not a file")
        return zdata.from_conll(path, max_words=cfg.max_words or 64, batch_size=cfg.batch_size, val_split=split,
                                seed=cfg.seed)
    if task.inputs:  # text pairs: a CSV with two text columns (named by --csv-text-column A,B, else found)
        if not (path.is_file() and path.suffix.lower() in CSV_SUFFIXES):
            raise DataError(f"task {task.name!r} reads a .csv/.tsv of text pairs (columns text_a,text_b,label or "
                            f"sentence1,sentence2,label ...); '{path}' is not one")
        columns = cfg.csv_text_column.split(",") if cfg.csv_text_column else None
        return zdata.from_pairs_csv(path, text_columns=columns, label_column=cfg.csv_label_column,
                                    regression=task.label_kind == "float", batch_size=cfg.batch_size,
                                    val_split=split, seed=cfg.seed)
    kw: dict = {"batch_size": cfg.batch_size, "val_split": split, "seed": cfg.seed,
                **contract_for(spec).loader_options(spec)}
    if path.is_file():
        if path.suffix.lower() not in CSV_SUFFIXES:
            raise DataError(f"'{path}' is not a .csv/.tsv file or a folder of class sub-folders")
        return zdata.from_csv(path, text_column=cfg.csv_text_column, image_column=cfg.csv_image_column,
                              audio_column=cfg.csv_audio_column, label_column=cfg.csv_label_column,
                              modality=spec.modality, **kw)
    if not path.exists():
        raise DataError(f"data path '{path}' does not exist; pass a folder with one sub-folder per class, or a .csv file")
    return zdata.from_folder(path, spec.modality, shuffle=shuffle, **kw)
