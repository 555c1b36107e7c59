"""The registry against modules made by the publishers' own exporters (TF Model Garden).

TF Hub's BERT-family encoders and preprocessors were exported by
``official/nlp/tools/export_tfhub_lib.py``, its EfficientNet B0-B3 feature vectors by
``official/legacy/image_classification/efficientnet/tfhub_export.py``. The tests export
random-weight modules with that very code (`zoo.testing.exporters`), install them under
the real handles' cache hashes in a private ``TFHUB_CACHE_DIR``, and check that the
registry's ``block_pattern``/``blocks`` find the real blocks (``zoo info NAME --module``)
and that ``top:1``/``top:2`` train exactly the documented variables, every other
variable bit-identical.

BERT encoders are exported at their real depth; ``bert_base`` with hidden width 64
instead of 768 (same names and 12 layers, a fraction of the size).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.tfk import tf

pytestmark = pytest.mark.filterwarnings("ignore::zoo.models._inputs.InputWarning")

_ROOT = Path(tempfile.mkdtemp(prefix="zoo-exported-"))
_CACHE = _ROOT / "hub"
_LOCK = threading.Lock()
_DONE: dict[str, zoo.BackboneSpec] = {}

# name -> exporter call (Model Garden sizes of the real module; bert_base narrower)
BERT = {
    "bert_small": dict(num_layers=4, hidden_size=512, num_heads=8),
    "electra_small": dict(num_layers=12, hidden_size=256, num_heads=4, intermediate_size=1024, embedding_size=128),
    "bert_base": dict(num_layers=12, hidden_size=64, num_heads=2),
}
EFFICIENTNET = {"efficientnet_b0": "efficientnet-b0", "efficientnet_b1": "efficientnet-b1",
                "efficientnet_b2": "efficientnet-b2", "efficientnet_b3": "efficientnet-b3"}

# what top:K trains, by the real variable names (README "What top:K trains")
TOP = {
    "bert_small": {1: ("transformer/layer_3/", "pooler_transform/"),
                   2: ("transformer/layer_2/", "transformer/layer_3/", "pooler_transform/")},
    "electra_small": {1: ("transformer/layer_11/", "pooler_transform/"),
                      2: ("transformer/layer_10/", "transformer/layer_11/", "pooler_transform/")},
    "bert_base": {1: ("transformer/layer_11/", "pooler_transform/"),
                  2: ("transformer/layer_10/", "transformer/layer_11/", "pooler_transform/")},
    "efficientnet_b0": {1: ("stack_6/block_0/", "top_conv2d/", "top_bn/"),
                        2: ("stack_5/block_3/", "stack_6/block_0/", "top_conv2d/", "top_bn/")},
    "efficientnet_b1": {1: ("stack_6/block_1/", "top_conv2d/", "top_bn/"),
                        2: ("stack_6/block_0/", "stack_6/block_1/", "top_conv2d/", "top_bn/")},
    "efficientnet_b2": {1: ("stack_6/block_1/", "top_conv2d/", "top_bn/"),
                        2: ("stack_6/block_0/", "stack_6/block_1/", "top_conv2d/", "top_bn/")},
    "efficientnet_b3": {1: ("stack_6/block_1/", "top_conv2d/", "top_bn/"),
                        2: ("stack_6/block_0/", "stack_6/block_1/", "top_conv2d/", "top_bn/")},
}
FAST = ["bert_small", "electra_small", "bert_base", "efficientnet_b0"]
SLOW = ["efficientnet_b1", "efficientnet_b2", "efficientnet_b3"]  # 25-30 s export each
NAMES = FAST + [pytest.param(n, marks=pytest.mark.slow) for n in SLOW]


@pytest.fixture(autouse=True)
def exported_cache(monkeypatch):
    """Every test here resolves handles from the private cache of exported modules."""
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(_CACHE))
    yield _CACHE


def _vocab() -> Path:
    from zoo.testing.exporters import write_vocab
    from zoo.testing.text_modules import VOCAB

    path = _ROOT / "vocab.txt"
    if not path.exists():
        write_vocab(path, [w for w in VOCAB if not w.startswith("[")])
    return path


def exported(name: str) -> zoo.BackboneSpec:
    """Export ``name``'s module with the publisher's exporter (once) and install it under its handle."""
    from zoo.testing import install_dir_in_hub_cache
    from zoo.testing import exporters

    with _LOCK:
        if name in _DONE:
            return _DONE[name]
        spec = zoo.get(name)
        work = _ROOT / name
        if name in BERT:
            src = exporters.export_bert_encoder(work, vocab_file=_vocab(), **BERT[name])
            spec = spec.replace(output_dim=BERT[name]["hidden_size"])  # bert_base: narrower than the real 768
            pre = _ROOT / "preprocessor"
            if not (pre / "saved_model.pb").exists():
                exporters.export_bert_preprocessor(pre, vocab_file=_vocab())
            install_dir_in_hub_cache(pre, spec.preprocessor, _CACHE)
        else:
            src = exporters.export_efficientnet(work, EFFICIENTNET[name])
        install_dir_in_hub_cache(src, spec.handle, _CACHE)
        _DONE[name] = spec
        return spec


def _data(spec, n=4):
    rng = np.random.RandomState(0)
    if spec.modality == "text":
        x = np.array(["a wonderful film", "an awful boring movie", "the music was amazing", "bad"] * (n // 4))
    else:
        h, w, _ = spec.input_shape
        x = rng.randint(0, 256, (n, h, w, 3)).astype(np.uint8)
    return x, (np.arange(n) % 2).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_zoo_info_module_block_count_equals_the_registry(name, recwarn):
    spec = exported(name)
    from zoo.models import describe_module

    report = describe_module(spec)
    assert report["format"] == "saved_model_2"
    assert report["blocks"]["matched"] is True
    assert report["blocks"]["count"] == zoo.get(name).blocks
    assert report["output_dim"] == spec.output_dim
    assert not [w for w in recwarn.list if issubclass(w.category, zoo.BlockCountWarning)]
    assert report["top_k"]["1"]["scopes"] == [s.rstrip("/") for s in TOP[name][1]]


def test_zoo_info_module_cli_prints_blocks_and_top_k():
    spec = exported("bert_small")
    from zoo.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["info", spec.name, "--module", "--json"]) == 0
    report = json.loads(out.getvalue())
    assert report["blocks"]["count"] == 4 and report["preprocessor"]["seq_length"] == 128
    assert report["top_k"]["2"]["scopes"] == ["transformer/layer_2", "transformer/layer_3", "pooler_transform"]
    assert report["trainable_variables"] == 71  # the Model Garden L-4 encoder's 71 trainable variables
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["info", spec.name, "--module"]) == 0
    assert "top:1 trains" in out.getvalue() and "transformer/layer_3, pooler_transform" in out.getvalue()


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_top_k_trains_exactly_the_documented_variables(name, k):
    spec = exported(name)
    task = "sentiment" if spec.modality == "text" else "binary"
    model = zoo.build(spec, task=task, freeze=f"top:{k}", learning_rate=1e-3, head_learning_rate=1e-3)
    bb = model.zoo.backbones[0]
    all_vars = {v.name: v for v in bb.module._func.variables}  # noqa: SLF001 - every module variable
    trainable = {v.name for v in bb.module._func.trainable_variables}  # noqa: SLF001
    want = {n for n in trainable if n.startswith(TOP[name][k])}
    assert want and {v.name for v in bb.trainable_weights} == want
    before = {n: v.numpy().copy() for n, v in all_vars.items()}
    x, y = _data(spec)
    zoo.fit(model, (x, y), epochs=1, batch_size=len(y), verbose=0)
    diff = {n for n, v in all_vars.items() if not np.array_equal(before[n], v.numpy())}
    assert diff == want


def test_bert_preprocessing_default_call_and_pack_paths():
    spec = exported("bert_small")
    texts = tf.constant(["A wonderful film!", "an awful , boring movie that was bad"])
    bb = zoo.load_backbone(spec)
    assert bb.seq_length == 128 and bb._pack is None  # the exported preprocessor's own default
    pre = bb.pre._func  # noqa: SLF001
    default = pre(texts)
    packed = pre.bert_pack_inputs([pre.tokenize(texts)], seq_length=128)
    for key in ("input_word_ids", "input_mask", "input_type_ids"):
        np.testing.assert_array_equal(packed[key].numpy(), default[key].numpy())
    short = zoo.load_backbone(spec.replace(name="bert_small_64", seq_length=64))
    enc = short.contract.encode(short, texts)
    assert enc["input_word_ids"].shape == (2, 64)
    np.testing.assert_array_equal(enc["input_word_ids"].numpy(), default["input_word_ids"].numpy()[:, :64])
    np.testing.assert_allclose(short(texts).numpy(), bb(texts).numpy(), rtol=1e-4, atol=1e-5)  # same tokens, padding masked
    for length in (64, 128):
        model = zoo.build(spec.replace(name=f"bert_small_{length}b", seq_length=length), task="sentiment")
        x, y = _data(spec)
        zoo.fit(model, (x, y), epochs=1, batch_size=4, verbose=0)
        assert model.predict(tf.constant(["a wonderful film"]), verbose=0).shape == (1, 1)


def test_exported_efficientnet_takes_0_1_inputs():
    """tfhub_export.py multiplies the [0, 1] input by 255 inside: zoo must feed [0, 1]."""
    spec = exported("efficientnet_b0")
    obj = zoo.load_backbone(spec).module._func  # noqa: SLF001
    ones = obj(tf.ones([1, 224, 224, 3]), training=False).numpy()
    scaled = zoo.load_backbone(spec)(np.full((1, 224, 224, 3), 255, np.uint8)).numpy()
    np.testing.assert_allclose(scaled, ones, rtol=1e-4, atol=1e-4)
    assert os.environ["TFHUB_CACHE_DIR"] == str(_CACHE)


_ALBERT_TEXT = ["the film was wonderful and moving", "a dull boring movie", "great acting and a fine story",
                "terrible plot and awful pacing", "i loved the music", "the worst film of the year"] * 10


def exported_albert() -> tuple[zoo.BackboneSpec, Path]:
    """``albert_en_base/3`` + ``albert_en_preprocess/3`` as Model Garden exports them (sp_model_file), at
    the real width (768, 12 heads, one layer shared 12 times) on a small SentencePiece vocabulary."""
    from zoo.testing import exporters, install_dir_in_hub_cache

    spec, sp = zoo.get("albert_en_base"), _ROOT / "albert" / "sp.model"
    with _LOCK:
        if "albert_en_base" not in _DONE:
            sp = exporters.write_sentencepiece_model(sp, _ALBERT_TEXT, vocab_size=64)
            enc = exporters.export_albert_encoder(_ROOT / "albert" / "encoder", sp_model_file=sp, num_layers=12,
                                                  hidden_size=768, num_heads=12, embedding_width=128)
            pre = exporters.export_albert_preprocessor(_ROOT / "albert" / "preprocessor", sp_model_file=sp)
            install_dir_in_hub_cache(enc, spec.handle, _CACHE)
            install_dir_in_hub_cache(pre, spec.preprocessor, _CACHE)
            _DONE["albert_en_base"] = spec
    return spec, sp


def test_albert_en_base_runs_its_sentencepiece_preprocessor():
    import sentencepiece as spm

    spec, sp = exported_albert()
    bb = zoo.load_backbone("albert_en_base")  # the registry entry as it is
    ids = bb.contract.encode(bb, tf.constant(["The film was wonderful"]))["input_word_ids"].numpy()[0]
    pieces = spm.SentencePieceProcessor(model_file=str(sp)).encode("the film was wonderful")  # lower-cased
    assert list(ids[:len(pieces) + 2]) == [2, *pieces, 3] and not ids[len(pieces) + 2:].any()  # [CLS] .. [SEP] pad
    model = zoo.build("albert_en_base", task="sentiment")
    x, y = np.array(_ALBERT_TEXT[:8]), np.array([1, 0, 1, 0, 1, 0, 1, 0], np.float32)
    variables = {v.name: v for v in model.zoo.backbones[0].trainable_weights}
    before = {k: v.numpy().copy() for k, v in variables.items()}
    zoo.fit(model, (x, y), epochs=1, batch_size=4, verbose=0)
    assert any("transformer/" in k and not np.array_equal(before[k], v.numpy()) for k, v in variables.items())
    scores = model.predict(tf.constant(["ein wunderbarer Film", "the worst film"]), verbose=0)
    assert scores.shape == (2, 1) and np.isfinite(scores).all()
    with pytest.raises(zoo.FreezeSpecError, match="not published"):  # one shared layer: no top blocks to pick
        zoo.build("albert_en_base", task="sentiment", freeze="top:1")


_MULTILINGUAL = {  # three classes, one keyword each, in German, Spanish, Russian, Chinese and Hindi
    "good": ["Der Film war gut", "La película fue buena", "Фильм был хороший", "这部电影很好", "फिल्म अच्छी थी"],
    "bad": ["Der Film war schlecht", "La película fue mala", "Фильм был плохой", "这部电影很差", "फिल्म बुरी थी"],
    "long": ["Der Film war lang", "La película fue larga", "Фильм был длинный", "这部电影很长", "फिल्म लंबी थी"],
}


def test_labse_classifies_non_english_strings():
    """LaBSE's contract (output key ``default``, a cased multilingual WordPiece preprocessor) on
    Model Garden exports: non-English strings are tokenized into real pieces (not [UNK]) and a
    3-class head learns them."""
    from zoo.testing import exporters, install_dir_in_hub_cache

    spec = zoo.get("labse")
    texts = [t for ts in _MULTILINGUAL.values() for t in ts]
    chars = {c for t in texts for c in t if not c.isspace()}  # CJK is split per character by the tokenizer
    words = sorted({w for t in texts for w in t.split()} | chars | {"##" + c for c in chars})
    vocab = exporters.write_vocab(_ROOT / "labse" / "vocab.txt", words)
    enc = exporters.export_bert_encoder(_ROOT / "labse" / "encoder", vocab_file=vocab, num_layers=2, hidden_size=64,
                                        num_heads=2, do_lower_case=False)
    pre = exporters.export_bert_preprocessor(_ROOT / "labse" / "preprocessor", vocab_file=vocab, do_lower_case=False)
    install_dir_in_hub_cache(enc, spec.handle, _CACHE)
    install_dir_in_hub_cache(pre, spec.preprocessor, _CACHE)
    spec = spec.replace(output_dim=64)  # narrower than the real 768; output key 'default' as the page says
    bb = zoo.load_backbone(spec)
    ids = bb.contract.encode(bb, tf.constant(texts))["input_word_ids"].numpy()
    assert (ids[:, 1] > 4).all()  # the first piece of every string is a real piece, not [UNK] (id 1)
    model = zoo.build(spec, task="classification", num_classes=3, learning_rate=1e-3, head_learning_rate=1e-2)
    y = np.repeat(np.arange(3), 5)
    zoo.fit(model, (np.array(texts * 4), np.tile(y, 4)), epochs=15, batch_size=15, verbose=0)
    predicted = model.predict(tf.constant(texts), verbose=0).argmax(1)
    assert (predicted == y).mean() >= 0.9, predicted
