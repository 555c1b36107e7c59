"""zoo.testing: tiny TF-Hub-format modules honour each registered family's contract.

Parametrised over the registry, so a new registry entry is tested with no new code.
Every module is loaded through tensorflow_hub's real resolver from a temporary
TFHUB_CACHE_DIR with the network switched off.
"""

from __future__ import annotations

import csv
import hashlib
import re
import urllib.request
from pathlib import Path

import pytest

import zoo

tf = pytest.importorskip("tensorflow")
hub = pytest.importorskip("tensorflow_hub")

import numpy as np  # noqa: E402

from zoo.models.contracts import contract_for  # noqa: E402
from zoo.models import group_blocks  # noqa: E402
from zoo.testing import (  # noqa: E402
    facts_for,
    install_in_hub_cache,
    make_module,
    make_preprocessor,
    module_cache_dir,
)

SPECS = [s for s in zoo.list_backbones() if s.builder is None]
# gradient checks are slow-ish: run them for the first backbone of each family only
GRAD_CHECKED = {next(x for x in SPECS if (x.family or x.name) == fam).name for fam in {s.family or s.name for s in SPECS}}
TEXT_OPS = {"CaseFoldUTF8", "WhitespaceTokenizeWithOffsetsV2", "NormalizeUTF8", "WordpieceTokenizeWithOffsets"}


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty TF Hub cache in TFHUB_CACHE_DIR, with any download attempt failing loudly."""
    cache = tmp_path / "hub"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    monkeypatch.delenv("TFHUB_MODEL_LOAD_FORMAT", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError(f"tensorflow_hub tried to download: {args[0]!r}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return cache


def _op_names(module_dir: Path) -> set[str]:
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((module_dir / "saved_model.pb").read_bytes())
    graph = sm.meta_graphs[0].graph_def
    ops = {n.op for n in graph.node}
    for fn in graph.library.function:
        ops.update(n.op for n in fn.node_def)
    return ops


def _install_and_load(spec, cache):
    path = install_in_hub_cache(spec, cache)
    assert path == module_cache_dir(spec.handle, cache)
    assert Path(hub.resolve(spec.handle)) == path
    return path, hub.load(spec.handle)


def _check_blocks(spec, obj):
    """The registry's pattern finds the real module's numbered blocks (facts from the publisher's code)."""
    facts = facts_for(spec.handle)
    if not (spec.block_pattern and spec.blocks) or facts is None:
        return
    variables = list(obj.trainable_variables if spec.fine_tunable else obj.variables)
    groups = group_blocks(variables, spec.block_pattern, spec.block_stages)
    assert len(groups) == spec.blocks == len(facts.blocks), [b[0].name for b in groups.blocks]
    under = lambda v, scopes: any(v.name.startswith(sc + "/") for sc in scopes)  # noqa: E731
    assert all(under(v, facts.stem) for v in groups.stem)
    for i, block in enumerate(groups.blocks):
        above = facts.top if i == len(groups.blocks) - 1 else ()
        assert all(under(v, (facts.blocks[i],) + above) for v in block), (i, [v.name for v in block])


def _check_gradients(spec, obj, inputs, pick=lambda out: out):
    """Every trainable variable receives a gradient (so fine-tuning can train it)."""
    if spec.name not in GRAD_CHECKED:
        return
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(pick(obj(inputs, **contract_for(spec).module_arguments(spec)))))
    grads = tape.gradient(loss, list(obj.trainable_variables))
    missing = [v.name for v, g in zip(obj.trainable_variables, grads) if g is None]
    assert not missing, f"no gradient for {missing}"


def _check_vision(spec, obj):
    h, w, _ = spec.input_shape
    images = tf.random.stateless_uniform([2, h, w, 3], seed=[1, 2])
    stats = [v for v in obj.variables if re.search(r"moving_(mean|variance)", v.name)]
    assert stats and not any(v.trainable for v in stats)
    assert not {v.name for v in stats} & {v.name for v in obj.trainable_variables}
    before = [v.numpy().copy() for v in stats]
    out = obj(images)  # training=False by default
    assert out.dtype == tf.float32 and out.shape == (2, spec.output_dim)
    assert float(tf.reduce_max(tf.abs(out[0] - out[1]))) > 1e-4, "output does not depend on the input"
    # like real feature vectors, of order 1 however many blocks (else every head saturates)
    assert float(tf.reduce_mean(tf.abs(out))) < 10.0, float(tf.reduce_mean(tf.abs(out)))
    assert all((b == v.numpy()).all() for b, v in zip(before, stats)), "BN stats changed in inference mode"
    obj(images, training=True)
    assert any((b != v.numpy()).any() for b, v in zip(before, stats)), "BN stats not updated in training mode"
    _check_gradients(spec, obj, images)
    layer = hub.KerasLayer(obj, trainable=True)
    assert layer(images).shape == (2, spec.output_dim)
    assert len(layer.trainable_weights) == len(obj.trainable_variables)


def _check_bert(spec, obj, cache):
    import tensorflow_text  # noqa: F401  (registers the ops the preprocessor needs)

    pre_dir = module_cache_dir(spec.preprocessor, cache)
    assert Path(hub.resolve(spec.preprocessor)) == pre_dir
    assert "CaseFoldUTF8" in _op_names(pre_dir)
    pre = hub.load(spec.preprocessor)
    seq = 128  # the preprocessor's own default
    inputs = pre(tf.constant(["A great movie!", "terrible, awful film"]))
    assert set(inputs) == {"input_word_ids", "input_mask", "input_type_ids"}
    for v in inputs.values():
        assert v.dtype == tf.int32 and v.shape == (2, seq)
    tokens = pre.tokenize(tf.constant(["good movie", "bad"]))
    assert isinstance(tokens, tf.RaggedTensor) and tokens.shape.rank == 3
    packed = pre.bert_pack_inputs([tokens, tokens], seq_length=128)
    assert packed["input_word_ids"].shape == (2, 128)
    assert int(tf.reduce_max(packed["input_type_ids"])) == 1
    assert pre.bert_pack_inputs([tokens])["input_mask"].shape == (2, 128)

    out = obj(inputs)
    assert {"pooled_output", "sequence_output", "encoder_outputs", "default"} <= set(out)
    assert out["pooled_output"].shape == (2, spec.output_dim) and out["pooled_output"].dtype == tf.float32
    assert out["sequence_output"].shape == (2, seq, spec.output_dim)
    from zoo.testing.text_modules import bert_facts

    assert len(out["encoder_outputs"]) == len(bert_facts(spec).blocks)  # one per layer of the real encoder
    if spec.blocks:
        assert spec.blocks == len(bert_facts(spec).blocks)
    assert float(tf.reduce_max(tf.abs(out["pooled_output"][0] - out["pooled_output"][1]))) > 1e-4
    obj(inputs, training=True)
    _check_gradients(spec, obj, inputs, lambda out: out["pooled_output"])
    layer = hub.KerasLayer(spec.handle, trainable=True, output_key=spec.output_key or "pooled_output")
    assert layer(inputs).shape == (2, spec.output_dim)


def _check_sentence(spec, obj, path):
    if spec.text_ops:
        import tensorflow_text  # noqa: F401
    assert bool(_op_names(path) & TEXT_OPS) == spec.text_ops
    out = obj(tf.constant(["a good movie", "An awful FILM", ""]))
    listed = bool(facts_for(spec.handle) and facts_for(spec.handle).list_output)  # sentence-T5: [embedding]
    if listed:
        assert isinstance(out, list) and len(out) == 1
        out = out[0]
    assert isinstance(out, tf.Tensor) and out.dtype == tf.float32 and out.shape == (3, spec.output_dim)
    assert float(tf.reduce_max(tf.abs(out[0] - out[1]))) > 1e-4
    if spec.fine_tunable:
        _check_gradients(spec, obj, tf.constant(["a good movie"]))
    else:
        assert not list(obj.trainable_variables)
    out = hub.KerasLayer(spec.handle, trainable=spec.fine_tunable)(tf.constant(["x"]))
    assert (out[0] if listed else out).shape == (1, spec.output_dim)


def _check_audio(spec, obj):
    sr = spec.sample_rate
    t = int(1.5 * sr)  # N = 1 + ceil((T - 0.96 s) / 0.48 s) = 3
    noise = tf.random.stateless_normal([t], seed=[3, 4]) * 0.1
    tone = tf.sin(tf.range(t, dtype=tf.float32) * 0.3)
    if not spec.fine_tunable:
        assert len(obj.trainable_variables) == 0
    if spec.family == "yamnet":
        scores, emb, log_mel = obj(noise)
        assert scores.shape == (3, 521) and emb.shape == (3, spec.output_dim) and log_mel.shape[1] == 64
        assert emb.dtype == tf.float32
        assert obj(tf.zeros([100]))[1].shape == (1, spec.output_dim)  # short clips are padded
        other = obj(tone)[1]
        with open(obj.class_map_path().numpy().decode(), newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["index", "mid", "display_name"] and len(rows) == 1 + 521
    else:
        emb = obj(noise)
        assert emb.shape == (3, spec.output_dim) and emb.dtype == tf.float32
        other = obj(tone)
    assert float(tf.reduce_max(tf.abs(emb - other))) > 1e-4, "embeddings do not depend on the signal"


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_module_contract_through_hub_resolver(spec, hub_cache):
    path, obj = _install_and_load(spec, hub_cache)
    assert Path(f"{path}.descriptor.txt").read_text().startswith(f"Module: {spec.handle}\n")
    assert isinstance(list(obj.regularization_losses), list)
    _check_blocks(spec, obj)
    contract = contract_for(spec)
    if contract.name == "image_feature_vector":
        _check_vision(spec, obj)
    elif contract.name == "framed_audio":
        _check_audio(spec, obj)
    elif contract.name == "bert_encoder":
        _check_bert(spec, obj, hub_cache)
    elif contract.name == "sentence_encoder":
        _check_sentence(spec, obj, path)
    elif contract.name == "clip_frames":  # the page: module([1, T])["embedding"] is [time, 2048], no batch axis
        one = tf.constant(contract.dummy_input(spec, 1))
        assert obj(one)["embedding"].shape.as_list()[1:] == [spec.output_dim]
        _check_gradients(spec, obj, one, pick=lambda o: o["embedding"])
    elif contract.name == "windowed_audio":  # the page: only infer_tf(5 s windows) -> (logits, embeddings)
        assert not callable(obj) and not list(obj.trainable_variables)
        logits, emb = obj.infer_tf(tf.zeros([2, 5 * spec.sample_rate]))
        assert emb.shape == (2, spec.output_dim) and logits.shape[0] == 2
    if contract.name not in ("image_feature_vector", "framed_audio", "bert_encoder", "sentence_encoder"):
        out = zoo.load_backbone(spec)(contract.dummy_input(spec, 2)).numpy()  # through zoo, on the dummy input
        assert out.shape == (2, spec.output_dim) and np.isfinite(out).all()
        assert np.abs(out[0] - out[1]).max() > 1e-4, "embeddings do not depend on the input"
        if spec.fine_tunable and contract.name != "clip_frames":
            _check_gradients(spec, obj, contract.dummy_input(spec, 2), pick=lambda o: o[spec.output_key or "embedding"])


def test_facts_agree_with_the_registry():
    """Sizes the registry states equal the documented facts of the real module."""
    checked = 0
    for spec in SPECS:
        facts = facts_for(spec.handle)
        if facts is None:
            continue
        checked += 1
        assert spec.output_dim == facts.output_dim, spec.name
        if facts.input_size:
            assert tuple(spec.input_shape[:2]) == facts.input_size, spec.name
        if spec.block_pattern:
            assert spec.blocks == len(facts.blocks), spec.name
    assert checked >= 15


def test_module_cache_dir_is_sha1_of_handle(tmp_path):
    handle = "https://tfhub.dev/google/yamnet/1"
    assert module_cache_dir(handle, tmp_path) == tmp_path / hashlib.sha1(handle.encode()).hexdigest()
    assert module_cache_dir(str(tmp_path / "m"), "/unused") == tmp_path / "m"
    with pytest.raises(zoo.ConfigurationError):
        module_cache_dir("gs://bucket/module_dir", tmp_path)


def test_local_handle_is_built_in_place_and_builds_are_cached(tmp_path, hub_cache):
    from zoo.testing import modules

    spec = zoo.get("nnlm_en_50")
    local = spec.replace(handle=str(tmp_path / "local" / "nnlm"))
    install_in_hub_cache(spec, hub_cache)
    n_built = len(modules._BUILT)
    assert install_in_hub_cache(local, hub_cache) == Path(local.handle)
    assert hub.resolve(local.handle) == local.handle
    assert hub.load(local.handle)(tf.constant(["hi"])).shape == (1, 50)
    make_module(spec, tmp_path / "copy")
    assert len(modules._BUILT) == n_built, "same spec was built twice"
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "data.txt").write_text("user data")
    with pytest.raises(FileExistsError):
        make_module(spec, tmp_path / "busy")


def test_starters_and_preprocessor_direct(tmp_path):
    starter = next((s for s in zoo.list_backbones() if s.builder), None)
    if starter is not None:
        with pytest.raises(zoo.ConfigurationError):
            make_module(starter, tmp_path / "s")
    bert = next((s for s in SPECS if s.preprocessor), None)
    if bert is None:
        pytest.skip("no text backbone with a preprocessor registered")
    import tensorflow_text  # noqa: F401

    pre = tf.saved_model.load(str(make_preprocessor(bert, tmp_path / "pre")))
    ids = pre(tf.constant(["good"]))["input_word_ids"].numpy()[0]
    assert ids[0] == 2 and ids[2] == 3 and ids[1] != 1  # [CLS] good [SEP], "good" is in the vocab
