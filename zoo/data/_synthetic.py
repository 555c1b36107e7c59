"""Small, learnable demo datasets written to disk: `make_synthetic_folder`.

Used by the examples, the starters and the tests: every modality, a few files per
class, with the variety real folders have (image sizes and formats, WAV sample
rates, channel counts and bit depths). Re-exported by `zoo.data`.

Example:
    >>> import tempfile
    >>> root = make_synthetic_folder(tempfile.mkdtemp(), "text", n_per_class=2, classes=("x", "y"))
    >>> sorted(p.name for p in (root / "x").iterdir())
    ['x_000.txt', 'x_001.txt']
"""

from __future__ import annotations

import colorsys
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from zoo.data._audio_io import write_wav
from zoo.data._dataset import _check_modality, _positive_int

__all__ = ["make_synthetic_folder"]

_WORDS = (("sunny", "bright", "warm", "cheerful", "golden"), ("rainy", "cold", "grey", "gloomy", "wet"),
          ("engine", "wheel", "road", "fast", "garage"), ("kitten", "puppy", "fur", "paw", "playful"),
          ("violin", "melody", "concert", "piano", "rhythm"), ("forest", "river", "mountain", "tree", "valley"))
_AUDIO_FORMATS = ((16000, 1, 2), (44100, 2, 2), (8000, 1, 1), (22050, 2, 3), (48000, 1, 4))


def _write_image(stem: Path, rng: np.random.Generator, c: int, j: int, n_classes: int) -> None:
    h, w = (int(v) for v in rng.integers(16, 49, size=2))
    colour = np.array(colorsys.hsv_to_rgb(c / max(1, n_classes), 0.8, 0.9)) * 255
    img = colour * rng.uniform(0.85, 1.0) + rng.normal(0, 8, (h, w, 3))
    s = max(2, min(h, w) // 3)
    y0, x0 = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
    img[y0:y0 + s, x0:x0 + s] = 255 - colour
    img = np.clip(img, 0, 255).astype(np.uint8)
    jpeg = j % 3 == 2
    data = tf.io.encode_jpeg(img, quality=95) if jpeg else tf.io.encode_png(img)
    stem.with_suffix(".jpg" if jpeg else ".png").write_bytes(data.numpy())


def _write_text(stem: Path, rng: np.random.Generator, c: int, j: int, n_classes: int) -> None:
    words = [f"{w}{c // len(_WORDS) or ''}" for w in _WORDS[c % len(_WORDS)]]
    a, b = rng.choice(words, size=2, replace=False)
    opener = rng.choice(["Today", "I think", "The story is", "Everyone said it was", "Honestly"])
    stem.with_suffix(".txt").write_text(f"{opener} {a} and {b}, really {rng.choice(words)}.\n", "utf-8")


def _write_audio(stem: Path, rng: np.random.Generator, c: int, j: int, n_classes: int) -> None:
    sr, channels, width = _AUDIO_FORMATS[(c + j) % len(_AUDIO_FORMATS)]
    t = np.arange(int(sr * (0.5 + 0.4 * (j % 3)))) / sr
    tone = rng.uniform(0.3, 0.6) * np.sin(2 * np.pi * 220 * 2 ** (c / 2) * t + rng.uniform(0, 6.3))
    wav = tone[:, None] + rng.normal(0, 0.01, (len(t), channels))
    write_wav(stem.with_suffix(".wav"), wav, sr, sample_width=width)


_WRITERS = {"vision": _write_image, "text": _write_text, "audio": _write_audio}


def make_synthetic_folder(root: str | os.PathLike, modality: str, *, n_per_class: int = 8,
                          classes: Sequence[str] = ("a", "b", "c"), seed: int = 0) -> Path:
    """Write a small, learnable ``root/<class>/<file>`` dataset and return ``root`` as a Path.

    vision: PNG/JPEG images (16-48 px, varied sizes) with one background colour per class
    and a random square; text: templated sentences with class-specific words; audio:
    WAV tones with one frequency per class at varied rates (8-48 kHz), channel counts and
    bit depths (8/16/24/32-bit), 0.5-1.3 s long.

    Example:
        >>> import tempfile
        >>> root = make_synthetic_folder(tempfile.mkdtemp(), "audio", n_per_class=2, classes=("lo", "hi"))
        >>> sorted(p.name for p in root.iterdir())
        ['hi', 'lo']
    """
    modality = _check_modality(modality)
    n_per_class = _positive_int(n_per_class, "n_per_class")
    rng = np.random.default_rng(seed)
    root = Path(root)
    for c, name in enumerate(classes):
        folder = root / str(name)
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(n_per_class):
            stem = folder / f"{name}_{j:03d}"
            _WRITERS[modality](stem, rng, c, j, len(classes))
    return root
