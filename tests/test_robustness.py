"""Robustness: plugin isolation, visible overrides, memory under repeated builds, atomic run outputs.

* Plugins (beyond tests/test_registry.py, which covers import errors, errors in a hook,
  an invalid spec and a clash with a built-in): a plugin registering something that is
  not a BackboneSpec, a hook with a wrong signature, a misspelt hook, ``sys.exit()`` in a
  hook, a spec registered twice, a nameless task, and a plugin that sets
  ``override=True`` on its own spec to replace a built-in: each is failed and reported,
  registers nothing, and leaves the rest of the registry intact.
* ``override = true`` in the user's registry TOML is shown by ``zoo info`` (NOTE line and
  ``override  True``; ``--json``).
* Memory: 3 starter backbones x 2 tasks, build + fit (1 step) + predict, 10 cycles in one
  subprocess; VmRSS after cycle 10 stays within a small bound of cycle 2.
* Atomic outputs of ``zoo train --out DIR``: a process killed (SIGKILL) in the middle of
  the export leaves no ``DIR/model`` (nothing that loads as a broken model), its complete
  checkpoint resumes; an interruption in the middle of a checkpoint leaves the earlier
  checkpoints complete and no half checkpoint.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.cli
import zoo.registry

HEAVY = importlib.util.find_spec("zoo.cli._run_commands") is not None and importlib.util.find_spec("zoo.runs._rundir") is not None
needs_runs = pytest.mark.skipif(not HEAVY, reason="zoo.cli._run_commands / zoo.runs._rundir (zoo train --out) are not there yet")


# ----------------------------------------------------------------------------- plugins


def _plugin(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, zoo.hookimpl(fn))
    return module


def _spec(name: str, **kw) -> zoo.BackboneSpec:
    return zoo.BackboneSpec(name=name, modality="text", handle="/models/" + name, output_dim=8, **kw)


def _not_a_spec(register):
    register(_spec("ok_first"))
    register({"name": "dict_enc", "modality": "text", "handle": "/m", "output_dim": 8})


def _wrong_signature(register, extra):  # noqa: ARG001 - the point of the test
    register(_spec("never"))


def _exits(register):
    register(_spec("exit_enc"))
    sys.exit(3)


def _twice(register):
    register(_spec("twice_enc"))
    register(_spec("twice_enc"))


def _nameless_task(register):
    register(zoo.TaskSpec(name="", head="zoo.models._heads:softmax_head"))


def _override_builtin(register):
    register(zoo.BackboneSpec(name="mobilenet_v2", modality="vision", handle="/evil", output_dim=1280,
                              input_shape=(224, 224, 3), override=True))


def _good(register):
    register(_spec("good_enc"))


BAD_PLUGINS = {
    "p_not_a_spec": (dict(register_backbones=_not_a_spec), "register() takes a zoo.BackboneSpec, got dict"),
    "p_wrong_signature": (dict(register_backbones=_wrong_signature), "'extra'"),
    "p_misspelt_hook": (dict(register_backbone=_good), "unknown hook 'register_backbone'"),
    "p_exits": (dict(register_backbones=_exits), "SystemExit: 3"),
    "p_twice": (dict(register_backbones=_twice), "registers backbone 'twice_enc' twice"),
    "p_nameless_task": (dict(register_tasks=_nameless_task), "TaskSpec with a name"),
    "p_override_builtin": (dict(register_backbones=_override_builtin), "'mobilenet_v2'"),
}


def test_bad_plugins_are_isolated(fresh_registry):
    plugins = [(name, _plugin(name, **hooks)) for name, (hooks, _) in BAD_PLUGINS.items()]
    plugins.append(("p_good", _plugin("p_good", register_backbones=_good)))
    before = {s.name: s for s in zoo.list_backbones()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fresh_registry(plugins)
    messages = [str(w.message) for w in caught if issubclass(w.category, zoo.registry.PluginWarning)]
    by_name = {p.name: p for p in zoo.list_plugins()}
    for name, (_, text) in BAD_PLUGINS.items():
        info = by_name[name]
        assert info.status == "failed" and text in info.error, (name, info.error)
        assert "\n" not in info.error and info.backbones == [] and info.tasks == []
        assert sum(f"'{name}'" in m for m in messages) == 1  # one warning each
    assert by_name["p_good"].status == "ok" and zoo.get("good_enc").plugin == "p_good"
    after = {s.name: s for s in zoo.list_backbones()}
    assert set(after) == set(before) | {"good_enc"}  # nothing half-registered (ok_first, exit_enc, twice_enc)
    assert after["mobilenet_v2"] == before["mobilenet_v2"] and not after["mobilenet_v2"].override
    assert "" not in [t.name for t in zoo.list_tasks()]


def test_cli_plugins_shows_failures_on_one_line_each(fresh_registry, capsys):
    fresh_registry([(n, _plugin(n, **BAD_PLUGINS[n][0])) for n in ("p_wrong_signature", "p_exits")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = zoo.cli.main(["plugins", "--strict"])
    out = capsys.readouterr().out
    assert code == 1
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "FAILED: cannot be registered" in rows["p_wrong_signature"] and "FAILED: SystemExit: 3" in rows["p_exits"]
    assert " ok " in rows["vision"] and "backbones" in rows["vision"]


def _hello_command(cli):
    def run(args):
        print(f"hello {args.who}")
        return 0

    cli.add("hello", "say hello", run).add_argument("who")


def _clashing_command(cli):
    cli.add("list", "a second 'list'", lambda args: 0)


def _contract(register):
    from zoo.models.contracts.text import SentenceEncoder

    class Reversed(SentenceEncoder):
        name, families = "reversed_text", ("reversed",)

    register(Reversed())


def test_plugins_add_commands_and_contracts(fresh_registry, capsys):
    fresh_registry([("p_hello", _plugin("p_hello", register_commands=_hello_command, register_contracts=_contract)),
                    ("p_clash", _plugin("p_clash", register_commands=_clashing_command))])
    with pytest.warns(zoo.registry.PluginWarning, match=r"'p_clash'.*command 'list' is registered twice"):
        assert zoo.cli.main(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"
    assert zoo.cli.main(["list", "yam*"]) == 0 and "yamnet" in capsys.readouterr().out  # the built-in stays
    from zoo.models.contracts import contract_for

    spec = zoo.BackboneSpec(name="rev", modality="text", handle="/m/rev", output_dim=8, family="reversed")
    assert contract_for(spec).name == "reversed_text"
    assert contract_for(spec.replace(family="", contract="reversed_text")).name == "reversed_text"
    with pytest.raises(zoo.ConfigurationError, match="unknown contract 'nope'.*reversed_text"):
        contract_for(spec.replace(contract="nope"))
    info = {p.name: p for p in zoo.list_plugins()}["p_hello"]
    assert info.status == "ok" and info.contracts == ["reversed_text"]


# ----------------------------------------------------------------------------- visible overrides


def test_override_is_shown_by_zoo_info(tmp_path, monkeypatch, fresh_registry, capsys):
    reg = tmp_path / "registry.toml"
    reg.write_text('[mobilenet_v2]\noverride = true\nhandle = "/mirror/mobilenet_v2"\n')
    monkeypatch.setenv("ZOO_REGISTRY", str(reg))
    fresh_registry()
    assert zoo.cli.main(["info", "mobilenet_v2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"NOTE: mobilenet_v2 is overridden by {reg}"
    fields = {line.split()[0]: line.split(None, 1)[1] if len(line.split()) > 1 else "" for line in lines[1:]}
    assert fields["override"] == "True" and fields["handle"] == "/mirror/mobilenet_v2" and fields["source"] == str(reg)
    assert zoo.cli.main(["info", "mobilenet_v2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["override"] is True and d["source"] == str(reg) and d["plugin"] == "vision"
    assert zoo.cli.main(["info", "efficientnet_b0"]) == 0  # others: no note
    out = capsys.readouterr().out
    assert not out.startswith("NOTE") and "override" in out and "False" in out


# ----------------------------------------------------------------------------- memory

MEMORY_SCRIPT = r"""
import gc, json, os, sys, time
import numpy as np
import zoo, tf_keras

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

n = 4
rng = np.random.RandomState(0)
data = {
    "starter_cnn": rng.randint(0, 256, (n, 24, 24, 3)).astype("uint8"),
    "starter_text": ["a good film", "a bad film", "", "fine"],
    "starter_audio": (rng.rand(n, 8000).astype("float32") - 0.5),
}
labels = {"classification": np.arange(n) % 2, "binary": (np.arange(n) % 2).astype("float32")}
rss, times = [], []
t0 = time.time()
for cycle in range(1, int(sys.argv[1]) + 1):
    for name, x in data.items():
        for task, y in labels.items():
            model = zoo.build(name, task=task, num_classes=2 if task == "classification" else None)
            zoo.fit(model, (x, y), epochs=1, batch_size=n, verbose=0)  # one step
            out = model.predict(x, verbose=0)
            assert out.shape[0] == n and np.isfinite(out).all()
            del model, out
    tf_keras.backend.clear_session()
    gc.collect()
    rss.append(rss_mb())
    times.append(time.time() - t0)
print(json.dumps({"rss": rss, "times": times}))
"""

CYCLES = 10
# Allowed VmRSS growth per cycle (6 builds), as the least-squares slope over cycles 3..10: the slope
# ignores the warm-up of the first cycles and the +-50 MB swings of the allocator. Measured (2 cores,
# TF 2.21): 13 MB/cycle with per-clip audio graphs, 17-21 MB/cycle with the vectorised audio path (its
# graphs are larger; over cycles 10-24 the slope falls to 13 MB/cycle), i.e. 2-3 MB per build + fit +
# predict, like plain tf_keras (a Dense model built, fitted and predicted in a loop with clear_session +
# gc grows ~1.5 MB per round). zoo holding on to models or graphs would add >= 10 MB per build
# (>= 60 MB per cycle). Keras' own ``model.fit`` on a model holding a hub.KerasLayer grows 11-23 MB per
# round, with or without zoo (zoo.fit trains the head on cached features instead).
GROWTH_MB_PER_CYCLE = 40


@pytest.fixture(scope="module", autouse=True)
def memory_probe():
    """Start the memory subprocess when the module starts: it runs beside the other tests of this module."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")  # the session's ZOO_HOME: starters built once (file-locked)
    proc = subprocess.Popen([sys.executable, "-c", MEMORY_SCRIPT, str(CYCLES)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    yield proc
    if proc.poll() is None:  # the memory test was deselected
        proc.kill()
        proc.communicate()


# ----------------------------------------------------------------------------- atomic run outputs


@pytest.fixture(scope="module")
def text_data(tmp_path_factory):
    import zoo.data as zd

    return zd.make_synthetic_folder(tmp_path_factory.mktemp("robust_data"), "text", n_per_class=4, classes=("neg", "pos"))


KILL_IN_EXPORT = r"""
import os, signal, sys
from pathlib import Path
import tensorflow as tf
import zoo.cli

real_save = tf.saved_model.save

def save_then_die(obj, export_dir, *args, **kwargs):
    real_save(obj, export_dir, *args, **kwargs)
    if not str(export_dir).startswith(os.environ["KILL_UNDER"]):  # e.g. the starter backbone being built
        return
    # half-way through the export: the SavedModel is on disk, zoo's metadata and the rename are not
    index = Path(export_dir) / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:10])
    os.kill(os.getpid(), signal.SIGKILL)

tf.saved_model.save = save_then_die
sys.exit(zoo.cli.main(sys.argv[1:]))
"""


def _cli(argv, capsys):
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = zoo.cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@needs_runs
def test_export_killed_midway_leaves_no_broken_model(text_data, tmp_path, capsys):
    out = tmp_path / "run"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KILL_UNDER=str(out))
    r = subprocess.run([sys.executable, "-c", KILL_IN_EXPORT, "train", "starter_text", "--data", str(text_data),
                        "--out", str(out), "--epochs", "1", "-q"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == -9, r.stderr[-3000:]
    assert not (out / "model").exists()  # no directory that could load as a broken model
    halves = [p for p in out.iterdir() if p.name.startswith(".model.tmp-")]
    assert all(not (p / "saved_model.pb").exists() for p in halves)  # the half export is hidden one level down
    from zoo.runs import RunDir

    run = RunDir(out)
    assert run.status() == "running"
    (ck,) = run.checkpoints()  # the epoch's checkpoint was complete before the export began
    assert ck.epoch == 1 and Path(str(ck.prefix) + ".index").is_file()
    code, _, err = _cli(["predict", str(out), "a good film"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "--resume" in err
    code, _, err = _cli(["train", "--resume", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    assert run.status() == "finished" and (out / "model" / "saved_model.pb").is_file()
    code, stdout, err = _cli(["predict", str(out), "a good film", "--json"], capsys)
    assert code == 0, err
    assert {p["label"] for p in json.loads(stdout)[0]["predictions"]} == {"neg", "pos"}


@needs_runs
def test_interrupted_checkpoint_is_absent_not_half(text_data, tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    out = tmp_path / "run"
    real_write = tf.train.Checkpoint.write

    def write_then_interrupt(self, file_prefix, *args, **kwargs):
        path = real_write(self, file_prefix, *args, **kwargs)
        if ".epoch-0002." in str(file_prefix):
            Path(str(file_prefix) + ".index").write_bytes(b"half")
            raise KeyboardInterrupt("killed while writing the checkpoint of epoch 2")
        return path

    monkeypatch.setattr(tf.train.Checkpoint, "write", write_then_interrupt)
    code, _, err = _cli(["train", "starter_text", "--data", str(text_data), "--out", str(out), "--epochs", "3", "-q"],
                        capsys)
    assert code == 130 and "interrupted" in err
    from zoo.runs import RunDir

    run = RunDir(out)
    assert [c.epoch for c in run.checkpoints()] == [1]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-0001"]  # no half epoch 2
    assert not (out / "model").exists() and run.status() == "running"
    reader = tf.train.load_checkpoint(str(run.latest_checkpoint().prefix))  # complete and readable
    assert reader.get_variable_to_shape_map()


# ----------------------------------------------------------------------------- memory (collects the probe)


def test_repeated_build_fit_predict_does_not_leak(memory_probe):
    stdout, stderr = memory_probe.communicate(timeout=600)
    assert memory_probe.returncode == 0, stderr[-3000:]
    result = json.loads(stdout.strip().splitlines()[-1])
    rss = result["rss"]
    slope = float(np.polyfit(np.arange(3, CYCLES + 1), rss[2:CYCLES], 1)[0])
    print(f"VmRSS MB per cycle: {[round(x) for x in rss]}; slope over cycles 3-{CYCLES}: {slope:.1f} MB/cycle; "
          f"{result['times'][-1]:.0f} s")
    assert slope < GROWTH_MB_PER_CYCLE, (
        f"VmRSS grows {slope:.1f} MB per cycle (cycles 3-{CYCLES}): {[round(x) for x in rss]}")


# ----------------------------------------------------------------------------- feature cache on disk


def test_features_spilled_to_disk_are_removed_however_fit_ends(tmp_path, monkeypatch):
    import tempfile

    from helpers import install, toy_data

    from zoo.tfk import keras

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("ZOO_FEATURE_CACHE_MB", "0.00001")  # every batch spills
    stale = tmp_path / "zoo-features-999999999-old"  # left by a killed process (no such pid)
    stale.mkdir()
    (stale / ".owner").write_text("999999999")
    spec = install("starter_cnn")
    data = toy_data(spec, "classification", n=16)
    model = zoo.build(spec.name, task="classification", num_classes=3)
    seen = []

    class Peek(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.extend(p.name for p in tmp_path.glob("zoo-features-*"))

    zoo.fit(model, (data.x, data.y), epochs=1, batch_size=4, verbose=0, callbacks=[Peek()])
    assert seen and all(name.startswith(f"zoo-features-{os.getpid()}-") for name in seen)  # it did spill
    assert list(tmp_path.glob("zoo-features-*")) == []  # removed at the end, and the stale one too

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        zoo.fit(model, (data.x, data.y), epochs=1, batch_size=4, verbose=0, callbacks=[Boom()])
    assert list(tmp_path.glob("zoo-features-*")) == []


def test_checkpoint_that_does_not_fit_and_one_that_is_corrupted_are_told_apart(tmp_path):
    import tensorflow as tf

    from zoo.runs import CheckpointInfo, checkpoint_objects, restore_weights

    ck = CheckpointInfo(tmp_path / "epoch-0001", 1, 0, {})
    ck.path.mkdir()
    tf.train.Checkpoint(**checkpoint_objects([tf.Variable([1.0, 2.0])])).write(str(ck.prefix))
    target = tf.Variable([0.0, 0.0])
    restore_weights([target], ck)
    assert target.numpy().tolist() == [1.0, 2.0]
    with pytest.raises(zoo.ConfigurationError, match="does not fit the model") as fit:
        restore_weights([tf.Variable([0.0, 0.0, 0.0])], ck)  # another shape: the model changed
    assert fit.value.path == str(ck.path)
    data = next(ck.path.glob("ckpt.data-*"))
    data.write_bytes(data.read_bytes()[:3])  # truncated on disk
    with pytest.raises(zoo.DataError, match="cannot be read.*truncated or corrupted") as bad:
        restore_weights([tf.Variable([0.0, 0.0])], ck)
    assert bad.value.path == str(ck.path)


@pytest.mark.parametrize("exc", [MemoryError("plugin ate the heap"), GeneratorExit(), KeyboardInterrupt()])
def test_a_plugin_cannot_swallow_the_processes_own_exceptions(fresh_registry, exc):
    def raises(register):
        raise exc

    with pytest.raises(type(exc)):
        fresh_registry([("p_raises", _plugin("p_raises", register_backbones=raises))])
