"""The docstring examples of zoo's TensorFlow-free modules run (and those modules stay TF-free).

Examples that need TensorFlow Hub modules are written as prose (no ``>>>``), so every
``>>>`` example below is executed; ``zoo.contracts`` examples import TensorFlow inside.
"""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

TF_FREE = ["zoo.spec", "zoo.catalogue", "zoo.registry", "zoo.freeze", "zoo.errors", "zoo.hookspecs", "zoo.atomic",
           "zoo.savedmodel", "zoo.paths", "zoo.taskspec", "zoo.tasks", "zoo.testing.facts", "zoo.cli",
           "zoo.contracts", "zoo.contracts._base", "zoo.hubcache", "zoo.locks", "zoo.archives", "zoo.integrity"]
WITH_TF = ["zoo.contracts.image", "zoo.contracts.bert", "zoo.contracts.text", "zoo.contracts.framed_audio",
           "zoo.contracts.batched_audio", "zoo.atomic", "zoo.datafiles", "zoo.optimizers", "zoo.tflite"]


@pytest.mark.parametrize("name", sorted(set(TF_FREE + WITH_TF)))
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    assert result.attempted > 0, f"{name} has no runnable example"


def test_tf_free_modules_do_not_import_tensorflow():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in TF_FREE)
            + "print(sorted(m for m in ('tensorflow', 'tf_keras', 'tensorflow_hub') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
