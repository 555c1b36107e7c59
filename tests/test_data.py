"""Tests for zoo.data (folder / CSV / array loaders) and zoo.data._audio_io (WAV + resampling)."""

from __future__ import annotations

import os
import signal
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import zoo.data as zd
from zoo.data import read_wav, resample, wav_info, write_wav
from zoo.errors import ConfigurationError, DataError, InputError

RED_GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\xff,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def _png(path: Path, img: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.asarray(img, np.uint8)).numpy())
    return path


def _bmp(path: Path, rgb: tuple[int, int, int], h: int = 3, w: int = 2) -> Path:
    row = bytes(rgb[::-1]) * w
    row += b"\0" * ((4 - len(row) % 4) % 4)
    data = row * h
    hdr = b"BM" + struct.pack("<IHHI", 54 + len(data), 0, 0, 54)
    hdr += struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    path.write_bytes(hdr + data)
    return path


def _batches(ds: tf.data.Dataset) -> tuple[list[np.ndarray], np.ndarray]:
    xs, ys = [], []
    for x, y in ds:
        xs.extend(list(x.numpy()))
        ys.extend(y.numpy().tolist())
    return xs, np.asarray(ys)


def _freq(x: np.ndarray, sr: int = 16000) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=16 * len(x)))
    return float(np.fft.rfftfreq(16 * len(x), 1 / sr)[spec.argmax()])


def _sine(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(round(sr * seconds))) / sr)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", zd.DataWarning)
        yield


# ----------------------------------------------------------------------------- vision


def test_vision_folder_shapes_labels_and_conversions(tmp_path, no_warnings):
    colours = {"blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0)}
    for name, c in colours.items():
        _png(tmp_path / name / "1.png", np.broadcast_to(c, (20, 30, 3)))
        _png(tmp_path / name / "sub" / "2.PNG", np.broadcast_to(c, (50, 10, 3)))  # nested + upper-case extension
    grey = _png(tmp_path / "green" / "grey.png", np.full((8, 8, 1), 77))  # grey-scale -> RGB
    rgba = np.zeros((9, 9, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 128
    _png(tmp_path / "red" / "rgba.png", rgba)  # RGBA -> RGB
    (tmp_path / "red" / "first.gif").write_bytes(RED_GIF)
    _bmp(tmp_path / "blue" / "b.bmp", (0, 0, 255))

    ds = zd.from_folder(tmp_path, "vision", image_size=(16, 24), batch_size=4, shuffle=False)
    assert ds.class_names == ["blue", "green", "red"] and ds.num_classes == 3 and ds.modality == "vision"
    assert ds.summary.class_counts == {"blue": 3, "green": 3, "red": 4}
    assert ds.summary.n_train == 10 and ds.summary.n_val == 0 and ds.val is None and ds.summary.skipped == []
    assert ds.train.element_spec[0].dtype == tf.float32 and ds.train.element_spec[1].dtype == tf.int32
    xs, ys = _batches(ds.train)
    assert all(x.shape == (16, 24, 3) for x in xs)
    for x, y in zip(xs, ys):
        name = ds.class_names[y]
        if name == "green" and abs(x.mean() - 77) < 1:
            np.testing.assert_allclose(x, 77, atol=0.5)  # the grey image, 3 equal channels
            continue
        np.testing.assert_allclose(x.mean(axis=(0, 1)), colours[name], atol=0.5)  # 0-255, not rescaled
    assert min(x.min() for x in xs) >= 0 and max(x.max() for x in xs) == pytest.approx(255)
    assert zd.read_image(grey).shape == (8, 8, 3)


def test_corrupt_and_foreign_files_are_skipped_with_one_warning_each(tmp_path):
    root = zd.make_synthetic_folder(tmp_path, "vision", n_per_class=3, classes=("x", "y"))
    good = next((root / "x").glob("*.png")).read_bytes()
    (root / "x" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "x" / "garbage.jpg").write_bytes(b"this is not an image")
    (root / "y" / "empty.png").write_bytes(b"")
    (root / "y" / "notes.txt").write_text("not an image")
    (root / "y" / ".DS_Store").write_bytes(b"\0\1")  # hidden: listed, no warning
    (root / "README.md").write_text("loose file")
    with pytest.warns(zd.DataWarning) as rec:
        ds = zd.from_folder(root, "vision", image_size=(8, 8), batch_size=8)
    messages = [str(w.message) for w in rec if issubclass(w.category, zd.DataWarning)]
    assert len(messages) == 5
    reasons = {Path(s.path).name: s.reason for s in ds.summary.skipped}
    assert set(reasons) == {"truncated.png", "garbage.jpg", "empty.png", "notes.txt", ".DS_Store", "README.md"}
    for name in ("truncated.png", "garbage.jpg", "empty.png", "notes.txt", "README.md"):
        assert sum(name in m for m in messages) == 1
    assert "corrupt" in reasons["truncated.png"] and "empty file" == reasons["empty.png"]
    assert "unrecognised file header" in reasons["garbage.jpg"]
    assert "unsupported file type '.txt'" in reasons["notes.txt"] and "class folder" in reasons["README.md"]
    assert ds.summary.class_counts == {"x": 3, "y": 3} and ds.summary.n_skipped == 6
    xs, _ = _batches(ds.train)  # the whole epoch runs: nothing corrupt reaches tf.data
    assert len(xs) == 6


def test_read_image(tmp_path):
    gif = tmp_path / "a.gif"
    gif.write_bytes(RED_GIF)
    img = zd.read_image(gif, size=(4, 5))
    assert img.dtype == np.uint8 and img.shape == (4, 5, 3) and img[..., 0].min() == 255 and img[..., 1:].max() == 0
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(DataError, match="bad.png"):
        zd.read_image(bad)
    with pytest.raises(DataError, match="missing.png"):
        zd.read_image(tmp_path / "missing.png")


# ----------------------------------------------------------------------------- text


def test_text_folder_strings_and_bad_utf8(tmp_path):
    root = zd.make_synthetic_folder(tmp_path, "text", n_per_class=4, classes=("neg", "pos"))
    (root / "pos" / "special.txt").write_text("\ufeffCafé ünïcode ✓\n", "utf-8")
    (root / "neg" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.warns(zd.DataWarning, match="latin1.txt.*UTF-8"):
        ds = zd.from_folder(root, "text", batch_size=3, shuffle=False)
    assert ds.summary.class_counts == {"neg": 4, "pos": 5}
    assert ds.train.element_spec[0].dtype == tf.string and ds.train.element_spec[0].shape.as_list() == [None]
    xs, ys = _batches(ds.train)
    texts = [x.decode() for x in xs]
    assert "Café ünïcode ✓" in texts  # BOM and trailing newline stripped
    expected = {(root / ds.class_names[y] / f).read_text().strip()
                for y in (0, 1) for f in os.listdir(root / ds.class_names[y]) if f.startswith(ds.class_names[y])}
    assert expected <= set(texts)
    assert list(ys) == [0] * 4 + [1] * 5  # shuffle=False keeps sorted order


# ----------------------------------------------------------------------------- audio


def test_read_wav_resamples_stereo_16bit_and_8bit(tmp_path):
    stereo = np.stack([_sine(440, 44100, 1.2), _sine(440, 44100, 1.2)], axis=1)
    write_wav(tmp_path / "s.wav", stereo, 44100, sample_width=2)
    x = read_wav(tmp_path / "s.wav")
    assert x.dtype == np.float32 and x.shape == (19200,)  # 1.2 s at 16 kHz
    assert _freq(x) == pytest.approx(440, abs=1)
    assert np.abs(x[1000:-1000]).max() == pytest.approx(0.5, abs=0.01)
    write_wav(tmp_path / "m.wav", _sine(440, 8000, 0.6, amp=0.8), 8000, sample_width=1)
    info = wav_info(tmp_path / "m.wav")
    assert (info.sample_rate, info.channels, info.sample_width, info.n_frames) == (8000, 1, 1, 4800)
    y = read_wav(tmp_path / "m.wav")
    assert y.shape == (9600,) and _freq(y) == pytest.approx(440, abs=1)
    assert np.abs(y[500:-500]).max() == pytest.approx(0.8, abs=0.02)
    assert -1 <= y.min() and y.max() <= 1


def test_read_wav_float_and_24bit_and_aliasing(tmp_path):
    sig = _sine(1000, 22050, 0.5, amp=0.9).astype("<f4")
    data = sig.tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 22050, 22050 * 4, 4, 32)
    raw = b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(data)) + b"WAVE"
    raw += b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    (tmp_path / "f.wav").write_bytes(raw)
    x = read_wav(tmp_path / "f.wav")
    assert x.shape == (8000,) and _freq(x) == pytest.approx(1000, abs=1)
    assert np.abs(x[500:-500]).max() == pytest.approx(0.9, abs=0.01)
    write_wav(tmp_path / "p.wav", _sine(300, 48000, 0.25, amp=-0.7)[:, None].repeat(3, 1), 48000, sample_width=3)
    assert read_wav(tmp_path / "p.wav", sample_rate=8000).shape == (2000,)
    # a 12 kHz tone cannot exist at 16 kHz: it is filtered out, not aliased to 4 kHz
    assert np.abs(resample(_sine(12000, 44100, 0.2).astype(np.float32), 44100, 16000)[200:-200]).max() < 0.01
    (tmp_path / "bad.wav").write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    with pytest.raises(DataError, match="bad.wav"):
        read_wav(tmp_path / "bad.wav")


def test_audio_folder_padded_batches(tmp_path, no_warnings):
    (tmp_path / "hi").mkdir()
    (tmp_path / "lo").mkdir()
    write_wav(tmp_path / "hi" / "stereo.wav", np.stack([_sine(880, 44100, 1.2)] * 2, axis=1), 44100, sample_width=2)
    write_wav(tmp_path / "lo" / "short.wav", _sine(440, 8000, 0.6), 8000, sample_width=1)
    ds = zd.from_folder(tmp_path, "audio", batch_size=2, shuffle=False)
    assert ds.class_names == ["hi", "lo"]
    (x, y), = list(ds.train)
    assert x.dtype == tf.float32 and x.shape == (2, 19200) and y.numpy().tolist() == [0, 1]
    hi, lo = x.numpy()
    assert _freq(hi) == pytest.approx(880, abs=1) and _freq(lo[:9600]) == pytest.approx(440, abs=1)
    assert np.abs(lo[200:9400]).max() == pytest.approx(0.5, abs=0.02)
    assert np.all(lo[9700:] == 0)  # padded: short clip, then batch padding


def test_synthetic_audio_folder_min_seconds(tmp_path):
    root = zd.make_synthetic_folder(tmp_path, "audio", n_per_class=3, classes=("a", "b"))
    ds = zd.from_folder(root, "audio", batch_size=6, min_seconds=1.0)
    (x, y), = list(ds.train)
    assert x.shape[0] == 6 and x.shape[1] >= 16000 and sorted(y.numpy().tolist()) == [0, 0, 0, 1, 1, 1]
    assert np.abs(x.numpy()).max() <= 1.0


# ----------------------------------------------------------------------------- split


def _val_texts(root: Path, seed: int) -> set[bytes]:
    ds = zd.from_folder(root, "text", val_split=0.3, seed=seed, batch_size=64)
    xs, ys = _batches(ds.val)
    assert np.bincount(ys).tolist() == [3, 3, 3]  # stratified: 30 % of 10 from each class
    assert ds.summary.n_train == 21 and ds.summary.n_val == 9
    return set(xs)


def test_split_is_deterministic_and_stratified(tmp_path):
    a = zd.make_synthetic_folder(tmp_path / "a", "text", n_per_class=10)
    b = tmp_path / "b"  # same files, created in reverse order
    for p in sorted(a.rglob("*.txt"), reverse=True):
        (b / p.parent.name).mkdir(parents=True, exist_ok=True)
        (b / p.parent.name / p.name).write_text(p.read_text())
    first = _val_texts(a, seed=1)
    assert first == _val_texts(a, seed=1) == _val_texts(b, seed=1)
    assert first != _val_texts(a, seed=2)
    ds = zd.from_folder(a, "text", val_split=0.3, seed=1, batch_size=64)
    train, _ = _batches(ds.train)
    assert not set(train) & first and len(set(train)) == 21


# ----------------------------------------------------------------------------- folder errors


def test_folder_errors(tmp_path, no_warnings):
    with pytest.raises(DataError, match="does not exist"):
        zd.from_folder(tmp_path / "nope", "vision")
    (tmp_path / "f.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="from_csv"):
        zd.from_folder(tmp_path / "f.csv", "text")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        zd.from_folder(tmp_path / "empty", "text")
    zd.make_synthetic_folder(tmp_path / "one", "text", n_per_class=2, classes=("only",))
    with pytest.raises(DataError, match="only one class folder 'only'"):
        zd.from_folder(tmp_path / "one", "text")
    with pytest.raises(ConfigurationError, match="modality"):
        zd.from_folder(tmp_path / "one", "images")
    with pytest.raises(ConfigurationError, match="val_split"):
        zd.from_folder(tmp_path / "one", "text", val_split=1.5)
    root = zd.make_synthetic_folder(tmp_path / "wrong", "text", n_per_class=2)
    with pytest.raises(DataError, match=r"no vision files .*\['\.txt'\].*check the modality"):
        zd.from_folder(root, "vision")


def test_empty_class_is_dropped_then_error_below_two(tmp_path):
    root = zd.make_synthetic_folder(tmp_path, "text", n_per_class=2, classes=("a", "b", "c"))
    for p in (root / "c").iterdir():
        p.unlink()
    with pytest.warns(zd.DataWarning, match="'c'.*no usable files"):
        ds = zd.from_folder(root, "text")
    assert ds.class_names == ["a", "b"] and ds.summary.dropped_classes == ["c"]
    for p in (root / "b").iterdir():
        p.write_bytes(b"\xff\xfe\xfa")  # now corrupt
    with pytest.warns(zd.DataWarning), pytest.raises(DataError, match="at least 2"):
        zd.from_folder(root, "text")
    for p in (root / "a").iterdir():
        p.write_bytes(b"")
    with pytest.warns(zd.DataWarning), pytest.raises(DataError, match="none of the 4 text files"):
        zd.from_folder(root, "text")


def test_symlink_loops_do_not_hang(tmp_path):
    root = zd.make_synthetic_folder(tmp_path / "d", "text", n_per_class=2, classes=("a", "b"))
    os.symlink(root / "a", root / "a" / "loop")
    os.symlink(root, root / "b" / "up")
    os.symlink(root / "b" / "self.txt", root / "b" / "self.txt")
    os.symlink(tmp_path / "nowhere.txt", root / "a" / "dangling.txt")
    old = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("from_folder hung on a symlink loop"))
    signal.alarm(20)
    try:
        with pytest.warns(zd.DataWarning):
            ds = zd.from_folder(root, "text")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert ds.summary.class_counts == {"a": 2, "b": 2}
    reasons = {Path(s.path).name: s.reason for s in ds.summary.skipped}
    assert "already scanned" in reasons["loop"] and "already scanned" in reasons["up"]
    assert "symbolic link loop" in reasons["self.txt"] and "broken symbolic link" in reasons["dangling.txt"]


def test_unlabeled_folder_is_listed_as_class_folders_are(tmp_path):
    pool = tmp_path / "pool"
    for rel, text in [("a.txt", "one"), ("sub/b.txt", "two"), (".hidden.txt", "no"),
                      (".ipynb_checkpoints/a-checkpoint.txt", "no"), ("notes.md", "no")]:
        (pool / rel).parent.mkdir(parents=True, exist_ok=True)
        (pool / rel).write_text(text, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "c.txt").write_text("three", encoding="utf-8")
    os.symlink(outside, pool / "linked")  # followed, as in a class folder
    os.symlink(pool, pool / "sub" / "up")  # a loop: entered once
    with pytest.warns(zd.DataWarning, match="already scanned"):
        ds, n, skipped = zd.from_unlabeled(pool, "text", batch_size=8)
    assert n == 3
    assert sorted(x.decode() for x in next(iter(ds)).numpy()) == ["one", "three", "two"]
    reasons = {Path(p).name: r for p, r in skipped}
    assert reasons[".ipynb_checkpoints"] == "hidden folder" and "already scanned" in reasons["up"]


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    root = zd.make_synthetic_folder(tmp_path, "text", n_per_class=2, classes=("a", "b"))
    locked = sorted((root / "a").iterdir())[0]
    real = zd._folders._read_bytes

    def fake(path, n=-1):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, n)
    monkeypatch.setattr(zd._folders, "_read_bytes", fake)
    with pytest.warns(zd.DataWarning, match="permission denied"):
        ds = zd.from_folder(root, "text")
    assert ds.summary.class_counts == {"a": 1, "b": 2}
    assert ds.summary.skipped == [zd.SkippedFile(str(locked), ds.summary.skipped[0].reason)]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_really_chmod(tmp_path):
    root = zd.make_synthetic_folder(tmp_path, "vision", n_per_class=2, classes=("a", "b"))
    locked = sorted((root / "b").iterdir())[0]
    locked.chmod(0)
    try:
        with pytest.warns(zd.DataWarning, match="permission denied"):
            ds = zd.from_folder(root, "vision", image_size=(8, 8))
        assert ds.summary.class_counts == {"a": 2, "b": 1}
    finally:
        locked.chmod(0o644)


# ----------------------------------------------------------------------------- CSV


def test_csv_text_with_bom_quotes_and_class_names(tmp_path, no_warnings):
    p = tmp_path / "d.csv"
    p.write_bytes('\ufefftext,label\n"great, really ""good""",pos\n"line one\nline two",neg\nmeh,neg\n\n'.encode())
    ds = zd.from_csv(p, batch_size=8, val_split=None)
    assert ds.class_names == ["neg", "pos"] and ds.summary.class_counts == {"neg": 2, "pos": 1}
    pairs = {x.decode(): int(y) for x, y in zip(*_batches(ds.train))}
    assert pairs == {'great, really "good"': 1, "line one\nline two": 0, "meh": 0}
    ds2 = zd.from_csv(p, text_column="text", class_names=["pos", "neg", "neutral"])
    assert ds2.num_classes == 3 and ds2.summary.class_counts == {"pos": 1, "neg": 2, "neutral": 0}
    assert {x.decode(): int(y) for x, y in zip(*_batches(ds2.train))}["meh"] == 1
    tsv = tmp_path / "d.tsv"
    tsv.write_text("sentence\tlabel\nhello, world\t2\nbye\t10\n")
    assert zd.from_csv(tsv).class_names == ["2", "10"]  # integer names sort numerically


def test_csv_bad_and_missing_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\na,pos\nb,neg\nc,maybe\n")
    with pytest.raises(DataError, match=r"row 3 \(line 4\) has label 'maybe'.*\['neg', 'pos'\]"):
        zd.from_csv(p, class_names=["neg", "pos"])
    p.write_text("text,label\na,pos\nb,\nc,neg\n")
    with pytest.raises(DataError, match=r"row 2 \(line 3\) has no label"):
        zd.from_csv(p)
    p.write_text("text,category\na,pos\n")
    with pytest.raises(DataError, match="no column 'label'.*category"):
        zd.from_csv(p)
    with pytest.raises(DataError, match="does not exist"):
        zd.from_csv(tmp_path / "missing.csv")


def test_csv_image_paths(tmp_path):
    root = zd.make_synthetic_folder(tmp_path / "imgs", "vision", n_per_class=2, classes=("a", "b"))
    rows = [f"imgs/{p.parent.name}/{p.name},{p.parent.name}" for p in sorted(root.rglob("*.*"))]
    rows.append("imgs/a/missing.png,a")
    (tmp_path / "d.csv").write_text("image,label\n" + "\n".join(rows) + "\n")
    with pytest.warns(zd.DataWarning, match=r"missing.png.*row 5"):
        ds = zd.from_csv(tmp_path / "d.csv", image_size=(12, 12), batch_size=10)
    assert ds.modality == "vision" and ds.class_names == ["a", "b"] and ds.summary.n_skipped == 1
    assert ds.summary.skipped[0].reason == "file not found [row 5 (line 6) of 'd.csv']"
    (x, y), = list(ds.train)
    assert x.shape == (4, 12, 12, 3) and x.dtype == tf.float32 and sorted(y.numpy().tolist()) == [0, 0, 1, 1]
    sub = tmp_path / "csvs"
    sub.mkdir()
    (sub / "rel.csv").write_text("path,label\n" + "\n".join(rows[:4]) + "\n")
    ds2 = zd.from_csv(sub / "rel.csv", base_dir=tmp_path, image_size=(12, 12))  # modality from extensions
    assert ds2.modality == "vision" and ds2.summary.n_train == 4


# ----------------------------------------------------------------------------- arrays and as_dataset


def test_from_arrays_each_modality(tmp_path):
    ds = zd.from_arrays(["good", "bad", "great", "awful", "fine", "poor"], ["pos", "neg"] * 3,
                        batch_size=4, val_split=0.34, seed=0)
    assert ds.class_names == ["neg", "pos"] and ds.modality == "text"
    assert ds.summary.n_train == 4 and ds.summary.n_val == 2
    x, y = next(iter(ds.val))
    assert x.dtype == tf.string and sorted(y.numpy().tolist()) == [0, 1]
    grey = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    ds = zd.from_arrays(grey, np.array([0, 2, 1]), batch_size=3, class_names=["x", "y", "z"])
    assert ds.num_classes == 3 and ds.summary.class_counts == {"x": 1, "y": 1, "z": 1}
    (x, y), = list(ds.train)
    assert x.shape == (3, 4, 5, 3) and x.dtype == tf.float32
    for img, label in zip(x.numpy(), y.numpy()):
        np.testing.assert_array_equal(img[..., 1], grey[[0, 2, 1].index(label)])
    with pytest.warns(zd.DataWarning, match="multiply by 255"):
        zd.from_arrays(np.full((2, 4, 4, 3), 0.5, np.float32), [0, 1])
    clips = [np.zeros(100, np.float32), np.full(20000, 0.25, np.float32)]
    (x, y), = list(zd.from_arrays(clips, [1, 0], batch_size=2).train)
    assert x.shape == (2, 20000) and set(np.round(x.numpy().sum(axis=1))) == {0.0, 5000.0}
    with pytest.raises(InputError, match="2 inputs but labels"):
        zd.from_arrays(["a", "b"], [0, 1, 1])
    with pytest.raises(InputError, match="'c'.*not in class_names"):
        zd.from_arrays(["a", "b"], ["a", "c"], class_names=["a", "b"])
    with pytest.raises(InputError, match="in \\[-1, 1\\]"):
        zd.from_arrays(np.full((2, 100), 3.0), [0, 1])


def test_as_dataset_each_input_kind():
    tfds = tf.data.Dataset.from_tensor_slices((np.zeros((2, 3)), [0, 1])).batch(2)
    assert zd.as_dataset(tfds) is tfds
    zds = zd.from_arrays(["a", "b"], [0, 1])
    assert zd.as_dataset(zds) is zds.train
    batches = list(zd.as_dataset((np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5)), batch_size=2))
    assert [tuple(x.shape) for x, _ in batches] == [(2, 2), (2, 2), (1, 2)]
    assert np.concatenate([y.numpy() for _, y in batches]).tolist() == [0, 1, 2, 3, 4]
    shuffled = zd.as_dataset((np.arange(20.0), np.arange(20)), batch_size=20, shuffle=True, seed=3)
    (x, y), = list(shuffled)
    assert x.numpy().tolist() == y.numpy().astype(float).tolist() and sorted(y.numpy()) == list(range(20))
    (x, y), = list(zd.as_dataset((["hi", "there"], np.array([[1.0, 0.0], [0.0, 1.0]]))))
    assert x.dtype == tf.string and y.dtype == tf.float32 and y.shape == (2, 2)
    (x,) = list(zd.as_dataset([np.ones(5), np.ones(9)], batch_size=2))  # inputs only, ragged -> padded
    assert x.shape == (2, 15600)
    (x, _), = list(zd.as_dataset(({"img": np.zeros((2, 4, 4, 3)), "txt": ["a", "b"]}, [0, 1])))
    assert x["img"].shape == (2, 4, 4, 3) and x["txt"].dtype == tf.string
    with pytest.raises(InputError, match="from_arrays"):
        zd.as_dataset((["a"], ["pos"]))
    with pytest.raises(InputError, match="from_folder"):
        zd.as_dataset("data/")
