"""Run directories: ``zoo train`` / ``zoo evaluate`` runs, checkpoints, reports and the demo.

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "data_fingerprint": "_provenance",
    "provenance": "_provenance",
    "format_provenance": "_provenance",
    "prune_run": "_prune",
    "gzip_size": "_prune",
    "import_tfmot": "_prune",
    "checkpoint_callback": "_checkpoints",
    "Teacher": "_distill",
    "open_teacher": "_distill",
    "distill_inputs": "_distill",
    "distill_report": "_distill",
    "check_distill": "_distill",
    "distill": "_distill",
    "stratified": "_quantized",
    "run_examples": "_quantized",
    "quantization_report": "_quantized",
    "format_quantization_report": "_quantized",
    "tree_size": "_quantized",
    "check_drop": "_quantized",
    "REPRESENTATIVE_MIN": "_quantized",
    "CheckpointInfo": "_checkpoints",
    "checkpoint_objects": "_checkpoints",
    "restore_latest": "_checkpoints",
    "restore_weights": "_checkpoints",
    "CompareResult": "_compare",
    "compare": "_compare",
    "parse_budget": "_compare",
    "Decoded": "_compare_data",
    "decode": "_compare_data",
    "features": "_compare_data",
    "fine_tune": "_compare_data",
    "is_cached": "_compare_data",
    "latency": "_compare_data",
    "module_facts": "_compare_data",
    "CSV_COLUMNS": "_compare_report",
    "format_table": "_compare_report",
    "pareto_front": "_compare_report",
    "plot_compare": "_compare_report",
    "rank_rows": "_compare_report",
    "write_csv": "_compare_report",
    "RunConfig": "_config",
    "DEMO_SETUPS": "_demo",
    "format_demo_report": "_demo",
    "run_demo": "_demo",
    "evaluate_export": "_evaluate",
    "have_sklearn": "_probe",
    "macro_f1": "_probe",
    "probe": "_probe",
    "splits": "_probe",
    "classification_report": "_reports",
    "confusion_matrix": "_reports",
    "format_report": "_reports",
    "per_class_metrics": "_reports",
    "plot_confusion_matrix": "_reports",
    "plot_training_curve": "_reports",
    "KEEP_CHECKPOINTS": "_rundir",
    "RUN_FILES": "_rundir",
    "RunDir": "_rundir",
    "CSV_SUFFIXES": "_train",
    "TrainResult": "_train",
    "check_config": "_train",
    "load_data": "_train",
    "supported_task": "_train",
    "train_run": "_train",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
