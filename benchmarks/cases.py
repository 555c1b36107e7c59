"""The benchmark cases: what is measured, the baseline and zoo code for each, and the targets.

A *job* is what one worker process runs for one side (``baseline`` or ``zoo``);
a *case* is a numbered item of the issue and owns table rows, each row reading
one metric of one job. Every (job, side, repetition) runs in a fresh process
(`benchmarks.worker`), so peak RSS is per run and no graph/thread-pool state
leaks from one side into the other.

The baseline is the straightforward code of the TF Hub tutorials, written by
someone who knows the API: ``hub.KerasLayer`` in a ``tf_keras`` model,
``model.fit(x, y, epochs=N)``, inputs pre-processed by hand (``x / 255``); the
zoo side uses the public API (``zoo.build``, ``zoo.fit``, ``zoo.load_backbone``)
on raw inputs (uint8 pixels 0-255, strings, waveforms).

Example:
    >>> sorted(CASES)
    [1, 2, 3, 4, 5, 6, 7]
    >>> sorted(jobs_for([7]))
    ['finetune', 'frozen']
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Row", "Case", "CASES", "JOBS", "PARAMS", "jobs_for", "run_job"]


# ----------------------------------------------------------------------------- table definition
@dataclass(frozen=True)
class Row:
    """One table row: ``metric`` of ``job`` compared as ``zoo / baseline`` against ``target``.

    ``better``: ``"higher"`` (ratio must be >= target), ``"lower"`` (<= target) or
    ``"same"`` (accuracy: zoo >= baseline - tolerance, tolerance from the sample size).
    """

    job: str
    metric: str
    label: str
    unit: str
    better: str
    target: float | None = None


@dataclass(frozen=True)
class Case:
    number: int
    title: str
    rows: tuple[Row, ...]
    baseline: str = ""
    zoo: str = ""


_KL = "Sequential([hub.KerasLayer(mobilenet_v2, trainable={}), Dense(4)])"
CASES: dict[int, Case] = {
    1: Case(1, "frozen image backbone, N epochs end to end", (
        Row("frozen", "seconds", "train time, build + fit + validation", "s", "lower", 0.2),
        Row("frozen", "val_accuracy", "validation accuracy after the last epoch", "", "same"),
    ), baseline=_KL.format(False) + ", Adam, fit(x / 255, y, epochs=N, validation_data=...)",
        zoo='zoo.build("mobilenet_v2", num_classes=4); zoo.fit(model, (x_uint8, y), epochs=N, validation_data=...)'),
    2: Case(2, "image backbone full fine-tuning", (
        Row("finetune", "images_per_s", "training throughput (steady state)", "img/s", "higher", 1.0),
    ), baseline=_KL.format(True) + ", Adam(1e-4), fit(x / 255, y)",
        zoo='zoo.build("mobilenet_v2", num_classes=4, freeze="full"); zoo.fit(model, (x_uint8, y))'),
    3: Case(3, "BERT L-4/H-512 text fine-tuning", (
        Row("bert", "sequences_per_s", "training throughput (steady state)", "seq/s", "higher", 1.0),
    ), baseline="string Input -> hub.KerasLayer(preprocessor) -> hub.KerasLayer(encoder, trainable=True)"
                "['pooled_output'] -> Dropout(0.1) -> Dense(1); AdamW(3e-5, polynomial decay); fit(tf.data)",
        zoo='zoo.build("bert_small", task="sentiment"); zoo.fit(model, (texts, y))'),
    4: Case(4, "YAMNet-shape audio embeddings", (
        Row("audio", "clips_per_s", "clips/s (1 s clips): batched [B, T] path vs per-clip loop", "clip/s", "higher", 2.0),
    ), baseline="yamnet = hub.load(h); [reduce_mean(yamnet(wav)[1], 0) for wav in clips] (the YAMNet tutorial)",
        zoo='backbone = zoo.load_backbone("yamnet"); backbone(waves[i:i+32]) per batch [B, T] (warm); '
            "fit_path_clips_per_s: zoo.training.extract_features, what zoo.fit runs (tracing included)"),
    5: Case(5, "inference: exported SavedModel vs in-memory model", (
        Row("serve", "images_per_s", "inference throughput (raw images in for zoo)", "img/s", "higher", 1.0),
    ), baseline=_KL.format(False) + " in memory: model.predict(x / 255) (warm)",
        zoo="zoo.build -> zoo.export.save_model -> zoo.export.load_model -> signature serving_pixels on raw "
            "0-255 pixels (warm); jpeg_images_per_s: serving_default on JPEG bytes (info)"),
    6: Case(6, "start-up", (
        Row("startup", "seconds", "`zoo list` vs `python -c 'import tensorflow'`", "s", "lower", 0.1),
        Row("serve", "build_seconds", "model build, module in cache (zoo.build vs KerasLayer model)", "s", "lower", 1.0),
    ), baseline="python -c 'import tensorflow'; " + _KL.format(False) + " + compile (tf, hub, tf_keras imported)",
        zoo='zoo list; zoo.build("mobilenet_v2", num_classes=4) (tf, hub, tf_keras imported)'),
    7: Case(7, "peak memory (RSS)", (
        Row("frozen", "peak_rss_mb", "peak RSS of case 1", "MB", "lower", 1.1),
        Row("finetune", "peak_rss_mb", "peak RSS of case 2", "MB", "lower", 1.1),
    ), baseline="ru_maxrss of the baseline worker process of cases 1 and 2",
        zoo="ru_maxrss of the zoo worker process of cases 1 and 2"),
}

# the worker jobs; "startup" is run by the runner itself (plain subprocess wall times)
JOBS = ("frozen", "finetune", "bert", "audio", "serve", "startup")

# per job: full-mode and quick-mode parameters
PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "frozen": {"full": {"n_train": 512, "n_val": 128, "epochs": 10, "batch_size": 32},
               "quick": {"n_train": 64, "n_val": 32, "epochs": 2, "batch_size": 32}},
    "finetune": {"full": {"n_train": 256, "epochs": 2, "batch_size": 32},
                 "quick": {"n_train": 12, "epochs": 1, "batch_size": 4}},
    "bert": {"full": {"n_train": 128, "epochs": 2, "batch_size": 32},
             "quick": {"n_train": 12, "epochs": 1, "batch_size": 4}},
    "audio": {"full": {"n_clips": 256, "seconds": 1.0, "batch_size": 32},
              "quick": {"n_clips": 32, "seconds": 1.0, "batch_size": 16}},
    "serve": {"full": {"n_images": 256, "batch_size": 32},
              "quick": {"n_images": 64, "batch_size": 32}},
    "startup": {"full": {}, "quick": {}},
}


def jobs_for(cases: list[int]) -> list[str]:
    """The jobs that the given cases read, in `JOBS` order."""
    needed = {row.job for c in cases for row in CASES[c].rows}
    return [j for j in JOBS if j in needed]


# ----------------------------------------------------------------------------- shared helpers
def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``ru_maxrss``)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024.0


def _tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _keras() -> Any:
    import tf_keras

    return tf_keras


def _batch_timer(keras: Any) -> Any:
    """A callback recording the wall time at the end of every training batch."""

    class BatchTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.ends: list[float] = []
            self.start = None

        def on_train_begin(self, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.ends.append(time.perf_counter())

    return BatchTimer()


def _steady_rate(timer: Any, n: int, batch_size: int, epochs: int) -> dict:
    """Items/s from the end of the first batch (tracing done) to the end of the last one."""
    sizes = ([batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])) * epochs
    ends = timer.ends
    if len(ends) != len(sizes):
        raise RuntimeError(f"expected {len(sizes)} training batches, the callback saw {len(ends)}")
    if len(ends) < 2:
        raise RuntimeError("steady-state throughput needs at least 2 training batches")
    items = sum(sizes[1:])
    return {"rate": items / (ends[-1] - ends[0]), "first_batch_s": ends[0] - timer.start, "steady_batches": len(ends) - 1}


def _handles() -> dict:
    import json

    return json.loads(os.environ["BENCH_HANDLES"])


# ----------------------------------------------------------------------------- case 1: frozen
def frozen_baseline(p: dict) -> dict:
    from benchmarks.data import IMAGE_CLASSES, images

    x, y = images(p["n_train"], seed=1)
    xv, yv = images(p["n_val"], seed=2)
    tf, keras = _tf(), _keras()
    import tensorflow_hub as hub

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    xf, xvf = x.astype("float32") / 255.0, xv.astype("float32") / 255.0
    model = keras.Sequential([
        hub.KerasLayer(_handles()["mobilenet_v2"], trainable=False, input_shape=(224, 224, 3)),
        keras.layers.Dense(IMAGE_CLASSES),
    ])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    hist = model.fit(xf, y, epochs=p["epochs"], batch_size=p["batch_size"], validation_data=(xvf, yv), verbose=0)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "val_accuracy": float(hist.history["val_accuracy"][-1]), "n_val": p["n_val"]}


def frozen_zoo(p: dict) -> dict:
    from benchmarks.data import IMAGE_CLASSES, images

    x, y = images(p["n_train"], seed=1)
    xv, yv = images(p["n_val"], seed=2)
    _tf()
    import tensorflow_hub  # noqa: F401 - imported before the clock starts, as on the baseline side
    import zoo

    _keras().utils.set_random_seed(0)
    t0 = time.perf_counter()
    model = zoo.build("mobilenet_v2", task="classification", num_classes=IMAGE_CLASSES)
    hist = zoo.fit(model, (x, y), epochs=p["epochs"], batch_size=p["batch_size"], validation_data=(xv, yv), verbose=0)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "val_accuracy": float(hist.history["val_accuracy"][-1]), "n_val": p["n_val"]}


# ----------------------------------------------------------------------------- case 2: fine-tuning
def finetune_baseline(p: dict) -> dict:
    from benchmarks.data import IMAGE_CLASSES, images

    x, y = images(p["n_train"], seed=3)
    tf, keras = _tf(), _keras()
    import tensorflow_hub as hub

    keras.utils.set_random_seed(0)
    xf = x.astype("float32") / 255.0
    model = keras.Sequential([
        hub.KerasLayer(_handles()["mobilenet_v2"], trainable=True, input_shape=(224, 224, 3)),
        keras.layers.Dense(IMAGE_CLASSES),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    timer = _batch_timer(keras)
    model.fit(xf, y, epochs=p["epochs"], batch_size=p["batch_size"], callbacks=[timer], verbose=0)
    r = _steady_rate(timer, p["n_train"], p["batch_size"], p["epochs"])
    return {"images_per_s": r["rate"], "first_batch_s": r["first_batch_s"]}


def finetune_zoo(p: dict) -> dict:
    from benchmarks.data import IMAGE_CLASSES, images

    x, y = images(p["n_train"], seed=3)
    _tf()
    keras = _keras()
    import zoo

    keras.utils.set_random_seed(0)
    model = zoo.build("mobilenet_v2", task="classification", num_classes=IMAGE_CLASSES, freeze="full")
    timer = _batch_timer(keras)
    zoo.fit(model, (x, y), epochs=p["epochs"], batch_size=p["batch_size"], callbacks=[timer], verbose=0)
    r = _steady_rate(timer, p["n_train"], p["batch_size"], p["epochs"])
    return {"images_per_s": r["rate"], "first_batch_s": r["first_batch_s"]}


# ----------------------------------------------------------------------------- case 3: BERT
def bert_baseline(p: dict) -> dict:
    from benchmarks.data import texts

    xs, y = texts(p["n_train"], seed=4)
    tf, keras = _tf(), _keras()
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401 - registers the preprocessor's ops (as the tutorial does)

    keras.utils.set_random_seed(0)
    h = _handles()
    ds = tf.data.Dataset.from_tensor_slices((xs, y)).shuffle(len(xs), seed=0).batch(p["batch_size"])
    ds = ds.cache().prefetch(tf.data.AUTOTUNE)
    text_input = keras.layers.Input(shape=(), dtype=tf.string, name="text")
    encoder_inputs = hub.KerasLayer(h["bert_preprocess"], name="preprocessing")(text_input)
    outputs = hub.KerasLayer(h["bert_small"], trainable=True, name="BERT_encoder")(encoder_inputs)
    net = keras.layers.Dropout(0.1)(outputs["pooled_output"])
    net = keras.layers.Dense(1, name="classifier")(net)
    model = keras.Model(text_input, net)
    steps = p["epochs"] * -(-p["n_train"] // p["batch_size"])
    lr = keras.optimizers.schedules.PolynomialDecay(3e-5, steps, end_learning_rate=0.0)
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=lr, weight_decay=0.01),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=[keras.metrics.BinaryAccuracy()])
    timer = _batch_timer(keras)
    model.fit(ds, epochs=p["epochs"], callbacks=[timer], verbose=0)
    r = _steady_rate(timer, p["n_train"], p["batch_size"], p["epochs"])
    return {"sequences_per_s": r["rate"], "first_batch_s": r["first_batch_s"]}


def bert_zoo(p: dict) -> dict:
    from benchmarks.data import texts

    xs, y = texts(p["n_train"], seed=4)
    _tf()
    keras = _keras()
    import zoo

    keras.utils.set_random_seed(0)
    model = zoo.build("bert_small", task="sentiment")
    timer = _batch_timer(keras)
    zoo.fit(model, (xs, y), epochs=p["epochs"], batch_size=p["batch_size"], callbacks=[timer], verbose=0)
    r = _steady_rate(timer, p["n_train"], p["batch_size"], p["epochs"])
    return {"sequences_per_s": r["rate"], "first_batch_s": r["first_batch_s"]}


# ----------------------------------------------------------------------------- case 4: audio
def audio_baseline(p: dict) -> dict:
    from benchmarks.data import waveforms

    waves, _ = waveforms(p["n_clips"], p["seconds"], seed=5)
    tf = _tf()
    import numpy as np
    import tensorflow_hub as hub

    yamnet = hub.load(_handles()["yamnet"])
    yamnet(tf.constant(waves[0]))  # warm-up (first call), as for zoo below
    t0 = time.perf_counter()
    feats = []
    for wav in waves:  # the YAMNet tutorial's per-clip loop
        _scores, embeddings, _log_mel = yamnet(wav)
        feats.append(tf.reduce_mean(embeddings, axis=0).numpy())
    feats = np.stack(feats)
    seconds = time.perf_counter() - t0
    return {"clips_per_s": len(waves) / seconds, "dim": int(feats.shape[1])}


def audio_zoo(p: dict) -> dict:
    from benchmarks.data import AUDIO_CLASSES, waveforms

    waves, y = waveforms(p["n_clips"], p["seconds"], seed=5)
    _tf()
    import numpy as np
    import zoo
    from zoo.data import as_dataset
    from zoo.training import extract_features

    bs = p["batch_size"]
    backbone = zoo.load_backbone("yamnet")  # raw waveforms [B, T] -> clip embeddings [B, 1024]
    backbone(waves[:bs])  # warm-up (traces), as the baseline's first call
    t0 = time.perf_counter()
    feats = np.concatenate([backbone(waves[i:i + bs]).numpy() for i in range(0, len(waves), bs)])
    seconds = time.perf_counter() - t0
    out = {"clips_per_s": len(waves) / seconds, "dim": int(feats.shape[1])}
    model = zoo.build("yamnet", task="classification", num_classes=AUDIO_CLASSES)
    # what zoo.fit does for a frozen audio backbone (a fresh tf.function: tracing included)
    t0 = time.perf_counter()
    n = sum(1 for _ in extract_features(model, as_dataset((waves, y), p["batch_size"]), verbose=0))
    out["fit_path_clips_per_s"] = n / (time.perf_counter() - t0)
    return out


# ----------------------------------------------------------------------------- cases 5 + 6b: build, serve
def serve_baseline(p: dict) -> dict:
    from benchmarks.data import IMAGE_CLASSES, images

    x, _ = images(p["n_images"], seed=6)
    tf, keras = _tf(), _keras()
    import tensorflow_hub as hub

    t0 = time.perf_counter()
    model = keras.Sequential([
        hub.KerasLayer(_handles()["mobilenet_v2"], trainable=False, input_shape=(224, 224, 3)),
        keras.layers.Dense(IMAGE_CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    build_seconds = time.perf_counter() - t0
    bs = p["batch_size"]
    model.predict(x[:bs].astype("float32") / 255.0, batch_size=bs, verbose=0)  # warm-up
    t0 = time.perf_counter()
    probs = model.predict(x.astype("float32") / 255.0, batch_size=bs, verbose=0)
    seconds = time.perf_counter() - t0
    return {"build_seconds": build_seconds, "images_per_s": len(x) / seconds, "shape": list(probs.shape)}


def _export(model: Any, path: str, class_names: list[str]) -> tuple[str, Any]:
    """Export with zoo's exporter (``zoo.export.save_model``) and load it back; by hand if zoo has none.

    Returns ``(how, loaded)``."""
    import zoo

    tf = _tf()
    try:
        from zoo import export as zexport
    except ImportError:
        zexport = None
    if zexport is not None and callable(getattr(zexport, "save_model", None)):
        zexport.save_model(model, path, spec=zoo.get("mobilenet_v2"), class_names=class_names)
        load = getattr(zexport, "load_model", None) or (lambda p: tf.saved_model.load(str(p)))
        return "zoo.export.save_model", load(path)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="pixels")])
    def serve(pixels: Any) -> dict:
        return {"scores": model(pixels, training=False)}

    tf.saved_model.save(model, path, signatures={"serving_default": serve})
    return "tf.saved_model.save by hand (zoo has no exporter)", tf.saved_model.load(path)


def _signature(loaded: Any, names: tuple[str, ...]) -> tuple[Callable, Any, str] | None:
    """``(call(batch) -> scores ndarray, input dtype, name)`` for the first signature of ``names`` the model has."""
    for sig in names:
        fn = loaded.signatures.get(sig)
        if fn is None:
            continue
        _, kwargs = fn.structured_input_signature
        (arg, spec), = kwargs.items()

        def call(batch: Any, fn: Any = fn, arg: str = arg) -> Any:
            out = fn(**{arg: batch})
            return (out["scores"] if "scores" in out else list(out.values())[0]).numpy()

        return call, spec.dtype, sig
    return None


def serve_zoo(p: dict) -> dict:
    from benchmarks.data import IMAGE_CLASSES, images

    x, _ = images(p["n_images"], seed=6)
    tf = _tf()
    import numpy as np
    import tensorflow_hub  # noqa: F401 - imported before the clock starts, as on the baseline side
    import zoo

    _keras()
    t0 = time.perf_counter()  # zoo's own lazy imports (zoo.build, zoo.models._backbones, ...) are counted
    model = zoo.build("mobilenet_v2", task="classification", num_classes=IMAGE_CLASSES)
    build_seconds = time.perf_counter() - t0
    bs = p["batch_size"]
    expected = model.predict(x[:bs], batch_size=bs, verbose=0)
    out: dict = {"build_seconds": build_seconds}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        path = os.path.join(tmp, "model")
        t0 = time.perf_counter()
        out["export"], loaded = _export(model, path, [f"class_{i}" for i in range(IMAGE_CLASSES)])
        out["export_seconds"] = time.perf_counter() - t0
        del model
        gc.collect()
        # raw pixels 0-255 in (the same images the baseline gets as x / 255)
        call, dtype, out["signature"] = _signature(loaded, ("serving_pixels", "serving_default"))
        np_dtype = dtype.as_numpy_dtype
        first = call(tf.constant(x[:bs].astype(np_dtype)))  # warm-up
        t0 = time.perf_counter()  # the conversion to tensors is timed, like the baseline's x / 255
        n = sum(len(call(tf.constant(x[i:i + bs].astype(np_dtype)))) for i in range(0, len(x), bs))
        out["images_per_s"] = n / (time.perf_counter() - t0)
        out["max_abs_diff_vs_in_memory"] = float(np.abs(first - expected).max())
        # info: encoded JPEG bytes in (decode + resize inside), when the export has such a signature
        jpeg = _signature(loaded, ("serving_default",))
        if jpeg is not None and jpeg[1] == tf.string:
            data = [tf.io.encode_jpeg(img, quality=95).numpy() for img in x]
            jpeg[0](tf.constant(data[:bs]))
            t0 = time.perf_counter()
            n = sum(len(jpeg[0](tf.constant(data[i:i + bs]))) for i in range(0, len(data), bs))
            out["jpeg_images_per_s"] = n / (time.perf_counter() - t0)
    return out


_RUNNERS: dict[tuple[str, str], Callable[[dict], dict]] = {
    ("frozen", "baseline"): frozen_baseline, ("frozen", "zoo"): frozen_zoo,
    ("finetune", "baseline"): finetune_baseline, ("finetune", "zoo"): finetune_zoo,
    ("bert", "baseline"): bert_baseline, ("bert", "zoo"): bert_zoo,
    ("audio", "baseline"): audio_baseline, ("audio", "zoo"): audio_zoo,
    ("serve", "baseline"): serve_baseline, ("serve", "zoo"): serve_zoo,
}


def run_job(job: str, side: str, params: dict) -> dict:
    """Run one job for one side in this process; returns its metrics plus ``peak_rss_mb``."""
    out = _RUNNERS[(job, side)](params)
    out["peak_rss_mb"] = peak_rss_mb()
    return out
