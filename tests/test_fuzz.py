"""Property-based fuzzing (hypothesis) of every parser that takes user text.

Invariant everywhere: an input gives a result or a `zoo.ZooError`; nothing else
(no ``TypeError``/``ValueError``/``RecursionError`` escaping, no traceback from the CLI).

* registry TOML: `parse_registry_text` on arbitrary text and on structured TOML built from
  strategies (known and random field names, values of every TOML type), then
  `spec_from_entry` on what parsed, and a full registry load from a fuzzed user file;
* `spec_from_entry` on random Python entries (any field, any value, with and without a base);
* freeze specs: `zoo.models._freeze.parse_freeze` and `FreezeSchedule.parse` on arbitrary and
  near-miss text, `Stage`/`FreezeSchedule` on random arguments;
* the CLI: `zoo.cli.main(argv)` with argv drawn from subcommand names, flags and junk.
  ``list``/``info``/``plugins``/``tasks`` run for real; the heavy commands (train, evaluate,
  predict, export, cache, demo) are replaced by a stub so that only their argument handling
  is fuzzed (nothing trains, downloads or writes files).

The number of examples run is counted and reported at the end of the module (a line
in the pytest output and a `FuzzReport` warning in the warnings summary).
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import io
import json
import math
import string
import warnings

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import zoo  # noqa: E402
import zoo.cli  # noqa: E402
import zoo.registry  # noqa: E402
from zoo.registry._catalogue import _TYPES, parse_registry_text, spec_from_entry  # noqa: E402
from zoo.errors import FreezeSpecError, RegistryFileError, ZooError  # noqa: E402
from zoo.models import FreezeSchedule, Stage, parse_freeze  # noqa: E402
from zoo.registry._spec import SPEC_FIELDS, BackboneSpec  # noqa: E402

EXAMPLES: collections.Counter = collections.Counter()
import zoo.cli._heavy  # noqa: E402

_REAL_HEAVY = zoo.cli._heavy._heavy


class FuzzReport(UserWarning):
    """Carries the example count into the warnings summary."""


def fuzz(n: int, **kw):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], **kw)


def count(test: str) -> None:
    EXAMPLES[test] += 1


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    line = "hypothesis " + _summary()
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line("\n" + line)


# ----------------------------------------------------------------------------- strategies

_KNOWN = sorted(_TYPES)
FIELD_NAMES = st.one_of(st.sampled_from(_KNOWN), st.sampled_from(_KNOWN), st.text(max_size=12))
ENTRY_NAMES = st.one_of(
    st.sampled_from(["use", "mobilenet_v2", "starter_text", "my_enc", "x", "a.b", "Bad Name", ""]),
    st.text(alphabet=string.ascii_lowercase + string.digits + "_.-", min_size=1, max_size=10),
    st.text(max_size=8),
)
HANDLES = st.sampled_from([
    "/models/m", "https://tfhub.dev/google/x/1", "gs://b/m", "http://x/m", "s3://b/m", "ftp://h/m",
    "file:///m", "://", "", " ", "relative/dir", "HTTPS://X",
])
MODALITY_VALUES = st.sampled_from(["vision", "text", "audio", "video", "", "Vision"])


def _toml_str(s: str) -> str:
    # JSON basic strings are TOML basic strings, except raw DEL
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(k: str) -> str:
    return k if k and all(c in string.ascii_letters + string.digits + "_-" for c in k) else _toml_str(k)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise AssertionError(type(v))


TOML_SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(-3, 5000), st.floats(), st.booleans(),
    st.text(max_size=20), HANDLES, MODALITY_VALUES, st.dates(), st.sampled_from(["layer_(\\d+)/", "(", "a{2}", "[0-9]"]),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3)),
    max_leaves=8,
)
TYPED_VALUES = {  # a well-typed value for each known field, so that many entries get past type checks
    "modality": MODALITY_VALUES, "handle": HANDLES, "preprocessor": HANDLES,
    "output_dim": st.integers(-2, 4096), "sample_rate": st.integers(-1, 96000), "blocks": st.integers(-1, 50),
    "seq_length": st.integers(-1, 512),
    "input_shape": st.lists(st.integers(-1, 300), min_size=0, max_size=4),
    "tags": st.lists(st.text(max_size=5), max_size=3),
    "sha256": st.one_of(st.text(alphabet="0123456789abcdef", min_size=63, max_size=65), st.text(max_size=5)),
    "block_pattern": st.sampled_from(["layer_(\\d+)/", "(a)(b)", "(", "x", "blocks_(\\d+)/"]),
    "builder": st.sampled_from(["pkg.mod:fn", "nocolon", ""]),
}


@st.composite
def toml_entries(draw):
    entries = {}
    for name in draw(st.lists(ENTRY_NAMES, max_size=3, unique=True)):
        fields = {}
        if draw(st.booleans()):  # a plausible base entry
            fields.update(modality=draw(MODALITY_VALUES), handle=draw(HANDLES), output_dim=draw(st.integers(-1, 2048)))
            if fields["modality"] == "vision" and draw(st.booleans()):
                fields["input_shape"] = [draw(st.integers(1, 300)), draw(st.integers(1, 300)), draw(st.sampled_from([3, 3, 1]))]
        for key in draw(st.lists(FIELD_NAMES, max_size=4, unique=True)):
            strategy = TYPED_VALUES.get(key) if draw(st.booleans()) else None
            if strategy is None:
                strategy = st.booleans() if _TYPES.get(key) == (bool,) and draw(st.booleans()) else TOML_VALUES
            fields[key] = draw(strategy)
        entries[name] = fields
    return entries


def render(entries: dict, as_tables: bool) -> str:
    if not as_tables:
        return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in entries.items())
    out = []
    for name, fields in entries.items():
        out.append(f"[{_toml_key(name)}]")
        out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in fields.items())
        out.append("")
    return "\n".join(out)


def check_parsed(parsed: dict) -> None:
    """A successful parse is fully type-checked; each entry becomes a spec or a RegistryFileError."""
    assert isinstance(parsed, dict)
    for name, entry in parsed.items():
        for key, value in entry.items():
            assert key in _TYPES and isinstance(value, _TYPES[key]) and (not isinstance(value, bool) or bool in _TYPES[key])
        try:
            spec = spec_from_entry(name, entry, source="fuzz.toml")
        except RegistryFileError as exc:
            assert "fuzz.toml" in str(exc)
        else:
            assert isinstance(spec, BackboneSpec) and spec.name == name


# ----------------------------------------------------------------------------- registry TOML


def parse_and_check(text):
    """Parsing gives checked entries or a RegistryFileError naming the file; nothing else."""
    try:
        parsed = parse_registry_text(text, "fuzz.toml")
    except RegistryFileError as exc:
        assert "fuzz.toml" in str(exc)
        return
    check_parsed(parsed)


@fuzz(300)
@given(st.text(max_size=300))
def test_registry_toml_arbitrary_text(text):
    count("toml_text")
    parse_and_check(text)


TOML_TOKENS = st.sampled_from([
    "[", "]", "[[", "]]", "=", '"', "'", '"""', "\n", " ", ".", ",", "{", "}", "#", "\\", "a", "use", "modality",
    "handle", "output_dim", "input_shape", "override", "true", "1", "-1", "1e3", "inf", "nan", '"text"', '"/m"',
    "1979-05-27", "0x1f", "\x00", "\ufeff", "é",
])


@fuzz(300)
@given(st.lists(TOML_TOKENS, max_size=40).map("".join))
def test_registry_toml_token_soup(text):
    count("toml_tokens")
    try:
        parsed = parse_registry_text(text, "fuzz.toml")
    except RegistryFileError:
        return
    check_parsed(parsed)


@fuzz(300)
@given(toml_entries(), st.booleans())
def test_registry_toml_structured(entries, as_tables):
    count("toml_structured")
    parse_and_check(render(entries, as_tables))


def test_registry_toml_deep_nesting():
    count("not_hypothesis")
    for text in ("a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000 + "1" + "}" * 3000):
        with pytest.raises(RegistryFileError, match="nested too deeply"):
            parse_registry_text(text, "deep.toml")


@fuzz(100)
@given(toml_entries())
def test_user_registry_file_full_load(tmp_path_factory, entries):
    """A fuzzed user registry file either loads (plugins' names protected) or raises one ZooError."""
    count("user_registry_load")
    path = tmp_path_factory.getbasetemp() / "fuzz_registry.toml"
    path.write_text(render(entries, True), encoding="utf-8")
    saved = zoo.registry._api._registry
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_REGISTRY", str(path))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reg = zoo.registry.Registry().load()
        except ZooError as exc:
            assert str(path) in str(exc)
            return
        finally:
            zoo.registry._api._registry = saved
    builtin = {s.name for s in zoo.list_backbones()}
    for name, entry in entries.items():
        spec = reg.backbones[name]
        assert spec.source == str(path)
        if name in builtin:  # a plugin's name is only replaced with override = true, and shows it
            assert entry.get("override") is True and spec.override


# ----------------------------------------------------------------------------- spec_from_entry

ANY_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10), st.binary(max_size=5),
              HANDLES, MODALITY_VALUES, st.just(object())),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner, inner),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3), st.frozensets(st.integers(), max_size=3)),
    max_leaves=6,
)
ENTRY_KEYS = st.one_of(st.sampled_from(SPEC_FIELDS), st.sampled_from(_KNOWN), st.text(max_size=6))


@fuzz(300)
@given(
    name=st.one_of(ENTRY_NAMES, ANY_VALUE),
    entry=st.one_of(st.dictionaries(ENTRY_KEYS, st.one_of(ANY_VALUE, *TYPED_VALUES.values()), max_size=8), ANY_VALUE),
    base=st.sampled_from([None, "mobilenet_v2", "use", "yamnet"]),
)
@example(name="m", entry={"modality": "text", "handle": "/m", "output_dim": 3, "tags": "abc"}, base=None)  # was ('a','b','c')
@example(name="m", entry={"modality": "vision", "handle": "/m", "output_dim": 3, "input_shape": 5}, base=None)  # TypeError
@example(name="m\n", entry={"modality": "text", "handle": "/m", "output_dim": 3}, base=None)  # "$" matched before "\n"
def test_spec_from_entry_random(name, entry, base):
    count("spec_from_entry")
    base_spec = zoo.get(base) if base else None
    try:
        spec = spec_from_entry(name, entry, source="fuzz", base=base_spec)
    except ZooError:
        return
    assert isinstance(spec, BackboneSpec)
    assert isinstance(spec.tags, tuple) and all(isinstance(t, str) for t in spec.tags)
    assert spec.tags == () or entry.get("tags") is None or list(spec.tags) == list(entry["tags"])
    assert "\n" not in spec.name


# ----------------------------------------------------------------------------- freeze specs

FREEZE_TOKENS = st.sampled_from([
    "frozen", "full", "top", "TOP", "all", "none", "fine_tune", ":", "=", "@", ",", " ", "\t", "-", "+", "0", "1",
    "2", "12", "99", "999999", "9999999999", "1e-3", "inf", "nan", "²", "٣", "_", "top:", "Frozen", "\n",
])


@fuzz(300)
@given(st.one_of(st.text(max_size=30), st.lists(FREEZE_TOKENS, max_size=8).map("".join)),
       st.one_of(st.none(), st.integers(1, 50)))
def test_parse_freeze(text, blocks):
    count("parse_freeze")
    try:
        kind, k = parse_freeze(text, blocks=blocks, name="fuzz")
    except FreezeSpecError as exc:
        assert repr(text) in str(exc)
        return
    assert kind in ("frozen", "full", "top")
    if kind == "top":
        assert 1 <= k and (blocks is None or k <= blocks)
    else:
        assert k == 0


@fuzz(200)
@given(ANY_VALUE)
def test_parse_freeze_non_text(value):
    count("parse_freeze")
    try:
        parse_freeze(value)
    except FreezeSpecError:
        pass


@fuzz(300)
@given(st.one_of(st.text(max_size=40), st.lists(FREEZE_TOKENS, max_size=14).map("".join)))
@example("frozen:\u00b2")  # "²".isdigit() but int("²") fails: was a ValueError
@example("frozen:1@inf")  # was accepted as learning_rate=inf
def test_freeze_schedule_parse(text):
    count("schedule_parse")
    try:
        sched = FreezeSchedule.parse(text)
    except FreezeSpecError:
        return
    assert sched.stages and all(isinstance(s, Stage) and s.epochs >= 1 for s in sched.stages)
    assert all(s.learning_rate is None or 0 < s.learning_rate < math.inf for s in sched.stages)


@fuzz(200)
@given(st.one_of(ANY_VALUE, st.lists(st.one_of(
    st.builds(dict, freeze=FREEZE_TOKENS, epochs=ANY_VALUE),
    st.dictionaries(st.sampled_from(["freeze", "epochs", "learning_rate", "layer_decay", "junk"]), ANY_VALUE, max_size=4),
    ANY_VALUE), max_size=3)),
    st.tuples(ANY_VALUE, ANY_VALUE, ANY_VALUE, ANY_VALUE))
def test_schedule_and_stage_objects(stages, stage_args):
    count("schedule_objects")
    with contextlib.suppress(FreezeSpecError):
        FreezeSchedule(stages)
    with contextlib.suppress(FreezeSpecError):
        Stage(*stage_args)


# ----------------------------------------------------------------------------- CLI

LIGHT = ["list", "info", "plugins", "tasks"]
HEAVY = ["train", "evaluate", "predict", "export", "cache", "demo"]
FLAGS = ["--modality", "--tag", "--json", "--strict", "--task", "--data", "--out", "--epochs", "--freeze",
         "--format", "--top-k", "--resume", "--to", "--batch-size", "--zzz", "-x", "--", "-", "--json=1"]
VALUES = ["vision", "text", "audio", "smell", "use", "bert_smal", "mobilenet_v2", "yam*", "[", "*", "top:99",
          "frozen", "classification", "clasification", "ls", "verify", "prefetch", "clear", "0", "-1", "1e9", "",
          " ", "a\nb", "é", "--help"]
ARG = st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES), st.text(max_size=10))


@st.composite
def argvs(draw):
    head = draw(st.one_of(st.sampled_from(LIGHT + HEAVY), st.sampled_from(LIGHT), ARG))
    return [head, *draw(st.lists(ARG, max_size=5))]


@pytest.fixture(scope="module")
def stub_heavy():
    """Heavy commands parse their arguments for real but run a stub (nothing trains or writes)."""
    ran = []

    def fake(name):
        def run(args):
            ran.append(name)
            return 0
        return run

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zoo.cli._heavy, "_heavy", fake)
        yield ran


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = warnings.formatwarning
        try:
            code = zoo.cli.main(argv)
        except SystemExit as exc:  # --help / argparse's own exit: a result, not a crash
            code = exc.code if isinstance(exc.code, int) else 0
            assert code == 0, f"{argv!r}: SystemExit({exc.code!r})"
        finally:
            warnings.formatwarning = saved
    return code, out.getvalue(), err.getvalue()


@fuzz(300)
@given(argvs())
def test_cli_argv(stub_heavy, argv):
    count("cli_argv")
    code, out, err = run_cli(argv)
    assert isinstance(code, int) and code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("zoo: error: "), (argv, err)


def test_cli_heavy_commands_missing_required_args(stub_heavy):
    """Deterministic argparse-level errors of the heavy commands: refused before any command runs."""
    count("not_hypothesis")
    stub_heavy.clear()
    for argv in (["evaluate"], ["evaluate", "runs/x"], ["predict"], ["predict", "runs/x"], ["export"],
                 ["export", "runs/x", "--format", "onnx"], ["cache"], ["cache", "nope"], ["cache", "pack", "use"],
                 ["cache", "prefetch"], ["train", "starter_cnn", "--epochs", "many"], ["train", "--val-split", "2"],
                 ["predict", "runs/x", "a", "--top-k", "0"], ["demo", "--bogus"]):
        code, out, err = run_cli(argv)
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("zoo: error: "), (argv, err)
    assert stub_heavy == []  # none of those reached a command


def test_cli_train_missing_name_or_data_really_run(tmp_path, monkeypatch):
    """``train`` without NAME or --data is refused by the command itself, before TensorFlow or any file."""
    count("not_hypothesis")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(zoo.cli._heavy, "_heavy", _REAL_HEAVY)  # the real commands, not the fuzzing stub
    for argv, part in ((["train"], "give a backbone NAME"), (["train", "starter_cnn"], "--data is required"),
                       (["train", "starter_cnn", "--data", "nowhere"], "nowhere' does not exist")):
        code, out, err = run_cli(argv)
        assert code == 2 and len(err.splitlines()) == 1 and part in err, (argv, err)
    assert list(tmp_path.iterdir()) == []  # nothing written
    code, out, err = run_cli(["cache", "ls"])  # the one heavy command that only reads
    assert code == 0 and "Traceback" not in err


def test_zz_report_example_count():
    """Last test of the module: make the total visible in the warnings summary."""
    assert sum(EXAMPLES.values()) > 0
    warnings.warn(FuzzReport(f"test_fuzz.py: hypothesis {_summary()}"))


def _summary() -> str:
    total = sum(v for k, v in EXAMPLES.items() if k != "not_hypothesis")
    parts = ", ".join(f"{k} {v}" for k, v in sorted(EXAMPLES.items()) if k != "not_hypothesis")
    return f"examples run: {total} ({parts})"
