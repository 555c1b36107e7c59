"""``zoo compare`` on REAL pretrained weights and REAL labelled text (the README's "Choosing a backbone").

Backbones: the TF-Hub-format all-MiniLM-L6-v2 pair of `benchmarks.pretrained_bert` (real
sentence-transformers weights) as two user specs, ``minilm_mean`` (mean of
``sequence_output``) and ``minilm_pooled`` (``pooled_output``, whose pooler was never
trained), against ``starter_text`` (zoo's random-weight starter: the floor). Data: the 500
human-rated movie-review sentences of `benchmarks.pretrained_bert.load_sentences` (250 per
label). 5-fold cross-validated logistic-regression probes.

    python -m benchmarks.compare_real        # writes benchmarks/out/compare_real/ and prints the table
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    """Run the comparison; copy the plot to ``docs/compare_real.png``; print the table."""
    import zoo
    from benchmarks.pretrained_bert import load_sentences, make_pretrained_pair
    from benchmarks.real_weights import make_spec

    encoder, preprocessor = make_pretrained_pair()
    specs = [make_spec(encoder, preprocessor, pooling="mean").replace(name="minilm_mean"),
             make_spec(encoder, preprocessor, pooling="output").replace(name="minilm_pooled"), "starter_text"]
    texts, labels = load_sentences("movies", per_class=250, seed=0)
    out = Path("benchmarks/out/compare_real")
    if out.exists():
        shutil.rmtree(out)
    result = zoo.compare(specs, (np.array(texts, dtype=object), np.array(["neg", "pos"])[np.asarray(labels, int)]),
                         folds=5, out=out)
    print(result.table())
    Path("docs").mkdir(exist_ok=True)
    shutil.copy(out / "compare.png", "docs/compare_real.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
