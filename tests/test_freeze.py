"""Freeze specs, schedules, layer-wise lr decay and feature caching, checked on the variables.

Every claim is checked bit for bit: frozen blocks' variables are identical after
`zoo.fit`, trained blocks' variables changed.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import backbone_variables, changed, first_of, install, snapshot, toy_data
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
import zoo.training
from zoo.tfk import keras, tf

pytestmark = pytest.mark.filterwarnings("ignore::zoo.models._inputs.InputWarning")


def _vision_bn():
    return first_of("vision", with_bn=True)


def _bert():
    return first_of("text", bert=True, starter=False)


def _starter():
    return first_of("vision", starter=True)


SPECS = {"vision_bn": _vision_bn, "bert": _bert, "starter": _starter}


@pytest.fixture(params=sorted(SPECS))
def spec(request):
    return install(SPECS[request.param]())


def _train(model, data, epochs=1, **kw):
    kw.setdefault("batch_size", 8)
    kw.setdefault("verbose", 0)
    return zoo.fit(model, (data.x, data.y), epochs=epochs, **kw)


def _names(variables):
    return {v.name for v in variables}


def _qualified(spec, variables):
    return {f"{spec.name}:{n}" for n in _names(variables)}


def _is_bn_stat(name):
    return "moving_mean" in name or "moving_variance" in name


# ------------------------------------------------------------------ frozen / full / top:K


@pytest.mark.parametrize("cache_features", [None, False])
def test_frozen_backbone_is_bit_identical(spec, cache_features):
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="frozen")
    variables = backbone_variables(model)
    before = snapshot(variables)
    head_before = [w.copy() for w in model.zoo.head_model.get_weights()]
    _train(model, data, epochs=2, cache_features=cache_features)
    assert changed(before, variables) == set()
    assert any(not np.array_equal(a, b) for a, b in zip(head_before, model.zoo.head_model.get_weights()))


def test_full_changes_every_trained_variable_but_not_bn_statistics(spec):
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="full", learning_rate=1e-3)
    bb = model.zoo.backbones[0]
    trained = _qualified(spec, bb.trainable_weights)
    assert trained == _qualified(spec, bb.groups.variables)  # the stem too: only "full" trains it
    variables = backbone_variables(model)
    before = snapshot(variables)
    _train(model, data)
    diff = changed(before, variables)
    assert diff == trained
    stats = {k for k in variables if _is_bn_stat(k)}
    if spec.modality == "vision" and spec.builder is None:
        assert stats, "the vision test module has batch norm"
    assert not stats & diff  # inference-mode batch norm: moving statistics untouched


def test_bn_training_updates_moving_statistics():
    spec = install(_vision_bn())
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="full", bn_training=True)
    variables = backbone_variables(model)
    stats = {k for k in variables if _is_bn_stat(k)}
    assert stats
    before = snapshot(variables)
    _train(model, data)
    assert stats <= changed(before, variables)


def test_top_k_trains_exactly_the_top_blocks(spec):
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="top:2", learning_rate=1e-3)
    bb = model.zoo.backbones[0]
    assert len(bb.blocks) == spec.blocks
    top = _qualified(spec, [v for block in bb.blocks[-2:] for v in block])
    lower = _qualified(spec, [v for block in bb.blocks[:-2] for v in block] + bb.groups.stem)
    assert top and lower and not top & lower
    assert _qualified(spec, bb.trainable_weights) == top
    variables = backbone_variables(model)
    before = snapshot(variables)
    _train(model, data)
    diff = changed(before, variables)
    assert diff == top
    assert not diff & lower


def test_freeze_schedule_stages(spec):
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3)
    bb = model.zoo.backbones[0]
    variables = backbone_variables(model)
    schedule = zoo.FreezeSchedule([
        zoo.Stage("frozen", epochs=2, learning_rate=1e-3),
        zoo.Stage("top:1", epochs=1, learning_rate=1e-3),
        zoo.Stage("full", epochs=1, learning_rate=1e-3),
    ])
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, bb.freeze_state, snapshot(variables)))

    start = snapshot(variables)
    history = _train(model, data, schedule=schedule, callbacks=[Record()])
    assert len(history.history["loss"]) == schedule.total_epochs == 4
    assert history.epoch == [0, 1, 2, 3]
    assert [(e, s) for e, s, _ in seen] == [(0, ("frozen", 0)), (1, ("frozen", 0)), (2, ("top", 1)), (3, ("full", 0))]
    top1 = _qualified(spec, bb.blocks[-1])
    after_frozen = seen[1][2]
    assert all(np.array_equal(after_frozen[k], start[k]) for k in start)
    after_top1 = seen[2][2]
    assert {k for k in start if not np.array_equal(after_top1[k], after_frozen[k])} == top1
    trainable = _qualified(spec, bb.groups.variables)
    assert changed(after_top1, variables) == trainable
    assert model.zoo.config["freeze"] == {spec.name: "full"}


# ------------------------------------------------------------------ errors


def test_top_k_larger_than_block_count():
    spec = install(_vision_bn())
    with pytest.raises(zoo.FreezeSpecError, match=rf"asks for 99 blocks but backbone '{spec.name}' has {spec.blocks}"):
        zoo.build(spec.name, task="classification", num_classes=3, freeze="top:99")


@pytest.mark.parametrize("freeze", ["full", "top:2"])
def test_not_fine_tunable_refuses(freeze):
    spec = next(s for s in zoo.list_backbones(modality="audio") if not s.fine_tunable)
    with pytest.raises(zoo.FreezeSpecError, match=rf"{spec.name!r}: its module is not fine-tunable; use freeze='frozen'"):
        zoo.build(spec.name, task="classification", num_classes=3, freeze=freeze)


def test_schedule_skips_not_fine_tunable_backbone_in_fusion():
    audio = install(next(s for s in zoo.list_backbones(modality="audio") if not s.fine_tunable))
    starter = install(first_of("audio", starter=True))
    data = toy_data(starter, "classification", n=8, samples=8000)
    x = {audio.name: data.x, starter.name: data.x}
    model = zoo.build([audio.name, starter.name], task="classification", num_classes=3)
    variables = backbone_variables(model)
    before = snapshot(variables)
    zoo.fit(model, (x, data.y), schedule=[zoo.Stage("full", 1, 1e-3)], batch_size=8, verbose=0)
    assert model.zoo.config["freeze"] == {audio.name: "frozen", starter.name: "full"}
    diff = changed(before, variables)
    assert diff and all(k.startswith(starter.name + ":") for k in diff)


# ------------------------------------------------------------------ layer-wise lr decay


def test_layer_decay_scales_each_block_update():
    spec = install(_vision_bn())  # inference-mode BN, no dropout: both models see identical gradients
    data = toy_data(spec, "classification", n=8)
    common = dict(task="classification", num_classes=3, freeze="full", learning_rate=1e-3, dropout=0.0)
    plain = zoo.build(spec.name, **common)
    decayed = zoo.build(spec.name, layer_decay=0.8, **common)
    decayed.set_weights(plain.get_weights())
    runs = {}
    for label, model in (("plain", plain), ("decayed", decayed)):
        variables = {v.name: v for v in model.zoo.backbones[0].trainable_weights}
        before = snapshot(variables)
        _train(model, data, batch_size=8)  # one step on the same batch
        runs[label] = {k: variables[k].numpy() - before[k] for k in variables}
    groups = decayed.zoo.backbones[0].groups
    blocks = groups.blocks
    assert len(blocks) == spec.blocks
    for depth, block in [(len(blocks), groups.stem)] + [(len(blocks) - 1 - i, b) for i, b in enumerate(blocks)]:
        for v in block:
            want = (0.8 ** depth) * runs["plain"][v.name]
            np.testing.assert_allclose(runs["decayed"][v.name], want, rtol=2e-3, atol=1e-9, err_msg=v.name)
    # the bottom block moved less than without decay, the top block the same
    norm = lambda d, vs: sum(float(np.abs(d[v.name]).sum()) for v in vs)  # noqa: E731
    assert norm(runs["decayed"], blocks[0]) < norm(runs["plain"], blocks[0]) * 0.8 ** (len(blocks) - 2)
    assert norm(runs["decayed"], blocks[-1]) == pytest.approx(norm(runs["plain"], blocks[-1]), rel=1e-5)


def test_layer_decay_validation():
    spec = install(_starter())
    with pytest.raises(zoo.ConfigurationError, match=r"layer_decay must be in \(0, 1\]"):
        zoo.build(spec.name, num_classes=3, freeze="full", layer_decay=1.5)
    model = zoo.build(spec.name, num_classes=3, freeze="full", layer_decay=0.5)
    scales = model.zoo.lr_scales
    bb = model.zoo.backbones[0]
    assert {scales[v.ref()] for v in bb.blocks[-1]} == {1.0}
    assert {scales[v.ref()] for v in bb.blocks[0]} == {0.5 ** (len(bb.blocks) - 1)}


# ------------------------------------------------------------------ feature caching


@pytest.fixture
def extract_calls(monkeypatch):
    calls = []
    real = zoo.training.extract_features

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(zoo.training._fit, "extract_features", spy)
    return calls


@pytest.mark.parametrize("cache_features,expect", [(None, True), (True, True), (False, False)])
def test_cache_features_switch_and_same_prediction_path(cache_features, expect, extract_calls):
    spec = install(_vision_bn())
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3)
    head_before = [w.copy() for w in model.zoo.head_model.get_weights()]
    _train(model, data, epochs=2, cache_features=cache_features)
    assert bool(extract_calls) is expect
    assert any(not np.array_equal(a, b) for a, b in zip(head_before, model.zoo.head_model.get_weights()))
    full = model.predict(data.x, verbose=0)
    parts = model.zoo.head_model.predict(model.zoo.feature_model.predict(data.x, verbose=0), verbose=0)
    np.testing.assert_allclose(full, parts, rtol=1e-5, atol=1e-6)


def test_cache_features_true_needs_frozen_backbone():
    spec = install(_starter())
    data = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="full")
    with pytest.raises(zoo.ConfigurationError, match="cache_features=True needs every backbone frozen"):
        _train(model, data, cache_features=True)


def test_cached_and_uncached_training_reach_similar_accuracy():
    spec = install(_vision_bn())
    data = toy_data(spec, "classification", n=24)
    test = toy_data(spec, "classification", n=24, seed=7)
    model = zoo.build(spec.name, task="classification", num_classes=3, learning_rate=1e-2)
    initial = model.get_weights()
    accuracy = {}
    for cache in (True, False):
        model.set_weights(initial)
        zoo.models.compile_model(model, keras.optimizers.Adam(1e-2))
        _train(model, data, epochs=15, cache_features=cache)
        accuracy[cache] = model.evaluate(test.x, test.y, verbose=0, return_dict=True)["accuracy"]
    assert min(accuracy.values()) >= 0.75, accuracy
    assert abs(accuracy[True] - accuracy[False]) <= 0.2, accuracy


def test_random_augmentation_pipeline_is_not_cached(extract_calls):
    spec = install(_starter())
    data = toy_data(spec, "classification", n=16)
    plain = tf.data.Dataset.from_tensor_slices((data.x, data.y)).shuffle(16, seed=0).batch(8)
    augmented = tf.data.Dataset.from_tensor_slices((data.x, data.y)).map(
        lambda x, y: (tf.image.random_flip_left_right(x), y)).batch(8)
    assert not zoo.training.has_random_ops(plain)
    assert zoo.training.has_random_ops(augmented)
    model = zoo.build(spec.name, task="classification", num_classes=3)
    zoo.fit(model, augmented, epochs=1, verbose=0)
    assert extract_calls == []
    zoo.fit(model, plain, epochs=1, verbose=0)
    assert extract_calls == [1]
