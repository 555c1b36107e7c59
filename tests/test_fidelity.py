"""Fidelity to the real modules' contracts: block grouping with the real names, no silent
fallback, integer pixels, string tensors, input ranges, TF1 Hub format, head rate, pooling,
the preprocessor's own sequence length.

The test modules carry the real modules' variable scopes from `zoo.testing.facts`
(documented facts with their sources), not names derived from the registry entry.
`test_exported_modules.py` checks the same on modules made by the publishers' exporters.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from helpers import backbone_variables, changed, install, snapshot, toy_data
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.tfk import keras, tf

pytestmark = pytest.mark.filterwarnings("ignore::zoo.models._inputs.InputWarning")


def _train_once(model, data, **kw):
    zoo.fit(model, (data.x, data.y), epochs=1, batch_size=8, verbose=0, **kw)


def _names(variables):
    return {v.name for v in variables}


# ------------------------------------------------------------------ what top:K trains, per family


TOP1 = {  # family representative -> (scopes top:1 trains, scope that must stay frozen)
    "bert_small": (("transformer/layer_3/", "pooler_transform/"), "transformer/layer_2/"),
    "mobilenet_v2": (("MobilenetV2/expanded_conv_16/", "MobilenetV2/Conv_1/"), "MobilenetV2/expanded_conv_15/"),
    "mobilenet_v3_small": (("MobilenetV3/expanded_conv_10/", "MobilenetV3/Conv_1/", "MobilenetV3/Conv_2/"),
                           "MobilenetV3/expanded_conv_9/"),
    "efficientnet_b0": (("stack_6/block_0/", "top_conv2d/", "top_bn/"), "stack_5/block_3/"),
    "efficientnetv2_b0": (("efficientnetv2-b0/blocks_20/", "efficientnetv2-b0/head/"), "efficientnetv2-b0/blocks_19/"),
    "inception_v3": (("InceptionV3/Mixed_7c/",), "InceptionV3/Mixed_7b/"),
    "inception_resnet_v2": (("InceptionResnetV2/Block8/", "InceptionResnetV2/Conv2d_7b_1x1/"),
                            "InceptionResnetV2/Repeat_2/block8_9/"),
    "resnet_v2_50": (("resnet_v2_50/block4/unit_3/", "resnet_v2_50/postnorm/"), "resnet_v2_50/block4/unit_2/"),
}


@pytest.mark.parametrize("name", sorted(TOP1))
def test_top_1_trains_the_last_numbered_block_and_what_lies_above(name):
    spec = install(name)
    bb = zoo.load_backbone(name)
    assert len(bb.blocks) == spec.blocks
    bb.set_freeze("top:1")
    scopes, frozen = TOP1[name]
    trained = _names(bb.trainable_weights)
    assert trained and all(n.startswith(scopes) for n in trained), sorted(trained)
    assert all(any(n.startswith(s) for n in trained) for s in scopes)
    assert not any(n.startswith(frozen) for n in trained)
    bb.set_freeze(f"top:{spec.blocks}")  # every numbered block, never the stem
    stem = _names(bb.groups.stem)
    assert stem and not stem & _names(bb.trainable_weights)
    bb.set_freeze("full")
    assert stem <= _names(bb.trainable_weights)


def test_block_stages_keep_network_order_where_natural_order_would_not():
    """Inception-ResNet V2 (TF-Slim): top:11 is block8_1..9, Block8 and Mixed_7a, never a block17."""
    install("inception_resnet_v2")
    bb = zoo.load_backbone("inception_resnet_v2")
    bb.set_freeze("top:11")
    trained = _names(bb.trainable_weights)
    net = "InceptionResnetV2/"
    assert any(n.startswith(net + "Mixed_7a/") for n in trained)
    assert all(any(n.startswith(f"{net}Repeat_2/block8_{i}/") for n in trained) for i in range(1, 10))
    assert not any(n.startswith((net + "Repeat_1/", net + "Mixed_6a/", net + "Mixed_5b/")) for n in trained)
    assert bb.groups.ids[:3] == ["Mixed_5b", "Repeat/block35_1", "Repeat/block35_2"]
    assert bb.groups.ids[10:13] == ["Repeat/block35_10", "Mixed_6a", "Repeat_1/block17_1"]


# ------------------------------------------------------------------ no silent fallback


def _mismatched(name="mobilenet_v2", pattern=r"Net/block_(\d+)/", blocks=5):
    spec = install(name)
    return spec.replace(name=f"{name}_badpattern", block_pattern=pattern, blocks=blocks)


def test_pattern_matching_nothing_refuses_top_k_and_layer_decay():
    spec = _mismatched()
    with pytest.warns(zoo.BlockCountWarning, match=r"blocks = 5.*no block"):
        bb = zoo.load_backbone(spec)
    with pytest.raises(zoo.FreezeSpecError) as err:
        bb.set_freeze("top:2")
    msg = str(err.value)
    assert spec.handle in msg and "Net/block_(\\d+)/" in msg and "MobilenetV2/Conv" in msg
    assert (err.value.backbone, err.value.handle, err.value.pattern) == (spec.name, spec.handle, r"Net/block_(\d+)/")
    assert "MobilenetV2/Conv" in err.value.scopes
    with pytest.raises(zoo.FreezeSpecError, match="layer_decay"):
        bb.block_depths()
    with pytest.raises(zoo.FreezeSpecError):
        zoo.build(spec, task="classification", num_classes=3, freeze="top:2")
    with pytest.raises(zoo.FreezeSpecError, match="layer_decay"):
        zoo.build(spec, task="classification", num_classes=3, freeze="full", layer_decay=0.8)


def test_pattern_matching_nothing_still_allows_full_and_frozen():
    spec = _mismatched()
    data = toy_data(spec, "classification", n=8)
    for freeze, expect_change in (("frozen", False), ("full", True)):
        model = zoo.build(spec, task="classification", num_classes=3, freeze=freeze, learning_rate=1e-3)
        variables = backbone_variables(model)
        before = snapshot(variables)
        _train_once(model, data)
        trainable = {k for k in variables if "moving_" not in k}
        assert changed(before, variables) == (trainable if expect_change else set())


def test_block_count_differing_from_registry_warns_once():
    spec = install("mobilenet_v2").replace(name="mnv2_wrong_count", blocks=18)
    with pytest.warns(zoo.BlockCountWarning, match=r"blocks = 18.*finds 17 blocks"):
        zoo.load_backbone(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error", zoo.BlockCountWarning)
        bb = zoo.load_backbone(spec)  # once per process
    bb.set_freeze("top:17")  # the measured count is what top:K counts


def test_user_module_without_pattern_gets_generic_grouping():
    spec = install("mobilenet_v2").replace(name="mnv2_nopattern", block_pattern=None, blocks=None)
    bb = zoo.load_backbone(spec)
    assert bb.groups.stem == [] and [b[0].name.split("/")[0] for b in bb.blocks] == ["MobilenetV2"]
    bb.set_freeze("top:1")
    assert len(bb.trainable_weights) == len(bb.groups.variables)


def test_catalogue_entry_without_published_naming_refuses_top_k():
    """A built-in entry whose module's block naming is unpublished (LaBSE, ViT: no block_pattern)
    never gets a guessed grouping: top:K and layer_decay raise, naming the fix; full/frozen build."""
    unnamed = [s for s in zoo.list_backbones() if s.fine_tunable and not s.block_pattern and s.source == "registry.toml"]
    assert {"labse", "vit_b16"} <= {s.name for s in unnamed}
    for spec in unnamed:
        with pytest.raises(zoo.FreezeSpecError, match="not published") as err:
            zoo.build(spec.name, task="classification", num_classes=2, freeze="top:1")
        assert err.value.backbone == spec.name and "freeze='full'" in str(err.value)


# ------------------------------------------------------------------ inputs


def test_uint8_pixels_are_0_255_whatever_their_values():
    spec = install("mobilenet_v2")
    model = zoo.build(spec.name, task="classification", num_classes=3)
    rng = np.random.RandomState(0)
    dark = rng.randint(0, 2, (2, 64, 64, 3)).astype(np.uint8)  # every pixel 0 or 1
    want = model.predict(dark.astype(np.float32) / 255.0, verbose=0)  # the same image as [0, 1] floats
    got = model.predict(dark, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    layer = model.zoo.backbones[0]
    np.testing.assert_allclose(layer(tf.constant(dark)), layer(tf.constant(dark, tf.float32) / 255.0), atol=1e-6)
    misread = model.predict(dark.astype(np.float32), verbose=0)  # float 0/1: taken as [0, 1] (with a warning)
    assert np.abs(misread - want).max() > 1e-4


def test_vit_gets_minus_one_to_one_never_zero_to_one():
    """ViT's page: pixel values in [-1, 1]. A black image reaches the module as -1, a white one as +1,
    whether the user gives uint8 pixels or [0, 1] floats."""
    install("vit_b16")
    bb = zoo.load_backbone("vit_b16")
    black, white = np.zeros((1, 224, 224, 3), np.uint8), np.full((1, 224, 224, 3), 255, np.uint8)
    for image, value in ((black, -1.0), (white, 1.0)):
        want = bb.module(tf.fill([1, 224, 224, 3], value)).numpy()
        np.testing.assert_allclose(bb(image).numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bb(tf.constant(image, tf.float32) / 255.0).numpy(), want, rtol=1e-5, atol=1e-6)
    as_zero_one = bb.module(tf.zeros([1, 224, 224, 3])).numpy()  # what a [0, 1] pipeline would feed for black
    assert np.abs(bb(black).numpy() - as_zero_one).max() > 1e-4


def test_input_range_minus_one_to_one():
    from zoo.models.contracts.image import prepare_images

    x = np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), 255.0)]).astype(np.uint8)
    out = prepare_images(x, (4, 4, 3), (-1.0, 1.0)).numpy()
    assert out[0].max() == -1.0 and out[1].min() == 1.0
    out = prepare_images(x, (4, 4, 3), (0.0, 1.0)).numpy()
    assert out[0].max() == 0.0 and out[1].min() == 1.0
    spec = install("mobilenet_v2")
    a = zoo.load_backbone(spec)(x)
    b = zoo.load_backbone(spec.replace(name="mnv2_pm1", input_range=(-1, 1)))(x)
    assert float(tf.reduce_max(tf.abs(a - b))) > 1e-4, "the [-1, 1] module must see other values"
    with pytest.raises(zoo.InvalidSpecError, match="input_range"):
        spec.replace(input_range=(0, 255))


@pytest.mark.parametrize("name", [s.name for s in zoo.list_backbones(modality="text")])
def test_string_tensors_are_accepted_like_string_lists(name):
    install(name)
    model = zoo.build(name, task="binary", freeze="frozen")
    texts = ["a good film", "awful"]
    want = model.predict(texts, verbose=0)
    np.testing.assert_allclose(model.predict(tf.constant(texts), verbose=0), want, rtol=1e-5, atol=1e-6)
    model.evaluate(tf.constant(texts), np.array([1.0, 0.0]), verbose=0)
    model.fit(tf.constant(texts), np.array([1.0, 0.0]), epochs=1, verbose=0)
    with pytest.raises(zoo.InputError, match="string tensor"):
        model.predict(tf.constant([1.0, 2.0]))


# ------------------------------------------------------------------ learning rates, pooling, sequence length


def test_new_head_trains_at_its_own_rate_while_the_backbone_fine_tunes():
    spec = install("bert_small")
    model = zoo.build(spec.name, task="sentiment")  # full fine-tuning, AdamW 3e-5
    head = model.zoo.head_model.trainable_variables
    scales = [model.zoo.lr_scales[v.ref()] for v in head]
    assert scales and all(x == pytest.approx(1e-3 / 3e-5) for x in scales)
    model = zoo.build(spec.name, task="sentiment", head_learning_rate=2e-3, learning_rate=5e-5)
    assert all(model.zoo.lr_scales[v.ref()] == pytest.approx(40.0) for v in model.zoo.head_model.trainable_variables)
    frozen = zoo.build(spec.name, task="sentiment", freeze="frozen")
    assert frozen.zoo.lr_scales == {}
    with pytest.raises(zoo.ConfigurationError, match="head_learning_rate"):
        zoo.build(spec.name, task="sentiment", head_learning_rate=0)


def test_head_rate_scales_the_head_update():
    spec = install("bert_small")
    data = toy_data(spec, "sentiment", n=8)
    common = dict(task="sentiment", freeze="top:1", learning_rate=1e-4, dropout=0.0)
    runs = {}
    for label, head_lr in (("same", 1e-4), ("own", 1e-3)):
        model = zoo.build(spec.name, head_learning_rate=head_lr, **common)
        if label == "own":
            model.set_weights(runs["weights"])
        else:
            runs["weights"] = model.get_weights()
        head = model.zoo.head_model.trainable_variables
        before = [v.numpy().copy() for v in head]
        zoo.fit(model, (data.x, data.y), epochs=1, batch_size=8, verbose=0, schedule=[zoo.Stage("top:1", 1, 1e-4)])
        runs[label] = [v.numpy() - b for v, b in zip(head, before)]
    for same, own in zip(runs["same"], runs["own"]):  # magnitudes: Adam's first step is +-lr, and the sign of a
        np.testing.assert_allclose(np.abs(own), 10.0 * np.abs(same), rtol=0.1, atol=1e-9)  # ~0 gradient may flip


def test_mean_pooling_over_sequence_output():
    spec = install("bert_small")
    texts = tf.constant(["a good film", "an awful , boring film that was very bad"])
    pooled = zoo.load_backbone(spec.replace(name="bert_mean", pooling="mean"))
    bb = zoo.load_backbone(spec)
    encoded = bb.contract.encode(bb, texts)
    out = bb.module._func(encoded)  # the raw module, for the reference
    mask = encoded["input_mask"].numpy()[..., None].astype(np.float32)
    want = (out["sequence_output"].numpy() * mask).sum(1) / mask.sum(1)
    np.testing.assert_allclose(pooled(texts).numpy(), want, rtol=1e-5, atol=1e-6)
    model = zoo.build(spec.name, task="binary", pooling="mean")
    assert model.zoo.backbones[0].spec.pooling == "mean"
    with pytest.raises(zoo.ConfigurationError, match="pooling"):
        zoo.build("mobilenet_v2", task="binary", pooling="mean")


def test_sequence_length_comes_from_the_preprocessor():
    spec = install("bert_small")
    bb = zoo.load_backbone(spec)
    assert bb.seq_length == 128 and bb._pack is None
    short = zoo.load_backbone(spec.replace(name="bert_64", seq_length=64))
    assert short.seq_length == 64
    assert short.contract.encode(short, tf.constant(["a good film"]))["input_word_ids"].shape == (1, 64)
    assert short(tf.constant(["a good film"])).shape == (1, spec.output_dim)


# ------------------------------------------------------------------ TF1 Hub format


def _tf1_hub_module(path, dim=8):
    """A legacy TF1 Hub format module: MetaGraphs tagged {} and {"train"}, a 'default'
    signature, and the tfhub_module.pb marker, as hub.Module exports wrote them."""
    g1 = tf.compat.v1
    builder = g1.saved_model.Builder(str(path))
    for tags in ([], ["train"]):
        with tf.Graph().as_default(), g1.Session() as sess:
            images = g1.placeholder(tf.float32, [None, None, None, 3], name="images")
            w = g1.get_variable("module/kernel", [3, dim], initializer=g1.random_normal_initializer(seed=1))
            out = tf.matmul(tf.reduce_mean(images, axis=[1, 2]), w)
            sess.run(g1.global_variables_initializer())
            sig = g1.saved_model.predict_signature_def({"images": images}, {"default": out})
            if tags:
                builder.add_meta_graph(tags, signature_def_map={"default": sig})
            else:
                builder.add_meta_graph_and_variables(sess, tags, signature_def_map={"default": sig})
    builder.save()
    # ModuleDef{format: FORMAT_V3} (tensorflow_hub's module_def.proto: field 1, varint 3)
    (path / "tfhub_module.pb").write_bytes(b"\x08\x03")
    return path


def test_tf1_hub_format_is_detected_frozen_works_and_fine_tuning_refuses(tmp_path):
    path = _tf1_hub_module(tmp_path / "tf1module")
    spec = zoo.BackboneSpec(name="tf1_module", modality="vision", handle=str(path), output_dim=8,
                            input_shape=(32, 32, 3), format="hub")
    bb = zoo.load_backbone(spec)
    assert bb.format == "hub"
    assert bb(np.full((2, 40, 40, 3), 255, np.uint8)).shape == (2, 8)
    model = zoo.build(spec, task="classification", num_classes=2)
    data = toy_data(spec, "classification", n=8, num_classes=2)
    _train_once(model, data)
    for freeze in ("full", "top:1"):
        with pytest.raises(zoo.ModuleFormatError, match=r"TF1 Hub format \('hub'\)"):
            zoo.build(spec, task="classification", num_classes=2, freeze=freeze)


def test_registry_records_format_and_input_range():
    for spec in zoo.list_backbones():
        if spec.builder is None:
            assert spec.format == "saved_model_2", spec.name
        if spec.modality == "vision":
            assert spec.input_range in ((0.0, 1.0), (-1.0, 1.0)), spec.name
    assert re.search(r"YouTube-8M", zoo.get("vggish").description)
