"""Core registry, BackboneSpec validation, plugins and user registry files (no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import pytest

import zoo
from zoo.registry import builtin_entries

REQUIRED_NAMES = [
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
    "efficientnetv2_b0", "inception_v3", "bert_small", "bert_base", "use", "use_multilingual", "yamnet",
]


def test_catalogue_has_required_backbones():
    names = [s.name for s in zoo.list_backbones()]
    assert names == sorted(names)
    for n in REQUIRED_NAMES:
        assert n in names


@pytest.mark.parametrize("spec", zoo.list_backbones(), ids=lambda s: s.name)
def test_every_spec_is_consistent(spec):
    assert spec.plugin in ("vision", "text", "audio", "example")
    assert spec.output_dim > 0 and spec.license and spec.description
    if spec.modality == "vision":
        assert spec.input_shape[2] == 3
    if spec.modality == "audio":
        assert spec.sample_rate == (32000 if spec.family == "bird-vocalization" else 16000)  # the model pages
    if spec.preprocessor:
        assert spec.text_ops and spec.output_key in ("pooled_output", "default")  # LaBSE, USE-CMLM: default
    if spec.block_pattern:
        assert spec.blocks and spec.blocks >= 2


def test_documented_contracts():
    assert zoo.get("inception_v3").input_shape == (299, 299, 3) and zoo.get("inception_v3").output_dim == 2048
    assert zoo.get("mobilenet_v3_small").output_dim == 1024
    assert zoo.get("bert_small").handle.endswith("small_bert/bert_en_uncased_L-4_H-512_A-8/2")
    assert zoo.get("bert_small").preprocessor.endswith("bert_en_uncased_preprocess/3")
    assert zoo.get("use").handle == "https://tfhub.dev/google/universal-sentence-encoder/4"
    assert zoo.get("yamnet").fine_tunable is False and zoo.get("yamnet").output_dim == 1024


def test_filters():
    assert {s.modality for s in zoo.list_backbones(modality="text")} == {"text"}
    assert [s.name for s in zoo.list_backbones(pattern="efficientnet_b*")] == [
        "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"]
    assert all("multilingual" in s.tags for s in zoo.list_backbones(tag="multilingual"))
    assert zoo.list_backbones(pattern="nothing*") == []
    with pytest.raises(zoo.ConfigurationError, match="modality 'video'"):
        zoo.list_backbones(modality="video")


def test_unknown_name_suggests_closest():
    with pytest.raises(zoo.UnknownBackboneError) as ei:
        zoo.get("mobilenetv2")
    assert isinstance(ei.value, KeyError) and isinstance(ei.value, zoo.ZooError)
    assert "'mobilenetv2'" in str(ei.value) and "mobilenet_v2" in str(ei.value)


@pytest.mark.parametrize("field,value,match", [
    ("modality", "video", "modality"),
    ("output_dim", 0, "output_dim"),
    ("output_dim", -3, "output_dim"),
    ("input_shape", None, "input_shape"),
    ("input_shape", (224, 224, 1), "input_shape"),
    ("handle", "ftp://x/y", "unsupported scheme"),
    ("handle", "http://x/y", "ZOO_ALLOW_HTTP"),
    ("sha256", "abc", "sha256"),
    ("block_pattern", "layer_\\d+", "one group"),
    ("name", "Bad Name", "name"),
])
def test_spec_validation_names_field(field, value, match):
    kwargs = dict(name="ok", modality="vision", handle="/m", output_dim=8, input_shape=(8, 8, 3))
    kwargs[field] = value
    with pytest.raises(zoo.InvalidSpecError, match=match):
        zoo.BackboneSpec(**kwargs)


def test_http_allowed_with_env(monkeypatch):
    monkeypatch.setenv("ZOO_ALLOW_HTTP", "1")
    assert zoo.BackboneSpec(name="h", modality="text", handle="http://mirror/m", output_dim=3).handle.startswith("http://")


def test_listing_does_not_import_tensorflow():
    code = "import zoo, sys; zoo.list_backbones(); zoo.get('bert_small'); zoo.list_plugins(); assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def _write_plugin(tmp_path, name, body, dist=None):
    dist = dist or f"{name}_dist"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    info = tmp_path / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[zoo.plugins]\n{name} = {name}\n")


GOOD = """
    import zoo
    @zoo.hookimpl
    def register_backbones(register):
        register(zoo.BackboneSpec(name="thirdparty_enc", modality="text", handle="/models/enc", output_dim=32))
"""


def test_third_party_plugin_and_broken_ones_are_isolated(tmp_path, monkeypatch, fresh_registry):
    _write_plugin(tmp_path, "tp_good", GOOD)
    _write_plugin(tmp_path, "tp_import_error", "raise RuntimeError('boom at import')\n")
    _write_plugin(tmp_path, "tp_hook_error", """
        import zoo
        @zoo.hookimpl
        def register_backbones(register):
            register(zoo.BackboneSpec(name="half_registered", modality="text", handle="/m", output_dim=3))
            raise ValueError("boom in hook")
    """)
    _write_plugin(tmp_path, "tp_invalid", """
        import zoo
        @zoo.hookimpl
        def register_backbones(register):
            register(zoo.BackboneSpec(name="bad_dim", modality="text", handle="/m", output_dim=0))
    """)
    _write_plugin(tmp_path, "tp_clash", """
        import zoo
        @zoo.hookimpl
        def register_backbones(register):
            register(zoo.BackboneSpec(name="mobilenet_v2", modality="text", handle="/evil", output_dim=3))
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fresh_registry()
    messages = [str(w.message) for w in caught]
    by_name = {p.name: p for p in zoo.list_plugins()}
    assert by_name["tp_good"].status == "ok" and by_name["tp_good"].version == "1.2.3"
    assert zoo.get("thirdparty_enc").plugin == "tp_good"
    for bad, text in [("tp_import_error", "boom at import"), ("tp_hook_error", "boom in hook"),
                      ("tp_invalid", "output_dim"), ("tp_clash", "mobilenet_v2")]:
        assert by_name[bad].status == "failed" and text in by_name[bad].error
        assert sum(bad in m for m in messages) == 1  # reported once
    assert "half_registered" not in [s.name for s in zoo.list_backbones()]
    assert zoo.get("mobilenet_v2").handle.startswith("https://tfhub.dev/")  # not silently replaced
    assert "'vision'" in by_name["tp_clash"].error and "'tp_clash'" in by_name["tp_clash"].error
    assert len(zoo.list_backbones()) > 20


def test_allow_list_and_disable_autoload(monkeypatch, fresh_registry):
    monkeypatch.setenv("ZOO_PLUGINS", "audio")
    fresh_registry()
    assert {s.plugin for s in zoo.list_backbones()} == {"audio"}
    monkeypatch.delenv("ZOO_PLUGINS")
    monkeypatch.setenv("ZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
    fresh_registry()
    assert zoo.list_backbones() == []
    assert "classification" in [t.name for t in zoo.list_tasks()]  # built-in tasks still there


def test_user_registry_adds_and_overrides(tmp_path, monkeypatch, fresh_registry):
    f = tmp_path / "reg.toml"
    f.write_text(textwrap.dedent("""
        [my_encoder]
        modality = "text"
        handle = "/models/my_encoder"
        output_dim = 256

        [mobilenet_v2]
        override = true
        handle = "/mirror/mobilenet_v2"
    """))
    monkeypatch.setenv("ZOO_REGISTRY", str(f))
    fresh_registry()
    assert zoo.get("my_encoder").output_dim == 256 and zoo.get("my_encoder").source == str(f)
    m = zoo.get("mobilenet_v2")
    assert m.handle == "/mirror/mobilenet_v2" and m.override and m.output_dim == 1280


@pytest.mark.parametrize("text,match", [
    ("[a\nmodality=", "not valid TOML"),
    ('[a]\nmodality = "text"\nhandle = "/a"\noutput_dim = 4\ncolour = "red"\n', "unknown field 'colour'"),
    ('[a]\nmodality = "text"\nhandle = "/a"\noutput_dim = "big"\n', "field 'output_dim'"),
    ('[a]\nmodality = "text"\nhandle = "/a"\n', "missing required field 'output_dim'"),
    ('[a]\nmodality = "text"\nhandle = "s3://b/a"\noutput_dim = 3\n', "unsupported scheme"),
    ('[mobilenet_v2]\nhandle = "/x"\n', "override = true"),
    ('[a]\nmodality = "vision"\nhandle = "/a"\noutput_dim = 3\n', "input_shape"),
])
def test_malformed_user_registry(tmp_path, monkeypatch, text, match):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    monkeypatch.setenv("ZOO_REGISTRY", str(f))
    with pytest.raises(zoo.ZooError, match=match) as ei:
        zoo.reset_registry()
    assert str(f) in str(ei.value)
    monkeypatch.undo()
    zoo.reset_registry()


def test_builtin_registry_toml_matches_registered():
    entries = builtin_entries()
    for name, e in entries.items():
        spec = zoo.get(name)
        assert spec.handle == e["handle"] and spec.output_dim == e["output_dim"]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, env=env)


def test_cli_list_info_plugins():
    r = _cli("list", "--modality", "vision", "efficientnet*")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "MODALITY", "DIM", "INPUT", "FAMILY", "PLUGIN"]
    assert {l.split()[0] for l in lines[1:]} == {s.name for s in zoo.list_backbones(modality="vision", pattern="efficientnet*")}
    # aligned: every row's second column starts at the same offset
    assert len({l.index(l.split()[1], len(l.split()[0])) for l in lines}) == 1
    r = _cli("list", "--json")
    assert {d["name"] for d in json.loads(r.stdout)} == {s.name for s in zoo.list_backbones()}
    r = _cli("info", "inception_v3", "--json")
    info = json.loads(r.stdout)
    assert info["input_shape"] == [299, 299, 3] and info["blocks"] == 11 and info["default_freeze"] == "frozen"
    r = _cli("info", "bert_small")
    assert "blocks" in r.stdout and "default_freeze  full" in r.stdout
    r = _cli("plugins")
    n_vision = sum(1 for s in zoo.list_backbones() if s.plugin == "vision")
    assert n_vision >= 30  # the vision catalogue, starter included
    assert r.returncode == 0 and "vision" in r.stdout and f"{n_vision} backbones" in r.stdout


def test_cli_errors_are_one_line():
    r = _cli("info", "bert_smal")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "bert_small" in r.stderr and "Traceback" not in r.stderr
    r = _cli("list", "--modality", "smell")
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_example_plugin_if_installed():
    pytest.importorskip("zoo_example_plugin")
    assert zoo.get("example_mobilenet_v2_050").plugin == "example"
    assert "classification_logits" in [t.name for t in zoo.list_tasks()]
