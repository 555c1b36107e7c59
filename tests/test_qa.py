"""Extractive question answering: question + context packed as a pair, start/end over the context's words,
n-best span decoding, windows over long contexts, the SQuAD loader and SQuAD's exact match / F1."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.errors import ConfigurationError, DataError

PEOPLE = ["man", "boy", "mother", "father", "children", "people", "girl"]
PLACES = ["house", "city", "school", "tree", "water", "home", "land", "world"]
THINGS = ["food", "paper", "letter", "picture", "book", "plant"]
TEMPLATES = ["the {P} took the {T} to the {L} .", "to the {L} the {P} took the {T} .",
             "the {T} went with the {P} to the {L} .", "at the {L} the {T} was found by the {P} ."]
ASK = {"P": "who", "T": "what", "L": "where"}


def generated(n: int, seed: int) -> tuple[dict, np.ndarray, list[str]]:
    """(inputs, [start, end] labels, answers): the question asks who / what / where, the context holds one of
    each in a varying order, so the answer's place depends on the question and on the template."""
    r = random.Random(seed)
    questions, contexts, labels, answers = [], [], [], []
    for _ in range(n):
        fill = {"P": r.choice(PEOPLE), "T": r.choice(THINGS), "L": r.choice(PLACES)}
        slots = r.choice(TEMPLATES).split()
        ask = r.choice("PTL")
        pos = [w == "{" + ask + "}" for w in slots].index(True)
        questions.append(f"{ASK[ask]} is it ?")
        contexts.append(" ".join(fill[w[1]] if w.startswith("{") else w for w in slots))
        labels.append((pos, pos)), answers.append(fill[ask])
    return {"question": questions, "context": contexts}, np.array(labels, np.int32), answers


def test_qa_finds_the_answer_span_in_generated_contexts(tiny_bert):
    x, y, _ = generated(1000, 0)
    xt, _, answers = generated(100, 1)
    model = zoo.build(tiny_bert, task="question_answering", max_words=24, freeze="full", learning_rate=2e-3,
                      dropout=0.0)
    assert model.output_shape == (None, 25, 2)  # 24 words and "no answer"
    before = zoo.answer(model, xt["question"], xt["context"])
    gold = {str(i): [a] for i, a in enumerate(answers)}
    assert zoo.data.squad_scores({str(i): r["answer"] for i, r in enumerate(before)}, gold)["exact_match"] < 0.6
    zoo.fit(model, (x, y), epochs=20, batch_size=32, verbose=0)
    after = zoo.answer(model, xt["question"], xt["context"])
    scores = zoo.data.squad_scores({str(i): r["answer"] for i, r in enumerate(after)}, gold)
    assert scores["exact_match"] >= 0.8, scores
    # a long context runs as windows: the answer past the first window is found at its place in the context
    long_context = " ".join(["the"] * 30) + " " + xt["context"][0]
    far = zoo.answer(model, [xt["question"][0]], [long_context], stride=8)[0]
    assert far["answer"] == after[0]["answer"] and far["start"] == after[0]["start"] + 30


MISSING = {"L": ["the {P} took the {T} .", "the {T} went with the {P} ."],  # templates without the asked slot
           "P": ["the {T} went to the {L} .", "at the {L} the {T} was found ."],
           "T": ["the {P} went to the {L} .", "to the {L} the {P} went ."]}


def with_unanswerable(n: int, seed: int, width: int) -> tuple[dict, np.ndarray, list[str]]:
    """`generated`, a third of the questions asking for what the context does not hold ("no answer": label
    ``[width, width]``, answer "")."""
    x, y, answers = generated(n, seed)
    r = random.Random(seed + 1)
    for i in range(0, n, 3):
        ask = r.choice("PTL")
        fill = {"P": r.choice(PEOPLE), "T": r.choice(THINGS), "L": r.choice(PLACES)}
        x["question"][i] = f"{ASK[ask]} is it ?"
        x["context"][i] = " ".join(fill[w[1]] if w.startswith("{") else w for w in r.choice(MISSING[ask]).split())
        y[i], answers[i] = (width, width), ""
    return x, y, answers


def test_qa_answers_nothing_when_the_context_does_not_hold_the_answer(tiny_bert):
    x, y, _ = with_unanswerable(1200, 0, 24)
    xt, _, answers = with_unanswerable(120, 1, 24)
    model = zoo.build(tiny_bert, task="question_answering", max_words=24, freeze="full", learning_rate=2e-3,
                      dropout=0.0)
    zoo.fit(model, (x, y), epochs=20, batch_size=32, verbose=0)
    found = zoo.answer(model, xt["question"], xt["context"])
    gold = {str(i): [a] if a else [] for i, a in enumerate(answers)}
    scores = zoo.data.squad_scores({str(i): r["answer"] for i, r in enumerate(found)}, gold)
    assert scores["without_answer"] == 40
    assert scores["no_answer"]["exact_match"] >= 0.8 and scores["has_answer"]["exact_match"] >= 0.8, scores
    assert all(r["start"] == -1 for r, a in zip(found, answers) if not a and not r["answer"])


def test_best_span_keeps_order_and_length():
    from zoo.models._spans import best_span

    start = np.array([0.05, 0.6, 0.05, 0.3])
    end = np.array([0.7, 0.05, 0.05, 0.2])  # the best end (0) lies before the best start (1)
    assert best_span(start, end, 4)[:2] == (1, 3)  # 0.6 x 0.2 beats 0.3 x 0.2 and any end before its start
    assert best_span(np.array([0.9, 0.1, 0.0]), np.array([0.0, 0.1, 0.9]), 3, max_answer_words=2)[:2] == (0, 1)
    assert best_span(start, end, 2)[:2] == (0, 0)  # only the words that are there: 0.05 x 0.7 beats 0.6 x 0.05


def _squad(tmp_path, paragraphs, version="1.1"):
    path = tmp_path / f"squad{version}.json"
    path.write_text(json.dumps({"version": version, "data": [{"title": "t", "paragraphs": paragraphs}]}))
    return path


def test_from_squad_locates_answers_on_words_and_windows_long_contexts(tmp_path):
    context = "Angela Merkel visited Paris, then Rome in May. " + " ".join(f"w{i}" for i in range(40))
    paras = [{"context": context, "qas": [
        {"id": "a", "question": "Where first?", "answers": [{"text": "Paris", "answer_start": 22}]},
        {"id": "b", "question": "Who?", "answers": [{"text": "Angela Merkel", "answer_start": 0}]},
        {"id": "c", "question": "Where else?", "answers": [{"text": "w30", "answer_start": context.index("w30")}]},
        {"id": "d", "question": "Why?", "answers": [], "is_impossible": True}]}]
    ds = zoo.data.from_squad(_squad(tmp_path, paras, "2.0"), max_words=16, stride=8, batch_size=64)
    x, y = next(iter(ds.train))
    got = {(q.decode(), tuple(int(v) for v in lab)) for q, lab in zip(x["question"].numpy(), y.numpy())}
    assert ("Where first?", (3, 3)) in got and ("Who?", (0, 1)) in got  # "Paris," is the word holding "Paris"
    windows = [(c.decode().split(), lab) for q, c, lab in zip(x["question"].numpy(), x["context"].numpy(), y.numpy())
               if q.decode() == "Where else?" and int(lab[0]) < 16]
    assert windows and all(words[int(lab[0])] == "w30" for words, lab in windows)
    assert ds.summary.class_counts["unanswerable questions"] == 1
    nulls = [q.decode() for q, lab in zip(x["question"].numpy(), y.numpy()) if tuple(lab) == (16, 16)]
    assert "Why?" in nulls and "Where else?" in nulls  # the unanswerable one; a window of a long context without w30
    bad = [{"context": "a b c", "qas": [{"id": "x", "question": "q", "answers": [{"text": "b", "answer_start": 0}]}]}]
    with pytest.raises(DataError, match="question x: answer 'b' is not at character 0"):
        zoo.data.from_squad(_squad(tmp_path, bad))


def test_squad_scores_are_squads_exact_match_and_f1():
    scores = zoo.data.squad_scores({"1": "the Denver Broncos", "2": "Carolina", "3": "Santa Clara, California"},
                                   {"1": ["Denver Broncos"], "2": ["Carolina Panthers"],
                                    "3": ["Levi's Stadium", "Santa Clara"]})
    assert scores["exact_match"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx((1.0 + 2 / 3 + 0.8) / 3)  # "Carolina": P 1, R 1/2; 2 of 3 words: P 2/3, R 1
    # SQuAD v1.1's script: no common word is F1 0, also when both normalise to nothing; v2.0's script for the
    # unanswerable: right only for an empty prediction
    empty = zoo.data.squad_scores({"1": "the", "2": "x", "3": "the"}, {"1": ["a"], "2": [], "3": []})
    assert (empty["exact_match"], empty["f1"], empty["count"], empty["without_answer"]) == (2 / 3, 1 / 3, 3, 2)
    assert empty["has_answer"] == {"exact_match": 1.0, "f1": 0.0, "count": 1}
    assert empty["no_answer"] == {"exact_match": 0.5, "f1": 0.5, "count": 2}


@pytest.mark.slow
def test_export_answers_like_zoo_answer_and_the_cli_trains_predicts_and_evaluates(tiny_bert, tmp_path, capsys):
    from zoo.cli import main
    from zoo.export import answer_export, load_model, read_export_meta, save_model, verify_export

    install("use")
    with pytest.raises(ConfigurationError, match="BERT-style"):
        zoo.build("use", task="question_answering")
    x, y, answers = generated(200, 0)
    model = zoo.build(tiny_bert, task="question_answering", max_words=12, learning_rate=2e-3)
    zoo.fit(model, (x, y), epochs=2, batch_size=32, verbose=0)
    path = save_model(model, tmp_path / "qa", spec=tiny_bert, class_names=[])
    meta = read_export_meta(path)
    assert (meta["task"], meta["max_words"], meta["task_inputs"]) == ("question_answering", 12, ["question", "context"])
    assert set(verify_export(path)["inputs"]) == {"question", "context"}
    long_context = " ".join(["the"] * 20) + " " + x["context"][0]  # past max_words: windows
    questions, contexts = x["question"][:5] + [x["question"][0]], x["context"][:5] + [long_context]
    got = answer_export(load_model(path).signatures["serving_default"], meta, questions, contexts)
    want = zoo.answer(model, questions, contexts)
    assert [g["answer"] for g in got] == [w["answer"] for w in want]
    np.testing.assert_allclose([g["score"] for g in got], [w["score"] for w in want], rtol=1e-4)
    with pytest.raises(ConfigurationError, match="one context each"):
        zoo.answer(model, ["q1", "q2"], ["only one context"])

    paras = [{"context": c, "qas": [{"id": str(i), "question": q, "answers": [
        {"text": a, "answer_start": len(" ".join(c.split()[:int(s)])) + (1 if s else 0)}]}]}
        for i, (q, c, (s, _), a) in enumerate(zip(x["question"], x["context"], y, answers))]
    data = _squad(tmp_path, paras)
    install("bert_small")
    run = tmp_path / "run"
    assert main(["train", "bert_small", "--task", "question_answering", "--data", str(data), "--epochs", "1",
                 "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), "--question", "who is it ?", "--context", x["context"][0], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answer"] == " ".join(x["context"][0].split()[out["start"]:out["end"] + 1]) and out["answer"]
    assert main(["evaluate", str(run), "--data", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 200 and 0 <= report["exact_match"] <= report["f1"] <= 1
    assert main(["predict", str(run), "a text"]) == 2
    assert "--question" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "tflite", "--out", str(tmp_path / "m.tflite")]) == 2
    assert "answers a question on a context" in capsys.readouterr().err
    long_context = " ".join(["word"] * 80) + " " + x["context"][0]  # longer than any file name: the text itself
    assert main(["predict", str(run), "--question", "who is it ?", "--context", long_context, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)  # (the 1-epoch model's answer: any span of the long context)
    assert 0 <= found["start"] <= found["end"] < 80 + 9 and found["answer"]
