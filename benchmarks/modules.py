"""Real-size TF-Hub-format modules with random weights, built locally (no network).

Each module is a low-level ``tf.Module`` saved with ``tf.saved_model.save`` that
follows the Reusable SavedModel contract of its real TF Hub counterpart
(``__call__`` traced for ``training=False/True`` where the real one is, and the
attributes ``variables``, ``trainable_variables``, ``regularization_losses``),
so ``hub.KerasLayer(handle)`` and ``zoo.build(name)`` load and run exactly the
same graph, with the real architecture and the real amount of compute:

* ``mobilenet_v2``: ``tf_keras.applications.MobileNetV2(include_top=False,
  weights=None, pooling="avg")`` (2.26 M parameters) behind the image
  feature-vector contract: float32 ``[B, 224, 224, 3]`` in [0, 1] -> ``[B, 1280]``.
* ``bert_small``: the small_bert L-4/H-512/A-8 encoder (vocabulary 30522, 28.8 M
  parameters) and its preprocessing model (``seq_length`` 128, ``tokenize`` and
  ``bert_pack_inputs``), both exported by TF Model Garden's
  ``official/nlp/tools/export_tfhub_lib.py``, the exporter of TF Hub's BERT models
  (`zoo.testing.exporters`). The vocabulary is synthetic (the real one is not
  available offline) but has the real size and special tokens.
* ``yamnet``: YAMNet's architecture (log-mel front end with 25 ms / 10 ms STFT,
  64 mel bands, 0.96 s patches with 0.48 s hop; MobileNet-v1 stack of 14 conv
  layers, 1024-d embeddings, 521 sigmoid scores; 3.75 M parameters) with the
  waveform ``[T] -> (scores [N, 521], embeddings [N, 1024], log_mel [M, 64])``
  contract and ``class_map_path()``.

Modules are installed where ``tensorflow_hub`` caches the REAL handle
(``<TFHUB_CACHE_DIR>/<sha1(handle)>``, with its ``.descriptor.txt``), so the
registry entries of zoo are used unchanged and resolve offline. Builds are kept
on disk between runs (keyed by `BUILD_VERSION`).

Example:
    >>> from benchmarks.modules import ensure_modules                      # doctest: +SKIP
    >>> handles = ensure_modules("benchmarks/out/hub", ["mobilenet_v2"])   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

BUILD_VERSION = 6
"""Bump when a builder changes: cached builds with another version are rebuilt."""

BACKBONES = ("mobilenet_v2", "bert_small", "yamnet")

VOCAB_SIZE = 30522
SEQ_LENGTH = 128
YAMNET_CLASSES = 521
SAMPLE_RATE = 16000


# ----------------------------------------------------------------------------- helpers
def _tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _hub_object_class() -> type:
    tf = _tf()

    class HubObject(tf.Module):
        """tf.Module with plain ``variables``/``trainable_variables``/``regularization_losses``."""

        variables: Any = ()
        trainable_variables: Any = ()
        regularization_losses: Any = ()

        def __init__(self, name: str | None = None) -> None:
            super().__init__(name=name)
            self._created: list = []

        def _var(self, full_name: str, value: Any, trainable: bool = True) -> Any:
            scope, _, leaf = full_name.rpartition("/")
            with tf.name_scope(scope + "/" if scope else None):  # trailing "/": absolute scope
                v = tf.Variable(value, name=leaf, trainable=trainable, dtype=tf.float32)
            self._created.append(v)
            return v

        def _expose(self, variables: list | None = None) -> None:
            vs = list(self._created if variables is None else variables)
            self.variables = vs
            self.trainable_variables = [v for v in vs if v.trainable]
            self.regularization_losses = []

    return HubObject


def _glorot(rng: Any, shape: tuple, fan_in: int, fan_out: int) -> Any:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype("float32")


# ----------------------------------------------------------------------------- MobileNetV2
def build_mobilenet_v2(out: Path, workdir: Path) -> dict:
    """Keras MobileNetV2 (random weights) as an image feature vector module, inputs in [0, 1]."""
    tf = _tf()
    import tf_keras as keras

    HubObject = _hub_object_class()
    keras.utils.set_random_seed(0)
    net = keras.applications.MobileNetV2(input_shape=(224, 224, 3), include_top=False, weights=None, pooling="avg")
    _calibrate_batch_norm(net, keras)

    class ImageFeatureVector(HubObject):
        def __init__(self) -> None:
            super().__init__(name="mobilenet_v2_feature_vector")
            self.__dict__["_net"] = net  # untracked: only the variables are saved, not Keras' own functions
            self._expose(list(net.variables))

        @tf.function
        def __call__(self, images: Any, training: bool = False) -> Any:
            x = tf.convert_to_tensor(images, tf.float32) * 2.0 - 1.0  # the hub [0,1] contract -> Keras' [-1,1]
            return self._net(x, training=training)

    obj = ImageFeatureVector()
    spec = tf.TensorSpec([None, 224, 224, 3], tf.float32)
    for training in (False, True):
        obj.__call__.get_concrete_function(spec, training=training)
    tf.saved_model.save(obj, str(out))
    return {"parameters": int(net.count_params()), "variables": len(net.variables)}


def _calibrate_batch_norm(net: Any, keras: Any) -> None:
    """Set every batch-norm layer's moving statistics to those of one batch of images.

    With random weights and the default statistics (mean 0, variance 1) the
    activations vanish through the 17 blocks and the features carry no signal;
    a trained network's statistics keep them normalised, as this does.
    """
    from benchmarks.data import images

    bns = [layer for layer in net.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in bns]
    for layer in bns:
        layer.momentum = 0.0
    x, _ = images(32, seed=12345)
    net(x.astype("float32") / 127.5 - 1.0, training=True)
    for layer, m in zip(bns, saved):
        layer.momentum = m


# ----------------------------------------------------------------------------- BERT
_SPECIALS = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = """
the of and to a in is it you that he was for on are with as his they be at one have this from or had by not
but what all were we when your can said there use an each which she do how their if will up other about out
many then them these so some her would make like him into time has look two more write go see number no way
could people my than first water been call who its now find long down day did get come made may part over new
sound take only little work know place year live me back give most very after thing our just name good sentence
man think say great where help through much before line right too mean old any same tell boy follow came want
show also around form three small set put end does another well large must big even such because turn here why
ask went men read need land different home us move try kind hand picture again change off play spell air away
animal house point page letter mother answer found study still learn should world high every near add food
between own below country plant last school father keep tree never start city earth eye light thought head under
story saw left few while along might close something seem next hard open example begin life always those both
paper together got group often run important until children side feet car mile night walk white sea began grow
took river four carry state once book hear stop without second later miss idea enough eat face watch far really
almost let above girl sometimes mountain cut young talk soon list song being leave family movie film plot script
scene director character actor acting music ending cast performance camera sequel series episode minutes
""".split()
POSITIVE = "wonderful excellent brilliant amazing great superb moving beautiful delightful enjoyable".split()
NEGATIVE = "terrible awful boring dull poor horrible disappointing tedious weak mediocre".split()


def synthetic_vocab(size: int = VOCAB_SIZE) -> list[str]:
    """A BERT-uncased-shaped vocabulary: the real special-token ids, characters,
    ``##`` pieces, common words, then pronounceable filler words up to ``size``."""
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    vocab = list(_SPECIALS) + chars + [f"##{c}" for c in chars if c.isalnum()]
    vocab += WORDS + POSITIVE + NEGATIVE
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    syllables = [c + v for c in consonants for v in vowels]
    vocab += [f"##{s}" for s in syllables]
    seen = set(vocab)
    out = list(dict.fromkeys(vocab))
    for a in syllables:
        for b in syllables:
            for w in (a + b, a + b + "n", a + b + "s"):
                if len(out) >= size:
                    return out
                if w not in seen:
                    seen.add(w)
                    out.append(w)
    i = 0
    while len(out) < size:
        out.append(f"tok{i}")
        i += 1
    return out[:size]


def _vocab_file(workdir: Path) -> Path:
    """The synthetic vocabulary with BERT uncased's special-token ids ([PAD] 0, [UNK] 100, [CLS] 101, ...)."""
    path = workdir / "vocab.txt"
    path.write_text("\n".join(synthetic_vocab()) + "\n", encoding="utf-8")
    return path


def build_bert_encoder(out: Path, workdir: Path) -> dict:
    """small_bert L-4/H-512/A-8, exported by TF Model Garden's ``export_tfhub_lib.export_model``
    (the exporter of TF Hub's BERT encoders), random weights, 30522-entry vocabulary."""
    from zoo.testing.exporters import export_bert_encoder

    export_bert_encoder(out, num_layers=4, hidden_size=512, num_heads=8, vocab_file=_vocab_file(workdir))
    return {"exporter": "official.nlp.tools.export_tfhub_lib.export_model", "layers": 4, "hidden": 512}


def build_bert_preprocessor(out: Path, workdir: Path) -> dict:
    """bert_en_uncased_preprocess/3's API, exported by ``export_tfhub_lib.export_preprocessing``."""
    from zoo.testing.exporters import export_bert_preprocessor

    export_bert_preprocessor(out, vocab_file=_vocab_file(workdir), default_seq_length=SEQ_LENGTH)
    return {"exporter": "official.nlp.tools.export_tfhub_lib.export_preprocessing", "seq_length": SEQ_LENGTH}


# ----------------------------------------------------------------------------- YAMNet
# YAMNet's layer table (models/research/audioset/yamnet/yamnet.py): (kind, stride, filters)
_YAMNET_LAYERS = [("conv", 2, 32)] + [("sep", s, f) for s, f in [
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),
    (2, 1024), (1, 1024)]]


def build_yamnet(out: Path, workdir: Path) -> dict:
    """YAMNet's architecture and waveform contract with random weights."""
    tf = _tf()
    import numpy as np

    HubObject = _hub_object_class()
    rng = np.random.RandomState(0)
    sr = SAMPLE_RATE
    win, hop, fft = int(0.025 * sr), int(0.010 * sr), 512
    patch_frames, patch_hop_frames = 96, 48
    patch_hop_samples = int(0.48 * sr)
    min_samples = int((0.96 + 0.025 - 0.010) * sr)
    mel = tf.signal.linear_to_mel_weight_matrix(64, fft // 2 + 1, sr, 125.0, 7500.0).numpy()
    csv_path = workdir / "yamnet_class_map.csv"
    csv_path.write_text("index,mid,display_name\n" + "".join(
        f"{i},/m/bench{i:04d},Class {i}\n" for i in range(YAMNET_CLASSES)), encoding="utf-8")

    def bn(v: Callable, prefix: str, c: int) -> tuple:
        return (v(f"{prefix}/BatchNorm/beta", np.zeros(c, "float32")),
                v(f"{prefix}/BatchNorm/moving_mean", np.zeros(c, "float32"), False),
                v(f"{prefix}/BatchNorm/moving_variance", np.ones(c, "float32"), False))

    class YAMNet(HubObject):
        def __init__(self) -> None:
            super().__init__(name="yamnet")
            v = self._var
            self._mel = tf.constant(mel)
            self.layers = []
            c_in = 1
            for i, (kind, stride, c) in enumerate(_YAMNET_LAYERS, start=1):
                p = f"layer{i}"
                if kind == "conv":
                    w = v(f"{p}/conv/weights", _glorot(rng, (3, 3, c_in, c), 9 * c_in, 9 * c))
                    self.layers.append(("conv", stride, w, bn(v, f"{p}/conv", c)))
                else:
                    dw = v(f"{p}/depthwise_conv/depthwise_weights", _glorot(rng, (3, 3, c_in, 1), 9, 9))
                    dbn = bn(v, f"{p}/depthwise_conv", c_in)
                    pw = v(f"{p}/pointwise_conv/weights", _glorot(rng, (1, 1, c_in, c), c_in, c))
                    self.layers.append(("sep", stride, (dw, pw), (dbn, bn(v, f"{p}/pointwise_conv", c))))
                c_in = c
            self.logits = (v("logits/weights", _glorot(rng, (1024, YAMNET_CLASSES), 1024, YAMNET_CLASSES)),
                           v("logits/bias", np.zeros(YAMNET_CLASSES, "float32")))
            self._expose()
            self._class_map = tf.saved_model.Asset(str(csv_path))

        @tf.function(input_signature=[])
        def class_map_path(self) -> Any:
            return self._class_map.asset_path

        @staticmethod
        def _bn_relu(x: Any, p: tuple, calibrate: bool = False) -> Any:
            if calibrate:  # build time only: moving statistics := this batch's (see _calibrate_batch_norm)
                mean, var = tf.nn.moments(x, axes=[0, 1, 2])
                p[1].assign(mean)
                p[2].assign(var)
            return tf.nn.relu(tf.nn.batch_normalization(x, p[1], p[2], p[0], None, 1e-4))

        def _patches(self, waveform: Any) -> tuple:
            n = tf.size(waveform)
            after_first = tf.maximum(0, n - min_samples)
            hops = (after_first + patch_hop_samples - 1) // patch_hop_samples
            padded = tf.pad(waveform, [[0, min_samples + hops * patch_hop_samples - n]])
            stft = tf.abs(tf.signal.stft(padded, win, hop, fft))
            log_mel = tf.math.log(tf.matmul(stft, self._mel) + 0.001)  # [M, 64]
            return tf.signal.frame(log_mel, patch_frames, patch_hop_frames, axis=0), log_mel  # [N, 96, 64]

        def _embed(self, patches: Any, calibrate: bool = False) -> Any:
            x = patches[..., None]
            for kind, stride, w, p in self.layers:
                if kind == "conv":
                    x = self._bn_relu(tf.nn.conv2d(x, w, stride, "SAME"), p, calibrate)
                else:
                    x = self._bn_relu(tf.nn.depthwise_conv2d(x, w[0], [1, stride, stride, 1], "SAME"), p[0], calibrate)
                    x = self._bn_relu(tf.nn.conv2d(x, w[1], 1, "SAME"), p[1], calibrate)
            return tf.reduce_mean(x, axis=[1, 2])  # [N, 1024]

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, waveform: Any) -> tuple:
            patches, log_mel = self._patches(waveform)
            embeddings = self._embed(patches)
            scores = tf.sigmoid(tf.matmul(embeddings, self.logits[0]) + self.logits[1])
            return scores, embeddings, log_mel

    obj = YAMNet()
    from benchmarks.data import waveforms

    calib, _ = waveforms(16, 2.0, seed=12345)
    obj._embed(tf.concat([obj._patches(tf.constant(w))[0] for w in calib], 0), calibrate=True)
    tf.saved_model.save(obj, str(out))
    return {"parameters": int(sum(int(np.prod(v.shape)) for v in obj.variables)), "variables": len(obj.variables)}


# ----------------------------------------------------------------------------- installing
def _handles(h: dict[str, str] | None = None) -> dict[str, list[tuple[str, Callable]]]:
    """Registry backbone name -> [(handle, builder)], handles read from zoo's registry (no TF)."""
    h = h or handles()
    return {
        "mobilenet_v2": [(h["mobilenet_v2"], build_mobilenet_v2)],
        "bert_small": [(h["bert_small"], build_bert_encoder), (h["bert_preprocess"], build_bert_preprocessor)],
        "yamnet": [(h["yamnet"], build_yamnet)],
    }


def cache_dir_for(cache: Path | str, handle: str) -> Path:
    """``<cache>/<sha1(handle)>``: where tensorflow_hub looks for a downloaded ``handle``."""
    return Path(cache) / hashlib.sha1(handle.encode("utf8")).hexdigest()


def _stamp(mdir: Path) -> Path:
    return Path(str(mdir) + ".bench.json")


def _is_current(mdir: Path, builder: Callable) -> bool:
    try:
        meta = json.loads(_stamp(mdir).read_text())
    except (OSError, ValueError):
        return False
    return (meta.get("version") == BUILD_VERSION and meta.get("builder") == builder.__name__
            and (mdir / "saved_model.pb").is_file())


def ensure_modules(cache: Path | str, names: list[str] | tuple[str, ...] = BACKBONES, *, log: Callable = print) -> dict:
    """Build (if not already current) and install the modules of ``names`` into TF Hub cache ``cache``.

    Returns ``{handle: metadata}``. Safe against concurrent runs: each module is
    built in a private temp dir and renamed into place.
    """
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    with _build_lock(cache):
        return _ensure_locked(cache, names, log)


@contextlib.contextmanager
def _build_lock(cache: Path) -> Iterator[None]:
    """Serialise builds of concurrent runs sharing ``cache`` (POSIX ``flock``; no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(cache / ".bench-build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _ensure_locked(cache: Path, names: list[str] | tuple[str, ...], log: Callable) -> dict:
    table = _handles()
    out: dict = {}
    for name in names:
        for handle, builder in table[name]:
            mdir = cache_dir_for(cache, handle)
            if _is_current(mdir, builder):
                out[handle] = json.loads(_stamp(mdir).read_text())
                continue
            log(f"building {name} module for {handle} ({builder.__name__}) ...")
            t0 = time.perf_counter()
            tmp = Path(f"{mdir}.{uuid.uuid4().hex}.tmp")
            work = Path(f"{mdir}.{uuid.uuid4().hex}.work")
            work.mkdir(parents=True)
            try:
                meta = builder(tmp, work)
                if mdir.exists():
                    shutil.rmtree(mdir)
                os.rename(tmp, mdir)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
                shutil.rmtree(work, ignore_errors=True)
            Path(f"{mdir}.descriptor.txt").write_text(
                f"Module: {handle}\nDownload Time: built locally by benchmarks.modules\n"
                f"Downloader Hostname: {socket.gethostname()} (PID:{os.getpid()})")
            meta = {"version": BUILD_VERSION, "builder": builder.__name__, "handle": handle,
                    "seconds": round(time.perf_counter() - t0, 1), **meta}
            _stamp(mdir).write_text(json.dumps(meta, indent=1))
            log(f"  built in {meta['seconds']} s: {meta}")
            out[handle] = meta
    return out


def needs_build(cache: Path | str, names: list[str] | tuple[str, ...], h: dict[str, str] | None = None) -> list[str]:
    """The backbone names among ``names`` whose modules are missing or stale in ``cache`` (no TensorFlow)."""
    table = _handles(h)
    return [n for n in names if not all(_is_current(cache_dir_for(cache, h), b) for h, b in table[n])]


def handles() -> dict[str, str]:
    """``{"mobilenet_v2", "bert_small", "bert_preprocess", "yamnet"} -> handle`` from zoo's registry."""
    import zoo

    bert = zoo.get("bert_small")
    return {"mobilenet_v2": zoo.get("mobilenet_v2").handle, "bert_small": bert.handle,
            "bert_preprocess": bert.preprocessor, "yamnet": zoo.get("yamnet").handle}


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.modules CACHE_DIR [NAME ...]``: build the modules into a TF Hub cache."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m benchmarks.modules CACHE_DIR [mobilenet_v2|bert_small|yamnet ...]", file=sys.stderr)
        return 2
    ensure_modules(args[0], args[1:] or BACKBONES, log=lambda m: print(m, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
