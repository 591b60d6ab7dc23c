"""Text and JSON synthesis helpers for simulated replies.

Used by the generic fallback policy and free for instance policies: every function takes
the policy's ``rng`` so replies stay a pure function of the seeded context.
"""

from __future__ import annotations

import random
import re
from typing import Any

from maestro.tokens import count_tokens

__all__ = [
    "salient_terms",
    "named_phrases",
    "fake_entity",
    "vague_answer",
    "confident_wrong_answer",
    "substantive_answer",
    "answer_text",
    "short_text",
    "dedupe_words",
    "strip_sim_text",
    "count_sim_answers",
    "SchemaBias",
    "synthesize_json",
    "truncate_to_tokens",
    "split_for_stream",
]

_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    please answer question tell give using use based following provided context information
    given find know""".split()
)

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")


def salient_terms(text: str, k: int = 6) -> list[str]:
    """Up to ``k`` distinctive terms of ``text``: runs of capitalised words first (as
    phrases, e.g. ``Acme Corporation``), then other long non-stopwords, in order of
    appearance. A lone capitalised word opening a sentence counts as an ordinary word.
    Cheap keyword extraction so generic replies mention what the prompt was about.
    """
    caps, rest = _terms(text or "")
    return (caps + rest)[:k]


def named_phrases(text: str, k: int = 6) -> list[str]:
    """Only the capitalised phrases of :func:`salient_terms` (likely names of things)."""
    return _terms(text or "")[0][:k]


def _terms(text: str) -> tuple[list[str], list[str]]:
    seen: set[str] = set()
    caps: list[str] = []
    rest: list[str] = []
    run: list[str] = []
    run_at_start = False

    def add_plain(w: str) -> None:
        lw = w.lower()
        if lw not in _STOPWORDS and len(w) >= 4 and lw not in seen:
            seen.add(lw)
            rest.append(w)

    def flush() -> None:
        if len(run) == 1 and run_at_start:
            add_plain(run[0])
        elif run:
            phrase = " ".join(run)
            if phrase.lower() not in seen:
                seen.add(phrase.lower())
                caps.append(phrase)
        run.clear()

    prev_end: int | None = None
    for m in _WORD_RE.finditer(text):
        w = m.group().strip("'")
        if not w:
            continue
        # Only the gap since the previous word is inspected: linear in the text's length.
        gap = text[prev_end : m.start()] if prev_end is not None else "."
        prev_end = m.end()
        at_start = any(c in ".?!:\n" for c in gap)
        if run and gap.strip(" \t-"):
            flush()  # punctuation ends a name: "Plan.', 'Compare" is two phrases
        if w[0].isupper() and w.lower() not in _STOPWORDS:
            if not run:
                run_at_start = at_start
            run.append(w)
            continue
        flush()
        add_plain(w)
    flush()
    return caps, rest


_SYLLABLES = ("ka", "lor", "ven", "dri", "mo", "sel", "tan", "quo", "ri", "bel", "nox", "ar", "thi", "zu", "pel", "gar")
_ENTITY_SUFFIXES = ("", "", " Institute", " River", " Group", " University", " Prize", " Island", " Foundation")


def fake_entity(rng: random.Random) -> str:
    """A plausible-looking proper noun that names nothing real (for confabulation)."""
    first = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    if rng.random() < 0.5:
        second = "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize()
        first = f"{first} {second}"
    return first + rng.choice(_ENTITY_SUFFIXES)


_FILLER = (
    "This follows from the material considered so far.",
    "The main points are consistent with each other.",
    "Other details support the same reading.",
    "Taken together, the evidence points in one direction.",
    "A closer look at {a} confirms this.",
    "The relation between {a} and {b} matters here.",
    "In short, {a} is the key element.",
    "This also accounts for {b}.",
)
_VAGUE = (
    "It depends on how the question is read.",
    "There are several possibilities, and none clearly stands out.",
    "Broadly speaking, it has to do with {a}, though the specifics vary.",
    "Different sources describe {a} in different ways.",
    "The answer is not straightforward and may change with context.",
    "Several factors are involved, including {b}.",
    "It is generally associated with {a}.",
)
_VAGUE_LEADS = (
    "Hard to say for certain.",
    "That is not entirely clear.",
    "It is difficult to be precise here.",
)
"""Every vague answer opens with one of these (so the service can recognise its own words)."""
_WRONG_HEADS = ("The answer is {e}.", "It is clearly {e}.", "{e} is the answer.")
_STEP_VERBS = ("Look up", "Check", "Compare", "Summarise", "Verify", "Collect details on", "Confirm")
"""How the steps of a plan the service writes begin."""


def _fill(rng: random.Random, templates: tuple[str, ...], terms: list[str], n_words: int) -> str:
    terms = terms or ["the topic", "the question"]
    out: list[str] = []
    words = 0
    while words < n_words:
        a = rng.choice(terms)
        others = [x for x in terms if x != a]
        t = rng.choice(templates).format(a=a, b=rng.choice(others) if others else a)
        out.append(t)
        words += len(t.split())
    return " ".join(out)


def _target_words(rng: random.Random, base: int, verbosity: float) -> int:
    return max(1, round(base * verbosity * rng.uniform(0.7, 1.3)))


_REPEAT_RE = re.compile(r"\b([A-Za-z][\w'-]*)(?:[\s,:;]+\1\b)+", re.IGNORECASE)


def dedupe_words(text: str) -> str:
    """``text`` with immediately repeated words collapsed (``Regarding Regarding X`` -> ``Regarding X``)."""
    return _REPEAT_RE.sub(lambda m: m.group(1), text) if text else text


def substantive_answer(rng: random.Random, prompt: str, verbosity: float = 1.0) -> str:
    """An on-topic answer that mentions the prompt's salient terms; longer with verbosity."""
    terms = salient_terms(prompt)
    lead = f"Regarding {' and '.join(dict.fromkeys(terms[:2]))}: " if terms else ""
    return dedupe_words(lead + _fill(rng, _FILLER, terms, _target_words(rng, 16, verbosity)))


def vague_answer(rng: random.Random, prompt: str, verbosity: float = 1.0) -> str:
    """An underspecified answer: talks around the topic and names no entity."""
    lead = rng.choice(_VAGUE_LEADS)
    body = _fill(rng, _VAGUE, [t.lower() for t in salient_terms(prompt)], _target_words(rng, 14, verbosity) - len(lead.split()))
    return dedupe_words(f"{lead} {body}".strip())


def confident_wrong_answer(rng: random.Random, prompt: str, verbosity: float = 1.0, entity: str | None = None) -> str:
    """A confident answer naming ``entity`` (a fake one when None)."""
    ent = entity or fake_entity(rng)
    head = rng.choice(_WRONG_HEADS).format(e=ent)
    extra = _target_words(rng, 10, verbosity) - len(head.split())
    if extra <= 0:
        return head
    return dedupe_words(head + " " + _fill(rng, _FILLER, [ent] + salient_terms(prompt, 2), extra))


def answer_text(rng: random.Random, prompt: str, *, accuracy: float, failure_mix: Any, verbosity: float) -> str:
    """A generic answer drawn by the profile: substantive with ``accuracy``, else by ``failure_mix``."""
    if rng.random() < accuracy:
        return substantive_answer(rng, prompt, verbosity)
    kind = failure_mix.draw(rng)
    if kind == "empty":
        return ""
    if kind == "underspecified":
        return vague_answer(rng, prompt, verbosity)
    return confident_wrong_answer(rng, prompt, verbosity)


def short_text(rng: random.Random, prompt: str) -> str:
    """One on-topic sentence (for the free-text fields of a JSON answer)."""
    terms = salient_terms(prompt, 4)
    return _fill(rng, _FILLER, terms, 1)


# --- recognising the service's own words ------------------------------------------------------
# Replies are built from the templates above, so the service can tell its own earlier words
# when a framework feeds them back (another agent's turn, a step result pasted into a
# prompt): they are never mined for topic terms again (no snowballing), and each earlier
# answer counts as one turn of conversation.

_SLOT = r"[^.?!:\n]{1,80}?"


def _template_re(templates: tuple[str, ...]) -> str:
    alts = []
    for t in templates:
        parts = re.split(r"\{[a-z]\}", t)
        alts.append(_SLOT.join(re.escape(p) for p in parts))
    return "|".join(alts)


_OPENING_RE = re.compile(
    r"(?:Regarding [^:\n]{1,160}?: |"
    + "|".join(re.escape(v) for v in _VAGUE_LEADS)
    + r"|The answer is [^.\n]{1,80}?\.|It is clearly [^.\n]{1,80}?\.|\b[A-Z][^.\n]{0,80}? is the answer\.)"
)
_SIM_SENTENCE_RE = re.compile(
    r"(?:Regarding [^:\n]{1,160}?: ?|(?:"
    + _template_re(_FILLER + _VAGUE)
    + "|"
    + "|".join(re.escape(v) for v in _VAGUE_LEADS)
    + r"|The answer is [^.\n]{1,80}?\.|It is clearly [^.\n]{1,80}?\.|\b[A-Z][^.\n]{0,80}? is the answer\.)[ \t]*)"
)
_STEP_VERB_RE = re.compile(r"\b(?:" + "|".join(re.escape(v) for v in _STEP_VERBS) + r") (?=[^.\n'\"]{1,60}\.)")


def count_sim_answers(text: str) -> int:
    """How many answers written by this service ``text`` quotes (one opening each)."""
    return len(_OPENING_RE.findall(text)) if text else 0


def strip_sim_text(text: str) -> str:
    """``text`` without the sentences this service writes (what is left came from elsewhere);
    of the plan steps it writes (``Look up Oslo.``) only the subject is left."""
    return _STEP_VERB_RE.sub("", _SIM_SENTENCE_RE.sub(" ", text)) if text else text


# --- JSON from a schema -------------------------------------------------------------------

_QUERY_NAMES = frozenset({"query", "q", "question", "search", "search_query", "text", "input", "prompt", "message", "topic", "request", "task", "content"})
_MAX_DEPTH = 6
_P_NULL = 0.2
"""Chance of ``null`` for a value whose schema allows null besides one other type."""

_DONE_KEY_RE = re.compile(r"satisf|complete|done|finish|final|terminat|solved|resolved|answered|approv|sufficient|enough|stop|is_last|ready", re.I)
_NEG_KEY_RE = re.compile(r"loop|stuck|error|fail|stall|repeat|halluc|harm|unsafe|block|wrong|invalid|missing|toxic", re.I)
_POS_KEY_RE = re.compile(r"progress|success|valid|correct|on_track|useful|helpful|relevant|grounded", re.I)
_GENERIC_KEYS = frozenset({"answer", "value", "result", "flag", "decision", "verdict", "output", "choice", "selected", "status"})
_FINAL_BRANCH_RE = re.compile(r"respon|final|answer|finish|done|complete|result|reply|conclu|submit|return|end", re.I)
_CONTINUE_BRANCH_RE = re.compile(r"plan|step|continue|action|tool|search|query|next|retry|revis|call|delegate|handoff|transfer|ask", re.I)
_TEXT_KEY_RE = re.compile(
    r"reason|explan|rational|thought|summary|feedback|critique|comment|instruction|question|response|answer|message|"
    r"description|justification|analysis|note|reply|draft",
    re.I,
)
_STEP_KEY_RE = re.compile(r"^(steps|plan|plan_steps|tasks|subtasks|actions|todos)$", re.I)


class SchemaBias:
    """Steers :func:`synthesize_json` the way a model that read the conversation would.

    * booleans by their key: a *done* key (``is_request_satisfied``, ``finished``,
      ``approved``...) is true with ``p_done``; a *trouble* key (``is_in_loop``,
      ``has_error``...) rarely; a *progress* key (``is_progress_being_made``, ``valid``...)
      mostly; any other is a coin flip. A generic key (``answer``, ``value``) takes the
      meaning of the key above it (``{"is_request_satisfied": {"answer": ...}}``);
    * unions (``anyOf``/``oneOf``) by a seeded draw among their members, the member that
      ends the exchange (``Response``, ``FinalAnswer``... next to ``Plan``, ``Step``...)
      with ``p_done``;
    * strings with ``choices`` for their key path (e.g. ``("next_speaker", "answer")`` ->
      the names a prompt lists) pick one of those; free-text keys (``reason``,
      ``instruction_or_question``, ``response``...) get a sentence on ``topic``; step lists
      get short imperative steps.
    """

    def __init__(self, p_done: float = 0.5, choices: dict[tuple[str, ...], list[Any]] | None = None, topic: str = "") -> None:
        self.p_done = float(p_done)
        self.choices = dict(choices or {})
        self.topic = topic

    @staticmethod
    def key_of(path: tuple[str, ...]) -> str:
        """The meaningful key of ``path``: its last element that is not a generic one."""
        for k in reversed(path):
            if k.lower() not in _GENERIC_KEYS:
                return k
        return path[-1] if path else ""

    def boolean(self, path: tuple[str, ...], rng: random.Random) -> bool:
        key = self.key_of(path)
        x = rng.random()
        if _DONE_KEY_RE.search(key):
            return x < self.p_done
        if _NEG_KEY_RE.search(key):
            return x < 0.15
        if _POS_KEY_RE.search(key):
            return x < 0.85
        return x < 0.5

    def choice(self, path: tuple[str, ...]) -> list[Any] | None:
        if not self.choices or not path:
            return None
        if path in self.choices:
            return self.choices[path]
        for n in (2, 1):  # a suffix of the path (the schema may nest it differently)
            for p, opts in self.choices.items():
                if len(path) >= n and len(p) >= n and tuple(x.lower() for x in p[-n:]) == tuple(x.lower() for x in path[-n:]):
                    if n == 2 or path[-1].lower() not in _GENERIC_KEYS:
                        return opts
        return None

    def string(self, path: tuple[str, ...], rng: random.Random) -> str | None:
        key = path[-1] if path else ""
        if key.lower() in _QUERY_NAMES:
            return None  # a query-like field gets the request's own words
        if _STEP_KEY_RE.match(key):
            terms = salient_terms(self.topic, 4) or ["the request"]
            return f"{rng.choice(_STEP_VERBS)} {rng.choice(terms)}."
        if key and _TEXT_KEY_RE.search(self.key_of(path) if key.lower() in _GENERIC_KEYS else key):
            return short_text(rng, self.topic)
        return None

    def union(self, named: list[tuple[str, dict[str, Any]]], rng: random.Random) -> dict[str, Any]:
        """Pick one of the non-null members ``(name, resolved schema)``."""
        finals: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        for label, sch in named:
            words = " ".join([label, str(sch.get("title") or ""), *[str(k) for k in (sch.get("properties") or {})]])
            is_final = bool(_FINAL_BRANCH_RE.search(words)) and not _CONTINUE_BRANCH_RE.search(f"{label} {sch.get('title') or ''}")
            (finals if is_final else others).append(sch)
        x = rng.random()
        if finals and others:
            return rng.choice(finals) if x < self.p_done else rng.choice(others)
        return rng.choice([sch for _, sch in named])


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref``s (``#/$defs/X``, ``#/definitions/X``); pydantic emits them."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        target: Any = root
        if isinstance(ref, str) and ref.startswith("#"):
            for part in [p for p in ref[1:].split("/") if p]:
                target = target.get(part, {}) if isinstance(target, dict) else {}
        else:
            target = {}
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**(target if isinstance(target, dict) else {}), **merged}
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _stype(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        non_null = [x for x in t if str(x).lower() != "null"]
        t = non_null[0] if non_null else "null"
    if isinstance(t, str):
        return t.lower()  # Gemini Schema spells types in capitals
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def _string_for(rng: random.Random, name: str, schema: dict[str, Any], hint: str) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        s = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    elif fmt in ("date-time", "datetime"):
        s = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
    elif fmt == "email":
        s = "someone@example.com"
    elif fmt in ("uri", "url"):
        s = f"https://example.com/{rng.randint(1, 999)}"
    elif name.lower() in _QUERY_NAMES or not name:
        words = (hint or "").split()
        s = " ".join(words[:20]) or "example"
    else:
        # Prefer names (a "city" argument should get "Oslo", not "weather").
        terms = named_phrases(hint) or salient_terms(hint)
        s = rng.choice(terms) if terms else name.replace("_", " ")
    return _fit_length(s, schema)


def _fit_length(s: str, schema: dict[str, Any]) -> str:
    lo = int(schema.get("minLength", 0) or 0)
    hi = schema.get("maxLength")
    if len(s) < lo:
        s = s + "x" * (lo - len(s))
    if isinstance(hi, int) and len(s) > hi:
        s = s[:hi]
    return s


def _number(rng: random.Random, schema: dict[str, Any], integer: bool) -> int | float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    xlo = schema.get("exclusiveMinimum")
    xhi = schema.get("exclusiveMaximum")
    # Draft-4 style booleans next to minimum/maximum.
    if xlo is True:
        xlo, lo = lo, None
    if xhi is True:
        xhi, hi = hi, None
    step = 1 if integer else 0.01
    low = lo if isinstance(lo, (int, float)) and not isinstance(lo, bool) else None
    if isinstance(xlo, (int, float)) and not isinstance(xlo, bool):
        low = xlo + step if low is None else max(low, xlo + step)
    high = hi if isinstance(hi, (int, float)) and not isinstance(hi, bool) else None
    if isinstance(xhi, (int, float)) and not isinstance(xhi, bool):
        high = xhi - step if high is None else min(high, xhi - step)
    if low is None:
        low, high = (1, 10) if high is None else (high - 10, high)
    elif high is None:
        high = low + 10
    if integer:
        import math

        a, b = math.ceil(low), math.floor(high)
        return rng.randint(a, b) if a <= b else a
    return round(rng.uniform(low, high), 2) if low < high else low


def synthesize_json(
    schema: dict[str, Any] | None,
    rng: random.Random,
    hint: str = "",
    *,
    name: str = "",
    bias: SchemaBias | None = None,
    _root: dict[str, Any] | None = None,
    _depth: int = 0,
    _path: tuple[str, ...] = (),
) -> Any:
    """A value valid for JSON ``schema`` (objects, arrays, enums, consts, strings, numbers,
    booleans, anyOf/oneOf/allOf, local ``$ref``; Gemini's upper-case types too).

    Strings come from ``hint`` (e.g. the last user message): query-like fields get the
    text itself, other fields a salient word of it. Required properties are always present,
    optional ones half the time (always absent past a nesting depth, so recursive schemas
    terminate). Union members (``anyOf``/``oneOf``) are drawn: a nullable value is null now
    and then, and among several other members each gets its turn. ``bias`` (a
    :class:`SchemaBias`) makes booleans, unions and strings follow the conversation.
    """
    root = _root if _root is not None else (schema or {})
    s = _resolve(schema or {}, root)
    if "const" in s:
        return s["const"]
    enum = s.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    kw: dict[str, Any] = {"bias": bias, "_root": root, "_depth": _depth, "_path": _path}
    for key in ("anyOf", "oneOf"):
        opts = s.get(key)
        if isinstance(opts, list) and opts:
            resolved = [_resolve(o, root) for o in opts]
            named = [
                (str(o.get("$ref", "")).rsplit("/", 1)[-1] if isinstance(o, dict) else "", r)
                for o, r in zip(opts, resolved)
                if _stype(r) != "null"
            ]
            has_null = len(named) < len(resolved)
            x_null = rng.random()
            if not named or (has_null and x_null < _P_NULL):
                pick = next(r for r in resolved if _stype(r) == "null") if has_null else resolved[0]
            elif len(named) == 1:
                pick = named[0][1]
            elif bias is not None:
                pick = bias.union(named, rng)
            else:
                pick = rng.choice(named)[1]
            base = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
            return synthesize_json({**base, **pick}, rng, hint, name=name, **kw)
    all_of = s.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict[str, Any] = {k: v for k, v in s.items() if k != "allOf"}
        for sub in all_of:
            sub = _resolve(sub, root)
            for k, v in sub.items():
                if k == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **v}
                elif k == "required":
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *v]))
                else:
                    merged.setdefault(k, v)
        return synthesize_json(merged, rng, hint, name=name, **kw)
    if bias is not None and _path and _stype(s) not in ("object", "array"):
        options = bias.choice(_path)
        if options:
            return rng.choice(options)
    if "default" in s and rng.random() < 0.3:
        return s["default"]
    t = _stype(s)
    if t == "object":
        props: dict[str, Any] = s.get("properties") or {}
        required = set(s.get("required") or [])
        out: dict[str, Any] = {}
        for pname, pschema in props.items():
            if pname in required or (_depth < _MAX_DEPTH and rng.random() < 0.5):
                out[pname] = synthesize_json(
                    pschema, rng, hint, name=pname, bias=bias, _root=root, _depth=_depth + 1, _path=(*_path, pname)
                )
        return out
    if t == "array":
        items = s.get("items") if isinstance(s.get("items"), dict) else {}
        lo = int(s.get("minItems", 0) or 0)
        hi = s.get("maxItems")
        n = lo if _depth >= _MAX_DEPTH else max(lo, rng.randint(1, 3))
        if isinstance(hi, int):
            n = min(n, hi)
        if s.get("uniqueItems") and isinstance(_resolve(items, root).get("enum"), list):
            pool = list(_resolve(items, root)["enum"])
            rng.shuffle(pool)
            return pool[: min(n, len(pool))]
        return [synthesize_json(items, rng, hint, name=name, bias=bias, _root=root, _depth=_depth + 1, _path=_path) for _ in range(n)]
    if t == "integer":
        return _number(rng, s, integer=True)
    if t == "number":
        return _number(rng, s, integer=False)
    if t == "boolean":
        return bias.boolean(_path, rng) if bias is not None else rng.random() < 0.5
    if t == "null":
        return None
    if bias is not None and not s.get("format"):
        text = bias.string(_path or ((name,) if name else ()), rng)
        if text is not None:
            return _fit_length(text, s)
    return _string_for(rng, name, s, hint)


# --- token-level helpers -----------------------------------------------------------------


def truncate_to_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_tokens`` tokens by maestro's rule; (text, was_cut).

    Uses only :func:`maestro.tokens.count_tokens`: the token count of a prefix never
    decreases as the prefix grows, so a binary search finds the longest prefix within budget.
    """
    if max_tokens < 0:
        max_tokens = 0
    if count_tokens(text) <= max_tokens:
        return text, False
    lo, hi = 0, len(text)  # invariant: count(text[:lo]) <= max_tokens < count(text[:hi])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count_tokens(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid
    return text[:lo].rstrip(), True


def split_for_stream(text: str, max_pieces: int = 8) -> list[str]:
    """Split ``text`` into at most ``max_pieces`` pieces at word boundaries; they join back
    to ``text`` exactly. Few pieces keep streaming cheap."""
    if not text:
        return []
    words = re.findall(r"\s*\S+\s*", text)
    if not words or "".join(words) != text:
        words = [text]
    k = max(1, min(max_pieces, len(words), (count_tokens(text) + 3) // 4 or 1))
    per = -(-len(words) // k)
    return ["".join(words[i : i + per]) for i in range(0, len(words), per)]
