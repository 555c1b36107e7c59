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
