"""`zoo.build` end to end on the offline TF-Hub-format test modules.

Parametrised from the registry, no per-model code. Every backbone x applicable
task builds, takes raw inputs of the documented kind and predicts the right shape
and range. The end-to-end pairs (`helpers.heavy_matrix`: one backbone per family;
in each modality every family and every task at least once; every family x task
with ``ZOO_TEST_FULL_MATRIX=1``) also check that `zoo.fit` reduces the loss
on a learnable toy problem and that a saved model reloads with identical
predictions; the other pairs only build and predict (cost control).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import as_params, build_kwargs, first_of, heavy_matrix, install, matrix, toy_data
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.models import _heads as heads
from zoo.models import InputWarning
from zoo.registry import resolve_callable
from zoo.tfk import keras, tf

pytestmark = pytest.mark.filterwarnings("ignore::zoo.models._inputs.InputWarning")


def _expected_width(spec, task, kw):
    head = resolve_callable(task.head)
    if head in (heads.softmax_head, heads.sigmoid_head):
        return kw["num_classes"]
    if head is heads.binary_head:
        return 1
    if head is heads.linear_head:
        return kw.get("num_classes") or 1
    if head is heads.embedding_head:
        return kw.get("projection_dim") or spec.output_dim
    return None  # a plugin's head: only batch size and finiteness are known


def check_predictions(spec, task, pred, n, kw):
    """Shape and range of ``model.predict`` for the task's head."""
    pred = np.asarray(pred)
    assert pred.dtype == np.float32
    if task.label_kind == "span":  # start / end probabilities over the context's words (default 64) and "no answer"
        assert pred.shape == (n, 65, 2) and np.isfinite(pred).all()
        np.testing.assert_allclose(pred.sum(axis=1), 1.0, atol=1e-5)
        return
    if task.label_kind == "token":  # one softmax per word position
        assert pred.shape == (n, 64, kw["num_classes"]) and np.isfinite(pred).all()
        np.testing.assert_allclose(pred.sum(axis=-1), 1.0, atol=1e-5)
        return
    assert pred.ndim == 2 and pred.shape[0] == n
    assert np.isfinite(pred).all()
    width = _expected_width(spec, task, kw)
    if width is not None:
        assert pred.shape == (n, width)
    head = resolve_callable(task.head)
    if head is heads.softmax_head:
        assert (pred >= 0).all() and (pred <= 1).all()
        np.testing.assert_allclose(pred.sum(axis=1), 1.0, atol=1e-5)
    elif head in (heads.binary_head, heads.sigmoid_head):
        assert (pred >= 0).all() and (pred <= 1).all()
    elif head is heads.embedding_head:
        np.testing.assert_allclose(np.linalg.norm(pred, axis=1), 1.0, atol=1e-4)


# ------------------------------------------------------------------ the registry matrix


HEAVY = heavy_matrix()


@pytest.mark.parametrize("spec,task", as_params(matrix(exclude=HEAVY)))
def test_build_and_predict_every_backbone_and_task(spec, task):
    install(spec)
    data = toy_data(spec, task, n=4, seed=1)
    kw = build_kwargs(task, data)
    model = zoo.build(spec.name, task=task.name, **kw)
    assert isinstance(model, keras.Model) and model.zoo.config["task"] == task.name
    assert [b.spec.name for b in model.zoo.backbones] == [spec.name]
    check_predictions(spec, task, model.predict(data.x, verbose=0), len(data), kw)


@pytest.mark.slow
def test_matrix_covers_every_family_and_task():
    families = {s.family or s.name for s in zoo.list_backbones()}
    assert {s.family or s.name for s, _ in HEAVY} == families
    for modality in {s.modality for s in zoo.list_backbones()}:
        want = {t.name for t in zoo.list_tasks() if (not t.modalities or modality in t.modalities)
                and t.name != "contrastive"}  # two backbones: tests/test_contrastive.py
        assert {t.name for s, t in HEAVY if s.modality == modality} == want, modality
    assert len(matrix(exclude=HEAVY)) + len(HEAVY) == len(matrix())


@pytest.mark.slow
@pytest.mark.parametrize("spec,task", as_params(HEAVY))
def test_fit_reduces_loss_and_save_roundtrip(spec, task, tmp_path):
    install(spec)
    data = toy_data(spec, task, n=16)
    kw = build_kwargs(task, data)
    model = zoo.build(spec.name, task=task.name, **kw)  # zoo's default optimizer and learning rate
    # the task's loss on the whole toy set, in inference mode, before and after training
    loss = lambda pred: float(model.loss(tf.constant(data.y), tf.constant(pred)))  # noqa: E731
    before = loss(model.predict(data.x, verbose=0))
    history = zoo.fit(model, (data.x, data.y), epochs=4, batch_size=8, verbose=0)
    pred = model.predict(data.x, verbose=0)
    after = loss(pred)
    assert len(history.history["loss"]) == 4 and np.isfinite(history.history["loss"]).all()
    assert after < before, (before, after)
    check_predictions(spec, task, pred, len(data), kw)

    path = str(tmp_path / "saved")
    model.save(path)
    loaded = keras.models.load_model(path)
    text = (lambda v: np.asarray(v, dtype=object))  # noqa: E731
    x = data.x if spec.modality != "text" else {k: text(v) for k, v in data.x.items()} if isinstance(data.x, dict) \
        else text(data.x)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), pred)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("task", [t.name for t in zoo.list_tasks() if t.needs_num_classes])
def test_missing_num_classes_says_how(task):
    name = first_of((zoo.get_task(task).modalities or ("vision",))[0], starter=True).name
    with pytest.raises(zoo.ConfigurationError, match=rf"task '{task}' needs num_classes, e\.g\. zoo\.build"):
        zoo.build(name, task=task)


def test_unknown_task_did_you_mean():
    with pytest.raises(zoo.UnknownTaskError, match=r"unknown task 'clasification'; did you mean 'classification'"):
        zoo.build(first_of("vision", starter=True).name, task="clasification", num_classes=3)


def test_sentiment_is_text_only():
    with pytest.raises(zoo.ConfigurationError, match="task 'sentiment' is for text"):
        zoo.build(first_of("vision", starter=True).name, task="sentiment")


def test_not_fine_tunable_backbone_refuses_fine_tuning():
    spec = next(s for s in zoo.list_backbones() if not s.fine_tunable)
    for freeze in ("full", "top:1"):
        with pytest.raises(zoo.FreezeSpecError, match=rf"backbone '{spec.name}': its module is not fine-tunable"):
            zoo.build(spec.name, task="classification", num_classes=3, freeze=freeze)


# ------------------------------------------------------------------ fusion


@pytest.mark.parametrize("fusion", ["concat", "gated"])
def test_fusion_vision_text(fusion):
    install("mobilenet_v2")
    install("use")
    images = toy_data("mobilenet_v2", "classification", n=16, seed=3)
    texts = toy_data("use", "classification", n=16, seed=3)
    np.testing.assert_array_equal(images.y, texts.y)
    x = {"mobilenet_v2": images.x, "use": texts.x}
    model = zoo.build(["mobilenet_v2", "use"], task="classification", num_classes=3, fusion=fusion)
    assert isinstance(model.input, dict) and set(model.input) == {"mobilenet_v2", "use"}
    before = model.evaluate(x, images.y, verbose=0, return_dict=True)["loss"]
    zoo.fit(model, (x, images.y), epochs=4, batch_size=8, verbose=0)
    after = model.evaluate(x, images.y, verbose=0, return_dict=True)["loss"]
    assert after < before
    pred = model.predict(x, verbose=0)
    assert pred.shape == (16, 3)
    np.testing.assert_allclose(pred.sum(axis=1), 1.0, atol=1e-5)
    if fusion == "gated":
        assert model.zoo.head_model.get_layer("fusion_gate") is not None
    with pytest.raises(zoo.InputError, match=r"missing 'use'"):
        model.predict({"mobilenet_v2": images.x}, verbose=0)
    with pytest.raises(zoo.InputError, match="dict of inputs keyed by 'mobilenet_v2', 'use'"):
        model.predict(images.x, verbose=0)


# ------------------------------------------------------------------ heads


def test_custom_head_list_of_layers():
    spec = install(first_of("vision", starter=True))
    data = toy_data(spec, "classification", n=12)
    hidden = keras.layers.Dense(16, activation="relu", name="my_hidden")
    model = zoo.build(spec.name, task="classification", num_classes=3, head=[hidden])
    assert model.zoo.head_model.get_layer("my_hidden") is hidden
    zoo.fit(model, (data.x, data.y), epochs=1, batch_size=6, verbose=0)
    pred = model.predict(data.x, verbose=0)
    assert pred.shape == (12, 3)
    np.testing.assert_allclose(pred.sum(axis=1), 1.0, atol=1e-5)


def test_custom_head_callable():
    spec = install(first_of("text", starter=True))
    data = toy_data(spec, "regression", n=12)

    def head(features):
        x = keras.layers.Dense(8, activation="relu", name="custom_hidden")(features)
        return keras.layers.Dense(2, name="custom_out")(x)

    model = zoo.build(spec.name, task="regression", head=head)
    assert model.zoo.head_model.get_layer("custom_out").units == 2
    y = np.stack([data.y, -data.y], axis=1)
    before = model.evaluate(data.x, y, verbose=0, return_dict=True)["loss"]
    zoo.fit(model, (data.x, y), epochs=3, batch_size=6, verbose=0)
    assert model.evaluate(data.x, y, verbose=0, return_dict=True)["loss"] < before
    assert model.predict(data.x, verbose=0).shape == (12, 2)


def test_fit_with_nothing_to_train_says_so():
    spec = install(first_of("text", starter=True))
    data = toy_data(spec, "embedding", n=8)
    model = zoo.build(spec.name, task="embedding")  # frozen backbone, no projection: no weights at all
    assert model.predict(data.x, verbose=0).shape == (8, spec.output_dim)
    with pytest.raises(zoo.ConfigurationError, match="nothing to train.*projection_dim"):
        zoo.fit(model, (data.x, data.y), epochs=1, verbose=0)


def test_keras3_layers_rejected_with_hint():
    with pytest.raises(zoo.ConfigurationError, match="tf_keras"):
        zoo.build(first_of("vision", starter=True).name, num_classes=3, head=["not a layer"])


# ------------------------------------------------------------------ defaults


def test_bert_sentiment_defaults_adamw_warmup_full():
    from zoo.models import WarmupLinear

    spec = install(first_of("text", bert=True, starter=False))
    data = toy_data(spec, "sentiment", n=8)
    model = zoo.build(spec.name, task="sentiment")
    assert model.zoo.config["freeze"] == {spec.name: "full"}
    assert not model.zoo.backbones[0].is_frozen
    assert model.zoo.backbones[0].trainable_weights
    opt = model.optimizer
    assert type(opt).__name__ == "AdamW"
    lr = opt._learning_rate  # noqa: SLF001
    assert isinstance(lr, WarmupLinear) and lr.peak == pytest.approx(3e-5)
    zoo.fit(model, (data.x, data.y), epochs=2, batch_size=4, verbose=0)
    assert lr.total_steps == 4 and lr.warmup_steps == 1
    assert float(lr(0)) == pytest.approx(3e-5) and float(lr(3)) < 3e-5


# ------------------------------------------------------------------ raw image variants


@pytest.fixture(scope="module")
def vision_model():
    spec = install(first_of("vision", with_bn=True))
    return spec, zoo.build(spec.name, task="classification", num_classes=3)


def test_float_images_in_unit_range(vision_model):
    spec, model = vision_model
    x = toy_data(spec, "classification", n=4).x
    ref = model.predict(x, verbose=0)
    with pytest.warns(InputWarning, match=r"float images in \[0, 1\]"):
        unit = model.predict(x.astype(np.float32) / 255.0, verbose=0)
    np.testing.assert_allclose(unit, ref, rtol=1e-4, atol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # float 0-255 is the documented input: no warning
        np.testing.assert_allclose(model.predict(x.astype(np.float32), verbose=0), ref, rtol=1e-6, atol=1e-7)


def test_grey_and_rgba_images(vision_model):
    spec, model = vision_model
    x = toy_data(spec, "classification", n=4).x
    grey = x[..., :1]
    rgba = np.concatenate([x, np.full(x.shape[:3] + (1,), 255, np.uint8)], axis=-1)
    np.testing.assert_allclose(model.predict(grey, verbose=0), model.predict(np.repeat(grey, 3, -1), verbose=0),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(rgba, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)


def test_bad_image_shapes_raise_input_error(vision_model):
    _, model = vision_model
    with pytest.raises(zoo.InputError, match="add the batch axis"):
        model.predict(np.zeros((32, 32, 3), np.uint8), verbose=0)
    with pytest.raises(zoo.InputError, match=r"1\|3\|4"):
        model.predict(np.zeros((1, 32, 32, 2), np.uint8), verbose=0)


# ------------------------------------------------------------------ mixed precision


def test_mixed_precision_head_only():
    spec = install(first_of("vision", starter=True))
    data = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, task="classification", num_classes=3, mixed_precision=True)
    assert keras.mixed_precision.global_policy().name == "float32"
    policy = model.zoo.config["mixed_precision_policy"]
    assert policy in ("mixed_float16", "mixed_bfloat16")
    cast = model.zoo.head_model.get_layer("to_compute_dtype")
    assert cast.compute_dtype == policy.split("_")[1]
    assert all(v.dtype == tf.float32 for v in model.zoo.backbones[0].weights)
    assert model.zoo.feature_model.output.dtype == tf.float32
    zoo.fit(model, (data.x, data.y), epochs=1, batch_size=4, verbose=0)
    pred = model.predict(data.x, verbose=0)
    assert pred.dtype == np.float32 and np.isfinite(pred).all()


def test_a_tasks_default_lr_is_the_rate_when_the_user_gives_none():
    import dataclasses

    task = dataclasses.replace(zoo.get_task("classification"), name="slow_classification", default_lr=0.0123)
    model = zoo.build("starter_cnn", task=task, num_classes=3)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)
    assert model.zoo.config["learning_rate"] == pytest.approx(0.0123)
    model = zoo.build("starter_cnn", task=task, num_classes=3, learning_rate=0.5)  # the user's rate wins
    assert float(model.optimizer.learning_rate) == pytest.approx(0.5)


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in zoo.list_backbones()])
def test_every_entry_trains_a_step_and_exports_raw_input_signatures(spec, tmp_path):
    """Every registered entry (a new one needs no new test): built for classification, one training
    step through zoo.fit, exported, and the export's serving signature scores raw inputs."""
    from zoo.export import load_model, save_model

    install(spec)
    data = toy_data(spec, "classification", n=4, num_classes=2, seed=3)
    model = zoo.build(spec.name, task="classification", num_classes=2)
    history = zoo.fit(model, (data.x, data.y), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    path = save_model(model, tmp_path / "model", spec=spec, class_names=["a", "b"])
    loaded = load_model(path)
    assert "serving_default" in loaded.signatures
    np.testing.assert_allclose(np.asarray(loaded.signatures["serving_default"].structured_outputs["scores"].shape[-1:]),
                               [2])
