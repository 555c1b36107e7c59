"""Reproducible runs: ``run.json`` records what produced a run; ``--deterministic`` gives bit-identical
weights from the same seed and data; ``zoo info RUN`` prints the record and ``zoo train --like RUN`` repeats it.

The two training runs happen in fresh processes: TensorFlow's op determinism is process-wide.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo.data as zd

pytestmark = pytest.mark.slow  # trains real (tiny) TF graphs in subprocesses


def _zoo(*argv, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    code = "import sys; from zoo.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _weights(run: Path) -> dict:
    import tensorflow as tf

    ckpt = str(run / "model" / "variables" / "variables")
    reader = tf.train.load_checkpoint(ckpt)
    return {n: reader.get_tensor(n) for n, _ in tf.train.list_variables(ckpt) if "OBJECT_GRAPH" not in n}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("repro")
    data = zd.make_synthetic_folder(root / "data", "vision", n_per_class=12, seed=8)
    for name in ("a", "b"):
        _zoo("train", "starter_cnn", "--data", data, "--freeze", "full", "--epochs", "2", "--learning-rate", "0.01",
             "--seed", "7", "--deterministic", "--batch-size", "8", "--out", root / name, "-q")
    _zoo("train", "--like", root / "a", "--out", root / "c", "-q")
    return {"root": root, "data": data}


def test_same_seed_and_data_give_bit_identical_weights(runs):
    a, b = _weights(runs["root"] / "a"), _weights(runs["root"] / "b")
    assert a.keys() == b.keys() and len(a) > 4
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = _weights(runs["root"] / "c")  # --like: the same arguments, so the same weights
    assert all(np.array_equal(a[k], c[k]) for k in a)


def test_run_json_records_versions_modules_data_and_seed(runs):
    info = json.loads((runs["root"] / "a" / "run.json").read_text())
    prov = info["provenance"]
    import tensorflow as tf

    assert prov["versions"]["tensorflow"] == tf.__version__ and set(prov["versions"]) >= {
        "zoo", "tensorflow", "tf_keras", "tensorflow_hub", "python"}
    (module,) = prov["backbones"]
    assert module["name"] == "starter_cnn" and len(module["tree_sha256"]) == 64 and Path(module["resolved"]).is_dir()
    files = sorted(p for p in Path(runs["data"]).rglob("*") if p.is_file())
    assert prov["data"]["n_files"] == len(files) == 36
    assert prov["data"]["files"][0] == [files[0].relative_to(runs["data"]).as_posix(), files[0].stat().st_size]
    assert prov["seed"] == 7 and prov["deterministic"] is True and info["config"]["deterministic"] is True
    # the fingerprint changes with one byte of the data
    from zoo.runs import data_fingerprint

    before = data_fingerprint(runs["data"])["sha256"]
    assert before == prov["data"]["sha256"]
    victim = files[3]
    raw = bytearray(victim.read_bytes())
    try:
        raw[-1] ^= 1
        victim.write_bytes(bytes(raw))
        assert data_fingerprint(runs["data"])["sha256"] != before
    finally:
        raw[-1] ^= 1
        victim.write_bytes(bytes(raw))


def test_zoo_info_prints_the_record_without_tensorflow(runs):
    code = ("import sys; from zoo.cli import main; rc = main(['info', sys.argv[1]]); "
            "assert 'tensorflow' not in sys.modules, 'imported TensorFlow'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(runs["root"] / "a")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads((runs["root"] / "a" / "run.json").read_text())
    assert info["provenance"]["backbones"][0]["tree_sha256"] in proc.stdout
    assert info["provenance"]["data"]["sha256"] in proc.stdout and "deterministic" in proc.stdout


def test_like_refuses_to_overwrite_the_run_it_repeats(runs):
    proc = _zoo("train", "--like", runs["root"] / "a", "--out", runs["root"] / "a", check=False)
    assert proc.returncode == 2 and "--like" in proc.stderr
