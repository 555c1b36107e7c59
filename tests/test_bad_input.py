"""Bad input, through the Python API and the CLI: the exact error, naming the bad value and the fix.

Every case of the table `CASES` is run twice: through the Python API (the exact
`zoo.ZooError` subclass, the message names the bad value and gives the fix) and through
the CLI in-process (``zoo.cli.main``: exit status 2, exactly one ``zoo: error: ...`` line
on stderr, no traceback, the same message parts; the exception class is recorded by a spy
around the command). A few CLI cases also run as real subprocesses (`test_cli_subprocess`).
Inputs zoo *handles* instead of refusing (grey/RGBA, [0, 1] floats, empty strings,
non-UTF-8, stereo/48 kHz WAV files, NaN samples in a WAV file, mixed/corrupt/unreadable
files and symlink loops in a data folder) have their own tests below the table.

API only (the CLI has no equivalent):
    missing num_classes (``zoo train`` counts the classes of --data), num_classes=1,
    fusion dict missing one backbone's input (the CLI trains one backbone), every
    in-memory array case (stereo/NaN/Inf/int16 arrays, zero-length clips, empty image
    batches, a single string, 16-bit pixel values, [0, 1] floats).
CLI through another command: CSV labels not in the class list -> ``zoo evaluate RUN --data
    labels.csv`` (``zoo train`` takes its class list from the data, so only evaluation can
    meet a label outside it); an empty predict batch -> ``zoo predict RUN`` with no input
    (an argparse error: status 2, one line, no ZooError class to check).
CLI through files instead of arrays:
    NaN samples -> a float WAV file holding NaN (read_wav replaces them: handled, exit 0);
    stereo / 48 kHz -> WAV files (mixed down and resampled: handled, exit 0);
    zero-length clip -> a WAV file with no samples (DataError, exit 2);
    grey-scale / RGBA -> PNG files (converted, exit 0); empty string / non-UTF-8 -> argv.
Data folders: the API side of empty / one-class / mixed / corrupt / unreadable / symlink
loop folders and missing CSV labels is tested in tests/test_data.py (test_folder_errors,
test_empty_class_is_dropped_then_error_below_two, test_corrupt_and_foreign_files_are_skipped_with_one_warning_each,
test_unreadable_file_is_skipped, test_symlink_loops_do_not_hang, test_csv_bad_and_missing_labels);
here they go through ``zoo train --data``. Registry TOML: tests/test_registry.py
(test_malformed_user_registry) matches the messages; here each is checked for its exact
class and fix, through ``zoo.reset_registry()`` and ``zoo list``.

The heavy commands (train/evaluate/predict/export) come from ``zoo.cli._run_commands``; their CLI
cases are skipped while that module does not exist.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import struct
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import zoo
import zoo.cli
import zoo.registry
from zoo.errors import (
    ConfigurationError, DataError, DuplicateBackboneError, FreezeSpecError, InputError, OutputDimMismatchError,
    RegistryFileError, UnknownBackboneError, UnknownTaskError, ZooError,
)

HEAVY = importlib.util.find_spec("zoo.cli._run_commands") is not None
needs_heavy = pytest.mark.skipif(not HEAVY, reason="zoo.cli._run_commands (zoo train/evaluate/predict/export) is not there yet")

IMG = 24  # raw image side used by the tests (the starter CNN resizes to 64x64 inside)


# ----------------------------------------------------------------------------- files


def write_wav(path: Path, samples: np.ndarray, rate: int, *, float32: bool = False) -> Path:
    """A PCM16 (or IEEE float32) WAV file; ``samples`` is [T] or [T, channels] in [-1, 1]."""
    x = np.asarray(samples, np.float64)
    x = x[:, None] if x.ndim == 1 else x
    channels = x.shape[1]
    if float32:
        data, tag, width = x.astype("<f4").tobytes(), 3, 4
    else:
        data, tag, width = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes(), 1, 2
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * width, channels * width, 8 * width)
    raw = b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(data)) + b"WAVE"
    raw += b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


def write_png(path: Path, img: np.ndarray) -> Path:
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.asarray(img, np.uint8)).numpy())
    return path


def tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


class Files:
    """Every file and folder the cases use, made once per module."""

    def __init__(self, root: Path):
        import zoo.data as zd

        self.root = root
        self.text = zd.make_synthetic_folder(root / "text", "text", n_per_class=4, classes=("neg", "pos"))
        self.vision = zd.make_synthetic_folder(root / "vision", "vision", n_per_class=3, classes=("a", "b"))
        self.audio = root / "audio"
        for cls, f in (("lo", 300.0), ("hi", 3000.0)):
            for i in range(3):
                write_wav(self.audio / cls / f"{i}.wav", tone(f * (1 + i / 10), 16000, 1.0), 16000)
        (root / "empty").mkdir()
        self.empty = root / "empty"
        self.one_class = zd.make_synthetic_folder(root / "one", "text", n_per_class=3, classes=("only",))
        self.all_corrupt = root / "corrupt"
        for cls in ("a", "b"):
            (self.all_corrupt / cls).mkdir(parents=True)
            (self.all_corrupt / cls / "x.txt").write_bytes(b"")
            (self.all_corrupt / cls / "y.txt").write_bytes(b"\xff\xfe\xfa")
        self.csv_missing = root / "missing.csv"
        self.csv_missing.write_text("text,label\ngood film,pos\nbad film,\nfine,neg\n")
        self.csv_unknown = root / "unknown.csv"
        self.csv_unknown.write_text("text,label\ngood film,pos\nbad film,neg\nmeh,maybe\n")
        # handled: a text folder with foreign, corrupt, unreadable files and symlink loops
        self.messy = zd.make_synthetic_folder(root / "messy", "text", n_per_class=4, classes=("neg", "pos"))
        write_png(self.messy / "pos" / "picture.png", np.zeros((4, 4, 3)))
        (self.messy / "neg" / "broken.txt").write_bytes(b"")
        (self.messy / "neg" / "latin1.txt").write_bytes("caf\xe9 terrible".encode("latin-1"))
        os.symlink(self.messy / "neg", self.messy / "neg" / "loop")
        os.symlink(self.messy / "pos" / "self.txt", self.messy / "pos" / "self.txt")
        self.locked = self.messy / "pos" / "locked.txt"
        self.locked.write_text("locked away")
        self.locked.chmod(0)
        # single inputs for predict
        self.grey_png = write_png(root / "in" / "grey.png", np.full((IMG, IMG, 1), 90))
        rgba = np.zeros((IMG, IMG, 4), np.uint8)
        rgba[..., 0], rgba[..., 3] = 200, 128
        self.rgba_png = write_png(root / "in" / "rgba.png", rgba)
        self.corrupt_png = root / "in" / "corrupt.png"
        self.corrupt_png.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
        self.stereo_wav = write_wav(root / "in" / "stereo.wav", np.stack([tone(440, 44100, 1.0)] * 2, 1), 44100)
        self.wav48k = write_wav(root / "in" / "48k.wav", tone(440, 48000, 1.0), 48000)
        nan = tone(440, 16000, 1.0)
        nan[::100] = np.nan
        nan[5] = np.inf
        self.nan_wav = write_wav(root / "in" / "nan.wav", nan, 16000, float32=True)
        self.empty_wav = write_wav(root / "in" / "empty.wav", np.zeros((0,)), 16000)
        # registry files
        reg = root / "registry"
        reg.mkdir()
        self.reg_malformed = reg / "malformed.toml"
        self.reg_malformed.write_text('[my_enc\nmodality = "text"\n')
        self.reg_unknown_field = reg / "unknown_field.toml"
        self.reg_unknown_field.write_text('[my_enc]\nmodality = "text"\nhandle = "/m"\noutput_dim = 8\ncolour = "red"\n')
        self.reg_duplicate = reg / "duplicate.toml"
        self.reg_duplicate.write_text('[my_enc]\nmodality = "text"\nhandle = "/m"\noutput_dim = 8\n'
                                      '[my_enc]\nmodality = "text"\nhandle = "/n"\noutput_dim = 8\n')
        self.reg_clash = reg / "clash.toml"
        self.reg_clash.write_text('[mobilenet_v2]\nhandle = "/mirror/mobilenet_v2"\n')
        self.reg_scheme = reg / "scheme.toml"
        self.reg_scheme.write_text('[my_enc]\nmodality = "text"\nhandle = "s3://bucket/enc"\noutput_dim = 8\n')
        self.reg_dim = reg / "dim.toml"
        self.reg_dim.write_text("[starter_text]\noverride = true\noutput_dim = 65\n")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    f = Files(tmp_path_factory.mktemp("bad_input"))
    yield f
    f.locked.chmod(0o644)


@pytest.fixture(scope="module")
def models():
    """One classification model per starter backbone (random weights: only shapes and errors matter)."""
    import tf_keras

    built = {name: zoo.build(name, num_classes=2) for name in ("starter_cnn", "starter_text", "starter_audio")}
    yield built
    tf_keras.backend.clear_session()


# ----------------------------------------------------------------------------- the table


@dataclass
class Case:
    id: str
    error: type  # the exact ZooError subclass
    bad: list[str]  # parts of the message naming the bad value
    fix: list[str]  # parts of the message giving the fix
    api: Callable[[Any], Any] | None = None  # (env) -> call that must raise
    cli: Callable[[Any], list[str]] | None = None  # (env) -> argv that must fail with exit 2
    cli_error: type | None = None  # when the CLI raises another class than the API (e.g. files)
    cli_bad: list[str] | None = None  # when the CLI's message differs (another check or a file)
    cli_fix: list[str] | None = None
    heavy: bool = False  # cli needs zoo.cli._run_commands
    env: Callable[[Any], dict] | None = None  # (env) -> environment variables for both

    def __str__(self) -> str:
        return self.id


def _predict(model_name: str, x: Any) -> Callable[[Any], Any]:
    return lambda env: env.models[model_name].predict(x, verbose=0)


def _build(*args: Any, **kw: Any) -> Callable[[Any], Any]:
    return lambda env: zoo.build(*args, **kw)


def _train(name: str, data: str, *extra: str) -> Callable[[Any], list[str]]:
    return lambda env: ["train", name, "--data", str(getattr(env.files, data)), "--out", str(env.out), "--epochs", "1", *extra]


def _registry(attr: str) -> Callable[[Any], dict]:
    return lambda env: {"ZOO_REGISTRY": str(getattr(env.files, attr))}


_NAN_IMAGES = np.full((2, IMG, IMG, 3), 100.0, np.float32)
_NAN_IMAGES[1, 3, 3, 0] = np.nan
_INF_WAVES = np.zeros((3, 16000), np.float32)
_INF_WAVES[2, 10] = np.inf
_NAN_WAVES = np.zeros((2, 16000), np.float32)
_NAN_WAVES[0, :5] = np.nan

CASES = [
    # ---- names, tasks, build arguments
    Case("unknown_backbone", UnknownBackboneError, ["'mobilenet_v9'"], ["did you mean", "'mobilenet_v2'"],
         api=_build("mobilenet_v9", num_classes=3), cli=lambda env: ["info", "mobilenet_v9"]),
    Case("unknown_backbone_train", UnknownBackboneError, ["'bert_smal'"], ["did you mean 'bert_small'"],
         api=lambda env: zoo.load_backbone("bert_smal"), cli=_train("bert_smal", "text"), heavy=True),
    Case("unknown_task", UnknownTaskError, ["'clasification'"], ["did you mean 'classification'"],
         api=_build("starter_text", task="clasification", num_classes=2),
         cli=_train("starter_text", "text", "--task", "clasification"), heavy=True),
    Case("missing_num_classes", ConfigurationError, ["num_classes"], ["num_classes=5"],
         api=_build("starter_text", task="classification")),
    Case("num_classes_1", ConfigurationError, ["got 1"], ["task='binary'"],
         api=_build("starter_text", task="classification", num_classes=1)),
    Case("freeze_top_99", FreezeSpecError, ["'top:99'", "has 11"], ["'top:11'"],
         api=_build("mobilenet_v3_small", num_classes=3, freeze="top:99"),
         cli=_train("mobilenet_v3_small", "vision", "--freeze", "top:99"), heavy=True),
    Case("freeze_unknown", FreezeSpecError, ["'topp:2'"], ["'top:K'"],
         api=_build("starter_text", num_classes=2, freeze="topp:2"),
         cli=_train("starter_text", "text", "--freeze", "topp:2"), heavy=True),
    Case("freeze_full_not_fine_tunable", FreezeSpecError, ["'full'", "'yamnet'", "not fine-tunable"], ["frozen"],
         api=_build("yamnet", num_classes=2, freeze="full"),
         cli=_train("yamnet", "audio", "--freeze", "full"), heavy=True),
    Case("fusion_missing_input", InputError, ["missing 'starter_text'"], ["one entry per backbone"],
         api=lambda env: env.fused.predict({"starter_cnn": np.zeros((2, IMG, IMG, 3), np.uint8)}, verbose=0)),
    # ---- inputs of the wrong kind
    Case("empty_text_batch", InputError, ["empty batch"], ["at least one string"], api=_predict("starter_text", [])),
    Case("single_string", InputError, ["one string"], ["wrap it: [text]"], api=_predict("starter_text", "a film")),
    Case("empty_image_batch", InputError, ["(0, 24, 24, 3)"], ["at least one example"],
         api=_predict("starter_cnn", np.zeros((0, IMG, IMG, 3), np.uint8))),
    Case("nan_image", InputError, ["images [1]", "NaN or Inf"], ["np.nan_to_num"], api=_predict("starter_cnn", _NAN_IMAGES)),
    Case("image_16bit", InputError, ["[0, 6.39e+04]"], ["rescale to 0-255"],
         api=_predict("starter_cnn", np.arange(IMG * IMG * 3, dtype=np.uint16).reshape(1, IMG, IMG, 3) * 37)),
    Case("image_without_batch", InputError, ["(24, 24, 3)"], ["x[None]"],
         api=_predict("starter_cnn", np.zeros((IMG, IMG, 3), np.uint8))),
    Case("stereo_array", InputError, ["(2, 16000, 2)"], ["x.mean(axis=-1)"],
         api=_predict("starter_audio", np.zeros((2, 16000, 2), np.float32))),
    Case("nan_waveform", InputError, ["waveforms [0]", "NaN or Inf"], ["np.nan_to_num"],
         api=_predict("starter_audio", _NAN_WAVES)),
    Case("inf_waveform", InputError, ["waveforms [2]", "NaN or Inf"], ["drop those clips"],
         api=_predict("starter_audio", _INF_WAVES)),
    Case("int16_waveform", InputError, ["peak 1.6e+04"], ["divide 16-bit PCM by 32768"],
         api=_predict("starter_audio", np.full((1, 16000), 16000, np.int16))),
    Case("zero_length_clip", InputError, ["zero-length clips", "(2, 0)"], ["pad them with zeros"],
         api=_predict("starter_audio", np.zeros((2, 0), np.float32)),
         cli=lambda env: ["predict", str(env.run("audio")), str(env.files.empty_wav)],
         cli_error=DataError, cli_bad=["empty.wav", "no audio samples"], heavy=True),
    Case("corrupt_image_file", DataError, ["corrupt.png"], ["re-save or replace the file"],
         api=lambda env: zoo.data.read_image(env.files.corrupt_png),
         cli=lambda env: ["predict", str(env.run("vision")), str(env.files.corrupt_png)], heavy=True),
    # ---- data folders and CSV files
    Case("empty_folder", DataError, ["no class sub-folders"], ["one sub-folder per class"],
         api=lambda env: zoo.data.from_folder(env.files.empty, "text"), cli=_train("starter_text", "empty"), heavy=True),
    Case("one_class", DataError, ["class folder 'only'"], ["at least 2"],
         api=lambda env: zoo.data.from_folder(env.files.one_class, "text"), cli=_train("starter_text", "one_class"), heavy=True),
    Case("all_files_corrupt", DataError, ["none of the 4 text files"], ["corrupt"],
         api=lambda env: zoo.data.from_folder(env.files.all_corrupt, "text"),
         cli=_train("starter_text", "all_corrupt"), heavy=True),
    Case("wrong_file_types", DataError, ["no text files", "'.png'"], ["check the modality"],
         api=lambda env: zoo.data.from_folder(env.files.vision, "text"), cli=_train("starter_text", "vision"), heavy=True),
    Case("csv_missing_label", DataError, ["row 2 (line 3) has no label"], ["fill it in or delete the row"],
         api=lambda env: zoo.data.from_csv(env.files.csv_missing), cli=_train("starter_text", "csv_missing"), heavy=True),
    Case("csv_label_not_in_classes", DataError, ["label 'maybe'", "['neg', 'pos']"], ["fix the label"],
         api=lambda env: zoo.data.from_csv(env.files.csv_unknown, class_names=["neg", "pos"]),
         cli=lambda env: ["evaluate", str(env.run("text")), "--data", str(env.files.csv_unknown)],
         cli_bad=["['maybe']", "unknown.csv", "(neg, pos)"], cli_fix=["data with the model's classes"], heavy=True),
    # ---- registry TOML (API: rebuilding the registry; CLI: any command that reads it)
    Case("registry_malformed", RegistryFileError, ["malformed.toml", "not valid TOML"], ["fix the syntax"],
         api=lambda env: zoo.reset_registry(), cli=lambda env: ["list"], env=_registry("reg_malformed")),
    Case("registry_unknown_field", RegistryFileError, ["unknown_field.toml", "'colour'"], ["known fields: block_pattern"],
         api=lambda env: zoo.reset_registry(), cli=lambda env: ["list"], env=_registry("reg_unknown_field")),
    Case("registry_duplicate_name", RegistryFileError, ["duplicate.toml", "my_enc"], ["fix the syntax"],
         api=lambda env: zoo.reset_registry(), cli=lambda env: ["list"], env=_registry("reg_duplicate")),
    Case("registry_builtin_clash", DuplicateBackboneError, ["clash.toml", "'mobilenet_v2'", "plugin 'vision'"],
         ["'override = true'"], api=lambda env: zoo.reset_registry(), cli=lambda env: ["info", "mobilenet_v2"],
         env=_registry("reg_clash")),
    Case("registry_unsupported_scheme", RegistryFileError, ["scheme.toml", "'s3://'"], ["use https://, gs:// or a local"],
         api=lambda env: zoo.reset_registry(), cli=lambda env: ["list"], env=_registry("reg_scheme")),
    Case("output_dim_mismatch", OutputDimMismatchError, ["64-d", "output_dim = 65"], ["fix output_dim"],
         api=lambda env: (zoo.reset_registry(), zoo.build("starter_text", num_classes=2)),
         cli=_train("starter_text", "text"), heavy=True, env=_registry("reg_dim")),
]
API_CASES = [pytest.param(c, id=c.id) for c in CASES if c.api]
CLI_CASES = [pytest.param(c, id=c.id, marks=[needs_heavy] if c.heavy else []) for c in CASES if c.cli]


def test_table_is_consistent():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    for c in CASES:
        assert issubclass(c.error, ZooError) and c.error is not ZooError
        assert c.bad, c.id
        assert c.api or c.cli


class Env:
    """What a case's callables see: files, models, a scratch --out folder, trained runs."""

    def __init__(self, files: Files, request: Any, tmp_path: Path):
        self.files, self._request, self.out = files, request, tmp_path / "out"

    @property
    def models(self) -> dict:
        return self._request.getfixturevalue("models")

    @property
    def fused(self) -> Any:
        return self._request.getfixturevalue("fused")

    def run(self, modality: str) -> Path:
        return self._request.getfixturevalue("runs")(modality)


@pytest.fixture
def env(files, request, tmp_path, monkeypatch):
    case = request.node.callspec.params.get("case") if hasattr(request.node, "callspec") else None
    # whatever a case does to the registry is undone afterwards
    monkeypatch.setattr(zoo.registry._api, "_registry", zoo.registry.get_registry())
    if case is not None and case.env is not None:
        if case.id == "output_dim_mismatch":  # the starter exists (64-d) before the override says 65
            from zoo.models import ensure_local_module

            ensure_local_module(zoo.get("starter_text"))
        for k, v in case.env(Env(files, request, tmp_path)).items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(zoo.registry._api, "_registry", None)  # the CLI loads the registry afresh
    return Env(files, request, tmp_path)


@pytest.fixture(scope="module")
def fused():
    return zoo.build(["starter_cnn", "starter_text"], num_classes=2)


def check_message(msg: str, parts: list[str]) -> None:
    for part in parts:
        assert part in msg, f"{part!r} not in message: {msg}"


@pytest.mark.parametrize("case", API_CASES)
def test_api(case, env):
    with pytest.raises(ZooError) as ei:
        case.api(env)
    assert type(ei.value) is case.error, f"{type(ei.value).__name__}: {ei.value}"
    check_message(str(ei.value), case.bad + case.fix)


@pytest.fixture
def spy(monkeypatch):
    """Record the exception a CLI command raised (main turns it into one stderr line)."""
    raised: list[BaseException] = []
    real = zoo.cli.build_parser

    def build_parser():
        parser = real()
        parse = parser.parse_args

        def parse_args(argv=None, namespace=None):
            args = parse(argv, namespace)
            func = args.func

            def wrapped(a):
                try:
                    return func(a)
                except BaseException as exc:
                    raised.append(exc)
                    raise
            args.func = wrapped
            return args
        parser.parse_args = parse_args
        return parser

    monkeypatch.setattr(zoo.cli._main, "build_parser", build_parser)
    return raised


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = zoo.cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("zoo: warning:")]
    assert len(lines) == 1 and lines[0].startswith("zoo: error: "), err
    return lines[0]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli(case, env, spy, capsys):
    argv = case.cli(env)
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (argv, out, err)
    line = assert_one_error_line(err)
    expected = case.cli_error or case.error
    assert spy and type(spy[-1]) is expected, f"{[type(e).__name__ for e in spy]}: {line}"
    check_message(line, (case.cli_bad or case.bad) + (case.cli_fix if case.cli_fix is not None else
                                                      case.fix if case.cli_error is None else []))


def test_cli_subprocess(files, tmp_path):
    """The real ``zoo`` entry point: one line, status 2, for a name and a registry error."""
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "zoo", "info", "mobilenet_v9"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1 and "did you mean" in r.stderr
    env["ZOO_REGISTRY"] = str(files.reg_unknown_field)
    r = subprocess.run([sys.executable, "-m", "zoo", "list"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "'colour'" in r.stderr and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- handled inputs (API)


def test_grey_and_rgba_images_are_converted(models):
    m = models["starter_cnn"]
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (2, IMG, IMG, 3)).astype(np.uint8)
    grey = rgb[..., :1]
    rgba = np.concatenate([rgb, np.full((2, IMG, IMG, 1), 7, np.uint8)], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", zoo.models._inputs.InputWarning)  # nothing to warn about
        np.testing.assert_allclose(m.predict(grey, verbose=0), m.predict(np.repeat(grey, 3, -1), verbose=0), atol=1e-5)
        np.testing.assert_allclose(m.predict(rgba, verbose=0), m.predict(rgb, verbose=0), atol=1e-5)


def test_float_images_in_0_1_are_not_scaled_twice(models):
    m = models["starter_cnn"]
    rgb = np.random.RandomState(1).randint(0, 256, (2, IMG, IMG, 3)).astype(np.float32)
    rgb[:, 0, 0] = 255.0  # each image really spans 0-255
    with pytest.warns(zoo.models._inputs.InputWarning, match=r"\[0, 1\].*not divided by 255 again"):
        scaled = m.predict(rgb / 255.0, verbose=0)
    np.testing.assert_allclose(scaled, m.predict(rgb, verbose=0), atol=1e-5)


def test_empty_strings_and_non_utf8_are_fine(models):
    m = models["starter_text"]
    out = m.predict(["", "a good film", ""], verbose=0)
    assert out.shape == (3, 2) and np.isfinite(out).all()
    np.testing.assert_allclose(out[0], out[2])
    bad = m.predict([b"caf\xe9 \xff\xfe", b"good"], verbose=0)  # invalid UTF-8 -> U+FFFD, not fatal
    assert np.isfinite(bad).all()
    np.testing.assert_allclose(bad[0], m.predict(["caf\ufffd \ufffd\ufffd"], verbose=0)[0], atol=1e-5)


def test_48khz_and_stereo_wav_files_are_resampled_and_mixed(models, files):
    from zoo.data import read_wav

    x48, stereo = read_wav(files.wav48k), read_wav(files.stereo_wav)
    assert x48.shape == (16000,) and stereo.shape == (16000,)  # 1 s at 16 kHz
    nan = read_wav(files.nan_wav)  # NaN / Inf samples in a file are replaced, not passed on
    assert np.isfinite(nan).all() and nan.shape == (16000,)
    out = models["starter_audio"].predict(np.stack([x48, stereo, nan]), verbose=0)
    assert out.shape == (3, 2) and np.isfinite(out).all()


# ----------------------------------------------------------------------------- handled inputs (CLI)


@pytest.fixture(scope="module")
def runs(files, tmp_path_factory):
    """``runs(modality)``: a finished ``zoo train`` run on that modality's starter (trained once)."""
    done: dict[str, Path] = {}
    data = {"text": ("starter_text", files.text), "vision": ("starter_cnn", files.vision),
            "audio": ("starter_audio", files.audio)}

    def get(modality: str) -> Path:
        if modality not in done:
            name, folder = data[modality]
            out = tmp_path_factory.mktemp(f"run_{modality}")
            with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
                warnings.simplefilter("ignore")
                code = zoo.cli.main(["train", name, "--data", str(folder), "--out", str(out), "--epochs", "1"])
            assert code == 0
            done[modality] = out
        return done[modality]

    return get


@needs_heavy
def test_cli_predict_handles_odd_files(runs, files, capsys):
    for modality, items in (("vision", [files.grey_png, files.rgba_png]),
                            ("audio", [files.stereo_wav, files.wav48k, files.nan_wav]),
                            ("text", ["", "a good film"])):
        code, out, err = run_cli(["predict", str(runs(modality)), *map(str, items)], capsys)
        assert code == 0, err
        assert "error" not in err and "Traceback" not in err


@needs_heavy
def test_cli_predict_non_utf8_argv(runs, capsys):
    """Text given as non-UTF-8 bytes on the command line is replaced, not fatal.

    Python hands such bytes to ``sys.argv`` surrogate-escaped (``os.fsdecode``); this runs
    ``main`` in-process with exactly that argv (a subprocess would cost a TensorFlow start).
    """
    code, out, err = run_cli(["predict", str(runs("text")), os.fsdecode(b"caf\xe9 \xff film"), "plain"], capsys)
    assert code == 0 and "Traceback" not in err


@needs_heavy
def test_cli_predict_without_inputs(runs, capsys):
    code, out, err = run_cli(["predict", str(runs("text"))], capsys)
    assert code == 2
    assert_one_error_line(err)


@needs_heavy
def test_cli_train_skips_messy_files(files, tmp_path, capsys):
    """Foreign, corrupt, non-UTF-8, unreadable files and symlink loops: skipped with a warning each, run finishes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run_cli(["train", "starter_text", "--data", str(files.messy), "--out", str(tmp_path / "o"),
                                  "--epochs", "1"], capsys)
    assert code == 0, err
    said = " ".join(str(w.message) for w in caught) + err
    for name in ("picture.png", "broken.txt", "latin1.txt", "loop", "self.txt"):
        assert name in said, name
    if os.geteuid() != 0:  # root reads files whatever their mode
        assert "locked.txt" in said
    assert (tmp_path / "o" / "model" / "saved_model.pb").is_file()


def test_output_dim_mismatch_through_load_backbone(files, monkeypatch):
    """``zoo.load_backbone`` of an entry whose output_dim is wrong fails, at the latest on its first call."""
    import tensorflow as tf
    from zoo.models import ensure_local_module

    ensure_local_module(zoo.get("starter_text"))  # 64-d, built before the override says 65
    monkeypatch.setattr(zoo.registry._api, "_registry", zoo.registry.get_registry())
    monkeypatch.setenv("ZOO_REGISTRY", str(files.reg_dim))
    zoo.reset_registry()
    with pytest.raises(OutputDimMismatchError) as ei:
        layer = zoo.load_backbone("starter_text")
        layer(tf.constant(["a film"]))
    check_message(str(ei.value), ["64-d", "output_dim = 65", "fix output_dim"])
