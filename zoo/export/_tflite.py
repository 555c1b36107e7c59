"""TFLite export of a zoo SavedModel: conversion, quantization, and which ops TFLite cannot run.

Example:
    >>> unsupported_ops("... tf.StringSplitV2 {device = ''}")
    ['StringSplitV2']
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterable

from zoo.atomic import atomic_write_bytes
from zoo.errors import ConfigurationError, ExportError
from zoo.export import read_export_meta, require_classifier
from zoo.quiet import captured_stderr

__all__ = ["export_tflite", "unsupported_ops", "QUANTIZE_MODES"]

QUANTIZE_MODES = ("none", "dynamic", "float16", "int8", "int8-full")

_OP_LINE = re.compile(r"\btf\.([A-Z][A-Za-z0-9]+)")
_OP_QUOTED = re.compile(r"'tf\.([A-Z][A-Za-z0-9]+)'")


def _listed_ops(message: str, marker: str) -> list[str]:
    """Op names on the converter's ``marker`` line (e.g. "Custom ops: A, B")."""
    names: set[str] = set()
    for line in message.splitlines():
        if line.strip().startswith(marker):
            names.update(n.strip() for n in line.split(":", 1)[1].split(",") if n.strip())
    return sorted(names)


def unsupported_ops(message: str) -> list[str]:
    """The TensorFlow op names a TFLite converter error reports as unsupported.

    Example:
        >>> unsupported_ops("Some ops are not supported by the native TFLite runtime ... "
        ...                 "tf.StringToHashBucketFast(...) tf.StringSplitV2 {device = ''}")
        ['StringSplitV2', 'StringToHashBucketFast']
    """
    found = set(_OP_QUOTED.findall(message)) | set(_OP_LINE.findall(message))
    return sorted(found)


def export_tflite(src: str | os.PathLike, out: str | os.PathLike, *, quantize: str = "none",
                  select_tf_ops: bool = False, representative: Callable[[], Iterable[list]] | None = None) -> Path:
    """Convert an exported zoo SavedModel to a ``.tflite`` file (written atomically).

    Vision models take ``float32 [B, H, W, 3]`` pixels 0-255 (the ``serving_pixels``
    signature); text strings and audio waveforms as in ``serving_default``.
    ``quantize``: ``none``, ``dynamic`` (int8 weights), ``float16``, ``int8`` (int8 kernels, float
    where an op has none) or ``int8-full`` (int8 kernels only; the float input and output are
    quantized at the edges); both int8 modes need ``representative``: a callable yielding
    ``[input_array]`` examples. Ops that TFLite
    builtins cannot run raise `ExportError` naming them (``select_tf_ops=True`` allows
    TensorFlow ops through the Flex delegate).

    Example:
        export_tflite("runs/flowers/model", "runs/flowers/model.tflite", quantize="dynamic")
        # -> PosixPath('runs/flowers/model.tflite')
    """
    import tensorflow as tf

    src, out = Path(src), Path(out).expanduser()
    meta = read_export_meta(src)
    require_classifier(meta, "TFLite export")
    if quantize not in QUANTIZE_MODES:
        raise ConfigurationError(f"--quantize must be one of {', '.join(QUANTIZE_MODES)}, got {quantize!r}")
    if quantize.startswith("int8") and representative is None:
        raise ExportError("int8 quantization needs a representative dataset: the run's training data "
                          "(run.json 'data') is not available; use --quantize dynamic or float16, or restore the data")
    from zoo.models.contracts import contract_for_export

    key = contract_for_export(meta).eval_signature
    if meta.get("text_ops"):
        import tensorflow_text  # noqa: F401
    converter = tf.lite.TFLiteConverter.from_saved_model(str(src), signature_keys=[key])
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize.startswith("int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        if quantize == "int8-full":  # integer kernels only: conversion fails rather than fall back to float
            ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        elif not select_tf_ops:
            ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    if select_tf_ops:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    try:
        with captured_stderr() as cap:
            blob = converter.convert()
    except Exception as exc:  # noqa: BLE001 - converter errors become one ExportError
        message = f"{exc}\n{cap.text}"
        select, custom = _listed_ops(message, "TF Select ops:"), _listed_ops(message, "Custom ops:")
        if not select and not custom:
            custom = unsupported_ops(message)
        what = f"cannot convert {meta['backbone']} ({meta['modality']}) to TFLite"
        if custom and (select_tf_ops or not select):
            raise ExportError(f"{what}: ops supported neither by TFLite builtins nor by the Flex delegate "
                              f"(SELECT_TF_OPS): {', '.join(custom)}; export as savedmodel instead") from None
        if select:
            also = f"; these need custom TFLite kernels even then: {', '.join(custom)}" if custom else ""
            raise ExportError(f"{what}: ops not supported by TFLite builtins: {', '.join(select + custom)}; rerun "
                              "with --select-tf-ops to run them through TensorFlow's Flex delegate (the app then "
                              f"needs the tensorflow-lite-select-tf-ops runtime){also}, or export as savedmodel") from None
        first = next((ln.strip() for ln in message.splitlines() if "error" in ln.lower()), message.strip()[:300])
        raise ExportError(f"TFLite conversion of '{src}' failed: {first[:400]}") from None
    atomic_write_bytes(out, blob)
    return out
