"""The docstring examples of zoo's TensorFlow-free modules run (and those modules stay TF-free).

Examples that need TensorFlow Hub modules are written as prose (no ``>>>``), so every
``>>>`` example below is executed; ``zoo.models.contracts`` examples import TensorFlow inside.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pathlib
import os
import subprocess
import sys
from unittest import mock

import pytest


def _modules(prefix: str = "zoo") -> list[str]:
    """Every module of the zoo package (sub-packages and private modules included)."""
    root = pathlib.Path(importlib.import_module(prefix).__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


ALL = _modules()
WITH_EXAMPLES = [m for m in ALL if ">>>" in pathlib.Path(importlib.util.find_spec(m).origin).read_text()]
# listing, info, plugins and the CLI parser: these must never import TensorFlow
TF_FREE = [m for m in ALL if m.split(".")[1:2] in (["registry"], ["hub"], ["cli"], ["errors"], ["atomic"])
           or m.startswith("zoo.models.contracts") or m in ("zoo", "zoo.models._freeze", "zoo.models._blocks", "zoo.testing.facts")]


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    with mock.patch.dict(os.environ):  # an example may point TFHUB_CACHE_DIR at a temporary cache
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    assert result.attempted > 0, f"{name} has no runnable example"


def test_tf_free_modules_do_not_import_tensorflow():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in TF_FREE)
            + "print(sorted(m for m in ('tensorflow', 'tf_keras', 'tensorflow_hub') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
