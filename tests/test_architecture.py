"""The package layout holds: dependencies point one way, private modules stay private, modules stay small.

Layers, lowest first (a layer may import the ones below it, never the ones above)::

    errors, atomic, tfk, quiet        helpers below everything
    registry                          specs, hooks, catalogue, plugin loading (no TensorFlow)
    hub                               resolving, loading and caching modules
    data                              loaders and decoding
    models                            contracts, backbone layer, builder, heads, freeze, optimizers
                                      (tf_keras and Keras 3)
    keras3                            the public Keras 3 namespace (zoo.keras3)
    training                          zoo.fit
    export, runs                      SavedModel / TFLite; run directories, checkpoints, demo
    cli                               the zoo command (nothing imports it)
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "zoo"
LAYERS = ["registry", "hub", "data", "models", "keras3", "training", "export", "runs", "cli"]
# export and runs sit side by side: a run's training exports its model (runs -> export)
ALLOWED_UP = {("runs", "export")}
# contracts and test-module builders reach zoo.testing lazily (a contract owns its test module)
SIDE = {"testing"}


def _sources() -> list[pathlib.Path]:
    return sorted(ROOT.rglob("*.py"))


def _package(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else ""


def _imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("zoo"):
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("zoo"):
                    yield node.lineno, a.name, []


def test_no_private_name_is_imported_across_sub_packages():
    bad = []
    for path in _sources():
        here = _package(path)
        for line, module, names in _imports(path):
            parts = module.split(".")
            there = parts[1] if len(parts) > 1 else ""
            if there == here or there not in LAYERS + sorted(SIDE):
                continue
            private = [p for p in parts[2:] if p.startswith("_")] + [n for n in names if n.startswith("_")]
            if private:
                bad.append(f"{path.relative_to(ROOT.parent)}:{line}: from {module} import {', '.join(names)}")
    assert not bad, "private names imported across sub-packages:\n" + "\n".join(bad)


def test_dependencies_point_one_way():
    bad = []
    for path in _sources():
        here = _package(path)
        if here not in LAYERS:
            continue
        for line, module, _ in _imports(path):
            parts = module.split(".")
            there = parts[1] if len(parts) > 1 else ""
            if there in LAYERS and LAYERS.index(there) > LAYERS.index(here) and (here, there) not in ALLOWED_UP:
                bad.append(f"{path.relative_to(ROOT.parent)}:{line}: {here} imports {module}")
    assert not bad, "imports pointing up the layers:\n" + "\n".join(bad)


def test_nothing_imports_the_cli():
    users = [f"{p.relative_to(ROOT.parent)}:{line}" for p in _sources() if _package(p) != "cli"
             for line, module, _ in _imports(p) if module.startswith("zoo.cli") and p.name != "__main__.py"]
    assert not users


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 300, f"{path.relative_to(ROOT)} has {lines} lines: split it by what it holds"


def test_only_contracts_and_the_file_type_table_compare_modality_strings():
    pattern = re.compile(r"""(==|!=|\bin)\s*\(?\s*["'](vision|text|audio)["']|["'](vision|text|audio)["']\s*(==|!=)""")
    allowed = {"models/contracts", "data/_files.py", "data/_kinds.py"}  # the contracts; the file-type table
    bad = []
    for path in _sources():
        rel = str(path.relative_to(ROOT))
        if any(rel.startswith(a) for a in allowed):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                bad.append(f"{rel}:{n}: {line.strip()}")
    assert not bad, "modality branches outside the contracts:\n" + "\n".join(bad)
