"""`tf.distribute` strategies: resolving names, MirroredStrategy over 2 logical CPUs,
and MultiWorkerMirroredStrategy with two worker processes on localhost.

The training runs happen in subprocesses (logical devices and collective ops must be
configured before TensorFlow initialises), each with a timeout so a hang fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import first_of, install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.models import STRATEGY_NAMES, resolve_strategy
from zoo.tfk import tf

TIMEOUT = 240
TESTS_DIR = str(Path(__file__).resolve().parent)


# ------------------------------------------------------------------ resolve_strategy


@pytest.fixture
def no_tpu_env(monkeypatch):
    for k in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS"):
        monkeypatch.delenv(k, raising=False)


def test_resolve_strategy_names(no_tpu_env, monkeypatch):
    default = tf.distribute.get_strategy()
    if not os.path.exists("/dev/accel0") and len(tf.config.list_logical_devices("GPU")) < 2:
        assert resolve_strategy(None) is default
        assert resolve_strategy("auto") is default
    assert resolve_strategy("default") is default
    cpu = resolve_strategy("CPU")
    assert isinstance(cpu, tf.distribute.OneDeviceStrategy)
    assert cpu.extended.worker_devices[0].endswith("CPU:0")
    mirrored = resolve_strategy("mirrored")
    assert isinstance(mirrored, tf.distribute.MirroredStrategy)
    assert mirrored.num_replicas_in_sync >= 1
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(zoo.StrategyError, match="needs TF_CONFIG"):
        resolve_strategy("multiworker")
    assert set(STRATEGY_NAMES) >= {"auto", "cpu", "mirrored", "multiworker", "tpu"}


def test_resolve_strategy_objects():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    assert resolve_strategy(strategy) is strategy
    default = tf.distribute.get_strategy()
    assert resolve_strategy(default) is default


@pytest.mark.parametrize("bad", ["gpu-cluster", "mirror", ""])
def test_unknown_strategy_name(bad, no_tpu_env):
    if bad == "":
        assert resolve_strategy(bad) is tf.distribute.get_strategy()  # "" is like None: auto
        return
    with pytest.raises(zoo.StrategyError, match=rf"unknown strategy '{bad}'; use one of auto, default, cpu"):
        resolve_strategy(bad)


@pytest.mark.parametrize("bad", [42, ["mirrored"], object()])
def test_strategy_of_wrong_type(bad):
    with pytest.raises(zoo.StrategyError, match="must be a tf.distribute.Strategy or one of"):
        resolve_strategy(bad)


def test_build_with_unknown_strategy_fails_before_loading():
    with pytest.raises(zoo.StrategyError, match="unknown strategy 'tpuv9'"):
        zoo.build(first_of("vision", starter=True).name, num_classes=3, strategy="tpuv9")


def test_build_uses_strategy_object():
    spec = install(first_of("vision", starter=True))
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    model = zoo.build(spec.name, num_classes=3, strategy=strategy)
    assert model.zoo.strategy is strategy
    assert model.distribute_strategy is strategy


# ------------------------------------------------------------------ subprocesses


def _run(scripts: list[str], tmp_path: Path, envs: list[dict]) -> list[str]:
    """Run python scripts concurrently; fail (and kill them all) past TIMEOUT seconds."""
    procs = []
    for i, (script, extra) in enumerate(zip(scripts, envs)):
        path = tmp_path / f"script_{i}.py"
        path.write_text(textwrap.dedent(script), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, os.environ.get("PYTHONPATH", "")]),
               "TF_CPP_MIN_LOG_LEVEL": "2", **extra}
        procs.append(subprocess.Popen([sys.executable, str(path)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, cwd=str(tmp_path)))
    outputs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=TIMEOUT)
            outputs.append(out)
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        tails = [(p.communicate()[0] or "")[-3000:] for p in procs]
        pytest.fail(f"distributed run did not finish in {TIMEOUT} s; output tails:\n" + "\n----\n".join(tails))
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-5000:]
    return outputs


def _result(output: str) -> dict:
    lines = [ln for ln in output.splitlines() if ln.startswith("RESULT ")]
    assert lines, output[-5000:]
    return json.loads(lines[-1][len("RESULT "):])


# both mirrored scripts start here: the CPU split into 2 logical devices before anything else touches
# TensorFlow, a MirroredStrategy over them, and the toy data
TWO_CPUS = """
import json
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np
import zoo
from helpers import toy_data

NAME = {name!r}
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
data = toy_data(NAME, "classification", n=16)
"""

MIRRORED = TWO_CPUS + """
result = {{"replicas": strategy.num_replicas_in_sync}}

model = zoo.build(NAME, task="classification", num_classes=3, strategy=strategy, freeze="full")
result["model_replicas"] = model.zoo.strategy.num_replicas_in_sync
result["distribute_replicas"] = model.distribute_strategy.num_replicas_in_sync
before = [w.copy() for w in model.get_weights()]
h = zoo.fit(model, (data.x, data.y), epochs=1, batch_size=8, verbose=0)  # 16 / 8 = 2 steps
result["loss"] = h.history["loss"]
result["weights_changed"] = any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
result["pred_shape"] = list(model.predict(data.x, verbose=0).shape)

frozen = zoo.build(NAME, task="classification", num_classes=3, strategy=strategy)  # cached features
h = zoo.fit(frozen, (data.x, data.y), epochs=2, batch_size=8, verbose=0)
result["frozen_loss"] = h.history["loss"]

try:
    zoo.build(NAME, task="classification", num_classes=3, strategy=strategy, freeze="full", layer_decay=0.8)
    result["layer_decay_error"] = None
except zoo.StrategyError as exc:
    result["layer_decay_error"] = str(exc)
print("RESULT " + json.dumps(result), flush=True)
"""


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    spec = install(first_of("vision", starter=True))
    out = _run([MIRRORED.format(name=spec.name)], tmp_path, [{}])[0]
    r = _result(out)
    assert r["replicas"] == r["model_replicas"] == r["distribute_replicas"] == 2
    assert len(r["loss"]) == 1 and all(np.isfinite(r["loss"]))
    assert r["weights_changed"]
    assert r["pred_shape"] == [16, 3]
    assert len(r["frozen_loss"]) == 2 and all(np.isfinite(r["frozen_loss"]))
    assert r["layer_decay_error"] and "layer_decay is not supported with several replicas" in r["layer_decay_error"]


WORKER = """
import json, os, sys
import numpy as np
import tensorflow as tf
import zoo
from helpers import toy_data

NAME = {name!r}
data = toy_data(NAME, "classification", n=32)  # identical on both workers
model = zoo.build(NAME, task="classification", num_classes=3, strategy="multiworker", freeze="full",
                  learning_rate=1e-3)
strategy = model.zoo.strategy
before = [w.copy() for w in model.get_weights()]
h = zoo.fit(model, (data.x, data.y), epochs=2, batch_size=8, verbose=0)
weights = model.get_weights()
np.savez(os.environ["ZOO_TEST_WEIGHTS"], *weights)
print("RESULT " + json.dumps({{
    "multiworker": isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy), "replicas": strategy.num_replicas_in_sync,
    "worker": json.loads(os.environ["TF_CONFIG"])["task"]["index"], "loss": h.history["loss"],
    "n_weights": len(weights), "changed": any(not np.array_equal(a, b) for a, b in zip(before, weights)),
}}), flush=True)
"""


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.mark.slow
def test_multiworker_two_processes_end_with_identical_weights(tmp_path):
    spec = install(first_of("vision", starter=True))  # built once here, not raced by the workers
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    envs = [{
        "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
        "ZOO_TEST_WEIGHTS": str(tmp_path / f"weights_{i}.npz"),
    } for i in range(2)]
    script = WORKER.format(name=spec.name)
    outs = _run([script, script], tmp_path, envs)
    results = [_result(o) for o in outs]
    assert sorted(r["worker"] for r in results) == [0, 1]
    for r in results:
        assert r["multiworker"] and r["replicas"] == 2
        assert len(r["loss"]) == 2 and all(np.isfinite(r["loss"]))
        assert r["changed"]
    a, b = (np.load(tmp_path / f"weights_{i}.npz") for i in range(2))
    assert len(a.files) == len(b.files) == results[0]["n_weights"] > 0
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


MIRRORED_KERAS3 = TWO_CPUS + """model = zoo.build(NAME, task="classification", num_classes=3, strategy=strategy, freeze="full", keras=3)
layer = next(l for l in model.layers if isinstance(l, zoo.keras3.Backbone))
before = [np.array(v.numpy(), copy=True) for v in layer.trainable_weights]
h = model.fit(data.x, data.y, epochs=1, batch_size=8, verbose=0)
print("RESULT " + json.dumps({{
    "replicas": model.distribute_strategy.num_replicas_in_sync, "loss": h.history["loss"],
    "mirrored": all(isinstance(v.value, tf.distribute.DistributedValues) for v in layer.trainable_weights),
    "changed": sum(not np.array_equal(a, v.numpy()) for a, v in zip(before, layer.trainable_weights)),
    "trainable": len(layer.trainable_weights), "pred_shape": list(model.predict(data.x, verbose=0).shape),
}}), flush=True)
"""


@pytest.mark.slow
def test_keras3_model_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    spec = install(first_of("vision", starter=True))
    r = _result(_run([MIRRORED_KERAS3.format(name=spec.name)], tmp_path, [{}])[0])
    assert r["replicas"] == 2 and r["mirrored"]
    assert len(r["loss"]) == 1 and all(np.isfinite(r["loss"]))
    assert r["changed"] == r["trainable"] > 0
    assert r["pred_shape"] == [16, 3]
