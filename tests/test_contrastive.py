"""Contrastive image-text models: CLIP's symmetric InfoNCE with a learned temperature, and zero-shot
classification of colour / shape combinations never seen in training."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.errors import ConfigurationError

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


def test_two_captions_of_one_image_are_not_each_others_negatives():
    from zoo.models._contrastive import ContrastiveLoss

    z = np.eye(4, dtype=np.float32)[[0, 0, 1, 2]]  # pairs 0 and 1: one image, two (here equal) captions
    out = np.concatenate([z, z, np.full((4, 1), np.log(10.0), np.float32)], axis=1)
    loss = ContrastiveLoss()
    alone = float(loss(np.zeros(4), out))  # every pair its own: row 0's twin is a hard negative
    grouped = float(loss(np.array([7, 7, 8, 9]), out))
    # rows of the twins: the twin masked, 2 negatives at cos 0; the other rows: 3 negatives at cos 0
    expected = (np.log1p(2 * np.exp(-10.0)) + np.log1p(3 * np.exp(-10.0))) / 2
    assert grouped == pytest.approx(expected, rel=1e-3) and alone > grouped + 0.3


def test_export_metadata_asks_for_text_ops_when_the_text_tower_needs_them():
    from types import SimpleNamespace

    from zoo.export._contrastive_export import CONTRASTIVE_EXPORT

    scale = SimpleNamespace(log_scale=SimpleNamespace(numpy=lambda: np.float32(np.log(20.0))))
    head = SimpleNamespace(get_layer=lambda n: scale if n == "logit_scale" else SimpleNamespace(units=32))
    for text, ops in (("use", False), ("bert_small", True)):
        towers = [SimpleNamespace(spec=zoo.get("starter_cnn")), SimpleNamespace(spec=zoo.get(text))]
        meta = CONTRASTIVE_EXPORT.meta(SimpleNamespace(zoo=SimpleNamespace(head_model=head, backbones=towers)))
        assert (meta["text_ops"], meta["text_backbone"], meta["projection_dim"]) == (ops, text, 32)
        assert meta["logit_scale"] == pytest.approx(20.0)


def test_contrastive_errors_name_the_fix():
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
    with pytest.raises(ConfigurationError, match="distinct, non-empty"):
        zoo.zero_shot(model, np.zeros((1, 64, 64, 3), np.uint8), ["cat", "cat"])


def test_export_serves_embeddings_and_zero_shot_scores_like_the_model(tmp_path):
    import tensorflow as tf

    from zoo.export import load_model, read_export_meta, save_model, verify_export
    from zoo.export import embed_export, zero_shot_export

    install("starter_cnn"), install("use")
    rng = np.random.RandomState(1)
    model = zoo.build(["starter_cnn", "use"], task="contrastive", projection_dim=16)
    save_model(model, tmp_path / "m", spec=zoo.get("starter_cnn"), class_names=[])
    meta = verify_export(tmp_path / "m")
    assert meta["task"] == "contrastive" and meta["text_backbone"] == "use" and meta["projection_dim"] == 16
    assert set(meta["signatures"]) == {"serving_default", "embed_inputs", "embed_text"}
    images = np.stack([draw(c, s, rng) for c, s in HELD_OUT])
    files = []
    for i, img in enumerate(images):
        files.append(tmp_path / f"{i}.png")
        files[-1].write_bytes(tf.io.encode_png(img).numpy())
    loaded, meta = load_model(tmp_path / "m"), read_export_meta(tmp_path / "m")
    raw = [f.read_bytes() for f in files]
    labels = ["red circle", "green square", "blue triangle"]
    want = zoo.zero_shot(model, images, labels, template="a {}")
    got = zero_shot_export(loaded, meta, raw, labels, template="a {}")
    np.testing.assert_allclose(got["scores"], want["scores"], atol=2e-3)
    assert got["labels"] == want["labels"]
    served = loaded.signatures["serving_default"](images=tf.constant(raw), labels=tf.constant([f"a {x}" for x in labels]))
    np.testing.assert_allclose(served["scores"].numpy(), want["scores"], atol=2e-3)
    text = embed_export(loaded, meta, ["a red circle", "a cross"], text=True)
    np.testing.assert_allclose(text, zoo.models.encode_side(model, 1, ["a red circle", "a cross"]), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)


def test_retrieval_recall_counts_a_files_captions_as_one_input():
    from zoo.models import retrieval_recall

    first = np.eye(3, dtype=np.float32)[[0, 0, 1, 2]]  # file 0 has two captions
    text = np.eye(3, dtype=np.float32)[[0, 1, 1, 2]]
    text[1] = np.array([0.5, 1.0, 0.0]) / np.sqrt(1.25)  # the second caption of file 0 looks more like file 1
    r = retrieval_recall(first, text, ks=(1, 2), groups=[7, 7, 8, 9])
    assert r["text_to_input"] == {"R@1": 0.75, "R@2": 1.0} and r["n"] == 4
    assert r["input_to_text"]["R@1"] == pytest.approx(1.0)  # each file's best caption is one of its own


def _png(path, img):
    import tensorflow as tf

    path.write_bytes(tf.io.encode_png(img).numpy())


def test_from_captions_reads_folders_and_csvs_splits_by_file_and_names_bad_input(tmp_path):
    from zoo.data import from_captions
    from zoo.errors import DataError

    rng = np.random.RandomState(0)
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(6):
        _png(folder / f"{i}.png", draw("red", "circle", rng))
        (folder / f"{i}.txt").write_text(f"a red circle {i}\nround and red {i}\n", encoding="utf-8")
    _png(folder / "nocaption.png", draw("red", "circle", rng))
    (folder / "broken.png").write_bytes(b"not a png")
    (folder / "broken.txt").write_text("never read\n")
    ds = from_captions(folder, keys=("starter_cnn", "use"), image_size=(32, 32), val_split=0.34, batch_size=64)
    assert ds.summary.n_train + ds.summary.n_val == 12 and ds.summary.n_val == 4  # 2 of 6 files, both captions each
    assert {s.path.split("/")[-1] for s in ds.summary.skipped} == {"nocaption.png", "broken.png"}
    (x, g), = list(ds.train)
    assert x["starter_cnn"].shape == (8, 32, 32, 3) and x["use"].shape == (8,)
    (xv, gv), = list(ds.val)
    assert not set(g.numpy()) & set(gv.numpy())  # a file's captions stay on one side of the split
    assert sorted(np.bincount(g.numpy())[np.unique(g.numpy())]) == [2, 2, 2, 2]

    csv = tmp_path / "c.csv"
    csv.write_text("image,caption\npics/0.png,first\npics/1.png,second\npics/0.png,third\n", encoding="utf-8")
    ds = from_captions(csv, image_size=(32, 32))
    (x, g), = list(ds.train)
    assert sorted(x) == ["caption", "inputs"] and sorted(g.numpy().tolist()) == [0, 0, 1]
    csv.write_text("image,words\npics/0.png,first\n", encoding="utf-8")
    with pytest.raises(DataError, match="caption_column"):
        from_captions(csv)
    csv.write_text("image,caption\npics/0.png,\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2 has an empty caption"):
        from_captions(csv)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image / audio files with a caption"):
        from_captions(tmp_path / "empty")
    with pytest.raises(ConfigurationError, match="two distinct names"):
        from_captions(folder, keys=("a", "a"))


def test_audio_text_model_classifies_new_clips_among_captions(tmp_path):
    from zoo.data import write_wav
    from zoo.export import load_model, read_export_meta, read_inputs, save_model
    from zoo.export import zero_shot_export

    install("starter_audio"), install("use")
    rate, pitches = 16000, {"a low hum": 220.0, "a middle tone": 660.0, "a high whistle": 1980.0, "a shrill beep": 4400.0}
    rng = np.random.RandomState(0)

    def clip(f: float) -> np.ndarray:
        t = np.arange(int(rate * rng.uniform(1.0, 1.5))) / rate
        return (0.5 * np.sin(2 * np.pi * f * rng.uniform(0.95, 1.05) * t) + rng.normal(0, 0.02, t.size)).astype(np.float32)

    names = list(pitches)
    train = [names[i % 4] for i in range(160)]
    waves = [clip(pitches[c]) for c in train]
    width = max(len(w) for w in waves)
    x = np.stack([np.pad(w, (0, width - len(w))) for w in waves])
    model = zoo.build(["starter_audio", "use"], task="contrastive", projection_dim=16,
                      freeze={"starter_audio": "full", "use": "full"}, learning_rate=1e-3)
    test = [names[i % 4] for i in range(20)]
    test_waves = [clip(pitches[c]) for c in test]
    before = zoo.zero_shot(model, np.stack([np.pad(w, (0, 24000 - len(w))) for w in test_waves]), names)["labels"]
    assert np.mean([p == c for p, c in zip(before, test)]) < 0.6
    zoo.fit(model, ({"starter_audio": x, "use": train}, np.zeros(len(train), np.float32)), epochs=15, batch_size=16,
            verbose=0)
    for i, w in enumerate(test_waves):
        write_wav(tmp_path / f"{i}.wav", w, rate)
    save_model(model, tmp_path / "m", spec=zoo.get("starter_audio"), class_names=[])
    meta = read_export_meta(tmp_path / "m")
    found = zero_shot_export(load_model(tmp_path / "m"), meta, read_inputs(meta, [str(tmp_path / f"{i}.wav") for i in
                                                                                 range(20)]), names)
    assert np.mean([p == c for p, c in zip(found["labels"], test)]) >= 0.8


@pytest.mark.slow
def test_cli_trains_classifies_zero_shot_searches_and_evaluates_recall(tmp_path, capsys):
    import json

    from zoo.cli import main

    install("starter_cnn"), install("use")
    rng = np.random.RandomState(0)
    seen = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in HELD_OUT]
    data, test = tmp_path / "data", tmp_path / "test"
    data.mkdir(), test.mkdir()
    for i in range(240):
        c, s = seen[i % len(seen)]
        _png(data / f"{i}.png", draw(c, s, rng))
        (data / f"{i}.txt").write_text(f"a {c} {s}\n", encoding="utf-8")
    rows = ["image,caption"]
    for i in range(20):
        c, s = HELD_OUT[i % 4]
        _png(test / f"{i:02d}_{c}_{s}.png", draw(c, s, rng))
        rows.append(f"{i:02d}_{c}_{s}.png,a {c} {s}")
    (test / "captions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = str(tmp_path / "run")
    assert main(["train", "starter_cnn", "--task", "contrastive", "--text-backbone", "use", "--data", str(data),
                 "--epochs", "15", "--batch-size", "16", "--projection-dim", "32", "--learning-rate", "1e-3",
                 "--out", run, "-q"]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["retrieval"]["text_to_input"]) == {"R@1", "R@5", "R@10"}
    capsys.readouterr()
    files = sorted(str(p) for p in test.glob("*.png"))
    labels = ",".join(f"{c} {s}" for c, s in HELD_OUT)
    assert main(["predict", run, *files, "--labels", labels, "--template", "a {}", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    right = [r["predictions"][0]["label"].replace(" ", "_") in r["input"] for r in found]
    assert np.mean(right) >= 0.8, found
    assert main(["search", run, "--text", "a yellow cross", "--images", str(test), "--top-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)[0]["results"]
    assert len(hits) == 3 and all("yellow_cross" in h["path"] for h in hits), hits
    assert main(["evaluate", run, "--data", str(test), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_files"] == 20 and report["n_captions"] == 20
    assert report["text_to_input"]["R@10"] >= 0.8 and report["input_to_text"]["R@1"] >= 0.5  # 5 files per caption
    assert (tmp_path / "run" / "evaluation.json").exists()
    assert main(["predict", run, files[0]]) == 2
    assert "--labels cat,dog,bird" in capsys.readouterr().err


def test_contrastive_runs_are_checked_before_training(tmp_path, capsys):
    from zoo.cli import main

    (tmp_path / "d").mkdir()
    base = ["train", "starter_cnn", "--task", "contrastive", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r")]
    for extra, says in ((["--text-backbone", "starter_audio"], "with a text one"),
                        (["--text-backbone", "use", "--freeze", "full"], "default freeze"),
                        (["--text-backbone", "use", "--projection-dim", "0"], "--projection-dim must be a positive")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1, err
    assert main(["train", "starter_cnn", "--data", str(tmp_path / "d"), "--text-backbone", "use"]) == 2
    assert "for --task contrastive runs" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
