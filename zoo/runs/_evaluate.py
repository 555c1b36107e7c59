"""Evaluating an exported model on labelled data (``zoo evaluate``, the demo).

The data are read as the run's training data were (same loader, image size, sample
rate), through the model's raw-input serving signature.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from zoo.errors import DataError

__all__ = ["evaluate_export", "export_spec"]


def export_spec(meta: dict) -> SimpleNamespace:
    """What `load_data` needs of a backbone spec, from an export's metadata (no registry needed): the data of
    an exported model are read as its run read them.

    Example:
        >>> export_spec({"modality": "vision", "backbone": "m", "input_shape": [224, 224, 3]}).input_shape
        (224, 224, 3)
    """
    return SimpleNamespace(modality=meta["modality"], contract=meta.get("contract"), name=meta["backbone"],
                           input_shape=tuple(meta["input_shape"]) if meta.get("input_shape") else None,
                           sample_rate=meta.get("sample_rate"))


def evaluate_export(model_dir: Path, meta: dict, info: dict, data_path: Path, *, loaded: Any = None) -> dict:
    """Run an exported model over labelled data (read like the run's training data); return a classification report.

    Example:
        evaluate_export(Path("runs/r/model"), meta, info, Path("test"))["accuracy"]
        # -> 0.97
    """
    import numpy as np

    from zoo.export import load_model
    from zoo.models.contracts import contract_for_export
    from zoo.runs._reports import classification_report
    from zoo.runs._rundir import RunConfig
    from zoo.runs._data import load_data

    if meta.get("task") == "contrastive":  # retrieval recall@1/5/10 over the (file, caption) pairs
        from zoo.runs._retrieval import export_recall

        cfg = (info.get("config") or {})
        return export_recall(loaded if loaded is not None else load_model(model_dir), meta, data_path,
                             media_column=cfg.get("csv_image_column") or cfg.get("csv_audio_column"),
                             caption_column=cfg.get("csv_text_column"))
    if meta.get("task") == "question_answering":  # SQuAD's exact match and F1 (v2.0: unanswerable ones too)
        from zoo.data import read_squad, squad_scores
        from zoo.export import answer_export

        asked = read_squad(data_path)
        fn = (loaded if loaded is not None else load_model(model_dir)).signatures["serving_default"]
        found = answer_export(fn, meta, [e["question"] for e in asked], [e["context"] for e in asked])
        scores = squad_scores({e["id"]: f["answer"] for e, f in zip(asked, found)},
                              {e["id"]: [] if e["impossible"] else e["answers"] for e in asked})
        return {"task": meta["task"], **scores, "data": str(data_path)}
    names = list(meta["class_names"])
    if meta.get("task") == "token_classification":  # entity-level P / R / F1; the file read with the model's tags
        from zoo.data import from_conll
        from zoo.runs._entities import dataset_entity_scores

        data = from_conll(data_path, class_names=names, max_words=int(meta["max_words"]))
        fn = (loaded if loaded is not None else load_model(model_dir)).signatures["serving_default"]
        scores = dataset_entity_scores(lambda x: fn(text=x)["tags"].numpy(), data.train, names)
        return {"task": meta["task"], **scores, "n_sentences": data.summary.n_examples, "data": str(data_path)}
    task = meta.get("task") or ("pair_classification" if meta.get("task_inputs") else "classification")
    cfg = RunConfig.from_dict(info["config"]) if info.get("config") else RunConfig(backbone=meta["backbone"], data="",
                                                                                   task=task)
    data = load_data(cfg, export_spec(meta), path=data_path, val_split=None, shuffle=False)
    unknown = [c for c in data.class_names if c not in names]
    if unknown:
        raise DataError(f"classes {unknown} of '{data_path}' are not classes of the model ({', '.join(names)}); "
                        "evaluate on data with the model's classes")
    remap = np.asarray([names.index(c) for c in data.class_names])  # the file's class order -> the model's
    loaded = loaded if loaded is not None else load_model(model_dir)
    contract = contract_for_export(meta)
    fn, key = loaded.signatures[contract.eval_signature], contract.eval_input_key(meta)
    ys, scores = [], []
    for x, y in data.train:
        scores.append(fn(**(x if meta.get("task_inputs") else {key: x}))["scores"].numpy())  # a pair: by name
        ys.append(remap[y.numpy()])
    report = classification_report(np.concatenate(ys), np.concatenate(scores), names)
    report["n_skipped"] = data.summary.n_skipped
    report["skipped"] = [{"path": s.path, "reason": s.reason} for s in data.summary.skipped]
    report["data"] = str(data_path)
    return report
