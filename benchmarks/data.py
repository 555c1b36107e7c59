"""Deterministic synthetic data with a learnable signal (NumPy only).

The backbones have random weights, so the labels must be recoverable from
random-weight features: image classes are a brightness level, text labels
are carried by sentiment words, audio classes by a tone's frequency.

Example:
    >>> x, y = images(8, seed=0)
    >>> x.shape, x.dtype, set(y.tolist()) <= {0, 1, 2, 3}
    ((8, 224, 224, 3), dtype('uint8'), True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["images", "texts", "waveforms", "IMAGE_CLASSES", "AUDIO_CLASSES"]

IMAGE_CLASSES = 4
AUDIO_CLASSES = 4


def images(n: int, size: int = 224, *, seed: int = 0, classes: int = IMAGE_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """``n`` RGB uint8 images ``[n, size, size, 3]`` (0-255). The class is the overall
    brightness level (jittered), under a random-colour low-frequency texture and
    pixel noise. Random-weight conv nets are chaotic (tiny input changes move the
    features), but a global brightness shift survives them: the task is learnable."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, classes, n).astype(np.int64)
    x = np.empty((n, size, size, 3), np.uint8)
    cells = 7
    rep = -(-size // cells)
    step = 0.6 / max(classes - 1, 1)
    for i in range(n):
        level = 0.2 + step * y[i] + rng.normal(0, 0.04)
        texture = np.repeat(np.repeat(rng.rand(cells, cells, 3).astype(np.float32), rep, 0), rep, 1)[:size, :size]
        tint = rng.uniform(-0.08, 0.08, 3).astype(np.float32)
        img = level + tint + 0.3 * (texture - 0.5) + rng.normal(0, 0.05, (size, size, 3)).astype(np.float32)
        x[i] = np.clip(img * 255.0, 0, 255).astype(np.uint8)
    return x, y


_COMMON = """the a film movie story plot actor actors acting scene scenes director music ending cast camera it was is
and but of to in with this that for on as at by an be has have had not very really quite rather so too just
character characters performance script minutes time first second old new people life world family house night
""".split()
_POSITIVE = "wonderful excellent brilliant amazing great superb moving beautiful delightful enjoyable".split()
_NEGATIVE = "terrible awful boring dull poor horrible disappointing tedious weak mediocre".split()


def texts(n: int, *, seed: int = 0, min_words: int = 60, max_words: int = 220) -> tuple[list[str], np.ndarray]:
    """``n`` review-like English strings (IMDB-like lengths, mostly past 128 tokens)
    and binary labels (1 = positive wording)."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n).astype(np.float32)
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    out = []
    for i in range(n):
        k = rng.randint(min_words, max_words + 1)
        words = list(rng.choice(_COMMON, k))
        polar = _POSITIVE if y[i] else _NEGATIVE
        for j in rng.choice(k, max(2, k // 12), replace=False):
            words[j] = rng.choice(polar)
        for j in rng.choice(k, max(1, k // 10), replace=False):  # rarer words: split into word pieces
            words[j] = "".join(rng.choice(list(consonants)) + rng.choice(list(vowels)) for _ in range(rng.randint(2, 5)))
        text = " ".join(words)
        out.append(text[0].upper() + text[1:] + ".")
    return out, y


def waveforms(n: int, seconds: float = 1.0, *, seed: int = 0, sample_rate: int = 16000,
              classes: int = AUDIO_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """``n`` mono float32 clips ``[n, seconds * sample_rate]`` in [-1, 1]: noise plus a class tone."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, classes, n).astype(np.int64)
    t = np.arange(int(seconds * sample_rate), dtype=np.float32) / sample_rate
    freqs = 220.0 * 2.0 ** (np.arange(classes) * 0.75)
    x = rng.normal(0, 0.05, (n, t.size)).astype(np.float32)
    x += 0.3 * np.sin(2 * np.pi * freqs[y][:, None] * t[None] + rng.uniform(0, 6.3, (n, 1))).astype(np.float32)
    return np.clip(x, -1.0, 1.0), y
