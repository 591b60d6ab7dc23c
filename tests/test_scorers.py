"""Built-in scorers and scorer results, value by value."""

from __future__ import annotations

import pytest

from maestro.mas import Sample
from maestro.scorers import Score, as_scorer, exact, includes, normalise, numeric, to_score


def _s(target):
    return Sample("t", "q", target=target)


@pytest.mark.parametrize("scorer, target, answer, value, why", [
    pytest.param(exact(), "Paris", "paris.", 1.0, "exact match", id="exact-normalised"),
    pytest.param(exact(), "Paris", "It is Paris", 0.0, "answer is not 'Paris'", id="exact-wrong"),
    pytest.param(includes(), "Paris", "The capital is Paris!", 1.0, "target found in the answer", id="includes"),
    pytest.param(includes(), "Paris", "Parisian food", 0.0, "target not found in the answer", id="includes-word"),
    pytest.param(includes(), "the Eiffel Tower", "an eiffel tower, tall", 1.0, "target found in the answer",
                 id="includes-articles"),
    pytest.param(numeric(), "42", "19 + 23 = 42", 1.0, "42 == 42", id="numeric-last-number"),
    pytest.param(numeric(), "1,000", "about 999.5", 0.0, "999.5 != 1000", id="numeric-wrong"),
    pytest.param(numeric(tolerance=0.01, relative=True), "1000", "1005", 1.0, "1005 == 1000", id="numeric-rel"),
    pytest.param(numeric(), "42", "no idea", 0.0, "no number in the answer", id="numeric-none"),
    pytest.param(includes(), "Paris", "", 0.0, "no answer", id="empty-answer"),
    pytest.param(includes(), "Paris", None, 0.0, "no answer", id="no-answer"),
    pytest.param(exact(), None, "Paris", None, "the sample has no target", id="no-target"),
    pytest.param(numeric(), "none", "42", None, "target 'none' has no number", id="target-without-number"),
])
def test_builtin_scorers(scorer, target, answer, value, why):
    score = scorer(_s(target), answer)
    assert (score.value, score.explanation) == (value, why)


@pytest.mark.parametrize("returned, value, judgement", [
    pytest.param(True, 1.0, "correct", id="bool-true"),
    pytest.param(False, 0.0, "wrong", id="bool-false"),
    pytest.param(0.5, 0.5, "wrong", id="partial"),
    pytest.param(1, 1.0, "correct", id="int"),
    pytest.param("correct", 1.0, "correct", id="word"),
    pytest.param((0.0, "off by one"), 0.0, "wrong", id="tuple"),
    pytest.param(None, None, "unjudged", id="none"),
    pytest.param(Score(1.0, "mine"), 1.0, "correct", id="score"),
])
def test_a_plain_function_becomes_a_scorer(returned, value, judgement):
    score = as_scorer(lambda sample, answer: returned)(_s("x"), "x")
    assert (score.value, score.judgement) == (value, judgement)
    result = score.judgement_result()
    assert (result.judgement, result.score) == (judgement, value)


def test_a_bad_return_value_names_the_scorer():
    def my_scorer(sample, answer):
        return {"ok": True}

    with pytest.raises(TypeError, match="scorer .*my_scorer returned {'ok': True}"):
        as_scorer(my_scorer)(_s("x"), "x")
    with pytest.raises(TypeError, match="scorer must be callable"):
        as_scorer("exact")
    with pytest.raises(TypeError, match="where returned nan"):
        to_score(float("nan"), "where")


def test_normalise():
    assert normalise("  The Quick, brown FOX!  ") == "quick brown fox"
