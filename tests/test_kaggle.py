"""Kaggle Models handles: downloaded from Kaggle's model API into TF Hub's cache, with the same
lock, pin and offline rules as every handle (loopback server standing in for the API)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.hub as hub
from zoo.cli import main
from zoo.errors import IntegrityError, ModuleNotCachedError

HANDLE = "https://www.kaggle.com/models/zoo-tests/tiny-text/tensorFlow2/starter/1"
API_PATH = "/api/v1/models/zoo-tests/tiny-text/tensorFlow2/starter/1/download"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> bytes:
    from zoo.models._starters import make_starter_module

    src = make_starter_module(zoo.get("starter_text"), tmp_path_factory.mktemp("kaggle") / "m")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                tar.add(p, arcname="./" + p.relative_to(src).as_posix())
    return buf.getvalue()


@pytest.fixture
def api(archive, tmp_path, monkeypatch):
    """The Kaggle API on loopback: records each request's path and Authorization header."""
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path != API_PATH:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(archive)))
            self.end_headers()
            self.wfile.write(archive)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.setenv("ZOO_ALLOW_HTTP", "1")
    monkeypatch.setenv("ZOO_KAGGLE_API", f"http://127.0.0.1:{srv.server_address[1]}/api/v1")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle-config"))
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(var, raising=False)
    yield seen, cache
    srv.shutdown()


def test_a_kaggle_handle_downloads_once_into_tf_hubs_cache_under_its_hash(api, archive):
    seen, cache = api
    path = Path(hub.resolve(HANDLE))
    assert path.parent == cache and path.name == hashlib.sha1(HANDLE.encode()).hexdigest()
    assert seen == [(API_PATH, None)]  # no credentials set: none sent
    out = hub.load(HANDLE)(np.array(["a good film"])).numpy()
    assert out.shape == (1, 64)
    hub.resolve(HANDLE)
    assert len(seen) == 1  # cached: no second request
    long_form = "https://www.kaggle.com/models/zoo-tests/tiny-text/frameworks/tensorFlow2/variations/starter/versions/1"
    assert hub.kaggle_archive_url(long_form) == hub.kaggle_archive_url(HANDLE)


def test_credentials_go_only_to_the_kaggle_api_and_a_wrong_pin_is_refused(api, archive, monkeypatch):
    seen, cache = api
    monkeypatch.setenv("KAGGLE_USERNAME", "ada")
    monkeypatch.setenv("KAGGLE_KEY", "s3cret")
    with pytest.raises(IntegrityError) as err:
        hub.resolve(HANDLE, sha256="0" * 64)
    assert "sha256" in str(err.value) and list(cache.iterdir()) == []
    assert seen[-1] == (API_PATH, "Basic " + base64.b64encode(b"ada:s3cret").decode())
    path = hub.resolve(HANDLE, sha256=hashlib.sha256(archive).hexdigest())
    assert (Path(path) / "saved_model.pb").is_file()


def test_offline_a_kaggle_handle_is_never_fetched(api, monkeypatch):
    seen, _ = api
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(ModuleNotCachedError) as err:
        hub.resolve(HANDLE)
    assert seen == [] and "zoo cache" in str(err.value)


def test_a_user_entry_with_a_kaggle_handle_builds_and_info_shows_it(api, tmp_path, monkeypatch, fresh_registry, capsys):
    toml = tmp_path / "mine.toml"
    toml.write_text(f'[kaggle_text]\nmodality = "text"\nhandle = "{HANDLE}"\noutput_dim = 64\n'
                    'description = "a sentence encoder from Kaggle Models"\n')
    monkeypatch.setenv("ZOO_REGISTRY", str(toml))
    fresh_registry()
    model = zoo.build("kaggle_text", num_classes=2)
    assert model.predict(np.array(["a good film", "bad"]), verbose=0).shape == (2, 2)
    assert main(["info", "kaggle_text"]) == 0
    out = capsys.readouterr().out
    assert f"handle          {HANDLE}" in out and f"kaggle          {HANDLE}" in out


def test_zoo_info_shows_the_tfhub_handle_and_the_kaggle_page_of_built_in_entries(capsys):
    assert main(["info", "mobilenet_v2"]) == 0
    out = capsys.readouterr().out
    assert "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5" in out
    assert "kaggle          https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224-feature-vector/2" in out
    recorded = [s for s in zoo.list_backbones() if s.kaggle]
    assert len(recorded) >= 30 and all(hub.is_kaggle_handle(s.kaggle) for s in recorded)
    assert main(["info", "vggish"]) == 0  # no public record pairs it: said so, not guessed
    assert "not recorded; the tfhub.dev page redirects to it" in capsys.readouterr().out
