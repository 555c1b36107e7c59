"""Training throughput of the Keras 3 path (``zoo.build(..., keras=3)``) vs the tf_keras path, same backbone.

Module: EfficientNet B0 feature vector exported with TF Model Garden's ``tfhub_export.py`` (the
exporter of TF Hub's ``tensorflow/efficientnet/b0/feature-vector/1``; real architecture and size,
random weights), installed under its real handle in a private ``TFHUB_CACHE_DIR``. Data:
uint8 images 224x224, 4 classes. Both sides run ``model.fit`` (Keras' own loop: not ``zoo.fit``,
whose feature cache only the tf_keras path has) on the same arrays, for the freeze states
``frozen`` and ``top:2``; throughput is images/s from the end of the first batch (tracing
done) to the end of the last. Sides alternate, each in a fresh process; medians of ``--reps``.

    python -m benchmarks.keras3_speed --images 128 --epochs 2 --reps 3
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.compare_speed import prepared_work, speed_parser

NAME = "efficientnet_b0"
FREEZES = ("frozen", "top:2")


def _child(side: str, freeze: str, work: str, images: int, epochs: int) -> None:
    os.environ["TFHUB_CACHE_DIR"] = str(Path(work) / "hub")
    import numpy as np

    import zoo

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (images, 224, 224, 3), dtype=np.uint8)
    y = np.arange(images) % 4
    model = zoo.build(NAME, num_classes=4, freeze=freeze, keras=3 if side == "keras3" else 2)
    if side == "keras3":
        import keras
    else:
        import tf_keras as keras
    stamps: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            stamps.append(time.perf_counter())

    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[Timer()])
    n = len(stamps) - 1
    print(json.dumps({"images_per_s": n * 32 / (stamps[-1] - stamps[0])}))


def main() -> None:
    ap = speed_parser(__doc__, images=128)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    work = prepared_work(args.work, 8)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result: dict = {"backbone": NAME, "images": args.images, "epochs": args.epochs, "batch_size": 32}
    for freeze in FREEZES:
        rates: dict[str, list[float]] = {"tf_keras": [], "keras3": []}
        for _ in range(args.reps):
            for side in rates:
                out = subprocess.run([sys.executable, "-m", "benchmarks.keras3_speed", "--child", side, freeze,
                                      str(work), str(args.images), str(args.epochs)],
                                     capture_output=True, text=True, env=env, check=True).stdout
                rates[side].append(json.loads(out.strip().splitlines()[-1])["images_per_s"])
        base, k3 = statistics.median(rates["tf_keras"]), statistics.median(rates["keras3"])
        result[freeze] = {"tf_keras": rates["tf_keras"], "keras3": rates["keras3"], "ratio": k3 / base}
        print(f"{NAME} freeze={freeze}: Keras 3 {k3:.1f} img/s, tf_keras {base:.1f} img/s, ratio {k3 / base:.2f}")
    Path("benchmarks/out").mkdir(parents=True, exist_ok=True)
    Path("benchmarks/out/keras3_speed.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        main()
