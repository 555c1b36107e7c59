"""Models: the family contracts, the backbone layer, model building, heads, optimizers,
freeze schedules, distribution strategies and the starter backbones.

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "batched": "_audio_batching",
    "clip_embedding": "_audio_batching",
    "per_clip": "_audio_batching",
    "pick_output": "_audio_batching",
    "Backbone": "_backbones",
    "HubModule": "_backbones",
    "ensure_local_module": "_backbones",
    "load_backbone": "_backbones",
    "BlockGroups": "_blocks",
    "group_blocks": "_blocks",
    "natural_key": "_blocks",
    "scope_names": "_blocks",
    "build": "_builder",
    "input_layer": "_builder",
    "STRATEGY_NAMES": "_distribute",
    "resolve_strategy": "_distribute",
    "tpu_present": "_distribute",
    "ALIASES": "_freeze",
    "FreezeSchedule": "_freeze",
    "Stage": "_freeze",
    "check_freeze": "_freeze",
    "default_freeze": "_freeze",
    "parse_freeze": "_freeze",
    "require_block_naming": "_freeze",
    "require_fine_tunable": "_freeze",
    "SupervisedContrastiveLoss": "_heads",
    "binary_compile": "_heads",
    "binary_head": "_heads",
    "classification_compile": "_heads",
    "embedding_compile": "_heads",
    "embedding_head": "_heads",
    "linear_head": "_heads",
    "multilabel_compile": "_heads",
    "regression_compile": "_heads",
    "sigmoid_head": "_heads",
    "softmax_head": "_heads",
    "InputWarning": "_inputs",
    "check_inputs": "_inputs",
    "check_one": "_inputs",
    "ZooModel": "_model",
    "ZooParts": "_model",
    "describe_module": "_module_report",
    "format_report": "_module_report",
    "FROZEN_LEARNING_RATE": "_optimizers",
    "HEAD_LEARNING_RATE": "_optimizers",
    "WarmupLinear": "_optimizers",
    "compile_model": "_optimizers",
    "learning_rates": "_optimizers",
    "loss_and_metrics": "_optimizers",
    "make_optimizer": "_optimizers",
    "set_lr_scales": "_optimizers",
    "AUDIO_NUM_CLASSES": "_starters",
    "STARTER_VERSION": "_starters",
    "build_starter": "_starters",
    "make_starter_module": "_starters",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
