"""``zoo compare`` of three real-size architectures vs the three feature-extraction passes written by hand.

Issue 13's target: comparing K backbones costs at most 1.15x the sum of K single
feature-extraction passes over the same data (decoding shared, probes in seconds).

Modules: EfficientNet B0, B1 and B2 feature vectors exported with TF Model Garden's
``tfhub_export.py`` (the exporter of TF Hub's ``tensorflow/efficientnet/bN/feature-vector/1``;
real architectures and sizes, random weights), installed under their real handles in a
private ``TFHUB_CACHE_DIR``. Data: generated class folders of JPEG/PNG images.

Baseline (by hand, the TF Hub tutorial way): per module, a ``tf.data`` pipeline that reads,
decodes and resizes every file to the module's size and scales to [0, 1], batches of 32,
``hub.KerasLayer(handle)`` over every batch, features collected as NumPy. zoo: one
``zoo.compare([...], folder, folds=5)`` call into a fresh output folder (decoding, features,
5-fold probes, latency, compare.json/.csv/.png). Both sides import TensorFlow and TF Hub before
their clock starts (zoo's modules too; this TensorFlow's import already brings in scikit-learn
and matplotlib). Sides alternate, each in a fresh process; medians of ``--reps``.

    python -m benchmarks.compare_speed --images 512 --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = ("efficientnet_b0", "efficientnet_b1", "efficientnet_b2")
MODEL_GARDEN = {"efficientnet_b0": "efficientnet-b0", "efficientnet_b1": "efficientnet-b1",
                "efficientnet_b2": "efficientnet-b2"}


def speed_parser(doc: str, images: int = 512) -> argparse.ArgumentParser:
    """The options the speed benchmarks share: --images, --reps, --work (the exported modules' folder)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--images", type=int, default=images)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "zoo-compare-speed"))
    return ap


def prepared_work(work: str, images: int) -> Path:
    """``work`` created, ``TFHUB_CACHE_DIR`` pointed at ``work/hub``, `prepare` run in a child process
    (the exporters' TensorFlow state stays out of the timed processes); shared by the speed benchmarks."""
    path = Path(work)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["TFHUB_CACHE_DIR"] = str(path / "hub")
    subprocess.run([sys.executable, "-c", "from benchmarks.compare_speed import prepare; "
                                          f"prepare(__import__('pathlib').Path({str(path)!r}), {images})"], check=True)
    return path


def prepare(work: Path, images: int) -> None:
    """Export the modules (once) into ``work/hub`` under their real handles, write the data folder."""
    import zoo
    import zoo.data as zd
    from zoo.testing import exporters, install_dir_in_hub_cache

    hub_dir = work / "hub"
    for name in NAMES:
        spec = zoo.get(name)
        if (zoo.hub.module_dir(spec.handle).parent == hub_dir) and zoo.hub.module_dir(spec.handle).exists():
            continue
        src = exporters.export_efficientnet(work / "export" / name, MODEL_GARDEN[name])
        install_dir_in_hub_cache(src, spec.handle, hub_dir)
    if not (work / "data").exists():
        zd.make_synthetic_folder(work / "data", "vision", n_per_class=images // 4, classes=("a", "b", "c", "d"))


def by_hand(work: Path) -> float:
    """Seconds for the three hand-written extraction passes."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub

    import zoo

    files = sorted(str(p) for p in (work / "data").glob("*/*"))
    t = time.perf_counter()
    for name in NAMES:
        spec = zoo.get(name)
        h, w, _ = spec.input_shape
        layer = hub.KerasLayer(spec.handle)

        def load(path, h=h, w=w):
            img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            return tf.image.resize(tf.cast(img, tf.float32), (h, w)) / 255.0

        ds = tf.data.Dataset.from_tensor_slices(files).map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(32)
        feats = np.concatenate([layer(x).numpy() for x in ds])
        assert feats.shape == (len(files), spec.output_dim)
    return time.perf_counter() - t


def with_zoo(work: Path) -> float:
    """Seconds for one ``zoo.compare`` of the three backbones, fresh output folder. As on the hand-written side,
    TensorFlow and TF Hub are imported before the clock starts (and zoo's own modules with them)."""
    import tensorflow  # noqa: F401
    import tensorflow_hub  # noqa: F401

    import zoo
    import zoo.runs


    out = Path(tempfile.mkdtemp(prefix="cmp-", dir=work))
    t = time.perf_counter()
    result = zoo.compare(list(NAMES), work / "data", folds=5, out=out, say=None)
    seconds = time.perf_counter() - t
    assert len(result.rows()) == 3 and not any(r["features_reused"] for r in result.rows())
    return seconds


def _child(side: str, work: str) -> None:
    os.environ["TFHUB_CACHE_DIR"] = str(Path(work) / "hub")
    seconds = (by_hand if side == "hand" else with_zoo)(Path(work))
    print(json.dumps({"side": side, "seconds": seconds}))


def main() -> None:
    args = speed_parser(__doc__).parse_args()
    work = prepared_work(args.work, args.images)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    times: dict[str, list[float]] = {"hand": [], "zoo": []}
    for _ in range(args.reps):
        for side in ("hand", "zoo"):
            out = subprocess.run([sys.executable, "-m", "benchmarks.compare_speed", "--child", side, str(work)],
                                 capture_output=True, text=True, env=env, check=True).stdout
            times[side].append(json.loads(out.strip().splitlines()[-1])["seconds"])
    hand, zoo_s = statistics.median(times["hand"]), statistics.median(times["zoo"])
    result = {"images": args.images, "names": NAMES, "hand_s": times["hand"], "zoo_s": times["zoo"],
              "median_hand_s": hand, "median_zoo_s": zoo_s, "ratio": zoo_s / hand, "target": 1.15,
              "met": zoo_s / hand <= 1.15}
    Path("benchmarks/out").mkdir(parents=True, exist_ok=True)
    Path("benchmarks/out/compare_speed.json").write_text(json.dumps(result, indent=2))
    print(f"zoo compare of {', '.join(NAMES)} on {args.images} images (5-fold probes, latency, outputs): "
          f"{zoo_s:.1f} s; the three extraction passes by hand: {hand:.1f} s; ratio {zoo_s / hand:.3f} "
          f"(target <= 1.15: {'met' if result['met'] else 'NOT met'})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
