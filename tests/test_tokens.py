"""Token classification: words aligned to their first word piece, masked loss, entity-level F1, CoNLL files."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.errors import ConfigurationError, DataError

TAGS = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
NAMES = {"PER": ["john smith", "mary", "peter brown", "anna", "david lee", "sara"],
         "LOC": ["paris", "london", "new york", "berlin", "rome", "tokyo"],
         "ORG": ["acme", "globex corp", "initech", "umbrella inc"]}
TEMPLATES = ["{PER} visited {LOC} last year", "yesterday {PER} joined {ORG} in {LOC}", "{ORG} hired {PER}",
             "the man from {LOC} met {PER}", "{PER} works for {ORG}"]


def templated(n: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """Sentences with PER / LOC / ORG entities of one to two words, and their IOB2 tags."""
    r = random.Random(seed)
    texts, tags = [], []
    for _ in range(n):
        words, wtags = [], []
        for token in r.choice(TEMPLATES).split():
            if token.startswith("{"):
                kind = token[1:-1]
                entity = r.choice(NAMES[kind]).split()
                words += entity
                wtags += [f"B-{kind}"] + [f"I-{kind}"] * (len(entity) - 1)
            else:
                words.append(token), wtags.append("O")
        texts.append(" ".join(words)), tags.append(wtags)
    return texts, tags


def label_ids(tags: list[list[str]], max_words: int = 16) -> np.ndarray:
    y = np.full((len(tags), max_words), -1, np.int32)
    for i, t in enumerate(tags):
        y[i, :len(t)] = [TAGS.index(x) for x in t]
    return y


def test_ner_on_templated_sentences_reaches_entity_f1_0_9(tiny_bert):
    x, tags = templated(300, 0)
    xt, tt = templated(100, 1)
    model = zoo.build(tiny_bert, task="token_classification", num_classes=len(TAGS), class_names=TAGS,
                      max_words=16, freeze="full", learning_rate=2e-3, dropout=0.0)
    assert model.output_shape == (None, 16, len(TAGS))
    assert zoo.data.entity_scores(tt, zoo.tag_words(model, xt))["f1"] < 0.5  # untrained
    zoo.fit(model, (x, label_ids(tags)), epochs=20, batch_size=32, verbose=0)
    scores = zoo.data.entity_scores(tt, zoo.tag_words(model, xt))
    assert scores["f1"] >= 0.9, scores
    assert set(scores["per_type"]) == {"PER", "LOC", "ORG"}


def test_each_word_gets_its_first_word_piece(tiny_bert):
    bb = zoo.load_backbone(tiny_bert)
    pre = bb._pair_pack
    text = "zebra went to the city"  # "zebra" is not a vocabulary word: several pieces
    pieces = [len(pre.tokenize(np.array([w], object)).merge_dims(1, 2)[0]) for w in text.split()]
    assert pieces[0] > 1 and pieces[1:] == [1, 1, 1, 1]
    feats, valid = bb.contract.word_features(bb, np.array([text], object), max_words=7)
    seq = bb.module(pre.bert_pack_inputs([pre.tokenize(np.array([text], object))], seq_length=bb.seq_length))
    seq = seq["sequence_output"].numpy()[0]
    first = 1 + np.concatenate([[0], np.cumsum(pieces)[:-1]])  # after [CLS]
    np.testing.assert_allclose(feats.numpy()[0, :5], seq[first], rtol=1e-5, atol=1e-6)
    assert valid.numpy()[0].tolist() == [True] * 5 + [False] * 2 and not feats.numpy()[0, 5:].any()


def test_the_loss_skips_the_padding_labels():
    from zoo.models._tokens import MaskedTokenLoss

    probs = np.full((1, 3, 2), 0.5, np.float32)
    probs[0, 0] = [0.9, 0.1]
    loss = MaskedTokenLoss()(np.array([[0, -1, -1]]), probs)
    assert float(loss) == pytest.approx(-np.log(0.9), rel=1e-5)


def test_token_classification_needs_a_bert_style_encoder():
    install("use")
    with pytest.raises(ConfigurationError, match="BERT-style"):
        zoo.build("use", task="token_classification", num_classes=3)


def test_tag_words_warns_about_words_past_max_words(tiny_bert):
    model = zoo.build(tiny_bert, task="token_classification", num_classes=len(TAGS), class_names=TAGS, max_words=4)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tags = zoo.tag_words(model, ["one two three four five six"])
    assert len(tags[0]) == 6 and tags[0][4:] == ["O", "O"]
    assert any("max_words=4" in str(w.message) for w in seen)


def test_entity_scores_follow_the_conll_definition():
    score = zoo.data.entity_scores
    assert score([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])["f1"] == 1.0
    assert score([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["f1"] == 0.0  # a partial span is wrong
    assert score([["B-PER", "O"]], [["B-LOC", "O"]])["f1"] == 0.0  # the type must match
    # a stray I- starts an entity (conlleval), here a correct one
    assert score([["O", "B-LOC"]], [["O", "I-LOC"]])["f1"] == 1.0
    s = score([["B-PER", "O", "B-LOC", "B-ORG"]], [["B-PER", "O", "O", "B-ORG"]])
    assert (s["precision"], round(s["recall"], 4)) == (1.0, 0.6667)
    assert s["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_from_conll_reads_sentences_pads_labels_and_names_broken_lines(tmp_path):
    good = tmp_path / "train.txt"
    good.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
                    "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n", encoding="utf-8")
    ds = zoo.data.from_conll(good, max_words=5, batch_size=8)
    assert ds.class_names == ["O", "B-MISC", "B-ORG", "B-PER", "I-PER"]
    x, y = next(iter(ds.train))
    rows = {t.decode(): r.tolist() for t, r in zip(x.numpy(), y.numpy())}
    assert rows["EU rejects German"] == [2, 0, 1, -1, -1]
    assert rows["Peter Blackburn"] == [3, 4, -1, -1, -1]
    bad = tmp_path / "bad.txt"
    bad.write_text("EU B-ORG\nrejects O\n\nPeter O\nBlackburn I-PER\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 4 word 2: I-PER follows O; in IOB2 an entity starts with B-PER"):
        zoo.data.from_conll(bad)
    notag = tmp_path / "notag.txt"
    notag.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2: 'rejects' has no tag column"):
        zoo.data.from_conll(notag)
    with pytest.raises(DataError, match="pass max_words=3 or more"):
        zoo.data.from_conll(good, max_words=2)


def test_export_serves_words_and_tags_like_tag_words(tiny_bert, tmp_path):
    from zoo.export import load_model, read_export_meta, save_model, tag_texts, verify_export

    x, tags = templated(64, 0)
    model = zoo.build(tiny_bert, task="token_classification", num_classes=len(TAGS), class_names=TAGS, max_words=16,
                      learning_rate=2e-3)
    zoo.fit(model, (x, label_ids(tags)), epochs=2, batch_size=32, verbose=0)
    path = save_model(model, tmp_path / "ner", spec=tiny_bert, class_names=TAGS)
    meta = read_export_meta(path)
    assert (meta["task"], meta["max_words"]) == ("token_classification", 16)
    assert set(verify_export(path)["outputs"]) == {"scores", "tags", "words", "num_words"}
    texts = x[:6] + [" ".join(["word"] * 20)]  # the last one is longer than max_words
    rows = tag_texts(load_model(path).signatures["serving_default"], texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = zoo.tag_words(model, texts)
    assert [t for _, t in rows] == want and [w for w, _ in rows] == [t.split() for t in texts]
    spaced = x[0].replace(" ", "\u00a0", 1)  # a no-break space: still a word boundary, on both sides
    assert zoo.tag_words(model, [spaced]) == zoo.tag_words(model, [x[0]])
    assert tag_texts(load_model(path).signatures["serving_default"], [spaced])[0][1] == want[0]


@pytest.mark.slow
def test_cli_trains_predicts_entities_and_evaluates_entity_f1(tmp_path, capsys):
    import json

    from zoo.cli import main

    install("bert_small")
    for name, n, seed in (("train.conll", 48, 0), ("test.conll", 16, 1)):
        x, tags = templated(n, seed)
        (tmp_path / name).write_text("".join("".join(f"{w} {g}\n" for w, g in zip(s.split(), t)) + "\n"
                                             for s, t in zip(x, tags)), encoding="utf-8")
    run = tmp_path / "ner"
    assert main(["train", "bert_small", "--task", "token_classification", "--data", str(tmp_path / "train.conll"),
                 "--epochs", "1", "--out", str(run)]) == 0
    assert "entities" in json.loads((run / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["predict", str(run), "john smith visited paris", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)[0]
    assert out["words"] == ["john", "smith", "visited", "paris"] and len(out["tags"]) == 4
    assert all(set(e) == {"text", "type", "start", "end"} for e in out["entities"])
    assert main(["evaluate", str(run), "--data", str(tmp_path / "test.conll"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"precision", "recall", "f1", "per_type"} <= set(report) and report["n_sentences"] == 16
    # a test file with fewer tag kinds is read with the model's tags: the same sentences, the same scores
    only_per = tmp_path / "per.conll"
    only_per.write_text("mary O\nvisited O\n\njohn B-PER\nsmith I-PER\n\n", encoding="utf-8")
    assert main(["evaluate", str(run), "--data", str(only_per), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["per_type"]) <= {"PER", "LOC", "ORG"}
    strange = tmp_path / "misc.conll"
    strange.write_text("EU B-MISC\n\n", encoding="utf-8")
    assert main(["evaluate", str(run), "--data", str(strange)]) == 2
    assert "B-MISC" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "tflite", "--out", str(tmp_path / "m.tflite")]) == 2
    assert "tags every word" in capsys.readouterr().err
