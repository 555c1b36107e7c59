"""A wider text student for the distillation benchmark: ``starter_text`` with 32,768 hash buckets per table.

``starter_text`` hashes words and word bigrams into 4,096 buckets each, so on a real vocabulary
(Rotten Tomatoes: some 18,000 words) about four words share every vector. This student has
8x the buckets: 4.2 M parameters, 5.4x fewer than the MiniLM teacher (22.7 M), the ratio the
distillation target of the compression issue names. It is registered the way a user adds
an entry (a registry TOML naming this module as its ``builder``), with the starter's family,
so the text contract and ``--freeze full`` treat it as they treat ``starter_text``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

BUCKETS = 32768


# the builders of this module and what their description adds
_STARTS = {"build": "", "build_from_teacher": " and the teacher's word embeddings"}


def registry_entry(name: str, handle: Path, builder: str = "build") -> str:
    """The TOML of the student's registry entry (``handle``: where ``builder`` of this module writes it)."""
    return (f'[{name}]\nmodality = "text"\nfamily = "starter_text"\nhandle = "{handle}"\n'
            f'builder = "benchmarks.wide_student:{builder}"\noutput_dim = 64\npretrained = false\n'
            f'block_pattern = "block_(\\\\d+)/"\nblocks = 4\n'
            f'description = "starter_text with {BUCKETS} hash buckets per table{_STARTS[builder]} '
            f'(benchmarks.wide_student)"\n')


def _save(spec, start: Callable[[Any], None] | None = None) -> Path:
    """Write the wide student's module at ``spec.handle`` (kept if already there); ``start`` may set its weights."""
    import tensorflow as tf

    from zoo.models._starters import _text_class

    target = Path(spec.handle)
    if (target / "saved_model.pb").exists():
        return target

    class WideStarterText(_text_class()):
        buckets = BUCKETS

    module = WideStarterText(spec, 1234)
    if start is not None:
        start(module)
    target.parent.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(module, str(target))
    return target


def build(spec) -> Path:
    """Write the wide student's module at ``spec.handle`` (random weights, as the starters have)."""
    return _save(spec)


def teacher_word_vectors(encoder_dir: str | Path, dim: int) -> tuple[list[str], "Any"]:
    """The teacher's whole-word WordPiece embeddings, reduced to ``dim`` by PCA: ``(words, vectors [N, dim])``.

    Read from the teacher's own TF Hub encoder (its ``word_embeddings`` variable and ``assets/vocab.txt``);
    only whole words (no ``##`` pieces, no ``[...]`` specials) are kept. The reduced vectors are scaled
    to unit variance per dimension, the scale of the starter's random rows.
    """
    import numpy as np
    import tensorflow as tf

    encoder = tf.saved_model.load(str(encoder_dir))
    table = [v for v in encoder.variables if "word_embeddings" in v.name]
    if len(table) != 1:
        raise ValueError(f"expected one word_embeddings variable in {encoder_dir}, found {[v.name for v in table]}")
    emb = table[0].numpy().astype(np.float64)
    vocab = (Path(encoder_dir) / "assets" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    keep = [i for i, w in enumerate(vocab) if not w.startswith("##") and not (w.startswith("[") and w.endswith("]"))]
    x = emb[keep] - emb[keep].mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    z = x @ vt[:dim].T
    return [vocab[i] for i in keep], (z / z.std(axis=0)).astype(np.float32)


def _teacher_words(module: Any) -> None:
    """Put every teacher word's reduced embedding in the word-table row its hash selects (sharers average)."""
    import numpy as np
    import tensorflow as tf

    from benchmarks.pretrained_bert import make_pretrained_pair

    encoder_dir, _ = make_pretrained_pair(verbose=False)
    words, vectors = teacher_word_vectors(encoder_dir, module.embed)
    rows = tf.strings.to_hash_bucket_fast(tf.constant(words), BUCKETS).numpy()
    table = module.words.numpy()
    sums, counts = np.zeros_like(table), np.zeros(BUCKETS)
    np.add.at(sums, rows, vectors)
    np.add.at(counts, rows, 1)
    hit = counts > 0
    table[hit] = sums[hit] / counts[hit, None]
    module.words.assign(table)


def build_from_teacher(spec) -> Path:
    """The wide student with its word table started from the teacher's word embeddings (PCA to 64).

    Every whole word of the teacher's vocabulary puts its reduced embedding in the row its hash
    selects (words sharing a row average); other rows and the bigram table stay random, as in
    `build`. DistilBERT starts its student from the teacher's weights the same way; here only the
    input embeddings carry over, since the student has no transformer layers.
    """
    return _save(spec, _teacher_words)
