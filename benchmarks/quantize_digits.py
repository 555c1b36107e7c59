"""What int8 quantization costs on REAL images: scikit-learn's handwritten digits (1797 scans, 10 classes).

``starter_cnn`` (zoo's random-init starter, fine-tuned in full here) is trained by ``zoo train`` on the
digits (8x8 grey scans written as 64x64 PNGs), then exported with ``zoo export --format tflite
--quantize`` dynamic / int8 / int8-full; each export's report (the run's validation split, float
SavedModel vs TFLite with LiteRT, one example at a time) is collected.

    python -m benchmarks.quantize_digits
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

OUT = Path("benchmarks/out/quantize_digits")


def main() -> None:
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import load_digits

    from zoo.cli import main as zoo

    shutil.rmtree(OUT, ignore_errors=True)
    digits = load_digits()
    for i, (img, y) in enumerate(zip(digits.images, digits.target)):
        pix = np.kron(img / 16.0 * 255.0, np.ones((8, 8))).astype(np.uint8)[..., None].repeat(3, -1)
        path = OUT / "data" / str(y) / f"{i:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tf.io.encode_png(pix).numpy())
    run = OUT / "run"
    assert zoo(["train", "starter_cnn", "--data", str(OUT / "data"), "--freeze", "full", "--epochs", "10",
                "--learning-rate", "0.003", "--out", str(run), "-q"]) == 0
    for mode in ("dynamic", "int8", "int8-full"):
        assert zoo(["export", str(run), "--format", "tflite", "--quantize", mode]) == 0
    reports = json.loads((run / "export_report.json").read_text())["exports"]
    rows = {name: {"float_accuracy": r["float"]["accuracy"], "tflite_accuracy": r["tflite"]["accuracy"],
                   "drop": r["drop"], "agreement": r["agreement_top1"],
                   "size_ratio": r["tflite"]["size_bytes"] / r["float"]["size_bytes"],
                   "speedup": r["float"]["ms_per_example"] / r["tflite"]["ms_per_example"],
                   "float_ms": r["float"]["ms_per_example"], "tflite_ms": r["tflite"]["ms_per_example"]}
            for name, r in reports.items()}
    (OUT / "result.json").write_text(json.dumps(rows, indent=2))
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
