"""Shared helpers for the model tests: offline test modules and learnable toy problems.

* `install` / the ``hub_modules`` fixture put a backbone's TF-Hub-format test module
  (`zoo.testing.install_in_hub_cache`) into the session ``TFHUB_CACHE_DIR`` set by
  conftest, once per backbone name per session (re-installed if something removed it).
  Starter backbones (``spec.builder``) are built locally instead.
* `toy_data` makes a small LEARNABLE problem in the raw input format of the
  backbone's modality, with labels in the task's label format.
* `family_representatives` picks one backbone per ``spec.family`` from the registry,
  `applicable_tasks` the tasks a backbone can be built for.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zoo

__all__ = [
    "install", "hub_modules", "toy_data", "ToyData", "family_representatives", "applicable_tasks",
    "matrix", "heavy_matrix", "as_params", "first_of", "seeded", "build_kwargs", "TASK_OPTIONS", "backbone_variables", "snapshot", "changed",
]

# ------------------------------------------------------------------ test modules

_INSTALLED: dict[str, Path] = {}
_LOCK = threading.Lock()

# task options that make every built-in task trainable on a FROZEN backbone: the
# embedding head has no weights of its own unless it projects.
TASK_OPTIONS: dict[str, dict] = {"embedding": {"projection_dim": 16}}




@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same Python / NumPy / TensorFlow seeds (dropout, init)."""
    from zoo.tfk import keras

    keras.utils.set_random_seed(1234)
    yield


def _cache_dir() -> str:
    return os.environ["TFHUB_CACHE_DIR"]


def install(spec: Any) -> zoo.BackboneSpec:
    """Make ``spec`` (or a registered name) loadable offline; returns its spec.

    Remote handles get the test module through `zoo.testing.install_in_hub_cache`
    (session cache dir, once per name); starter backbones build themselves.
    """
    spec = spec if isinstance(spec, zoo.BackboneSpec) else zoo.get(spec)
    if spec.builder is not None:
        from zoo.models import ensure_local_module

        ensure_local_module(spec)
        return spec
    from zoo.testing import install_in_hub_cache, module_cache_dir

    with _LOCK:
        path = _INSTALLED.get(spec.name)
        handles = [spec.handle] + ([spec.preprocessor] if spec.preprocessor else [])
        ok = path is not None and all(
            (module_cache_dir(h, _cache_dir()) / "saved_model.pb").exists() for h in handles
        )
        if not ok:
            _INSTALLED[spec.name] = install_in_hub_cache(spec, _cache_dir())
    return spec


@pytest.fixture(scope="session")
def hub_modules():
    """Session fixture: ``hub_modules(name_or_spec) -> spec`` with its test module installed."""
    return install


# ------------------------------------------------------------------ registry helpers


def applicable_tasks(spec: zoo.BackboneSpec) -> list:
    """Registered tasks that accept ``spec``'s modality (token tasks: only where the contract gives word vectors)."""
    from zoo.models.contracts import contract_for

    words = type(contract_for(spec)).word_features is not zoo.Contract.word_features
    return [t for t in zoo.list_tasks() if (not t.modalities or spec.modality in t.modalities)
            and (words or t.label_kind not in ("token", "span")) and t.name != "contrastive"]  # two backbones


def matrix(specs: list | None = None, *, exclude: list | None = None) -> list:
    """``(spec, task)`` for every backbone x applicable task (less the ``exclude`` pairs).

    Tasks that make their own features (text pairs, word tags, answer spans: ``TaskSpec.features``)
    differ per family only through the family's contract, so they run on the family
    representatives; the pooled-embedding tasks run on every backbone.
    """
    specs = zoo.list_backbones() if specs is None else specs
    skip = {(s.name, t.name) for s, t in exclude or []}
    reps = {s.name for s in family_representatives()}
    return [(s, t) for s in specs for t in applicable_tasks(s) if (s.name, t.name) not in skip
            and (not t.features or s.name in reps)]


def heavy_matrix() -> list:
    """``(spec, task)`` pairs for the expensive end-to-end test (fit, predict, save/reload).

    One representative per family. By default the pairs cover, in each modality, every
    family and every applicable task at least once (round robin: ``max(families,
    tasks)`` pairs per modality); with ``ZOO_TEST_FULL_MATRIX=1`` every representative
    gets every applicable task.
    """
    reps = family_representatives()
    if os.environ.get("ZOO_TEST_FULL_MATRIX") == "1":
        return [(s, t) for s in reps for t in applicable_tasks(s)]
    pairs = []
    for modality in sorted({s.modality for s in reps}):
        fams = [s for s in reps if s.modality == modality]
        tasks = sorted({t.name: t for s in fams for t in applicable_tasks(s)}.values(), key=lambda t: t.name)
        for i in range(max(len(fams), len(tasks))):
            fam, task = fams[i % len(fams)], tasks[i % len(tasks)]
            if task not in applicable_tasks(fam):  # e.g. token tasks: the next family that takes it
                fam = next(f for f in fams[i % len(fams):] + fams if task in applicable_tasks(f))
            pairs.append((fam, task))
    return pairs


def as_params(pairs: list) -> list:
    """``pytest.param(spec, task)`` with readable ids."""
    return [pytest.param(s, t, id=f"{s.name}-{t.name}") for s, t in pairs]


def family_representatives() -> list:
    """One backbone per ``spec.family`` (a backbone without family is its own), so a new
    family is covered automatically. The cheapest member represents it: built-in
    plugins before third-party ones, then fewest blocks, narrowest output, name."""
    builtin = {p.name for p in zoo.list_plugins() if p.builtin}
    reps: dict[str, zoo.BackboneSpec] = {}
    key = lambda s: (s.plugin not in builtin, s.blocks or 0, s.output_dim, s.name)  # noqa: E731
    for s in sorted(zoo.list_backbones(), key=key):
        reps.setdefault(s.family or s.name, s)
    return sorted(reps.values(), key=lambda s: s.name)


def first_of(modality: str, *, with_bn: bool = False, bert: bool = False, starter: bool | None = None) -> zoo.BackboneSpec:
    """The cheapest registered backbone of ``modality`` matching the flags (fewest blocks, then name).

    ``with_bn``: a fine-tunable test module with blocks (the vision test modules have batch norm);
    ``bert``: one with a preprocessing model and numbered layers; ``starter``: True/False to require/forbid a starter.
    """
    def key(s: zoo.BackboneSpec) -> tuple:
        return (s.blocks or 0, s.output_dim, s.name)

    for s in sorted(zoo.list_backbones(modality=modality), key=key):
        if starter is not None and (s.builder is not None) != starter:
            continue
        if bert and not (s.preprocessor and s.block_pattern):  # BERT-style with numbered layers
            continue
        if with_bn and not (s.block_pattern and s.builder is None and s.fine_tunable):
            continue
        return s
    raise LookupError(f"no {modality} backbone with with_bn={with_bn} bert={bert} starter={starter}")


# ------------------------------------------------------------------ toy problems


@dataclass
class ToyData:
    """Raw inputs ``x``, labels ``y`` and the ``num_classes`` to build with."""

    x: Any
    y: np.ndarray
    num_classes: int | None
    classes: np.ndarray = field(repr=False, default=None)

    def __len__(self) -> int:
        return len(self.y)


_COLOURS = np.array([
    [220, 30, 30], [30, 200, 40], [40, 60, 230], [235, 220, 40], [200, 40, 210], [40, 210, 220],
], dtype=np.float32)
_FREQS = [220.0, 880.0, 3000.0, 5500.0, 1500.0, 7000.0]
# class words are in the BERT test vocabulary, so every text test module sees them
_CLASS_WORDS = [
    ["wonderful", "excellent", "amazing", "brilliant"],
    ["terrible", "awful", "horrible", "boring"],
    ["dog", "cat", "bird", "animal"],
    ["rain", "sun", "cold", "weather"],
    ["music", "song", "voice", "sound"],
    ["car", "train", "city", "river"],
]
_FILLER = "the a this movie film story it was is very quite and really".split()


def _label_kind(task: Any) -> str:
    task = task if not isinstance(task, str) else zoo.get_task(task)
    return task.label_kind


def build_kwargs(task: Any, data: ToyData) -> dict:
    """``num_classes`` (when the task has classes) and the task options used by the tests."""
    task = task if not isinstance(task, str) else zoo.get_task(task)
    kw: dict = dict(TASK_OPTIONS.get(task.name, {}))
    if task.needs_num_classes:
        kw["num_classes"] = data.num_classes
    return kw


def toy_data(spec: Any, task: Any = "classification", n: int = 24, *, num_classes: int = 3, seed: int = 0,
             size: tuple[int, int] = (40, 48), samples: int = 16000) -> ToyData:
    """A learnable toy problem for ``spec``'s modality, labelled for ``task``.

    vision: uint8 0-255 images of ``size`` (not the module's), class = dominant colour
    (a different-coloured patch and noise on top); text: short sentences with class
    words (a pair task: ``{"text_a": those, "text_b": filler}``); audio: float32 ``[n, samples]`` 16 kHz tones of a class frequency and a
    random amplitude in [-1, 1]. Labels by the task's ``label_kind``: ``int`` class
    ids, ``binary`` 0/1 floats (two classes), ``multi_hot`` float ``[n, K]`` with one
    or two components mixed in, ``float`` a real target (class id + amplitude).
    """
    spec = spec if isinstance(spec, zoo.BackboneSpec) else zoo.get(spec)
    kind = _label_kind(task)
    k = 2 if kind == "binary" else num_classes
    rng = np.random.RandomState(seed)
    classes = rng.permutation(np.arange(n) % k)
    second = classes.copy()
    if kind == "multi_hot":  # about half the examples get a second component
        mix = rng.rand(n) < 0.5
        second = np.where(mix, (classes + 1 + rng.randint(0, k - 1, n)) % k, classes)
    amp = rng.uniform(0.3, 0.9, n).astype(np.float32)

    if spec.modality == "vision":
        h, w = size
        x = np.empty((n, h, w, 3), np.float32)
        for i in range(n):
            x[i] = _COLOURS[classes[i]]
            x[i, h // 2:] = _COLOURS[second[i]] if kind == "multi_hot" else x[i, h // 2:]
            other = _COLOURS[(classes[i] + 1) % len(_COLOURS)]
            if kind != "multi_hot":
                py, px = rng.randint(0, h - h // 4), rng.randint(0, w - w // 4)
                x[i, py:py + h // 4, px:px + w // 4] = other  # a small patch: colour is "dominant"
        x += rng.normal(0, 12, x.shape)
        x = np.clip(x, 0, 255).astype(np.uint8)
    elif spec.modality == "text":
        x = []
        for i in range(n):
            words = list(rng.choice(_FILLER, 3))
            words.insert(rng.randint(0, 4), rng.choice(_CLASS_WORDS[classes[i]]))
            if kind == "multi_hot" and second[i] != classes[i]:
                words.insert(rng.randint(0, 5), rng.choice(_CLASS_WORDS[second[i]]))
            x.append(" ".join(words))
    else:
        t = np.arange(samples, dtype=np.float32) / float(spec.sample_rate or 16000)
        x = np.empty((n, samples), np.float32)
        for i in range(n):
            phase = rng.uniform(0, 2 * np.pi)
            wave = np.sin(2 * np.pi * _FREQS[classes[i]] * t + phase)
            if kind == "multi_hot" and second[i] != classes[i]:
                wave = 0.5 * (wave + np.sin(2 * np.pi * _FREQS[second[i]] * t))
            x[i] = amp[i] * wave + rng.normal(0, 0.01, samples)
        x = np.clip(x, -1.0, 1.0).astype(np.float32)

    if kind == "token" and spec.modality == "text":  # one tag per word: the class word gets its class, others 0
        x = [s.split() for s in x]
        y = np.full((n, 64), -1, np.int32)
        for i, words in enumerate(x):
            y[i, :len(words)] = [classes[i] if w in _CLASS_WORDS[classes[i]] else 0 for w in words]
        return ToyData(x=[" ".join(w) for w in x], y=y, num_classes=k, classes=classes)
    if kind == "span" and spec.modality == "text":  # extractive QA: the answer is the class word of the context
        pos = [next(j for j, w in enumerate(s.split()) if w in _CLASS_WORDS[classes[i]]) for i, s in enumerate(x)]
        questions = [f"which {['good', 'bad', 'animal', 'weather', 'sound', 'place'][c % 6]} word ?" for c in classes]
        return ToyData(x={"question": questions, "context": x}, y=np.array([(p, p) for p in pos], np.int32),
                       num_classes=None, classes=classes)
    task_inputs = (zoo.get_task(task) if isinstance(task, str) else task).inputs
    if task_inputs:  # a text pair: the class words in the first text, filler in the second
        x = {task_inputs[0]: x, task_inputs[1]: [" ".join(rng.choice(_FILLER, 3)) for _ in range(n)]}
    if kind == "binary":
        y = classes.astype(np.float32)
    elif kind == "multi_hot":
        y = np.zeros((n, k), np.float32)
        y[np.arange(n), classes] = 1.0
        y[np.arange(n), second] = 1.0
    elif kind == "float":
        y = (classes + amp).astype(np.float32)
    elif kind == "distillation":  # [label or -1 (unlabeled: every third), a confident teacher's probabilities]
        teacher = np.full((n, k), 0.1 / max(k - 1, 1), np.float32)
        teacher[np.arange(n), classes] = 0.9
        label = np.where(np.arange(n) % 3 == 2, -1, classes).astype(np.float32)
        y = np.concatenate([label[:, None], teacher], axis=1)
    else:
        y = classes.astype(np.int32)
    return ToyData(x=x, y=y, num_classes=k, classes=classes)


# ------------------------------------------------------------------ weights


def backbone_variables(model: Any) -> dict[str, Any]:
    """``{name: variable}`` of every backbone variable (trainable or not) of a zoo model."""
    out: dict[str, Any] = {}
    for bb in model.zoo.backbones:
        for v in bb.module.weights:
            out[f"{bb.spec.name}:{v.name}"] = v
    return out


def snapshot(variables: dict[str, Any]) -> dict[str, np.ndarray]:
    """Copies of the variables' values."""
    return {k: np.array(v.numpy(), copy=True) for k, v in variables.items()}


def changed(before: dict[str, np.ndarray], variables: dict[str, Any]) -> set[str]:
    """Names whose value is no longer bit-identical to ``before``."""
    return {k for k, v in variables.items() if not np.array_equal(before[k], v.numpy())}
