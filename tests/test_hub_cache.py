"""zoo.hub (resolving / loading TF Hub modules safely) and zoo.hub._tools (cache tools).

Everything runs offline against a tiny SavedModel placed in a temp TFHUB_CACHE_DIR
under sha1 of a real handle, so the cache layout is exactly TF Hub's.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
import uuid
import warnings
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.hub as cache
import zoo.hub as hub
from zoo.hub import _download, _integrity
from zoo.errors import (
    CorruptCacheError, IntegrityError, InvalidSpecError, ModuleLoadError, ModuleNotCachedError,
    UnsafeArchiveError, ZooError,
)

YAMNET = "https://tfhub.dev/google/yamnet/1"
PINNED = "https://tfhub.dev/zoo-test/pinned/1"
NOWHERE = "https://zoo-test.invalid/models/nothing/1"  # .invalid never resolves, online or not


def _sha1(handle: str) -> str:
    return hashlib.sha1(handle.encode()).hexdigest()


def _tar_bytes(members: dict[str, bytes], gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# ---- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def model_src(tmp_path_factory) -> Path:
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, 2.0, 3.0])

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def __call__(self, x):
            return x * self.w

    path = tmp_path_factory.mktemp("tiny") / "model"
    tf.saved_model.save(Tiny(), str(path))
    return path


@pytest.fixture(scope="session")
def archive(model_src) -> bytes:
    """The tiny module as TF Hub serves it (?tf-hub-format=compressed): a tar.gz of the directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(model_src.rglob("*")):
            tar.add(path, arcname="./" + path.relative_to(model_src).as_posix(), recursive=False)
    return buf.getvalue()


@pytest.fixture
def hubcache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "hubcache"
    d.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(d))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.delenv("TFHUB_OFFLINE", raising=False)
    return d


@pytest.fixture
def registry(tmp_path, monkeypatch, archive):
    """A user registry adding a backbone whose handle pins the archive's sha256."""
    reg = tmp_path / "registry.toml"
    reg.write_text(textwrap.dedent(f"""
        [hubtest_pinned]
        modality = "audio"
        handle = "{PINNED}"
        output_dim = 3
        sha256 = "{hashlib.sha256(archive).hexdigest()}"
    """))
    monkeypatch.setenv("ZOO_REGISTRY", str(reg))
    zoo.reset_registry()
    yield
    monkeypatch.delenv("ZOO_REGISTRY")
    zoo.reset_registry()


def install(model_src: Path, handle: str, *, pin: str | None = None) -> Path:
    """Put the tiny module where TF Hub caches ``handle`` (with a zoo record if ``pin``)."""
    mdir = hub.module_dir(handle)
    shutil.copytree(model_src, mdir)
    hub.write_descriptor(handle, mdir)
    if pin:
        _integrity._write_sidecar(mdir, handle, pin, hub.tree_sha256(mdir))
    return mdir


def leftovers(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in cache_dir.iterdir())


# ---- resolve -------------------------------------------------------------------------------
def test_cached_module_resolves_through_tensorflow_hub_and_zoo(hubcache, model_src):
    import tensorflow as tf
    import tensorflow_hub

    mdir = install(model_src, YAMNET)
    assert mdir == hubcache / _sha1(YAMNET)
    assert tensorflow_hub.resolve(YAMNET) == str(mdir)
    assert hub.resolve(YAMNET) == str(mdir)
    assert hub.resolve(YAMNET, offline=False) == str(mdir)  # cached: no network needed either way
    obj = hub.load(YAMNET)
    assert obj(tf.ones([1, 3])).numpy().tolist() == [[1.0, 2.0, 3.0]]
    assert hub.spec_handles(zoo.get("yamnet")) == [YAMNET]


def test_offline_missing_module_fails_fast_with_fix(hubcache):
    t0 = time.monotonic()
    with pytest.raises(ModuleNotCachedError) as info:
        hub.resolve(YAMNET)
    assert time.monotonic() - t0 < 2
    msg = str(info.value)
    assert YAMNET in msg and str(hubcache) in msg and str(hubcache / _sha1(YAMNET)) in msg
    assert "zoo cache prefetch yamnet" in msg and "zoo cache unpack" in msg and "zoo cache pack" in msg


def test_offline_message_names_temp_cache_when_unset(hubcache, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.delenv("TFHUB_CACHE_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ModuleNotCachedError, match="TFHUB_CACHE_DIR is unset") as info:
        hub.resolve(YAMNET)
    assert str(tmp_path / "tfhub_modules") in str(info.value)


def test_online_without_network_raises_not_cached_quickly(hubcache, monkeypatch):
    monkeypatch.delenv("ZOO_OFFLINE")
    handles = [NOWHERE]
    try:
        socket.getaddrinfo("tfhub.dev", 443)
    except OSError:
        handles.append(YAMNET)  # no network here (like CI): the real handle must fail fast too
    for handle in handles:
        t0 = time.monotonic()
        with pytest.raises(ModuleNotCachedError) as info:
            hub.resolve(handle)
        assert time.monotonic() - t0 < 30
        assert handle in str(info.value) and "could not be downloaded" in str(info.value)
    assert leftovers(hubcache) == []  # TF Hub's lock and temp dir were cleaned up


def test_refused_scheme(monkeypatch):
    monkeypatch.delenv("ZOO_ALLOW_HTTP", raising=False)
    with pytest.raises(InvalidSpecError):
        hub.resolve("ftp://example.com/model")
    with pytest.raises(InvalidSpecError, match="ZOO_ALLOW_HTTP"):
        hub.resolve("http://example.com/model")


def test_local_handles(tmp_path, model_src):
    assert hub.resolve(str(model_src)) == str(model_src)
    assert hub.resolve("file://" + str(model_src)) == str(model_src)
    assert hub.module_dir(str(model_src)) == model_src
    with pytest.raises(ModuleLoadError, match="does not exist") as info:
        hub.resolve(str(tmp_path / "missing"))
    assert str(tmp_path / "missing") in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModuleLoadError, match="saved_model.pb is missing"):
        hub.resolve(str(tmp_path / "empty"))


@pytest.mark.parametrize("damage", ["no_saved_model", "truncated_shard", "missing_shard", "no_index"])
def test_half_written_module_is_never_used(hubcache, model_src, damage):
    mdir = install(model_src, YAMNET)
    shard = mdir / "variables" / "variables.data-00000-of-00001"
    if damage == "no_saved_model":
        (mdir / "saved_model.pb").unlink()
        bad = mdir / "saved_model.pb"
    elif damage == "truncated_shard":
        shard.write_bytes(shard.read_bytes()[:-7])
        bad = shard
    elif damage == "missing_shard":
        shard.unlink()
        bad = shard
    else:
        (mdir / "variables" / "variables.index").unlink()
        bad = mdir / "variables" / "variables.index"
    with pytest.raises(CorruptCacheError) as info:
        hub.resolve(YAMNET)
    msg = str(info.value)
    assert str(mdir) in msg and str(bad) in msg and "zoo cache clear yamnet" in msg and "prefetch" in msg
    with pytest.raises(CorruptCacheError):
        hub.load(YAMNET)
    entry = next(e for e in cache.ls() if e.path == mdir)
    assert entry.status == "incomplete" and entry.names == ["yamnet"]


def test_half_written_module_is_removed_when_online(hubcache, model_src, monkeypatch):
    monkeypatch.delenv("ZOO_OFFLINE")
    mdir = install(model_src, NOWHERE)
    (mdir / "saved_model.pb").unlink()
    with pytest.warns(hub.CacheWarning, match="damaged"):
        with pytest.raises(ModuleNotCachedError):  # re-download attempted, no network
            hub.resolve(NOWHERE)
    assert not mdir.exists()


def test_stale_locks(hubcache, model_src):
    mdir = install(model_src, YAMNET)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    uid = uuid.uuid4().hex
    lock = hub.lock_path(mdir)
    lock.write_text(f"{socket.gethostname()}.{dead.pid}.{uid}")
    tmp = Path(f"{mdir}.{uid}.tmp")
    tmp.mkdir()
    with pytest.warns(hub.CacheWarning, match="no longer running"):
        assert hub.resolve(YAMNET) == str(mdir)
    assert not lock.exists() and not tmp.exists()

    lock.write_text(f"{socket.gethostname()}.{os.getpid()}.{uid}")  # a live lock stays
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hub.clear_stale_lock(mdir) is None
    assert lock.exists()

    lock.write_text(f"other-host.example.com.123.{uid}")  # another host: only TF Hub's timeout applies
    assert hub.clear_stale_lock(mdir) is None
    old = time.time() - hub.LOCK_TIMEOUT_SEC - 5
    os.utime(lock, (old, old))
    with pytest.warns(hub.CacheWarning, match="no download progress"):
        assert hub.clear_stale_lock(mdir)
    assert not lock.exists()


def test_offline_missing_module_mentions_live_lock(hubcache):
    mdir = hub.module_dir(YAMNET)
    hub.lock_path(mdir).write_text(f"{socket.gethostname()}.{os.getpid()}.abc")
    with pytest.raises(ModuleNotCachedError, match="installing it right now"):
        hub.resolve(YAMNET)


# ---- integrity -----------------------------------------------------------------------------
def test_pinned_cached_module(hubcache, model_src):
    pin = "a" * 64
    mdir = install(model_src, YAMNET, pin=pin)
    assert hub.resolve(YAMNET, sha256=pin) == str(mdir)
    assert hub.load(YAMNET, sha256=pin)(np.ones([1, 3], np.float32)).numpy().tolist() == [[1.0, 2.0, 3.0]]  # loaded, weights too

    with pytest.raises(IntegrityError) as info:
        hub.resolve(YAMNET, sha256="b" * 64)
    assert "a" * 64 in str(info.value) and "b" * 64 in str(info.value)
    err = info.value  # the same facts as attributes, for code that acts on the error
    assert (err.handle, err.path, err.expected, err.actual) == (YAMNET, str(mdir), "b" * 64, "a" * 64)

    (mdir / "variables" / "variables.data-00000-of-00001").write_bytes(
        (mdir / "variables" / "variables.data-00000-of-00001").read_bytes()[::-1])
    with pytest.raises(IntegrityError, match="changed since the verified download"):
        hub.resolve(YAMNET, sha256=pin)
    assert hub.resolve(YAMNET) == str(mdir)  # unpinned use does not check digests

    hub.sidecar_path(mdir).unlink()
    with pytest.raises(IntegrityError, match="cannot be verified") as info:
        hub.resolve(YAMNET, sha256=pin)
    assert "zoo cache clear" in str(info.value) and "zoo cache unpack" in str(info.value)


def test_pinned_download_checks_digest_before_extracting(hubcache, archive, monkeypatch):
    monkeypatch.delenv("ZOO_OFFLINE")
    urls = []
    monkeypatch.setattr(_download, "_fetch_archive", lambda url: urls.append(url) or archive)
    good = hashlib.sha256(archive).hexdigest()

    with pytest.raises(IntegrityError) as info:
        hub.resolve(PINNED, sha256="0" * 64)
    assert good in str(info.value) and "0" * 64 in str(info.value) and "nothing was extracted" in str(info.value)
    assert urls == [PINNED + "?tf-hub-format=compressed"]
    assert leftovers(hubcache) == []  # no module dir, temp dir, archive or lock

    mdir = Path(hub.resolve(PINNED, sha256=good))
    assert mdir == hubcache / _sha1(PINNED) and hub.check_module_dir(mdir) is None
    record = json.loads(hub.sidecar_path(mdir).read_text())
    assert record == {"handle": PINNED, "archive_sha256": good, "tree_sha256": hub.tree_sha256(mdir)}
    assert hub.descriptor_path(mdir).read_text().startswith(f"Module: {PINNED}\n")
    assert sorted(leftovers(hubcache)) == sorted([mdir.name, mdir.name + ".descriptor.txt", mdir.name + ".zoo.json"])
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert hub.load(PINNED, sha256=good)(np.ones([1, 3], np.float32)).numpy().tolist() == [[1.0, 2.0, 3.0]]  # offline, verified
    assert len(urls) == 2


def test_pinned_download_refuses_unsafe_archive(hubcache, monkeypatch, tmp_path):
    monkeypatch.delenv("ZOO_OFFLINE")
    evil = _tar_bytes({"saved_model.pb": b"x", "../../escaped.txt": b"pwned"})
    monkeypatch.setattr(_download, "_fetch_archive", lambda url: evil)
    with pytest.raises(UnsafeArchiveError, match=r"\.\."):
        hub.resolve(PINNED, sha256=hashlib.sha256(evil).hexdigest())
    assert not (tmp_path / "escaped.txt").exists() and leftovers(hubcache) == []


CHILD = textwrap.dedent("""
    import json, os, sys, time, types
    from pathlib import Path
    import tensorflow_hub.resolver as resolver
    import zoo.hub as zh
    from zoo.hub import _download

    archive, work, me, handle, pin = Path(sys.argv[1]).read_bytes(), Path(sys.argv[2]), *sys.argv[3:]

    def lock_wait(seconds):  # TF Hub's resolver waiting for another process's lock
        (work / f"waiting-{me}").touch()
        time.sleep(min(seconds, 0.05))

    resolver.time = types.SimpleNamespace(time=time.time, sleep=lock_wait)
    _download._lock_wait = lock_wait  # zoo's own wait for a live lock (it removes a dead owner's at once)

    def fetch(url):  # hold the download until the other process is waiting on the lock: no timing guess
        (work / f"fetch-{me}").write_text(url)
        deadline = time.time() + 60
        while not [p for p in work.glob("waiting-*") if p.name != f"waiting-{me}"] and time.time() < deadline:
            time.sleep(0.01)
        return archive

    _download._fetch_archive = fetch
    (work / f"ready-{me}").touch()
    deadline = time.time() + 60
    while len(list(work.glob("ready-*"))) < 2 and time.time() < deadline:
        time.sleep(0.01)
    print(json.dumps({"path": zh.resolve(handle, sha256=pin)}))
""")


def test_two_processes_resolving_at_once_do_not_corrupt(hubcache, archive, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "archive.tar.gz").write_bytes(archive)
    env = {k: v for k, v in os.environ.items() if k not in ("ZOO_OFFLINE", "TFHUB_OFFLINE")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    pin = hashlib.sha256(archive).hexdigest()
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(work / "archive.tar.gz"), str(work), str(i), PINNED,
                               pin], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    paths = {json.loads(out.strip().splitlines()[-1])["path"] for out, _ in outs}
    mdir = hubcache / _sha1(PINNED)
    assert paths == {str(mdir)}
    assert len(list(work.glob("fetch-*"))) == 1  # one downloaded, the other waited on TF Hub's lock
    assert len(list(work.glob("waiting-*"))) == 1
    assert hub.check_module_dir(mdir) is None
    hub.verify_pinned(PINNED, mdir, pin)
    assert sorted(leftovers(hubcache)) == sorted([mdir.name, mdir.name + ".descriptor.txt", mdir.name + ".zoo.json"])


# ---- load ----------------------------------------------------------------------------------
def test_load_retries_with_tensorflow_text_ops(tmp_path):
    import tensorflow as tf
    import tensorflow_text

    class Normalize(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, x):
            return tensorflow_text.normalize_utf8(x, "NFKC")

    path = tmp_path / "text_module"
    tf.saved_model.save(Normalize(), str(path))
    code = textwrap.dedent(f"""
        import sys
        import tensorflow as tf
        import zoo.hub
        assert "tensorflow_text" not in sys.modules
        try:
            tf.saved_model.load({str(path)!r})
            raise SystemExit("expected an unregistered op")
        except Exception as exc:
            assert "Op type not registered" in str(exc), exc
        m = zoo.hub.load({str(path)!r})
        print(m(tf.constant(["\\uff46\\uff55\\uff4c\\uff4c"])).numpy()[0].decode())
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "full"


def test_load_errors_are_module_load_errors(tmp_path, model_src, monkeypatch):
    import tensorflow as tf

    broken = tmp_path / "broken"
    shutil.copytree(model_src, broken)
    (broken / "saved_model.pb").write_bytes(b"this is not a protobuf")
    with pytest.raises(ModuleLoadError) as info:
        hub.load(str(broken))
    assert str(broken) in str(info.value) and info.value.__cause__ is None

    calls = []

    def unregistered(path, options=None):
        calls.append(options)
        raise RuntimeError("Op type not registered 'FancyOp' in binary running on vm.")

    monkeypatch.setattr(tf.saved_model, "load", unregistered)
    with pytest.raises(ModuleLoadError) as info:
        hub.load(str(model_src))
    msg = str(info.value)
    assert "'FancyOp'" in msg and str(model_src) in msg and "tensorflow-text" in msg
    assert len(calls) == 2  # retried once after importing tensorflow_text
    assert calls[0].experimental_io_device == "/job:localhost"


# ---- cache tools ---------------------------------------------------------------------------
def test_ls_verify_clear(hubcache, model_src, registry, archive):
    pin = hashlib.sha256(archive).hexdigest()
    y = install(model_src, YAMNET)
    p = install(model_src, PINNED, pin=pin)
    stray = install(model_src, "https://example.com/unknown/1")
    hub.descriptor_path(stray).unlink()
    entries = {e.path: e for e in cache.ls()}
    assert entries[y].names == ["yamnet"] and entries[y].handle == YAMNET and entries[y].status == "ok"
    assert entries[p].names == ["hubtest_pinned"] and entries[p].pinned and entries[p].size > 0
    assert entries[stray].name == "?" and entries[stray].handle is None
    text = cache.format_ls(list(entries.values()))
    assert "yamnet" in text and "hubtest_pinned" in text and str(hubcache) in text

    results = cache.verify()
    assert [r.status for r in results] == ["ok"] * 3, cache.format_verify(results)
    (p / "fingerprint.pb").write_bytes(b"tampered")
    bad = {r.name: r for r in cache.verify(["hubtest_pinned", "yamnet", "mobilenet_v2"], load=False)}
    assert not bad["hubtest_pinned"].ok and "changed since" in bad["hubtest_pinned"].reason
    assert bad["yamnet"].ok and not bad["mobilenet_v2"].ok and "not cached" in bad["mobilenet_v2"].reason
    assert "2 failed" in cache.format_verify(list(bad.values()))

    removed = cache.clear("hubtest_pinned")
    assert p in removed and not p.exists() and not hub.sidecar_path(p).exists()
    assert y.exists()
    cache.clear_all()
    assert leftovers(hubcache) == []


def test_prefetch_collects_failures(hubcache, model_src):
    install(model_src, YAMNET)
    messages = []
    assert cache.prefetch(["yamnet"], progress=messages.append) == {"yamnet": [str(hub.module_dir(YAMNET))]}
    assert messages == [f"checking cached yamnet: {YAMNET} (1/1)"]
    messages.clear()
    with pytest.raises(ZooError) as info:
        cache.prefetch(["yamnet", "vggish", "no_such_backbone"], progress=messages.append)
    assert "vggish" in str(info.value) and "no_such_backbone" in str(info.value)
    assert set(info.value.failures) == {"vggish", "no_such_backbone"}
    assert isinstance(info.value.failures["vggish"], ModuleNotCachedError)
    assert any(m.startswith("downloading vggish") and m.endswith("(2/2)") for m in messages)


def test_pack_clear_unpack_resolve_offline(hubcache, model_src, registry, archive, tmp_path, monkeypatch):
    pin = hashlib.sha256(archive).hexdigest()
    y = install(model_src, YAMNET)
    p = install(model_src, PINNED, pin=pin)
    monkeypatch.delenv("ZOO_OFFLINE")  # pack never downloads
    with pytest.raises(ModuleNotCachedError, match="zoo cache prefetch vggish") as info:
        cache.pack(["yamnet", "vggish"], tmp_path / "x.tar.gz")
    assert "does not download" in str(info.value) and not (tmp_path / "x.tar.gz").exists()

    bundle = cache.pack(["yamnet", "hubtest_pinned"], tmp_path / "bundle.tar.gz")
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("zoo-bundle.json"))
    assert names[0] == "zoo-bundle.json" and f"{p.name}.zoo.json" in names and f"{y.name}.descriptor.txt" in names
    assert {m["handle"]: (m["dir"], m["tree_sha256"]) for m in manifest["modules"]} == {
        YAMNET: (y.name, hub.tree_sha256(y)), PINNED: (p.name, hub.tree_sha256(p))}

    cache.clear("yamnet")
    cache.clear("hubtest_pinned")
    assert leftovers(hubcache) == []
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert sorted(cache.unpack(bundle)) == sorted([YAMNET, PINNED])
    assert hub.resolve(YAMNET) == str(y)
    assert hub.resolve(PINNED, sha256=pin) == str(p)
    assert hub.descriptor_path(y).read_text().startswith(f"Module: {YAMNET}")
    assert not [n for n in leftovers(hubcache) if n.startswith(".zoo-unpack")]
    assert cache.unpack(bundle) == cache.unpack(bundle)  # idempotent


def _evil_bundle(path: Path, kind: str, target: Path) -> None:
    with tarfile.open(path, "w") as tar:
        def add(name, data=b"x", **kw):
            info = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(info, k, v)
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)

        if kind == "traversal":
            add("a/../../../" + target.name)
        elif kind == "absolute":
            add(str(target))
        elif kind == "symlink":
            add("etc", type=tarfile.SYMTYPE, linkname="/etc")
            add("etc/evil")
        elif kind == "hardlink":
            add("passwd", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        elif kind == "device":
            add("dev", type=tarfile.CHRTYPE)
        elif kind == "oversized":
            add("big", b"x" * 4096)
        elif kind == "members":
            for i in range(20):
                add(f"f{i}")


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink", "hardlink", "device", "oversized", "members"])
def test_unpack_refuses_malicious_bundles(hubcache, tmp_path, kind, monkeypatch):
    monkeypatch.setenv("ZOO_MAX_BUNDLE_BYTES", "1000")
    target = tmp_path / "outside" / "escaped.txt"
    target.parent.mkdir()
    bundle = tmp_path / "evil.tar"
    _evil_bundle(bundle, kind, target)
    with pytest.raises(UnsafeArchiveError):
        cache.unpack(bundle, max_members=10)
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert leftovers(hubcache) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar", "hubcache", "outside"]


def test_unpack_refuses_bundle_not_matching_manifest(hubcache, model_src, tmp_path):
    install(model_src, YAMNET)
    bundle = cache.pack(["yamnet"], tmp_path / "b.tar")
    cache.clear("yamnet")
    with tarfile.open(bundle) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}
    members[f"{_sha1(YAMNET)}/fingerprint.pb"] = b"swapped"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(_tar_bytes(members))
    with pytest.raises(IntegrityError, match="does not match the manifest"):
        cache.unpack(bad)
    assert leftovers(hubcache) == []
    members["zoo-bundle.json"] = b"{}"
    bad.write_bytes(_tar_bytes(members))
    with pytest.raises(ZooError, match="manifest"):
        cache.unpack(bad)


def test_offline_mode_is_scoped_not_process_wide(hubcache, monkeypatch):
    from zoo.hub import offline_mode

    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.delenv("TFHUB_OFFLINE", raising=False)
    monkeypatch.setattr(_download, "_fetch_archive", lambda url: pytest.fail(f"downloaded {url}"))
    with offline_mode():
        with pytest.raises(ModuleNotCachedError, match="zoo is offline"):
            hub.resolve(PINNED, sha256="0" * 64)
    assert "ZOO_OFFLINE" not in os.environ and not hub.is_offline()


def _serve(handler_body):
    """A loopback HTTP server in a thread; ``handler_body(conn)`` answers each connection."""
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def loop():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=handler_body, args=(conn, stop), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], stop


@pytest.mark.parametrize("pinned", [False, True])
def test_a_stalled_server_ends_in_one_error_within_the_timeout_and_leaves_nothing(hubcache, monkeypatch, pinned,
                                                                                 archive):
    def stall(conn, stop):  # headers and half a body, then silence
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + archive[:100])
        stop.wait(30)
        conn.close()

    port, stop = _serve(stall)
    monkeypatch.delenv("ZOO_OFFLINE")
    monkeypatch.setenv("ZOO_ALLOW_HTTP", "1")
    monkeypatch.setenv("ZOO_DOWNLOAD_TIMEOUT", "0.5")
    handle = f"http://127.0.0.1:{port}/stalls/1"
    before = socket.getdefaulttimeout()
    try:
        with pytest.raises(ModuleNotCachedError, match="could not be downloaded") as err:
            hub.resolve(handle, sha256=hashlib.sha256(archive).hexdigest() if pinned else None)
    finally:
        stop.set()
    assert "timed out" in str(err.value)
    assert socket.getdefaulttimeout() == before  # the timeout was the request's own, not the process's
    mdir = hub.module_dir(handle)
    assert not mdir.exists() and not hub.lock_path(mdir).exists()
    assert not [p for p in hubcache.iterdir() if p.name.startswith(mdir.name)]
