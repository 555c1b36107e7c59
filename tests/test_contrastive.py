"""Contrastive image-text models: CLIP's symmetric InfoNCE with a learned temperature, and zero-shot
classification of colour / shape combinations never seen in training."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.errors import ConfigurationError, ExportError

COLORS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (40, 60, 230), "yellow": (235, 220, 40)}
SHAPES = ["circle", "square", "triangle", "cross"]
HELD_OUT = [("red", "circle"), ("green", "square"), ("blue", "triangle"), ("yellow", "cross")]


def draw(color: str, shape: str, rng: np.random.RandomState, size: int = 64) -> np.ndarray:
    """A noisy 0-255 image of one coloured shape at a random place and size."""
    img = np.full((size, size, 3), 235, np.float32)
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.randint(20, 44, 2)
    r = rng.randint(12, 18)
    if shape == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    elif shape == "square":
        mask = (abs(yy - cy) <= r * 0.8) & (abs(xx - cx) <= r * 0.8)
    elif shape == "triangle":
        mask = (yy - cy >= -r) & (yy - cy <= r) & (abs(xx - cx) <= (yy - cy + r) / 2)
    else:
        mask = ((abs(yy - cy) <= r) & (abs(xx - cx) <= r / 4)) | ((abs(xx - cx) <= r) & (abs(yy - cy) <= r / 4))
    img[mask] = COLORS[color]
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def test_zero_shot_classifies_held_out_colour_shape_combinations():
    install("starter_cnn"), install("use")
    seen = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in HELD_OUT]  # 12 of the 16 combinations
    rng = np.random.RandomState(0)
    pairs = [seen[i % len(seen)] for i in range(480)]
    images = np.stack([draw(c, s, rng) for c, s in pairs])
    captions = [f"a {c} {s}" for c, s in pairs]
    test = [HELD_OUT[i % 4] for i in range(80)]
    test_images = np.stack([draw(c, s, rng) for c, s in test])
    labels = [f"{c} {s}" for c, s in HELD_OUT]
    model = zoo.build(["starter_cnn", "use"], task="contrastive", projection_dim=32,
                      freeze={"starter_cnn": "full", "use": "full"}, learning_rate=1e-3)
    assert model.output_shape == (None, 2 * 32 + 1)

    def accuracy() -> float:
        found = zoo.zero_shot(model, test_images, labels, template="a {}")
        assert found["scores"].shape == (80, 4)
        np.testing.assert_allclose(found["scores"].sum(axis=1), 1.0, atol=1e-5)
        return float(np.mean([p == f"{c} {s}" for p, (c, s) in zip(found["labels"], test)]))

    assert accuracy() < 0.6
    zoo.fit(model, ({"starter_cnn": images, "use": captions}, np.zeros(len(captions), np.float32)), epochs=30,
            batch_size=16, verbose=0)
    assert accuracy() >= 0.8


def test_the_loss_is_clips_symmetric_infonce():
    from zoo.models._contrastive import ContrastiveLoss

    z = np.eye(4, dtype=np.float32)  # 4 pairs, each image equal to its own caption, orthogonal to the others
    scale = np.log(10.0)
    aligned = np.concatenate([z, z, np.full((4, 1), scale, np.float32)], axis=1)
    shuffled = np.concatenate([z, z[[1, 0, 3, 2]], np.full((4, 1), scale, np.float32)], axis=1)
    expected = -np.log(np.exp(10.0) / (np.exp(10.0) + 3.0))  # softmax of logits 10 * cos over the batch
    loss = ContrastiveLoss()
    assert float(loss(np.zeros(4), aligned)) == pytest.approx(expected, rel=1e-3)
    assert float(loss(np.zeros(4), shuffled)) == pytest.approx(-np.log(1.0 / (np.exp(10.0) + 3.0)), rel=1e-3)


def test_contrastive_errors_name_the_fix(tmp_path):
    from zoo.export import save_model

    install("starter_cnn"), install("use")
    with pytest.raises(ConfigurationError, match="text one"):
        zoo.build(["use", "starter_cnn"], task="contrastive")
    with pytest.raises(ConfigurationError, match="two backbones"):
        zoo.build("starter_cnn", task="contrastive")
    with pytest.raises(ConfigurationError, match="tf_keras only"):
        zoo.build(["starter_cnn", "use"], task="contrastive", keras=3)
    model = zoo.build(["starter_cnn", "use"], task="contrastive", projection_dim=8)
    with pytest.raises(ConfigurationError, match="template must contain"):
        zoo.zero_shot(model, np.zeros((1, 64, 64, 3), np.uint8), ["cat"], template="a photo")
    with pytest.raises(ExportError, match="zoo.zero_shot"):
        save_model(model, tmp_path / "m", spec=zoo.get("starter_cnn"), class_names=[])
