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

BUCKETS = 32768


def registry_entry(name: str, handle: Path) -> str:
    """The TOML of the student's registry entry (``handle``: where the builder writes the module)."""
    return (f'[{name}]\nmodality = "text"\nfamily = "starter_text"\nhandle = "{handle}"\n'
            f'builder = "benchmarks.wide_student:build"\noutput_dim = 64\npretrained = false\n'
            f'block_pattern = "block_(\\\\d+)/"\nblocks = 4\n'
            f'description = "starter_text with {BUCKETS} hash buckets per table (benchmarks.wide_student)"\n')


def build(spec) -> Path:
    """Write the wide student's module at ``spec.handle`` (random weights, as the starters have)."""
    import tensorflow as tf

    from zoo.models._starters import _text_class

    target = Path(spec.handle)
    if (target / "saved_model.pb").exists():
        return target

    class WideStarterText(_text_class()):
        buckets = BUCKETS

    target.parent.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(WideStarterText(spec, 1234), str(target))
    return target
