"""WAV reading, writing and resampling in pure NumPy (no scipy, no TensorFlow).

`read_wav` turns any PCM (8/16/24/32-bit integer) or IEEE-float (32/64-bit) WAV
file, at any sample rate and channel count, into 16 kHz mono float32 in [-1, 1].
Resampling is a Kaiser-windowed sinc interpolator (band-limited, so downsampling
does not alias). `zoo.data` uses this module; it is also handy on its own.

Example:
    >>> import tempfile, numpy as np
    >>> from zoo.data._audio_io import write_wav, read_wav
    >>> path = tempfile.mkdtemp() + "/tone.wav"
    >>> t = np.arange(44100) / 44100
    >>> write_wav(path, 0.5 * np.sin(2 * np.pi * 440 * t), 44100)
    >>> x = read_wav(path)
    >>> x.shape, x.dtype
    ((16000,), dtype('float32'))
"""

from __future__ import annotations

import functools
import io
import math
import os
import struct
import warnings
import wave
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.errors import ConfigurationError, DataError

__all__ = ["WavInfo", "wav_info", "read_wav", "read_wav_bytes", "write_wav", "resample"]

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_FORMAT_NAMES = {0x0002: "MS-ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA-ADPCM", 0x0055: "MP3"}


@dataclass(frozen=True)
class WavInfo:
    """What a WAV header says: ``encoding`` is ``"int"`` or ``"float"``; ``sample_width`` in bytes.

    Example:
        >>> WavInfo(16000, 1, 2, "int", 16000, 44, 32000).duration
        1.0
    """

    sample_rate: int
    channels: int
    sample_width: int
    encoding: str
    n_frames: int
    data_offset: int
    data_bytes: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_frames / self.sample_rate


def _bad(path: os.PathLike | str, reason: str) -> DataError:
    err = DataError(f"cannot read WAV file '{path}': {reason}")
    err.reason = reason  # type: ignore[attr-defined] - the bare reason, for zoo.data's skip report
    return err


def wav_info(path: os.PathLike | str) -> WavInfo:
    """Parse a WAV header only (cheap); raise `DataError` naming the file if it is not usable.

    A data chunk that claims more bytes than the file holds (a truncated or
    streamed file) is read up to the end of the file.

    Example:
        >>> import tempfile, numpy as np
        >>> p = tempfile.mkdtemp() + "/s.wav"; write_wav(p, np.zeros((800, 2)), 8000, sample_width=1)
        >>> wav_info(p).channels, wav_info(p).sample_rate, wav_info(p).n_frames
        (2, 8000, 800)
    """
    try:
        with open(path, "rb") as f:
            return _parse_header(f, os.path.getsize(path), path)
    except OSError as exc:
        raise _bad(path, exc.strerror or str(exc)) from None


def _parse_header(f: Any, size: int, path: os.PathLike | str) -> WavInfo:
    """`wav_info` on an open binary file of ``size`` bytes (a file on disk or `io.BytesIO`)."""
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX", b"RF64") or head[8:12] != b"WAVE":
        raise _bad(path, "not a RIFF/WAVE file (bad header); convert it to .wav (PCM) first")
    if head[:4] != b"RIFF":
        raise _bad(path, f"{head[:4].decode()} WAV files are not supported; re-save as a standard PCM WAV")
    fmt = None
    data = None
    pos = 12
    while pos + 8 <= size and (fmt is None or data is None):
        f.seek(pos)
        cid, csize = struct.unpack("<4sI", f.read(8))
        if cid == b"fmt ":
            fmt = f.read(min(csize, 40))
        elif cid == b"data":
            data = (pos + 8, min(csize, size - pos - 8))
        pos += 8 + csize + (csize & 1)
    if fmt is None or len(fmt) < 16:
        raise _bad(path, "no 'fmt ' chunk; the file is damaged")
    if data is None:
        raise _bad(path, "no 'data' chunk; the file is damaged or truncated")
    tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    if tag not in (_PCM, _FLOAT):
        name = _FORMAT_NAMES.get(tag, "compressed")
        raise _bad(path, f"unsupported encoding {name} (format tag 0x{tag:04x}); convert it to PCM WAV")
    if channels < 1 or rate < 1:
        raise _bad(path, f"bad header: {channels} channels at {rate} Hz")
    width = block_align // channels if block_align and block_align % channels == 0 else (bits + 7) // 8
    ok = {_PCM: (1, 2, 3, 4), _FLOAT: (4, 8)}[tag]
    if width not in ok:
        kind = "PCM" if tag == _PCM else "float"
        raise _bad(path, f"unsupported {kind} sample width {width * 8} bits (supported: {[w * 8 for w in ok]})")
    n_frames = data[1] // (width * channels)
    if n_frames == 0:
        raise _bad(path, "contains no audio samples")
    return WavInfo(rate, channels, width, "int" if tag == _PCM else "float", n_frames, data[0], data[1])


def _decode(raw: bytes, info: WavInfo, path: str | os.PathLike = "?") -> np.ndarray:
    n = info.n_frames * info.channels
    w = info.sample_width
    raw = raw[: n * w]
    if info.encoding == "float":
        x = np.frombuffer(raw, "<f4" if w == 4 else "<f8").astype(np.float32)
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            from zoo.data._files import DataWarning  # late: datafiles imports this module

            warnings.warn(f"{path}: {bad} NaN/Inf samples replaced (NaN -> 0, Inf -> +-1); check the recording",
                          DataWarning, stacklevel=3)
            x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    elif w == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif w == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif w == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = ((b[:, 2] << 24) | (b[:, 1] << 16) | (b[:, 0] << 8)) >> 8  # sign-extend 24 -> 32 bits
        x = v.astype(np.float32) / 8388608.0
    else:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    return x.reshape(-1, info.channels)


def read_wav(path: os.PathLike | str, sample_rate: int = 16000) -> np.ndarray:
    """Read a WAV file as mono float32 in [-1, 1] at ``sample_rate`` Hz (channels averaged).

    Accepts PCM 8/16/24/32-bit integer and 32/64-bit float WAV (also WAVE_FORMAT_EXTENSIBLE)
    at any rate and channel count. Raises `DataError` naming the file when it cannot be read.

    Example:
        >>> import tempfile, numpy as np
        >>> p = tempfile.mkdtemp() + "/a.wav"; write_wav(p, np.full((8000, 2), 0.25), 8000)
        >>> x = read_wav(p); x.shape, round(float(x[4000]), 3)
        ((16000,), 0.25)
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ConfigurationError(f"sample_rate must be a positive integer number of Hz, got {sample_rate!r}")
    info = wav_info(path)
    try:
        with open(path, "rb") as f:
            f.seek(info.data_offset)
            raw = f.read(info.data_bytes)
    except OSError as exc:
        raise _bad(path, exc.strerror or str(exc)) from None
    return _mono(raw, info, path, sample_rate)


def read_wav_bytes(data: bytes, sample_rate: int = 16000, *, name: str = "<bytes>") -> np.ndarray:
    """`read_wav` on the bytes of a WAV file (read from anywhere: a bucket, an archive); ``name``
    is the file named in errors and warnings.

    Example:
        >>> import io, tempfile, numpy as np
        >>> p = tempfile.mkdtemp() + "/b.wav"; write_wav(p, np.full(8000, 0.5), 16000)
        >>> read_wav_bytes(open(p, "rb").read()).shape
        (8000,)
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ConfigurationError(f"sample_rate must be a positive integer number of Hz, got {sample_rate!r}")
    info = _parse_header(io.BytesIO(data), len(data), name)
    return _mono(data[info.data_offset:info.data_offset + info.data_bytes], info, name, sample_rate)


def _mono(raw: bytes, info: WavInfo, path: os.PathLike | str, sample_rate: int) -> np.ndarray:
    x = _decode(raw, info, path).mean(axis=1, dtype=np.float32)
    x = resample(x, info.sample_rate, sample_rate)
    return np.clip(x, -1.0, 1.0).astype(np.float32, copy=False)


@functools.lru_cache(maxsize=16)
def _filter_bank(up: int, down: int, zeros: int, rolloff: float, beta: float) -> tuple[np.ndarray, int]:
    """Kaiser-windowed sinc taps for each of the ``up`` fractional phases: shape [up, 2*half]."""
    cutoff = min(1.0, up / down) * rolloff
    half = int(math.ceil(zeros / cutoff))
    k = np.arange(-half + 1, half + 1, dtype=np.float64)  # tap offsets relative to floor(t)
    frac = np.arange(up, dtype=np.float64)[:, None] / up
    d = k[None, :] - frac  # distance of each tap from the exact input position
    window = np.i0(beta * np.sqrt(np.clip(1.0 - (d / half) ** 2, 0.0, None))) / np.i0(beta)
    taps = cutoff * np.sinc(cutoff * d) * window
    taps = taps.astype(np.float32)
    taps.setflags(write=False)
    return taps, half


def resample(x: np.ndarray, orig_sr: int, target_sr: int, *, zeros: int = 16) -> np.ndarray:
    """Band-limited resampling of a 1-D signal from ``orig_sr`` to ``target_sr`` Hz.

    Kaiser-windowed sinc with ``zeros`` zero crossings each side; the output has
    ``round(len(x) * target_sr / orig_sr)`` samples, so durations are kept.

    Example:
        >>> resample(np.ones(441, np.float32), 44100, 16000).shape
        (160,)
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if orig_sr == target_sr:
        return x.copy()
    g = math.gcd(int(orig_sr), int(target_sr))
    up, down = target_sr // g, orig_sr // g
    n_out = (len(x) * target_sr + orig_sr // 2) // orig_sr
    if n_out == 0 or len(x) == 0:
        return np.zeros(n_out, np.float32)
    bank, half = _filter_bank(up, down, zeros, 0.945, 8.6)
    xp = np.pad(x, (half, 2 * half + 1))
    offsets = np.arange(2 * half)[None, :] + 1  # xp index of tap k = floor(t) + k + half
    out = np.empty(n_out, np.float32)
    step = max(1, 1_500_000 // (2 * half))  # bound temporary memory to ~12 MB
    for start in range(0, n_out, step):
        n = np.arange(start, min(n_out, start + step), dtype=np.int64) * down
        base, phase = n // up, n % up
        out[start : start + len(n)] = np.einsum("ij,ij->i", xp[base[:, None] + offsets], bank[phase])
    return out


def write_wav(path: os.PathLike | str, samples: np.ndarray, sample_rate: int, *, sample_width: int = 2) -> None:
    """Write float samples in [-1, 1] (shape [T] or [T, channels]) as integer PCM WAV.

    ``sample_width`` is bytes per sample: 1 (8-bit unsigned), 2, 3 or 4 (signed).

    Example:
        >>> import tempfile
        >>> p = tempfile.mkdtemp() + "/z.wav"; write_wav(p, np.zeros(160), 16000, sample_width=3)
        >>> wav_info(p).sample_width
        3
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] < 1:
        raise DataError(f"write_wav: samples must have shape [T] or [T, channels], got {x.shape}")
    x = np.clip(x, -1.0, 1.0)
    if sample_width == 1:
        raw = np.clip(np.round(x * 127.0 + 128.0), 0, 255).astype(np.uint8).tobytes()
    elif sample_width in (2, 3, 4):
        scale = float(2 ** (8 * sample_width - 1))
        v = np.clip(np.round(x * scale), -scale, scale - 1).astype("<i4")
        if sample_width == 2:
            raw = v.astype("<i2").tobytes()
        elif sample_width == 4:
            raw = v.tobytes()
        else:
            raw = v.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raise DataError(f"write_wav: sample_width must be 1, 2, 3 or 4 bytes, got {sample_width!r}")
    with wave.open(os.fspath(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(sample_width)
        w.setframerate(int(sample_rate))
        w.writeframes(raw)
