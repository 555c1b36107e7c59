"""Throughput of ``zoo embed`` on Beam's DirectRunner vs a hand-written in-process TF Hub loop, same files.

Module: EfficientNet B0 feature vector exported with TF Model Garden's ``tfhub_export.py`` (real
architecture and size, random weights; `benchmarks.compare_speed.prepare`), under its real handle in
a private ``TFHUB_CACHE_DIR``. Data: ``--images`` synthetic PNG/JPEG files (16-48 px, resized to 224).

* zoo: ``zoo embed efficientnet_b0 --data DIR --out OUT --format npy`` (the command a user runs:
  saves the raw-input embedding model, then a Beam pipeline on the DirectRunner with one worker
  process per core: match, read and check each file, RunInference in batches of 32, write).
* baseline: one process, ``hub.KerasLayer(handle)``, ``tf.io.decode_image`` + ``tf.image.resize``
  per file, batches of 32, ``np.save``: what one writes by hand.

Each side runs in a fresh process, timed from its start to its end (TensorFlow import included),
sides alternating; medians of ``--reps``; the ratio is zoo's throughput over the baseline's.

    python -m benchmarks.embed_speed --images 512 --reps 3
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.compare_speed import prepared_work, speed_parser

NAME = "efficientnet_b0"

_BY_HAND = """
import sys, numpy as np, tensorflow as tf, tensorflow_hub as hub
from pathlib import Path
files = sorted(str(p) for p in Path(sys.argv[1]).rglob("*") if p.is_file())
layer = hub.KerasLayer(sys.argv[2])
out = []
for i in range(0, len(files), 32):
    imgs = [tf.image.resize(tf.io.decode_image(tf.io.read_file(f), channels=3, expand_animations=False), (224, 224))
            / 255.0 for f in files[i:i + 32]]
    out.append(layer(tf.stack(imgs)).numpy())
np.save(sys.argv[3], np.concatenate(out))
"""


def main() -> None:
    args = speed_parser(__doc__).parse_args()
    work = prepared_work(args.work, 8)
    data = work / f"embed-data-{args.images}"
    if not data.exists():
        import zoo.data as zd

        zd.make_synthetic_folder(data, "vision", n_per_class=args.images // 4, classes=("a", "b", "c", "d"))
    import zoo

    handle = zoo.get(NAME).handle
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = work / "embed-out"
    sides = {
        "zoo": lambda: [sys.executable, "-m", "zoo", "embed", NAME, "--data", str(data), "--out", str(out),
                        "--format", "npy", "--overwrite"],
        "by_hand": lambda: [sys.executable, "-c", _BY_HAND, str(data), handle, str(work / "by_hand.npy")],
    }
    seconds: dict[str, list[float]] = {s: [] for s in sides}
    for _ in range(args.reps):
        for side, cmd in sides.items():
            t = time.perf_counter()
            subprocess.run(cmd(), check=True, env=env, capture_output=True)
            seconds[side].append(time.perf_counter() - t)
    n = args.images
    zoo_rate, hand_rate = n / statistics.median(seconds["zoo"]), n / statistics.median(seconds["by_hand"])
    result = {"backbone": NAME, "images": n, "cores": os.cpu_count(), "seconds": seconds,
              "zoo_images_per_s": zoo_rate, "by_hand_images_per_s": hand_rate, "ratio": zoo_rate / hand_rate}
    print(f"{NAME}, {n} files, {os.cpu_count()} cores: zoo embed (DirectRunner) {zoo_rate:.1f} files/s, "
          f"in-process loop {hand_rate:.1f} files/s, ratio {zoo_rate / hand_rate:.2f}")
    shutil.rmtree(out, ignore_errors=True)
    Path("benchmarks/out").mkdir(parents=True, exist_ok=True)
    Path("benchmarks/out/embed_speed.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
