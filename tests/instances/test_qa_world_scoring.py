"""qa_world scoring against hand-computed values."""

from __future__ import annotations

import pytest

from maestro.contract import Task
from maestro.instances.qa_world.scoring import contains_span, exact_match, judge, normalize_answer, token_f1


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("The  Brashford!", "brashford", id="article-punct"),
        pytest.param("An apple, a pear", "apple pear", id="articles"),
        pytest.param("Saint-Ives", "saint ives", id="hyphen"),
        pytest.param(None, "", id="none"),
    ],
)
def test_normalize(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    "pred, gold, em, f1",
    [
        pytest.param("Brashford", "brashford.", 1.0, 1.0, id="same"),
        pytest.param("the city of Brashford", "Brashford", 0.0, 0.5, id="p1/3-r1"),  # tokens: city of brashford
        pytest.param("Talen Morvik", "Talen Brask", 0.0, 0.5, id="half"),
        pytest.param("Morvik", "Talen Brask", 0.0, 0.0, id="disjoint"),
        pytest.param("", "", 1.0, 1.0, id="both-empty"),
        pytest.param("", "x", 0.0, 0.0, id="pred-empty"),
    ],
)
def test_em_f1(pred, gold, em, f1):
    assert exact_match(pred, gold) == em
    assert token_f1(pred, gold) == pytest.approx(f1)


def test_contains_span_whole_tokens():
    assert contains_span("born in Talen Brask's town", "Talen Brask")
    assert not contains_span("Brashfordian", "Brashford")
    assert not contains_span("anything", "")


@pytest.mark.parametrize(
    "answer, judgement, reason",
    [
        pytest.param("Brashford", "correct", "em=1 f1=1.00", id="exact"),
        pytest.param("It is the city of Brashford.", "correct", "em=0 f1=0.33 gold-span", id="short-span"),  # p=1/5 r=1
        pytest.param("Brashford " + "and more words " * 5, "wrong", "em=0 f1=0.12", id="long-span"),  # p=1/16 r=1
        pytest.param("Morvik", "wrong", "em=0 f1=0.00", id="other"),
        pytest.param("", "wrong", "em=0 f1=0.00 empty answer", id="empty"),
        pytest.param(None, "wrong", "em=0 f1=0.00 empty answer", id="none"),
    ],
)
def test_judge(answer, judgement, reason):
    r = judge(Task("t", "q?", "Brashford"), answer)
    assert (r.judgement, r.reason) == (judgement, reason)


def test_judge_unknown_and_aliases():
    assert judge(Task("t", "q?", None), "x").judgement == "unknown"
    t = Task("t", "q?", "Ysolde Kern", meta={"aliases": ["Kern"]})
    assert judge(t, "Kern").judgement == "correct"
    assert judge(t, "Kern").exact_match == 1.0
