"""Export: SavedModels with serving signatures on raw inputs, and TFLite.

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "module_digest": "_embedding",
    "save_embedding_model": "_embedding",
    "EXPORT_META": "_savedmodel",
    "copy_savedmodel": "_savedmodel",
    "export_meta": "_savedmodel",
    "write_savedmodel": "_savedmodel",
    "load_model": "_savedmodel",
    "predict_scores": "_predict",
    "read_export_meta": "_savedmodel",
    "read_inputs": "_predict",
    "save_model": "_savedmodel",
    "verify_export": "_savedmodel",
    "require_classifier": "_task_inputs",
    "TaskExport": "_task_export",
    "task_export": "_task_export",
    "answer_export": "_span_export",
    "embed_export": "_contrastive_export",
    "zero_shot_export": "_contrastive_export",
    "SPAN_TASK": "_span_export",
    "tag_texts": "_token_export",
    "entities": "_token_export",
    "TOKEN_TASK": "_token_export",
    "QUANTIZE_MODES": "_tflite",
    "export_tflite": "_tflite",
    "unsupported_ops": "_tflite",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
