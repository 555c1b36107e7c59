"""``zoo export``: a run's SavedModel copied and checked, or converted to TFLite and compared.

Example (prose: it needs a trained run), in Python::

    from zoo.cli import main
    main(["export", "runs/shapes", "--format", "tflite"])
    # -> TFLite runs/shapes/model.tflite (2417.3 KiB, quantize=none); input float32[1, 224, 224, 3] pixels 0-255; ...
    # -> 0
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from zoo.cli._run_commands import _open_run
from zoo.errors import ConfigurationError
from zoo.quiet import quiet_tensorflow

__all__ = ["cmd_export"]


# --------------------------------------------------------------------------- export


def _representative(info: dict, meta: dict, limit: int = 100) -> Any:
    """A representative-dataset callable from the run's training data, or None if it is gone."""
    from zoo.runs import RunConfig

    if not info.get("config"):
        return None
    cfg = RunConfig.from_dict(info["config"])
    if not cfg.data or not Path(cfg.data).exists():
        return None

    def gen() -> Any:
        import numpy as np

        from zoo.runs import load_data

        like = SimpleNamespace(modality=meta["modality"], contract=meta.get("contract"), name=meta["backbone"], sample_rate=meta.get("sample_rate"),
                               input_shape=tuple(meta["input_shape"]) if meta.get("input_shape") else None)
        data = load_data(cfg, like, val_split=None, shuffle=False)
        n = 0
        for x, _ in data.train:
            for i in range(int(x.shape[0])):
                if n >= limit:
                    return
                n += 1
                item = x[i:i + 1].numpy()
                yield [item.astype(np.float32) if item.dtype != object else item]

    return gen


def cmd_export(args: argparse.Namespace) -> int:
    """``zoo export DIR --format savedmodel|tflite``.

    Example:
        main(["export", "runs/shapes", "--format", "tflite", "--quantize", "dynamic"])
        # -> 0
    """
    model_dir, meta, info = _open_run(args.run)
    quiet_tensorflow()
    if args.format == "savedmodel":
        if args.quantize or args.select_tf_ops:
            raise ConfigurationError("--quantize and --select-tf-ops apply to --format tflite")
        from zoo.export import copy_savedmodel, verify_export
        target = copy_savedmodel(model_dir, args.out) if args.out else model_dir
        checked = verify_export(target)
        inputs = ", ".join(f"{k}: {v}" for k, v in checked["inputs"].items())
        print(f"SavedModel {target}: serving_default({inputs}) -> {', '.join(checked['outputs'])}; "
              f"{len(checked['class_names'])} classes; checked on a dummy input")
        return 0
    from zoo.export import export_tflite
    quantize = args.quantize or "none"
    default_name = "model.tflite" if quantize == "none" else f"model_{quantize}.tflite"
    base = model_dir.parent if info else model_dir
    out = Path(args.out).expanduser() if args.out else base / default_name
    rep = _representative(info, meta) if quantize == "int8" else None
    path = export_tflite(model_dir, out, quantize=quantize, select_tf_ops=args.select_tf_ops, representative=rep)
    detail = _check_tflite(path, model_dir, meta)
    print(f"TFLite {path} ({path.stat().st_size / 1024:.1f} KiB, quantize={quantize}){detail}")
    return 0


def _check_tflite(path: Path, model_dir: Path, meta: dict) -> str:
    """Run the TFLite model once and compare it with the SavedModel; a note for the user."""
    import numpy as np
    import tensorflow as tf

    from zoo.export import load_model
    from zoo.quiet import captured_stderr

    from zoo.models.contracts import contract_for_export

    contract = contract_for_export(meta)
    sig = contract.eval_signature
    key, x, shown = contract.tflite_example(meta)
    try:
        with captured_stderr():
            runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner(sig)
            got = runner(**{key: x})["scores"]
    except Exception as exc:  # noqa: BLE001 - informational only
        return f"; input {shown}; could not run it here ({type(exc).__name__})"
    want = load_model(model_dir).signatures[sig](**{key: tf.constant(x)})["scores"].numpy()
    return f"; input {shown}; max |score difference| vs SavedModel {np.abs(got - want).max():.2g}"
