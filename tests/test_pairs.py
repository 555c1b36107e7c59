"""Sentence pairs: pair_classification / pair_regression, packed for BERT-style encoders, [u, v, |u-v|, u*v]
for sentence encoders; the pairs CSV loader; exports serving two string tensors.

The rule learned is a relation between the two texts that neither text shows alone: a pair is
a contradiction when exactly one of the two sentences says "not" (each text on its own is
uninformative: every sentence occurs with both labels equally often).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.errors import ConfigurationError, DataError, InputError

SUBJECTS = ["man", "boy", "mother", "father", "children", "people"]
PLACES = ["house", "city", "school", "tree", "water", "home"]


def negation_pairs(n: int, seed: int) -> tuple[dict, np.ndarray]:
    """(texts, labels): label 1 (entailment) when both or neither sentence says "not", else 0."""
    r = random.Random(seed)
    a, b, y = [], [], []
    for i in range(n):
        s, p = r.choice(SUBJECTS), r.choice(PLACES)
        na, nb = ("not " if i % 2 else ""), ("not " if (i // 2) % 2 else "")
        a.append(f"the {s} is {na}at the {p}")
        b.append(f"the {s} is {nb}near the {p}")
        y.append(int(na == nb))
    return {"text_a": a, "text_b": b}, np.array(y)


def _accuracy(model, x, y) -> float:
    return float((model.predict(x, verbose=0).argmax(-1) == y).mean())


def test_each_text_alone_says_nothing_about_the_label():
    x, y = negation_pairs(256, 0)
    for key in ("text_a", "text_b"):
        negated = np.array(["not" in t for t in x[key]])
        assert y[negated].mean() == pytest.approx(0.5) and y[~negated].mean() == pytest.approx(0.5)


def test_sentence_encoder_pairs_learn_the_relation_from_u_v_diff_product():
    install("use")
    x, y = negation_pairs(256, 0)
    xt, yt = negation_pairs(128, 1)
    model = zoo.build("use", task="pair_classification", num_classes=2, freeze="frozen", dropout=0.0,
                      learning_rate=3e-3)
    assert model.zoo.feature_model.output_shape == (None, 4 * 512)  # [u, v, |u - v|, u * v]
    assert _accuracy(model, xt, yt) < 0.75
    zoo.fit(model, (x, y), epochs=10, batch_size=32, verbose=0)
    assert _accuracy(model, xt, yt) >= 0.9


def test_bert_pairs_are_one_sequence_of_two_segments_and_learn_the_relation(tiny_bert):
    bb = zoo.load_backbone(tiny_bert)
    encoded = bb.contract.encode(bb, [np.array(["the man is home"], object), np.array(["a boy"], object)])
    types, mask = encoded["input_type_ids"].numpy()[0], encoded["input_mask"].numpy()[0]
    n = int(mask.sum())
    assert types[:n].tolist() == [0] * 6 + [1] * (n - 6)  # [CLS] the man is home [SEP] | a boy [SEP]
    x, y = negation_pairs(256, 0)
    xt, yt = negation_pairs(128, 1)
    model = zoo.build(tiny_bert, task="pair_classification", num_classes=2, freeze="full", dropout=0.0,
                      learning_rate=1e-3)
    assert model.zoo.feature_model.output_shape == (None, 32)  # the pooled output of the joint sequence
    zoo.fit(model, (x, y), epochs=10, batch_size=32, verbose=0)
    assert _accuracy(model, xt, yt) >= 0.9


def test_pair_regression_fits_a_similarity_score():
    install("use")
    x, y = negation_pairs(256, 0)
    score = y * 4.0 + 1.0  # STS-like: 5 when the sentences agree, 1 when they contradict
    xt, yt = negation_pairs(128, 1)
    model = zoo.build("use", task="pair_regression", freeze="frozen", dropout=0.0, learning_rate=3e-3)
    zoo.fit(model, (x, score), epochs=15, batch_size=32, verbose=0)
    pred = model.predict(xt, verbose=0)[:, 0]
    assert np.corrcoef(pred, yt)[0, 1] > 0.9


def test_export_serves_two_string_tensors_with_the_model_scores(tmp_path):
    from zoo.export import load_model, predict_scores, read_export_meta, save_model, verify_export

    spec = install("use")
    x, y = negation_pairs(64, 0)
    model = zoo.build("use", task="pair_classification", num_classes=2, class_names=["contradiction", "entailment"])
    zoo.fit(model, (x, y), epochs=1, batch_size=32, verbose=0)
    path = save_model(model, tmp_path / "pairs", spec=spec, class_names=["contradiction", "entailment"])
    meta = read_export_meta(path)
    assert meta["task_inputs"] == ["text_a", "text_b"]
    info = verify_export(path)
    assert set(info["inputs"]) == {"text_a", "text_b"}
    want = model.predict({k: v[:5] for k, v in x.items()}, verbose=0)
    got = predict_scores(load_model(path), meta, list(zip(x["text_a"][:5], x["text_b"][:5])))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_pair_inputs_and_build_errors_name_the_fix():
    install("use")
    model = zoo.build("use", task="pair_classification", num_classes=2)
    with pytest.raises(InputError, match="text_a"):
        model.predict(["only one text"])
    with pytest.raises(InputError, match="one entry per example"):
        model.predict({"text_a": ["a", "b"], "text_b": ["c"]})
    with pytest.raises(ConfigurationError, match="one backbone"):
        zoo.build(["use", "nnlm_en_50"], task="pair_classification", num_classes=2)
    with pytest.raises(ConfigurationError, match="tf_keras"):
        zoo.build("use", task="pair_classification", num_classes=2, keras=3)
    with pytest.raises(ConfigurationError, match="text"):
        zoo.build("starter_cnn", task="pair_classification", num_classes=2)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_from_pairs_csv_finds_the_columns_splits_and_names_bad_rows(tmp_path):
    rows = "".join(f"A{i} sleeps,A{i} is asleep,{'entailment' if i % 2 else 'contradiction'}\n" for i in range(20))
    ds = zoo.data.from_pairs_csv(_write(tmp_path / "snli.csv", "premise,hypothesis,label\n" + rows),
                                 val_split=0.2, batch_size=4)
    assert ds.class_names == ["contradiction", "entailment"]
    assert (ds.summary.n_train, ds.summary.n_val) == (16, 4)
    x, y = next(iter(ds.train))
    assert sorted(x) == ["text_a", "text_b"] and x["text_a"].dtype.name == "string" and y.dtype.name == "int32"
    tsv = zoo.data.from_pairs_csv(_write(tmp_path / "sts.tsv", "s1\ts2\tscore\nx\ty\t3.5\nz\tw\t1\n"),
                                  text_columns=("s1", "s2"), label_column="score", regression=True)
    assert sorted(float(v) for v in next(iter(tsv.train))[1].numpy()) == [1.0, 3.5]
    with pytest.raises(DataError, match="line 3 has an empty text_b"):
        zoo.data.from_pairs_csv(_write(tmp_path / "gap.csv", "text_a,text_b,label\na,b,1\nc,,0\n"))
    with pytest.raises(DataError, match="line 2: label 'high' is not a number"):
        zoo.data.from_pairs_csv(_write(tmp_path / "r.csv", "text_a,text_b,label\na,b,high\n"), regression=True)
    with pytest.raises(DataError, match="which two columns"):
        zoo.data.from_pairs_csv(_write(tmp_path / "one.csv", "text,label\na,1\n"))


@pytest.mark.slow
def test_cli_trains_predicts_and_evaluates_a_pair_model_and_refuses_one_input_paths(tmp_path, capsys):
    import csv
    import json

    from zoo.cli import main

    install("use")
    for name, n, seed in (("train.csv", 256, 0), ("test.csv", 64, 1)):
        x, y = negation_pairs(n, seed)
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["premise", "hypothesis", "label"])
            w.writerows([a, b, ["contradiction", "entailment"][label]] for a, b, label in zip(x["text_a"], x["text_b"], y))
    run = tmp_path / "runs" / "nli"
    assert main(["train", "use", "--task", "pair_classification", "--data", str(tmp_path / "train.csv"),
                 "--epochs", "8", "--learning-rate", "3e-3", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), "the man is at the house", "the man is not near the house",
                 "the boy is at home", "the boy is near home", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["predictions"][0]["label"] for r in out] == ["contradiction", "entailment"]
    assert out[0]["input"] == "the man is at the house | the man is not near the house"
    assert main(["evaluate", str(run), "--data", str(tmp_path / "test.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] >= 0.9
    assert main(["predict", str(run), "only one text"]) == 2
    assert "2 texts per example" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "tflite", "--out", str(tmp_path / "m.tflite")]) == 2
    assert "TFLite export feeds one input per example" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()
