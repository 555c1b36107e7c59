"""Batch inference on Apache Beam (`zoo embed`, `zoo predict --data`) over 500+ generated files.

Every input gives exactly one record (no loss, no duplicates), broken files land in the
errors side output with their reason, the vectors equal in-process
``zoo.load_backbone(...)`` / the exported model's scores to 1e-5, and a second run into
the same folder is refused (or replaces it with --overwrite), never mixed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.cli import main
from zoo.data import make_synthetic_folder

pytest.importorskip("apache_beam")

IN_MEMORY = ["--direct_running_mode=in_memory"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """images/ (210 + 3 broken), texts/ (180 one-line + 10 three-line files + 2 broken), wavs/ (120 + 1 broken)."""
    root = tmp_path_factory.mktemp("batch")
    images = make_synthetic_folder(root / "images", "vision", n_per_class=70)
    (images / "a" / "truncated.png").write_bytes((images / "a" / "a_000.png").read_bytes()[:60])
    (images / "b" / "not_an_image.jpg").write_text("hello")
    (images / "c" / "empty.png").write_bytes(b"")
    texts = make_synthetic_folder(root / "texts", "text", n_per_class=60)
    for i in range(10):
        (texts / "a" / f"multi_{i}.txt").write_text(f"first line {i}\n\n  second line {i}  \nthird line {i}\n")
    (texts / "b" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (texts / "c" / "blank.txt").write_text("\n \n")
    wavs = make_synthetic_folder(root / "wavs", "audio", n_per_class=40)
    (wavs / "a" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    n = sum(1 for p in root.rglob("*") if p.is_file())
    assert n >= 500
    return root


def _good(folder: Path, suffixes: tuple) -> list[Path]:
    bad = {"truncated.png", "not_an_image.jpg", "empty.png", "latin1.txt", "blank.txt", "broken.wav"}
    return sorted(p for p in folder.rglob("*") if p.suffix in suffixes and p.name not in bad)


def _records(out: Path) -> tuple[list[dict], np.ndarray]:
    from zoo.runs import read_batch_output

    return read_batch_output(out)


def _errors(out: Path) -> dict:
    rows = [json.loads(s) for f in out.glob("errors-*.jsonl") for s in f.read_text().splitlines() if s]
    return {Path(r["path"]).name: r["reason"] for r in rows}


def test_embed_images_on_two_processes_gives_each_file_once_equal_to_the_backbone(files, tmp_path, capsys):
    import tensorflow as tf

    from zoo.data import decode_image_bytes, resize_pixels

    out = tmp_path / "emb"
    rc = main(["embed", "starter_cnn", "--data", str(files / "images"), "--out", str(out),
               "--", "--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    assert rc == 0
    records, vectors = _records(out)
    good = _good(files / "images", (".png", ".jpg", ".jpeg", ".bmp", ".gif"))
    paths = [r["path"] for r in records]
    assert len(paths) == len(set(paths)) == len(good) == 210
    assert sorted(paths) == sorted(str(p) for p in good)
    errors = _errors(out)
    assert set(errors) == {"truncated.png", "not_an_image.jpg", "empty.png"}
    assert errors["empty.png"] == "empty file" and "unrecognised file header" in errors["not_an_image.jpg"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["files"], manifest["inputs"], manifest["outputs"], manifest["errors"]) == (213, 210, 210, 3)
    spec = zoo.get("starter_cnn")
    assert {r["handle"] for r in records} == {spec.handle} and len(records[0]["module_sha256"]) == 64
    backbone = zoo.load_backbone("starter_cnn")
    pick = list(range(0, 210, 23))
    pixels = tf.stack([resize_pixels(decode_image_bytes(Path(paths[i]).read_bytes()), spec.input_shape[:2])
                       for i in pick])
    np.testing.assert_allclose(vectors[pick], backbone(pixels).numpy(), atol=1e-5)


def test_embed_text_gives_one_record_per_non_empty_line_as_npy(files, tmp_path):
    import tensorflow as tf

    from zoo.runs import embed

    out = tmp_path / "emb"
    result = embed("starter_text", files / "texts", out, fmt="npy", beam_args=IN_MEMORY, say=lambda _m: None)
    records, vectors = _records(out)
    assert result.outputs == len(records) == 180 + 30 and vectors.shape == (210, 64)
    keys = [(r["path"], r["line"]) for r in records]
    assert len(set(keys)) == len(keys)
    multi = [r for r in records if Path(r["path"]).name == "multi_3.txt"]
    assert [r["line"] for r in multi] == [1, 3, 4]
    assert set(_errors(out)) == {"latin1.txt", "blank.txt"}
    assert "UTF-8" in _errors(out)["latin1.txt"]
    lines = [Path(p).read_text().split("\n")[n - 1].strip() for p, n in keys]
    ref = zoo.load_backbone("starter_text")(tf.constant(lines)).numpy()
    np.testing.assert_allclose(vectors, ref, atol=1e-5)


def test_embed_audio_as_tfrecords_equals_the_backbone_on_read_wav(files, tmp_path):
    import tensorflow as tf

    from zoo.data import read_wav
    from zoo.runs import embed

    out = tmp_path / "emb"
    embed("starter_audio", files / "wavs", out, fmt="tfrecord", batch_size=8, beam_args=IN_MEMORY, say=lambda _m: None)
    records, vectors = _records(out)
    good = _good(files / "wavs", (".wav",))
    assert sorted(r["path"] for r in records) == sorted(str(p) for p in good) and len(good) == 120
    assert set(_errors(out)) == {"broken.wav"}
    backbone = zoo.load_backbone("starter_audio")
    for i in range(0, 120, 17):  # varied rates, channels and bit depths: resampled as the loaders do
        ref = backbone(tf.constant(read_wav(records[i]["path"])[None])).numpy()[0]
        np.testing.assert_allclose(vectors[i], ref, atol=1e-5)


def test_a_second_run_into_the_same_folder_is_refused_or_replaces_it(files, tmp_path, capsys):
    out = tmp_path / "emb"
    args = ["embed", "starter_text", "--data", str(files / "texts" / "a" / "multi_*.txt"), "--out", str(out),
            "--projector", "--", *IN_MEMORY]
    assert main(args) == 0
    first = json.loads((out / "manifest.json").read_text())
    assert first["outputs"] == 30
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already holds the output of an earlier run" in err and "--overwrite" in err
    assert json.loads((out / "manifest.json").read_text()) == first  # untouched
    (out / "manifest.json").unlink()  # as if the first run had been killed before it finished
    assert main(args) == 2 and "an unfinished run's output" in capsys.readouterr().err
    assert main([*args[:-2], "--overwrite", "--", *IN_MEMORY]) == 0
    assert json.loads((out / "manifest.json").read_text())["outputs"] == 30
    assert len(_records(out)[0]) == 30  # replaced, not appended
    config = (out / "projector" / "projector_config.pbtxt").read_text()
    assert "vectors.tsv" in config and "metadata.tsv" in config
    assert len((out / "projector" / "vectors.tsv").read_text().splitlines()) == 30
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.md").write_text("keep me")
    assert main(["embed", "starter_text", "--data", str(files / "texts"), "--out", str(other), "--overwrite"]) == 2
    assert "did not write" in capsys.readouterr().err and (other / "notes.md").exists()


def test_predict_data_scores_equal_the_exported_model(files, tmp_path, capsys):
    from zoo.export import load_model, predict_scores, read_export_meta

    run = tmp_path / "run"
    assert main(["train", "starter_cnn", "--data", str(files / "images"), "--epochs", "1", "--out", str(run), "-q"]) == 0
    out = tmp_path / "pred"
    assert main(["predict", str(run), "--data", str(files / "images" / "b" / "*"), "--out", str(out),
                 "--top-k", "2", "--", *IN_MEMORY]) == 0
    records, scores = _records(out)
    assert len(records) == 70 and set(_errors(out)) == {"not_an_image.jpg"}
    meta = read_export_meta(run / "model")
    ref = predict_scores(load_model(run / "model"), meta, [Path(r["path"]).read_bytes() for r in records])
    np.testing.assert_allclose(scores, ref, atol=1e-5)
    best = [meta["class_names"][i] for i in ref.argmax(axis=1)]
    assert [r["top_labels"][0] for r in records] == best and len(records[0]["top_labels"]) == 2
    assert records[0]["model_sha256"] and records[0]["model"].endswith("model")


def test_without_beam_the_error_names_the_extra(monkeypatch, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "apache_beam", None)
    assert main(["embed", "starter_text", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert 'pip install "zoo[beam]"' in capsys.readouterr().err


def test_bad_options_are_one_line_errors(files, tmp_path, capsys):
    assert main(["embed", "starter_text", "--data", str(files / "texts")]) == 2
    assert "--out DIR is required" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "a", "--data", str(files)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["embed", "starter_text", "--data", str(files), "--out", str(tmp_path / "o"), "--format", "csv"]) == 2


def test_a_glob_that_matches_nothing_is_one_error_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["embed", "starter_text", "--data", str(tmp_path / "nothing" / "*.txt"), "--out", str(out)]) == 2
    assert "no file matches" in capsys.readouterr().err and not out.exists()
