"""Faults under zoo (issue 17): the module server misbehaving, processes killed mid-download, the disk filling.

Network faults run against a small HTTP server on loopback (``ZOO_ALLOW_HTTP=1``). Each
fault must end in one `ZooError` within the download timeout, leave no partial cache
entry and no lock, and the next attempt against a healthy server must succeed. The time
to error of every fault is collected and reported at the end of the module (FaultReport).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.cli
import zoo.hub as hub
from zoo.errors import (
    IntegrityError, ModuleLoadError, ModuleNotCachedError, UnsafeArchiveError, ZooError,
)

TIMEOUT = 1.0  # ZOO_DOWNLOAD_TIMEOUT for these tests
TIMES: dict[str, float] = {}


class FaultReport(UserWarning):
    """Figures for the closing note (shown in pytest's warnings summary)."""


@pytest.fixture(scope="module")
def module_archive(tmp_path_factory) -> bytes:
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0], [2.0]])

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def __call__(self, x):
            return tf.matmul(x, self.w)

    src = tmp_path_factory.mktemp("tiny") / "m"
    tf.saved_model.save(Tiny(), str(src))
    return _tar({p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()})


def _tar(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo("./" + name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server(module_archive):
    """Loopback server: ``/<behaviour>/<n>`` answers with that behaviour (see ROUTES)."""
    routes = {
        "ok": lambda h: h.send_body(module_archive),
        "e500": lambda h: h.send_error(500),
        "e404": lambda h: h.send_error(404),
        "loop": lambda h: h.redirect(h.path),
        "drop": lambda h: h.send_body(module_archive[:200], length=len(module_archive)),  # then the socket closes
        "truncated": lambda h: h.send_body(module_archive[: len(module_archive) // 2]),
        "traversal": lambda h: h.send_body(_tar({"saved_model.pb": b"x", "../../evil.txt": b"owned"})),
        "link_out": lambda h: h.send_body(_tar({"saved_model.pb": b"x"}, {"variables": "/etc"})),
        "big": lambda h: h.send_body(module_archive + b"\0" * 300_000),
        "stall": lambda h: (h.send_body(module_archive[:100], length=len(module_archive), close=False),
                            h.server.stop.wait(30)),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_body(self, body, length=None, close=True):
            self.send_response(200)
            self.send_header("Content-Length", str(length if length is not None else len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def redirect(self, to):
            self.send_response(302)
            self.send_header("Location", to)
            self.end_headers()

        def do_GET(self):
            routes[self.path.strip("/").split("/")[0]](self)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.stop = threading.Event()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.stop.set()
    srv.shutdown()


@pytest.fixture
def online(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.delenv("TFHUB_OFFLINE", raising=False)
    monkeypatch.setenv("ZOO_ALLOW_HTTP", "1")
    monkeypatch.setenv("ZOO_DOWNLOAD_TIMEOUT", str(TIMEOUT))
    return cache


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir())


FAULTS = [  # behaviour, pinned, expected error, words in the message
    ("e500", False, ModuleNotCachedError, "HTTP 500"),
    ("e404", False, ModuleLoadError, "HTTP 404"),
    ("loop", False, ModuleNotCachedError, "redirect"),
    ("drop", False, ModuleNotCachedError, "could not be downloaded"),
    ("stall", False, ModuleNotCachedError, "timed out"),
    ("truncated", False, ModuleLoadError, "not a valid tar archive"),
    ("traversal", False, UnsafeArchiveError, "'..'"),
    ("link_out", False, UnsafeArchiveError, "link"),
    ("big", False, UnsafeArchiveError, "larger than"),
    ("ok", True, IntegrityError, "sha256"),  # healthy bytes, wrong pin
]


@pytest.mark.parametrize("behaviour,pinned,error,words", FAULTS, ids=[f[0] + ("-pinned" if f[1] else "") for f in FAULTS])
def test_network_fault_one_error_nothing_left_then_a_healthy_server_works(server, online, module_archive, monkeypatch,
                                                                          behaviour, pinned, error, words):
    if behaviour == "big":
        monkeypatch.setenv("ZOO_MAX_BUNDLE_BYTES", str(len(module_archive) + 100_000))
    handle = f"{server}/{behaviour}/1"
    pin = "0" * 64 if pinned else None
    t = time.perf_counter()
    with pytest.raises(ZooError) as err:
        hub.resolve(handle, sha256=pin)
    TIMES[behaviour + ("-pinned" if pinned else "")] = time.perf_counter() - t
    assert isinstance(err.value, error), f"{type(err.value).__name__}: {err.value}"
    assert words in str(err.value) and "\n" not in str(err.value)
    assert _leftovers(online) == []  # no partial entry, no lock, no temp directory, no archive
    assert not (online.parent / "evil.txt").exists()
    good = f"{server}/ok/{behaviour}"
    path = hub.resolve(good, sha256=hashlib.sha256(module_archive).hexdigest())
    assert (Path(path) / "saved_model.pb").exists() and hub.load(good)([[1.0, 1.0]]).numpy().tolist() == [[3.0]]


KILLED_WORKER = r"""
import json, os, sys, time
os.environ["ZOO_DOWNLOAD_TIMEOUT"] = "5"
import zoo.cli
import zoo.hub as hub
from zoo.hub import _download
real = _download._fetch_archive
def slow(url):  # the archive arrives in pieces: the victim is killed while it writes
    src = real(url)
    class Slow:
        def read(self, n):
            time.sleep(0.05)
            return src.read(min(n, 4096))
        def close(self):
            src.close()
    return Slow()
_download._fetch_archive = slow
path = hub.resolve(sys.argv[1], sha256=sys.argv[2])
print(json.dumps({"path": path, "files": sorted(os.listdir(path))}))
"""


def test_four_processes_one_killed_mid_download_leave_one_intact_copy(server, online, module_archive, tmp_path):
    handle, pin = f"{server}/ok/race", hashlib.sha256(module_archive).hexdigest()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [subprocess.Popen([sys.executable, "-c", KILLED_WORKER, handle, pin], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    mdir, lock = hub.module_dir(handle), hub.lock_path(hub.module_dir(handle))
    deadline, holder = time.time() + 120, None
    while time.time() < deadline and holder is None:  # a download is under way: find who holds the lock
        with contextlib.suppress(OSError, ValueError, IndexError):
            holder = int(lock.read_text().strip().rsplit(".", 2)[1])
        time.sleep(0.02)
    victim = next(p for p in procs if p.pid == holder)
    victim.send_signal(signal.SIGKILL)  # and it stays a zombie (not reaped) while the others wait
    others = [p for p in procs if p is not victim]
    results = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in others]
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    assert {r["path"] for r in results} == {str(mdir)} and all("saved_model.pb" in r["files"] for r in results)
    assert hub.check_module_dir(mdir) is None and not hub.lock_path(mdir).exists()
    assert hub.load(handle)([[1.0, 1.0]]).numpy().tolist() == [[3.0]]
    assert [p for p in _leftovers(online) if p != mdir.name and not p.startswith(mdir.name + ".")] == []


def test_zz_report_times_to_error():
    if TIMES:
        warnings.warn(FaultReport("network faults, seconds to error (timeout %.1f s): %s"
                                  % (TIMEOUT, ", ".join(f"{k} {v:.2f}" for k, v in sorted(TIMES.items())))))


# ----------------------------------------------------------------------------- the disk fills

DISK_FULL = r"""
import resource, sys
import zoo.cli
from zoo.runs import RunDir

def fill(size=65536):  # from now on no file may grow past `size` bytes: writes fail with EFBIG, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

where = sys.argv[1]
if where == "checkpoint":
    real = RunDir.save_checkpoint
    def save(self, objects, *, epoch, **kw):
        if epoch == 2:
            fill()
        return real(self, objects, epoch=epoch, **kw)
    RunDir.save_checkpoint = save
elif where == "export":
    import tensorflow as tf
    real_save = tf.saved_model.save
    def save(obj, export_dir, *a, **kw):  # the disk fills as the run's model is exported
        if ".model.tmp-" in str(export_dir):
            fill()
        return real_save(obj, export_dir, *a, **kw)
    tf.saved_model.save = save
elif where == "spill":
    import zoo.training._features as features
    real_spill = features._spill
    def spill(ds, path):  # the disk fills as the first features go to disk (a few KB: a tighter limit)
        fill(256)
        return real_spill(ds, path)
    features._spill = spill
else:
    fill()
sys.exit(zoo.cli.main(sys.argv[2:]))
"""


def _disk_full(where, *argv):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", DISK_FULL, where, *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=600)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("zoo: error:")]
    return proc.returncode, errors, proc.stderr


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    import zoo.data as zd

    return zd.make_synthetic_folder(tmp_path_factory.mktemp("faults") / "reviews", "text", n_per_class=6,
                                    classes=("neg", "pos"))


def test_disk_full_while_checkpointing_keeps_the_last_checkpoint_and_resume_continues(reviews, tmp_path):
    run = tmp_path / "run"
    code, errors, err = _disk_full("checkpoint", "train", "starter_text", "--data", reviews, "--epochs", "3",
                                   "--out", run, "-q")
    assert code == 2 and len(errors) == 1, err
    assert "could not write the checkpoint of epoch 2" in errors[0] and str(run / "checkpoints" / "epoch-0002") in errors[0]
    assert "File too large" in errors[0] and "--resume" in errors[0]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch-0001"]
    assert zoo.cli.main(["train", "--resume", "--out", str(run), "-q"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == 1 and (run / "model" / "saved_model.pb").exists()


def test_disk_full_while_exporting_names_the_path_and_keeps_the_previous_export(reviews, tmp_path):
    run = tmp_path / "run"
    assert zoo.cli.main(["train", "starter_text", "--data", str(reviews), "--epochs", "1", "--out", str(run), "-q"]) == 0
    served = tmp_path / "serving" / "1"
    assert zoo.cli.main(["export", str(run), "--out", str(served)]) == 0
    before = sorted(p.relative_to(served).as_posix() for p in served.rglob("*"))
    code, errors, err = _disk_full("all", "export", run, "--out", served)
    assert code == 2 and len(errors) == 1 and f"could not write the copy of the export '{served}'" in errors[0], err
    assert sorted(p.relative_to(served).as_posix() for p in served.rglob("*")) == before
    assert [p.name for p in served.parent.iterdir()] == ["1"]  # no temporary directory left
    import tensorflow as tf

    assert "serving_default" in tf.saved_model.load(str(served)).signatures
    run2 = tmp_path / "run2"
    code, errors, err = _disk_full("export", "train", "starter_text", "--data", reviews, "--epochs", "1",
                                   "--out", run2, "-q")
    assert code == 2 and len(errors) == 1 and f"could not write the exported model '{run2 / 'model'}'" in errors[0], err
    assert not (run2 / "model").exists() and (run2 / "checkpoints" / "epoch-0001").exists()


def test_a_corrupted_last_checkpoint_is_skipped_on_resume(reviews, tmp_path, monkeypatch):
    from zoo.runs import RunDir

    run, save = tmp_path / "run", RunDir.save_checkpoint

    def save_then_interrupt(self, objects, *, epoch, **kw):
        save(self, objects, epoch=epoch, **kw)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunDir, "save_checkpoint", save_then_interrupt)
    assert zoo.cli.main(["train", "starter_text", "--data", str(reviews), "--epochs", "3", "--out", str(run), "-q"]) == 130
    monkeypatch.setattr(RunDir, "save_checkpoint", save)
    data = next((run / "checkpoints" / "epoch-0002").glob("ckpt.data-*"))
    data.write_bytes(data.read_bytes()[:7])  # truncated by a crash
    with pytest.warns(zoo.CheckpointWarning, match="epoch-0002"):
        assert zoo.cli.main(["train", "--resume", "--out", str(run), "-q"]) == 0
    assert json.loads((run / "metrics.json").read_text())["resumed_from_epoch"] == 1


# ----------------------------------------------------------------------------- hostile files


def _png_bomb(path: Path, side: int) -> None:
    """A real PNG of ``side`` x ``side`` black pixels: a few hundred KB on disk, side*side*3 bytes decoded."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    z, row = zlib.compressobj(9), b"\0" * (1 + side * 3)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_decompression_bombs_are_refused_from_their_header(tmp_path):
    import zoo.data as zd

    root = zd.make_synthetic_folder(tmp_path / "imgs", "vision", n_per_class=2, classes=("a", "b"))
    _png_bomb(root / "a" / "bomb.png", 12000)  # 144 MP: 432 MB once decoded
    jpeg = b"\xff\xd8" + b"\xff\xc0\x00\x11\x08" + (60000).to_bytes(2, "big") * 2 + b"\x03" + b"\x01\x22\x00" * 3
    (root / "b" / "bomb.jpg").write_bytes(jpeg + b"\xff\xd9")
    with pytest.warns(zd.DataWarning) as caught:
        ds = zd.from_folder(root, "vision", image_size=(32, 32))
    reasons = {Path(s.path).name: s.reason for s in ds.summary.skipped}
    assert "declares 12000x12000 pixels (144 MP)" in reasons["bomb.png"] and "ZOO_MAX_IMAGE_PIXELS" in reasons["bomb.png"]
    assert "declares 60000x60000" in reasons["bomb.jpg"] and ds.summary.n_train == 4
    assert any("bomb.png" in str(w.message) for w in caught)
    with pytest.raises(zoo.DataError, match="bomb.png' declares 12000x12000"):
        zd.read_image(root / "a" / "bomb.png")


def test_a_wav_declaring_two_billion_frames_reads_what_is_there(tmp_path):
    import struct

    import zoo.data as zd

    samples = (np.sin(np.arange(1600) / 5) * 20000).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    wav = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    wav += b"data" + struct.pack("<I", 2**32 - 2) + samples  # 2^31 - 1 frames of 16 bits declared
    (tmp_path / "liar.wav").write_bytes(wav)
    x = zd.read_wav(tmp_path / "liar.wav", 16000)
    assert x.shape == (1600,) and np.abs(x).max() <= 1.0


def test_a_ten_megabyte_csv_cell_is_one_clear_error(tmp_path):
    import zoo.data as zd

    path = tmp_path / "big.csv"
    path.write_text("text,label\n" + '"' + "word " * 2_000_000 + '",pos\nfine,pos\nbad,neg\n')
    with pytest.raises(zoo.DataError, match=r"big.csv' cannot be parsed at line 2: field larger than field limit"):
        zd.from_csv(path)


def test_a_megabyte_string_through_bert_preprocessing_is_truncated_not_expanded():
    from helpers import install

    install("bert_small")
    bb = zoo.load_backbone("bert_small")
    out = bb(np.array(["word " * 200_000, "short"]))
    assert out.shape == (2, 512) and np.isfinite(out.numpy()).all()
    enc = bb.contract.encode(bb, np.array(["word " * 200_000]))
    assert enc["input_word_ids"].shape == (1, 128)  # the preprocessor's sequence length, whatever the input


# ----------------------------------------------------------------------------- soak

SOAK = r"""
import gc, json, os, sys, tempfile, time
import numpy as np
import tf_keras
import zoo
from zoo.export import save_model

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))

rng = np.random.RandomState(0)
data = {"starter_cnn": rng.randint(0, 256, (4, 24, 24, 3)).astype("uint8"),
        "starter_text": np.array(["a good film", "a bad film", "fine", "dull"]),
        "starter_audio": (rng.rand(4, 8000).astype("float32") - 0.5)}
names, y = sorted(data), np.arange(4) % 2
out = tempfile.mkdtemp()
rss, fds = [], []
for cycle in range(int(sys.argv[1])):
    name = names[cycle % 3]
    model = zoo.build(name, task="classification", num_classes=2)
    zoo.fit(model, (data[name], y), epochs=1, batch_size=4, verbose=0)
    assert model.predict(data[name], verbose=0).shape == (4, 2)
    save_model(model, os.path.join(out, "model"), spec=zoo.get(name), class_names=["a", "b"])  # replaced atomically
    del model
    tf_keras.backend.clear_session()
    gc.collect()
    rss.append(rss_mb())
    fds.append(len(os.listdir("/proc/self/fd")))
print(json.dumps({"rss": rss, "fds": fds, "left": sorted(os.listdir(out))}))
"""


@pytest.mark.slow
def test_soak_thirty_build_fit_predict_export_cycles():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", SOAK, "30"], capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    rss, fds = np.array(r["rss"]), np.array(r["fds"])
    slope = np.polyfit(np.arange(6, 30), rss[6:], 1)[0]  # MB per cycle after the warm-up
    warnings.warn(FaultReport(f"soak: 30 cycles, RSS {rss[0]:.0f} -> {rss[-1]:.0f} MB, slope {slope:.1f} MB/cycle "
                              f"(cycles 7-30); open fds {fds[0]} -> {fds[-1]} (max {fds.max()})"))
    assert slope < 25, rss.round().tolist()  # zoo holding a model or graph per cycle would add far more
    assert fds[-1] - fds[5] <= 5, fds.tolist()
    assert r["left"] == ["model"]  # no temporary export directories left behind


def test_disk_full_while_spilling_features_names_the_path_and_leaves_no_spill(reviews, tmp_path):
    from helpers import install

    install("starter_text")
    env_tmp = tmp_path / "tmpdir"
    env_tmp.mkdir()
    os.environ["ZOO_FEATURE_CACHE_MB"], os.environ["TMPDIR"] = "0.001", str(env_tmp)  # every batch spills
    try:
        code, errors, err = _disk_full("spill", "train", "starter_text", "--data", reviews, "--epochs", "1",
                                       "--out", tmp_path / "run", "-q")
    finally:
        del os.environ["ZOO_FEATURE_CACHE_MB"], os.environ["TMPDIR"]
    assert code == 2 and len(errors) == 1, err
    assert "could not write features spilled to disk" in errors[0] and str(env_tmp) in errors[0], errors[0]
    assert [p for p in env_tmp.rglob("*") if p.is_file() and p.stat().st_size > 0] == []  # nothing left behind
