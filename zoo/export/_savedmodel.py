"""Exporting trained zoo models: SavedModel with serving signatures on RAW inputs (TFLite: `zoo.export._tflite`).

The SavedModel written by `save_model` is self-contained (the TF Hub modules'
variables and functions are inside it) and loads offline with
``tf.saved_model.load``. Its signatures:

* ``serving_default``: vision ``images`` = encoded image bytes ``tf.string [B]``
  (JPEG/PNG/BMP/GIF, decoded and resized inside); text ``text`` = ``tf.string [B]``;
  audio ``waveforms`` = ``float32 [B, T]`` mono 16 kHz in [-1, 1].
* ``serving_pixels`` (vision only): ``pixels`` = ``float32 [B, H, W, 3]`` 0-255 at the
  backbone's input size (what the data loaders yield; also the TFLite input).

Both return ``scores`` (``[B, C]`` class probabilities, in ``labels.txt`` order),
``top_scores`` / ``top_labels`` (``[B, K]``, best first, K = min(5, C)) and
``top_indices``. ``loaded.labels()`` returns the class names; ``assets.extra/zoo_export.json``
records modality, input size and labels for tools.

Example:
    save_model(model, "runs/x/model", spec=zoo.get("starter_text"), class_names=["neg", "pos"])
    m = load_model("runs/x/model")
    m.signatures["serving_default"](text=tf.constant(["great"]))["top_labels"]
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo.errors import ConfigurationError, ExportError
from zoo.atomic import atomic_write_json, owned_tmp_dir, replace_dir, storage_errors
from zoo.export._task_export import task_export
from zoo.registry import BackboneSpec

__all__ = [
    "save_model", "load_model", "read_export_meta", "verify_export", "copy_savedmodel", "export_meta",
    "write_savedmodel", "EXPORT_META",
]

EXPORT_META = Path("assets.extra") / "zoo_export.json"
TOP_K = 5


def _hub_objects(model: Any) -> list:
    """The loaded TF Hub objects inside ``model`` (tracked so their resources and functions are saved):
    each backbone's module and whatever its contract calls besides (`Backbone.export_objects`)."""
    import tensorflow_hub as hub

    objs: list = []
    for layer in model.submodules:
        if hasattr(layer, "export_objects") and hasattr(layer, "contract"):
            found = layer.export_objects()
        elif isinstance(layer, hub.KerasLayer):  # a backbone's own layers come through export_objects too
            found = [layer._func]  # noqa: SLF001 - the loaded module object
        else:
            continue
        objs.extend(o for o in found if all(o is not x for x in objs))
    return objs


def _serving_module(model: Any, meta: dict, class_names: Sequence[str], binary: bool) -> Any:
    import tensorflow as tf

    from zoo.models.contracts import contract_for_export

    contract = contract_for_export(meta)
    labels = tf.constant([str(c) for c in class_names])
    k = min(TOP_K, len(class_names))

    def outputs(probs: Any) -> dict:
        probs = tf.cast(probs, tf.float32)
        if binary:
            probs = tf.concat([1.0 - probs, probs], axis=-1)
        top = tf.math.top_k(probs, k=k)
        return {"scores": probs, "top_scores": top.values, "top_indices": top.indices,
                "top_labels": tf.gather(labels, top.indices)}

    module = tf.Module()
    module.model_variables = list(model.variables)
    module.hub_objects = _hub_objects(model)
    module.labels = tf.function(lambda: labels, input_signature=[])
    decode = contract.serving_decode(meta)
    names = meta.get("task_inputs")
    if names:  # several raw texts per example (a sentence pair): one string tensor each, by name
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=n) for n in names], autograph=False)
        def serve(*raw: Any) -> dict:
            return outputs(model(dict(zip(names, raw)), training=False))
    else:
        @tf.function(input_signature=[contract.serving_spec(meta)], autograph=False)
        def serve(raw: Any) -> dict:
            return outputs(model(decode(raw) if decode is not None else raw, training=False))

    module.serve = serve
    signatures = {"serving_default": serve}
    for name, fn in ({} if names else contract.extra_signatures(model, meta, outputs)).items():
        setattr(module, name, fn)
        signatures[name] = fn
    return module, signatures


def save_model(model: Any, path: str | os.PathLike, *, spec: BackboneSpec, class_names: Sequence[str],
               binary: bool = False, extra: dict | None = None) -> Path:
    """Save ``model`` as a SavedModel at ``path`` with raw-input serving signatures (atomically).

    The model is written into ``<parent>/.<name>.tmp-XXXX`` and renamed into place, so an
    interrupted export never leaves a directory that loads as a broken model.
    ``binary``: the model has one sigmoid output (exported as two class scores).

    Example:
        save_model(model, "runs/flowers/model", spec=zoo.get("starter_cnn"), class_names=names)
        # -> PosixPath('runs/flowers/model')
    """
    config = getattr(getattr(model, "zoo", None), "config", None) or {}
    extra = {**(extra or {}), **({"task_inputs": list(config["inputs"])} if config.get("inputs") else {})}
    hook = task_export(config.get("task"))
    if hook is not None:  # not one score per class: the task's own signatures
        extra.update(task=config["task"], **hook.meta(model))
        meta = export_meta(spec, class_names, extra)
        module, signatures = hook.serving(model, meta, class_names, _hub_objects(model))
    else:
        meta = export_meta(spec, class_names, extra)
        module, signatures = _serving_module(model, meta, class_names, binary)
    return write_savedmodel(module, signatures, meta, path)


def export_meta(spec: BackboneSpec, class_names: Sequence[str] = (), extra: dict | None = None) -> dict:
    """What ``assets.extra/zoo_export.json`` records about an export over ``spec`` (its contract reads it).

    Example:
        >>> import zoo; m = export_meta(zoo.get("starter_text"), ["neg", "pos"]); m["contract"], m["text_ops"]
        ('sentence_encoder', False)
    """
    from zoo.models.contracts import contract_for

    return {
        "format": "zoo-export/1", "backbone": spec.name, "modality": spec.modality,
        "contract": contract_for(spec).name, "class_names": [str(c) for c in class_names],
        "input_shape": list(spec.input_shape) if spec.input_shape else None, "sample_rate": spec.sample_rate,
        "text_ops": bool(spec.text_ops or spec.preprocessor), "pretrained": spec.pretrained, **(extra or {}),
    }


def write_savedmodel(module: Any, signatures: dict, meta: dict, path: str | os.PathLike) -> Path:
    """Save ``module`` with ``signatures`` and ``meta`` (as `EXPORT_META`) at ``path``, atomically.

    Example:
        write_savedmodel(module, {"serving_default": module.serve}, meta, "runs/x/model")
        # -> PosixPath('runs/x/model')
    """
    import tensorflow as tf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(meta, signatures=sorted(signatures))
    tmp = owned_tmp_dir(path.parent, f".{path.name}.tmp-")
    try:
        with storage_errors(path, "the exported model", "any previous export there is intact"):
            tf.saved_model.save(module, str(tmp / "m"), signatures=signatures)
            (tmp / "m" / EXPORT_META).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(tmp / "m" / EXPORT_META, meta)
            replace_dir(tmp / "m", path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def read_export_meta(path: str | os.PathLike) -> dict:
    """``assets.extra/zoo_export.json`` of an exported model (`ConfigurationError` if it is not one).

    Example:
        read_export_meta("runs/flowers/model")["modality"]
        # -> 'vision'
    """
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        raise ConfigurationError(f"'{path}' holds no exported model (no saved_model.pb); the run may not have "
                                 "finished: finish it with `zoo train --resume --out DIR`")
    try:
        return json.loads((path / EXPORT_META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"'{path}' is not a model exported by zoo ({EXPORT_META} unreadable: {exc})") from None


def load_model(path: str | os.PathLike) -> Any:
    """``tf.saved_model.load`` an exported zoo model (imports tensorflow_text first when it needs it).

    Example:
        m = load_model("runs/flowers/model")
        [s.decode() for s in m.labels().numpy()]
        # -> ['daisy', 'rose']
    """
    import tensorflow as tf

    meta = read_export_meta(path)
    if meta.get("text_ops"):
        try:
            import tensorflow_text  # noqa: F401 - registers ops used by the module
        except ImportError as exc:
            raise ExportError(f"'{path}' needs tensorflow_text to load ({exc}); pip install tensorflow-text") from None
    try:
        return tf.saved_model.load(str(path))
    except Exception as exc:  # noqa: BLE001 - reported as one line
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ExportError(f"cannot load the exported model '{path}': {type(exc).__name__}: {first[:300]}") from None


def verify_export(path: str | os.PathLike) -> dict:
    """Load an export and run its ``serving_default`` signature once on a dummy raw input.

    Returns the export metadata plus ``inputs`` (signature input specs as text).
    Raises `ExportError` if it does not load or its output is not ``[1, C]`` probabilities.

    Example:
        verify_export("runs/flowers/model")["modality"]
        # -> 'vision'
    """
    meta = read_export_meta(path)
    loaded = load_model(path)
    if "serving_default" not in loaded.signatures:
        raise ExportError(f"'{path}' has no serving_default signature (has {sorted(loaded.signatures)})")
    from zoo.models.contracts import contract_for_export

    import tensorflow as tf

    fn, names = loaded.signatures["serving_default"], meta.get("task_inputs")
    hook = task_export(meta.get("task"))
    if hook is not None:
        out = fn(**hook.smoke(meta))
        hook.check(out, meta, path)
    else:
        out = fn(**({n: tf.constant(["zoo export check"]) for n in names} if names
                    else contract_for_export(meta).smoke_input(meta)))
        scores, n = out["scores"].numpy(), len(meta["class_names"])
        if scores.shape != (1, n) or not np.isfinite(scores).all() or abs(float(scores.sum()) - 1.0) > 1e-3:
            raise ExportError(f"'{path}': serving_default returned scores of shape {scores.shape} summing to "
                              f"{float(scores.sum()):.4g}; expected [1, {n}] probabilities")
    _, kwargs = fn.structured_input_signature
    meta = dict(meta)
    meta["inputs"] = {k: f"{v.dtype.name}{list(v.shape)}" for k, v in kwargs.items()}
    meta["outputs"] = sorted(out)
    return meta


def copy_savedmodel(src: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Copy an exported SavedModel to ``out`` (atomically) and verify it there.

    Example:
        copy_savedmodel("runs/flowers/model", "/srv/models/flowers/1")
        # -> PosixPath('/srv/models/flowers/1')
    """
    src, out = Path(src), Path(out).expanduser()
    read_export_meta(src)
    if out.exists() and not (out / "saved_model.pb").exists() and any(out.iterdir()):
        raise ConfigurationError(f"--out '{out}' exists and is not a SavedModel directory; choose another path")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = owned_tmp_dir(out.parent, f".{out.name}.tmp-")
    try:
        with storage_errors(out, "the copy of the export", "any previous export there is intact"):
            shutil.copytree(src, tmp / "m")
        verify_export(tmp / "m")
        replace_dir(tmp / "m", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
