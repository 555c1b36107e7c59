"""Shared fixtures: every test runs against temporary caches, never the user's.

TFHUB_CACHE_DIR, ZOO_HOME and the user registry point into a temp dir, and
ZOO_OFFLINE=1 makes any attempt to download fail fast.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="zoo-tests-"))
os.environ["TFHUB_CACHE_DIR"] = str(_SESSION_DIR / "hub")
os.environ["ZOO_HOME"] = str(_SESSION_DIR / "zoo_home")
os.environ["XDG_CONFIG_HOME"] = str(_SESSION_DIR / "config")
os.environ["ZOO_OFFLINE"] = "1"
os.environ.pop("ZOO_REGISTRY", None)
os.environ.pop("ZOO_PLUGINS", None)
os.environ.pop("ZOO_DISABLE_PLUGIN_AUTOLOAD", None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture
def fresh_registry(monkeypatch):
    """Rebuild the registry after the test changed ZOO_* variables; restore it afterwards."""
    import zoo

    yield zoo.reset_registry
    monkeypatch.undo()
    zoo.reset_registry()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A 2-layer BERT encoder + preprocessor exported with TF Model Garden's own exporter (random weights)."""
    import zoo
    from zoo.testing import exporters
    from zoo.testing.text_modules import VOCAB

    root = tmp_path_factory.mktemp("tiny_bert")
    vocab = exporters.write_vocab(root / "vocab.txt", [w for w in VOCAB if not w.startswith("[")])
    exporters.export_bert_encoder(root / "encoder", vocab_file=vocab, num_layers=2, hidden_size=32, num_heads=2)
    exporters.export_bert_preprocessor(root / "preprocessor", vocab_file=vocab, default_seq_length=32)
    return zoo.BackboneSpec(name="tiny_bert", modality="text", family="bert", handle=str(root / "encoder"),
                            preprocessor=str(root / "preprocessor"), output_dim=32, output_key="pooled_output")
