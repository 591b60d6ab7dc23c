"""Scorers: judge a MAS's answer against its sample.

A scorer is any callable ``scorer(sample, answer) -> Score``. The built-ins:

* :func:`exact`: the answer equals the target (after normalising case, spaces, punctuation);
* :func:`includes`: the target appears in the answer (normalised);
* :func:`numeric`: the last number in the answer equals the target's within a tolerance;
* :func:`llm_judge`: a model on any backend (the simulated service too) says correct or wrong.

A plain function may return a bool, a number in [0, 1], a :class:`Score` or
``(value, explanation)``; :func:`as_scorer` turns it into a scorer. A sample without a
target leaves the built-ins (except an LLM judge given a rubric) ``unjudged``.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, overload

if TYPE_CHECKING:  # pragma: no cover
    from maestro.contract import JudgeResult
    from maestro.mas import Sample

__all__ = ["Score", "Scorer", "as_scorer", "to_score", "exact", "includes", "numeric", "llm_judge", "normalise",
           "GRADER_MARKER", "register_sim_policies"]

CORRECT_AT = 1.0
"""A score at or above this is judged ``correct``; below it, ``wrong``."""


@dataclass(frozen=True)
class Score:
    """A scorer's verdict on one answer."""

    value: float | None
    """1.0 correct, 0.0 wrong, in between partial credit; None: not judged (no target)."""
    explanation: str = ""
    """Why (kept in the run record's ``judgement_reason``)."""

    @property
    def judgement(self) -> str:
        """``correct``, ``wrong`` or ``unjudged``."""
        if self.value is None:
            return "unjudged"
        return "correct" if self.value >= CORRECT_AT else "wrong"

    def judgement_result(self) -> JudgeResult:
        from maestro.contract import JudgeResult

        return JudgeResult(self.judgement, self.explanation, score=self.value)


class Scorer(Protocol):
    def __call__(self, sample: Sample, answer: str | None) -> Score:  # pragma: no cover - protocol
        ...


def to_score(value: Any, where: str) -> Score:
    """``value`` (a bool, a number, ``'correct'``/``'wrong'``, a Score or ``(value,
    explanation)``) as a Score; a TypeError names ``where`` it came from otherwise."""
    if isinstance(value, Score):
        return value
    explanation = ""
    if isinstance(value, tuple) and len(value) == 2:
        value, explanation = value
    if value is None:
        return Score(None, str(explanation or ""))
    if isinstance(value, bool):
        return Score(1.0 if value else 0.0, str(explanation or ""))
    if isinstance(value, (int, float)) and not math.isnan(value):
        return Score(float(value), str(explanation or ""))
    if isinstance(value, str) and value.lower() in ("correct", "wrong"):
        return Score(1.0 if value.lower() == "correct" else 0.0, str(explanation or ""))
    raise TypeError(f"scorer {where} returned {value!r}; expected a bool, a number, 'correct'/'wrong', "
                    "a maestro.scorers.Score or (value, explanation)")


@overload
def as_scorer(fn: None) -> None: ...


@overload
def as_scorer(fn: Callable[..., Any]) -> Scorer: ...


def as_scorer(fn: Callable[..., Any] | None) -> Scorer | None:
    """``fn`` as a scorer whose result is always a :class:`Score` (None stays None)."""
    if fn is None or getattr(fn, "_maestro_scorer", False):
        return fn
    if not callable(fn):
        raise TypeError(f"scorer must be callable (sample, answer) -> score, got {fn!r}")
    where = getattr(fn, "__qualname__", repr(fn))

    def scorer(sample, answer):
        return to_score(fn(sample, answer), where)

    scorer._maestro_scorer = True  # type: ignore[attr-defined]
    scorer.__qualname__ = where
    return scorer


def _builtin(fn):
    fn._maestro_scorer = True
    return fn


_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def normalise(text: str) -> str:
    """Lower case, punctuation as spaces, articles dropped, runs of spaces collapsed."""
    words = text.lower().translate(_PUNCT).split()
    return " ".join(w for w in words if w not in ("a", "an", "the"))


def _no_target(sample) -> Score | None:
    return Score(None, "the sample has no target") if sample.target is None else None


def _no_answer(answer: str | None) -> Score | None:
    return Score(0.0, "no answer") if not answer or not answer.strip() else None


def _text_scorer(matches: Callable[[str, str], bool], yes: str, no: str) -> Scorer:
    """A scorer that is correct when ``matches(normalised answer, normalised target)``."""

    @_builtin
    def score(sample, answer):
        verdict = _no_target(sample) or _no_answer(answer)
        if verdict:
            return verdict
        ok = matches(normalise(answer), normalise(sample.target))
        return Score(1.0 if ok else 0.0, yes if ok else no.format(target=sample.target))

    return score


def exact() -> Scorer:
    """Correct when the normalised answer equals the normalised target."""
    return _text_scorer(lambda answer, target: answer == target, "exact match", "answer is not {target!r}")


def includes() -> Scorer:
    """Correct when the normalised target appears, as whole words, in the normalised answer."""
    return _text_scorer(lambda answer, target: f" {target} " in f" {answer} ",
                        "target found in the answer", "target not found in the answer")


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")


def _last_number(text: str) -> float | None:
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def numeric(tolerance: float = 1e-6, relative: bool = False) -> Scorer:
    """Correct when the answer's last number equals the target's within ``tolerance``
    (absolute, or relative to the target when ``relative``)."""

    @_builtin
    def score(sample, answer):
        verdict = _no_target(sample) or _no_answer(answer)
        if verdict:
            return verdict
        want = _last_number(sample.target)
        if want is None:
            return Score(None, f"target {sample.target!r} has no number")
        got = _last_number(answer)
        if got is None:
            return Score(0.0, "no number in the answer")
        limit = tolerance * abs(want) if relative else tolerance
        ok = abs(got - want) <= limit
        return Score(1.0 if ok else 0.0, f"{got:g} {'==' if ok else '!='} {want:g}")

    return score


GRADER_MARKER = "[maestro-grader]"
"""Start of the LLM judge's system prompt (the simulated service's grader policy matches it)."""

_GRADER_SYSTEM = (GRADER_MARKER + " You grade answers. Given a question, a reference answer and a "
                  "candidate answer, reply with one word: CORRECT if the candidate gives the reference "
                  "answer's facts, otherwise WRONG.")


def llm_judge(backend: str = "sim/strong", *, max_tokens: int = 16) -> Scorer:
    """A model judges each answer against the target: CORRECT or WRONG.

    ``backend`` is any backend spec (``openai/<model>``, ``gemini/<model>``, ``sim/<profile>``);
    inside a study, ``sim/...`` reaches the study's simulated service
    (``maestro.backends.use_sim_service`` elsewhere). The
    simulated grader compares the words of answer and reference and is right with its
    profile's accuracy. A reply that is neither word leaves the run ``unjudged``."""
    from maestro.backends import parse_backend

    parse_backend(backend)  # a misspelt spec fails where the scorer is made

    @_builtin
    def score(sample, answer):
        verdict = _no_target(sample) or _no_answer(answer)
        if verdict:
            return verdict
        from openai import OpenAI

        from maestro.backends import resolve_endpoint

        prompt = f"Question: {sample.text}\nReference answer: {sample.target}\nCandidate answer: {answer}"
        # A nonce of the prompt's own: the simulated grader's verdict on it never depends on
        # which other runs asked before (real providers ignore the URL path part).
        nonce = "grader-" + hashlib.blake2b(prompt.encode(), digest_size=6).hexdigest()
        endpoint = resolve_endpoint(backend, nonce=nonce)
        client = OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, max_retries=2)
        try:
            reply = client.chat.completions.create(
                model=endpoint.model, max_tokens=max_tokens, temperature=0,
                messages=[{"role": "system", "content": _GRADER_SYSTEM}, {"role": "user", "content": prompt}])
        finally:
            client.close()
        text = (reply.choices[0].message.content or "").strip().upper()
        if text.startswith("CORRECT"):
            return Score(1.0, f"{backend} judged it correct")
        if text.startswith("WRONG"):
            return Score(0.0, f"{backend} judged it wrong")
        return Score(None, f"{backend} gave no verdict ({text[:40]!r})")

    return score


class _SimGrader:
    """The simulated service's grader: the right verdict by word overlap of candidate and
    reference (all of the reference's words present), with the profile's accuracy; the
    other verdict otherwise."""

    name = "maestro.scorers.grader"

    def matches(self, request) -> bool:
        return GRADER_MARKER in request.system

    def respond(self, request, ctx):
        from maestro.sim.policy import SimReply

        fields = dict(re.findall(r"^(Reference answer|Candidate answer): (.*)$", request.last_user, re.MULTILINE))
        reference = set(normalise(fields.get("Reference answer", "")).split())
        candidate = set(normalise(fields.get("Candidate answer", "")).split())
        right = bool(reference) and reference <= candidate
        if ctx.rng.random() >= ctx.accuracy:
            right = not right
        return SimReply(text="CORRECT" if right else "WRONG")


def register_sim_policies() -> None:
    """Register the simulated grader with ``maestro.sim`` (the runner's service imports this)."""
    from maestro.sim.policy import register_policy

    register_policy(_SimGrader())
