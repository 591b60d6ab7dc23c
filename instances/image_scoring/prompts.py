"""Image Scoring's agent names, prompts, and the wording of briefs and requirements.

The system follows the ADK sample "image-scoring": a ``LoopAgent`` repeats a
``SequentialAgent`` round (``prompt_writer`` writes an image prompt, ``image_generator``
renders it with the ``generate_image`` tool, ``image_scorer`` checks it with the
``score_image`` tool) and a ``score_checker`` that ends the loop (escalates) once the
scorer's reported score reaches the threshold.

A brief is a short description plus a list of checkable requirements, one a line
(``- two red circles``, ``- a yellow background``): a count, a colour and a shape, or a
background colour. :func:`parse_requirements` is the one reader of that wording for the
tools, the policies and the judge.

Each LLM agent's instruction opens with a marker sentence (``*_MARKER``) no other agent
uses, so a simulated-model policy recognises the role from the system prompt alone.
Framework-free: the simulated policies import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "LOOP", "ROUND", "PROMPT_WRITER", "IMAGE_GENERATOR", "IMAGE_SCORER", "CHECKER", "AGENT_NAMES",
    "GENERATE_TOOL", "SCORE_TOOL", "PROMPT_MARKER", "GENERATOR_MARKER", "SCORER_MARKER",
    "instructions", "DESCRIPTIONS", "COLOURS", "SHAPES", "Requirement", "parse_requirements",
    "format_brief", "read_score", "PROMPT_PREFIX", "SCORE_PREFIX", "MISSING_PREFIX", "last_prompt",
]

LOOP = "image_scoring"
"""The root ``LoopAgent``."""
ROUND = "generation_round"
"""The ``SequentialAgent`` of one round (writer, generator, scorer)."""
PROMPT_WRITER = "prompt_writer"
IMAGE_GENERATOR = "image_generator"
IMAGE_SCORER = "image_scorer"
CHECKER = "score_checker"
AGENT_NAMES = (PROMPT_WRITER, IMAGE_GENERATOR, IMAGE_SCORER, CHECKER)
"""The four agents of Table 2 (the loop and the round are ADK workflow agents)."""

GENERATE_TOOL = "generate_image"
SCORE_TOOL = "score_image"

PROMPT_MARKER = "You write prompts for an image generation model."
GENERATOR_MARKER = "You operate the image generation model of a design studio."
SCORER_MARKER = "You check generated images against the brief's requirements."

PROMPT_PREFIX = "Prompt:"
"""The prompt writer's reply starts its prompt with this label."""
SCORE_PREFIX = "Score:"
"""The scorer reports ``Score: <passed>/<total>`` (the checker reads it)."""
MISSING_PREFIX = "Missing:"
"""The scorer lists the requirements the image does not meet after this label."""


def instructions(tools_enabled: bool) -> dict[str, str]:
    """Each LLM agent's instruction (its system prompt in ADK) for a run with or without tools."""
    if tools_enabled:
        gen = (f"{GENERATOR_MARKER} Take the latest prompt the prompt writer wrote (the line starting "
               f"'{PROMPT_PREFIX}') and render it by calling {GENERATE_TOOL} once with that prompt. Then reply with "
               "one line naming the image file the tool returned.")
        score = (f"{SCORER_MARKER} List every requirement of the user's brief, one string each, exactly as the "
                 f"brief words them, and call {SCORE_TOOL} with that list: it inspects the latest image's pixels. "
                 f"Then report what it found: a line '{SCORE_PREFIX} <passed>/<total>' and, when something is not "
                 f"met, a line '{MISSING_PREFIX} <requirement> (found <n>); ...'.")
    else:
        gen = (f"{GENERATOR_MARKER} No image model is available in this session: describe in one line the image "
               f"the latest '{PROMPT_PREFIX}' line asks for.")
        score = (f"{SCORER_MARKER} No image inspection tool is available: judge the image generator's description "
                 f"against every requirement of the user's brief and report '{SCORE_PREFIX} <passed>/<total>' and, "
                 f"when something is not met, '{MISSING_PREFIX} <requirement>; ...'.")
    return {
        PROMPT_WRITER: (
            f"{PROMPT_MARKER} Read the user's brief and write one prompt for the image model that asks for "
            "every requirement of the brief: each element with its count, colour and shape, and the background "
            f"colour. When the image scorer reported missing requirements, fix the prompt so they are asked for "
            f"explicitly. Reply with one line: '{PROMPT_PREFIX} <the prompt>'."),
        IMAGE_GENERATOR: gen,
        IMAGE_SCORER: score,
    }


DESCRIPTIONS = {
    LOOP: "Generates an image for a brief and scores it until it meets the brief.",
    ROUND: "One round: write a prompt, render it, score the image.",
    PROMPT_WRITER: "Writes the image model's prompt from the brief and the scorer's feedback.",
    IMAGE_GENERATOR: "Renders the prompt with the image generation model.",
    IMAGE_SCORER: "Checks the latest image against the brief's requirements.",
    CHECKER: "Ends the loop when the image's score reaches the threshold.",
}

COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey")
"""Colour words of briefs (``gray`` is read as ``grey``)."""
SHAPES = ("circle", "square", "triangle")
"""Shape words of briefs."""

_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_WORDS = {v: k for k, v in _NUMBERS.items() if k not in ("a", "an")}
_REQ_RE = re.compile(
    r"\b(?:(?P<count>\d+|" + "|".join(_NUMBERS) + r")\s+)?(?P<colour>" + "|".join(COLOURS) + r"|gray)\s+"
    r"(?:(?P<shape>" + "|".join(SHAPES) + r")(?:s|es)?|(?P<bg>background))\b", re.IGNORECASE)


@dataclass(frozen=True)
class Requirement:
    """One checkable requirement: ``count`` elements of ``colour`` and ``shape``, or (shape
    ``background``) the background's colour."""

    count: int
    colour: str
    shape: str

    @property
    def is_background(self) -> bool:
        return self.shape == "background"

    def text(self) -> str:
        """``two red circles``, ``a blue square``, ``a yellow background``."""
        if self.is_background or self.count == 1:
            return f"a {self.colour} {self.shape}"
        return f"{_WORDS.get(self.count, str(self.count))} {self.colour} {self.shape}s"


def parse_requirements(text: str) -> list[Requirement]:
    """Requirements named in ``text`` (``two red circles``, ``a blue square``, ``yellow
    background``), in order, each once; a count left out is one."""
    out: list[Requirement] = []
    for m in _REQ_RE.finditer(text or ""):
        colour = m.group("colour").lower().replace("gray", "grey")
        if m.group("bg"):
            req = Requirement(0, colour, "background")
        else:
            word = (m.group("count") or "a").lower()
            req = Requirement(int(word) if word.isdigit() else _NUMBERS[word], colour, m.group("shape").lower())
        if req not in out:
            out.append(req)
    return out


def format_brief(description: str, requirements: list[Requirement]) -> str:
    """The user message of a brief."""
    lines = [f"Brief: {description}", "Requirements:"] + [f"- {r.text()}" for r in requirements]
    return "\n".join(lines) + "\n\nCreate an image that meets every requirement."


_SCORE_RE = re.compile(r"Score:\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)


def read_score(text: str) -> tuple[int, int] | None:
    """``(passed, total)`` of the last ``Score: p/t`` line in ``text``; None when there is none."""
    found = _SCORE_RE.findall(text or "")
    if not found:
        return None
    passed, total = found[-1]
    return int(passed), int(total)


def last_prompt(text: str) -> str | None:
    """The last ``Prompt: ...`` line's prompt in ``text`` (None when there is none)."""
    found = re.findall(rf"{PROMPT_PREFIX}[ \t]*(\S[^\n]*)", text or "")
    return found[-1].strip() if found else None
