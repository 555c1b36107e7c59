"""TF Hub backbones in Keras 3 models (``zoo.keras3``, ``zoo.build(..., keras=3)``), checked on the variables.

Keras 3 here is the real ``keras`` package (``TF_USE_LEGACY_KERAS`` unset): Sequential and
functional models around a backbone of each modality train with Keras 3 optimizers; frozen
variables stay bit-identical, ``top:K`` changes exactly the blocks the tf_keras path trains,
``full`` every trainable variable and never a batch-norm statistic; ``.keras`` files and
``model.export()`` round-trip predictions on raw inputs.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers import build_kwargs, first_of, install, toy_data
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
import zoo.keras3

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

pytestmark = pytest.mark.filterwarnings("ignore::zoo.models._inputs.InputWarning", "ignore::UserWarning")

assert not os.environ.get("TF_USE_LEGACY_KERAS"), "these tests are about Keras 3"


def _vision():
    return first_of("vision", with_bn=True)


def _bert():
    return first_of("text", bert=True, starter=False)


def _audio():
    return zoo.get("trill_distilled")  # the batched speech contract ([B, T] in, dict out), fine-tunable


SPECS = {"vision": _vision, "text": _bert, "audio": _audio}


@pytest.fixture(params=sorted(SPECS))
def spec(request):
    return install(SPECS[request.param]())


def _x(spec, data):
    """Raw inputs as Keras 3 takes them: strings only as a string tensor."""
    return tf.constant(data.x) if spec.modality == "text" else data.x


def _values(layer):
    return {v.path: np.array(v.numpy(), copy=True) for v in layer.weights}


def _changed(before, layer):
    return {v.path for v in layer.weights if not np.array_equal(before[v.path], v.numpy())}


def _is_bn_stat(path):
    return "moving_mean" in path or "moving_variance" in path


def _backbone(model):
    return next(layer for layer in model.layers if isinstance(layer, zoo.keras3.Backbone))


# ------------------------------------------------------------------ Sequential / functional, each modality


def test_sequential_full_trains_every_trainable_variable_and_no_bn_statistic(spec):
    data = toy_data(spec, "classification", n=8)
    layer = zoo.keras3.load_backbone(spec.name, freeze="full")
    assert isinstance(layer, keras.layers.Layer) and layer.trainable_weights
    model = keras.Sequential([zoo.models.keras3_input(spec), layer, keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    before = _values(layer)
    history = model.fit(_x(spec, data), data.y, epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    changed = _changed(before, layer)
    assert changed == {v.path for v in layer.trainable_weights}
    assert not any(_is_bn_stat(p) for p in changed)
    assert all(_is_bn_stat(v.path) for v in layer.non_trainable_weights)


def test_functional_frozen_backbone_is_bit_identical_and_head_trains(spec):
    data = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="frozen", keras=3)
    assert isinstance(model, keras.Model) and isinstance(model, zoo.keras3.Model)
    layer = _backbone(model)
    assert layer.trainable_weights == []
    before, head_before = _values(layer), [w.copy() for w in model.get_layer("head").get_weights()]
    model.fit(data.x, data.y, epochs=2, batch_size=4, verbose=0)  # lists of strings are taken too
    assert _changed(before, layer) == set()
    assert any(not np.array_equal(a, b) for a, b in zip(head_before, model.get_layer("head").get_weights()))


@pytest.mark.parametrize("which", ["vision", "text"])
def test_top_k_with_adamw_trains_exactly_the_blocks_the_tf_keras_path_trains(which):
    spec = install(SPECS[which]())
    data = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="top:1", keras=3)
    assert type(model.optimizer).__name__ == ("AdamW" if which == "text" else "Adam")
    model.compile(keras.optimizers.AdamW(1e-2, weight_decay=0.05), model.loss)  # decay must not touch frozen ones
    layer = _backbone(model)
    reference = zoo.load_backbone(spec.name)  # the tf_keras path, same module
    reference.set_freeze("top:1")
    expected = {v.name.split(":")[0] for v in reference.trainable_weights}
    before = _values(layer)
    model.fit(data.x, data.y, epochs=2, batch_size=4, verbose=0)
    changed = _changed(before, layer)
    by_path = {v.path: src for v, src in zip(layer._module_vars, layer._refs)}  # noqa: SLF001
    assert {by_path[p].deref().name.split(":")[0] for p in changed} == expected
    assert 0 < len(changed) < len(layer.weights)


# ------------------------------------------------------------------ saving and serving


@pytest.mark.parametrize("which", ["vision", "text"])
def test_keras_file_round_trips_predictions_and_freeze(which, tmp_path):
    spec = install(SPECS[which]())
    data = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, task="classification", num_classes=3, freeze="top:1", keras=3)
    model.fit(data.x, data.y, epochs=1, batch_size=4, verbose=0)
    expected = model.predict(data.x, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded).__name__ == "ZooModel3" and loaded.lr_scales == model.lr_scales
    np.testing.assert_allclose(loaded.predict(data.x, verbose=0), expected, atol=1e-6)
    layer = _backbone(loaded)
    assert layer.freeze_spec == "top:1" and len(layer.trainable_weights) == len(_backbone(model).trainable_weights)
    loaded.fit(data.x, data.y, epochs=1, batch_size=4, verbose=0)  # and it trains on


@pytest.mark.parametrize("which", ["vision", "text", "audio"])
def test_export_serves_raw_inputs(which, tmp_path):
    spec = install(SPECS[which]())
    data = toy_data(spec, "classification", n=4)
    model = zoo.build(spec.name, task="classification", num_classes=3, keras=3)
    expected = model.predict(data.x, verbose=0)
    model.export(str(tmp_path / "serving"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "serving"))
    raw = np.asarray(data.x)
    raw = tf.constant(raw.astype(np.float32) / 255.0 if raw.dtype == np.uint8 else raw)
    np.testing.assert_allclose(served.serve(raw).numpy(), expected, atol=1e-5)


def test_a_changed_handle_is_refused_when_loading():
    spec = install(_vision())
    with pytest.raises(zoo.ConfigurationError, match="registry now maps"):
        zoo.keras3.Backbone(spec.name, handle="https://example.org/other/1")


# ------------------------------------------------------------------ heads, tasks, options


def test_users_keras3_head_layers_are_accepted_and_tf_keras_ones_refused():
    spec = install(first_of("text", starter=False))
    model = zoo.build(spec.name, num_classes=3, keras=3, head=[keras.layers.Dense(16, activation="relu", name="mine")])
    assert model.get_layer("head").get_layer("mine").units == 16
    import tf_keras

    with pytest.raises(zoo.ConfigurationError, match="Keras 3 layers"):
        zoo.build(spec.name, num_classes=3, keras=3, head=[tf_keras.layers.Dense(4)])
    with pytest.raises(zoo.ConfigurationError, match="keras=3"):
        zoo.build(spec.name, num_classes=3, head=[keras.layers.Dense(4)])
    with pytest.raises(zoo.ConfigurationError, match="keras must be"):
        zoo.build(spec.name, num_classes=3, keras=4)


@pytest.mark.parametrize("task", ["classification", "sentiment", "binary", "multilabel", "regression", "embedding"])
def test_every_task_builds_compiles_and_trains_a_step(task):
    spec = install(first_of("text", starter=False))
    data = toy_data(spec, task, n=8)
    model = zoo.build(spec.name, task=task, keras=3, **build_kwargs(task, data))
    history = model.fit(data.x, data.y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(data.x, verbose=0).shape[0] == len(data.y)


def test_fine_tuning_gives_the_head_its_own_rate_and_layer_decay_scales_blocks():
    spec = install(_vision())
    model = zoo.build(spec.name, num_classes=3, freeze="top:2", layer_decay=0.5, keras=3)
    head = {v.path for v in model.get_layer("head").trainable_variables}
    assert {p: model.lr_scales[p] for p in head} == {p: pytest.approx(1e-3 / 1e-4) for p in head}
    layer = _backbone(model)
    depths = layer.block_depths()
    trained = {v.path for v in layer.trainable_weights}
    assert {depths[p] for p in trained} == {0, 1}  # top:2: the two top blocks
    assert {p: model.lr_scales.get(p, 1.0) for p in trained} == {p: pytest.approx(0.5 ** depths[p]) for p in trained}
    with pytest.raises(zoo.ConfigurationError, match="concat"):
        zoo.build([spec.name, install(first_of("vision", starter=True)).name], num_classes=3, fusion="gated", keras=3)


def test_mixed_precision_and_a_strategy_as_on_the_tf_keras_path():
    spec = install(_vision())
    data = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, num_classes=3, keras=3, mixed_precision=True, strategy="cpu")
    assert model.get_layer("head").get_layer("to_compute_dtype").dtype_policy.name == "mixed_bfloat16"
    assert _backbone(model).compute_dtype == "float32"
    history = model.fit(data.x, data.y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and model.predict(data.x, verbose=0).dtype == np.float32
