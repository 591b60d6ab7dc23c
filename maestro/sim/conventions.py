"""Reading a request the way a model reads a conversation.

A MAS tells its model, in plain language or through its tools and schemas, how an exchange
is meant to go on and how it ends: "reply with TERMINATE when done", a ``transfer_to_user``
tool, a ``Response | Plan`` union to fill, "select the next role from [...]", "answer in
JSON with this schema". A real model reads those conventions and, sooner or later, follows
them. This module finds them in a :class:`~maestro.sim.policy.SimRequest`, so the generic
fallback (and any policy that wants to) can act on them by mechanism instead of knowing any
particular MAS:

* :func:`read_conventions` gathers everything below into one :class:`Conventions`;
* :func:`stop_keywords`: keywords the prompt asks for when done, with where they go;
* :func:`handoff_tools`: tools that hand the conversation over (Swarm ``transfer_to_*``,
  ADK ``transfer_to_agent``), and which of their targets end the exchange (``user``);
* :func:`choice_request`: "select/choose ... from [a, b]" in the instruction being answered;
* :func:`json_request`: a JSON answer asked for in the prompt, as a JSON schema (from an
  inline template such as Magentic-One's progress ledger, or a list of keys);
* :func:`count_turns`: how far the conversation has got (turns of the participants,
  including earlier answers of this service pasted into a prompt);
* :func:`topic_text`: what the conversation is about, without framework wrapper text
  (ADK's quoted-agent-content fences, AutoGen's handoff and selector boilerplate,
  Magentic-One's ledger prompts) and without this service's own earlier words;
* :func:`stop_probability`: the chance of wrapping up now, rising with the turn count.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from maestro.sim.policy import SimMessage, SimRequest, SimTool
from maestro.sim.synth import count_sim_answers, salient_terms, strip_sim_text

__all__ = [
    "StopKeyword",
    "Handoff",
    "Conventions",
    "read_conventions",
    "stop_keywords",
    "handoff_tools",
    "is_handoff_name",
    "choice_request",
    "json_request",
    "template_schema",
    "schema_choices",
    "own_streak",
    "count_turns",
    "topic_text",
    "strip_wrappers",
    "stop_probability",
    "TERMINAL_TARGETS",
    "STOP_BASE",
    "STOP_SLOPE",
    "STOP_CERTAIN_AT",
]

STOP_BASE = 0.1
"""Chance of wrapping up on the very first turn (profile knob ``extra["fallback_stop_base"]``)."""
STOP_SLOPE = 0.12
"""How much that chance grows per turn already taken (``extra["fallback_stop_slope"]``)."""
STOP_CERTAIN_AT = 12
"""From this many turns on the model always wraps up (``extra["fallback_stop_certain_at"]``):
every loop the fallback drives ends within a bounded number of calls."""

TERMINAL_TARGETS = frozenset({"user", "human", "customer", "client", "requester", "end", "finish", "done", "stop", "__end__"})
"""Handoff targets that end the exchange (Swarm's ``HandoffTermination(target="user")``)."""


def stop_probability(turns: int, extra: dict[str, Any] | None = None) -> float:
    """Chance that the model wraps up now, after ``turns`` turns: ``base + slope * turns``,
    capped at 1, and 1 from ``certain_at`` turns on."""
    extra = extra or {}
    base = float(extra.get("fallback_stop_base", STOP_BASE))
    slope = float(extra.get("fallback_stop_slope", STOP_SLOPE))
    certain = int(extra.get("fallback_stop_certain_at", STOP_CERTAIN_AT))
    if turns >= certain:
        return 1.0
    return max(0.0, min(1.0, base + slope * max(0, turns)))


# --- framework wrapper text ------------------------------------------------------------------

# Google ADK (2.x) relays other agents' turns as user messages, fenced:
#   For context: below is a transcript of what another agent did, quoted between ... user.
#   [researcher] said:
#   <<<BEGIN_QUOTED_AGENT_CONTENT>>> ... <<<END_QUOTED_AGENT_CONTENT>>>
# and older releases as "For context:" / "[researcher] said: ...".
_ADK_PREAMBLE_RE = re.compile(r"For context: below is a transcript of what another agent did,.*?from the user\.", re.S)
_ADK_QUOTED_RE = re.compile(r"<<<BEGIN_QUOTED_AGENT_CONTENT>>>.*?(?:<<<END_QUOTED_AGENT_CONTENT>>>|\Z)", re.S)
_ADK_ATTRIBUTION_RE = re.compile(
    r"^[ \t]*(?:For context:[ \t]*)?\[[^\]\n]{1,80}\][ \t]+(?:said:|thought:|called tool\b|`[^`\n]*`[ \t]+tool returned result:)[^\n]*$", re.M
)
_ADK_TURN_RE = re.compile(r"^[ \t]*(?:For context:[ \t]*)?\[[^\]\n]{1,80}\][ \t]+(?:said:|called tool\b)", re.M)
_MARKER_RE = re.compile(r"<<<[A-Z_]{3,60}>>>")
_FOR_CONTEXT_RE = re.compile(r"^[ \t]*For context:[ \t]*$", re.M)

# Lines of framework boilerplate (AutoGen selector, Swarm and Magentic-One prompts, ADK's
# system additions, LangChain's structured-output nudges): instructions to the model, not
# the topic. A line containing one of these fragments is dropped from the topic text.
_BOILERPLATE = (
    # AutoGen Swarm / selector
    "adopting the role of",
    "you are in a role play game",
    "the following roles are available",
    "read the following conversation",
    "read the above conversation",
    "only return the role",
    "no valid name was mentioned",
    "expected exactly one name to be mentioned",
    # AutoGen Magentic-One orchestrator
    "below i will present you a request",
    "pre-survey",
    "ken jennings",
    "here is the request:",
    "given or verified facts",
    "facts to look up",
    "facts to derive",
    "educated guesses",
    "please list any",
    "when answering this survey",
    "do not include any other headings",
    "do not list next steps",
    "we have assembled the following team",
    "devise a short bullet-point plan",
    "there is no requirement to involve all team members",
    "recall we are working on the following request",
    "we are working to address the following user request",
    "to make progress on the request",
    "is the request fully satisfied",
    "are we in a loop",
    "are we making forward progress",
    "who should speak next",
    "what instruction or question would you give",
    "please output an answer in pure json",
    "the json object must be parsable",
    "here is an initial fact sheet",
    "here is the plan to follow",
    "we are working on the following task",
    "we have completed the task",
    "the above messages contain the conversation",
    "provide the final answer to the original request",
    "phrased as if you were speaking to the user",
    "as a reminder, we are working to solve",
    "it's clear we aren't making as much progress",
    "please rewrite the following fact sheet",
    "here is the old fact sheet",
    "please briefly explain what went wrong",
    # Google ADK system additions
    "you are an agent. your internal name is",
    "the description about you is",
    "you have a list of other agents to transfer to",
    "call `transfer_to_agent` function",
    "transfer the question to that",
    "the only available agents for",
    "if neither you nor the other agents are best",
    "if you are the best to answer the question",
    "when transferring, do not generate any text",
    "tool descriptions quoted between",
)
_JSON_LINE_RE = re.compile(r'^\s*(?:[{}\[\],]+|"[^"\n]*"\s*:.*)\s*$')


def strip_wrappers(text: str) -> str:
    """``text`` without framework wrapper text: ADK's relay preamble, attributions and the
    quoted content of other agents' turns (their words, not the topic), fence markers,
    and lines of known framework boilerplate."""
    if not text:
        return text
    t = _ADK_PREAMBLE_RE.sub(" ", text)
    t = _ADK_QUOTED_RE.sub(" ", t)
    t = _ADK_ATTRIBUTION_RE.sub(" ", t)
    t = _FOR_CONTEXT_RE.sub(" ", t)
    t = _MARKER_RE.sub(" ", t)
    lines = []
    for line in t.split("\n"):
        low = line.lower()
        if any(frag in low for frag in _BOILERPLATE) or _JSON_LINE_RE.match(line):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def _clean(text: str, keywords: tuple[str, ...] = ()) -> str:
    """Wrapper text, this service's own sentences and stop keywords removed."""
    t = strip_sim_text(strip_wrappers(text))
    for kw in (*keywords, "TERMINATE"):
        t = t.replace(kw, " ")
    return re.sub(r"[ \t]{2,}", " ", t).strip()


# --- who said what ---------------------------------------------------------------------------

_USERISH = frozenset({"user", "human"})


def _is_other_agent(m: SimMessage, index: int, first_user: int) -> bool:
    """A user-role message that carries another participant's turn (AutoGen names it after
    its source agent; the task itself is named ``user`` or not at all)."""
    return m.role == "user" and index != first_user and bool(m.name) and (m.name or "").lower() not in _USERISH


def _first_user(messages: tuple[SimMessage, ...]) -> int:
    return next((i for i, m in enumerate(messages) if m.role == "user"), -1)


def count_turns(request: SimRequest) -> int:
    """Turns the conversation has already taken, as the model can see them.

    Counted: the model's own earlier turns (assistant messages, with text or tool calls);
    other participants' turns relayed as user messages (AutoGen names them after their
    agent; ADK writes ``[agent] said:`` / ``[agent] called tool``); and earlier answers of
    this service pasted into a message (a selector's transcript, a replanner's list of
    past steps), each recognised by its opening sentence. The last message is the
    instruction being answered and is counted only for the answers it quotes.
    """
    msgs = request.messages
    first = _first_user(msgs)
    turns = 0
    for i, m in enumerate(msgs):
        last = i == len(msgs) - 1
        if m.role == "assistant":
            turns += 0 if last else 1
            continue
        adk = len(_ADK_TURN_RE.findall(m.content)) if m.role == "user" else 0
        if adk:
            turns += adk
        elif _is_other_agent(m, i, first) and not last:
            turns += 1
        elif m.role in ("user", "system", "tool"):
            turns += count_sim_answers(m.content)
    return turns


def topic_text(request: SimRequest, keywords: tuple[str, ...] = ()) -> str:
    """What the conversation is about, for the words of a reply: the latest user message
    that still says something once wrapper text, this service's own words and stop keywords
    are removed, followed by the task (the first user message). Other agents' turns only
    count for what is left of them after that cleaning (e.g. an instance policy's text)."""
    msgs = request.messages
    first = _first_user(msgs)
    task = _clean(msgs[first].content, keywords) if first >= 0 else ""
    latest = ""
    for i in range(len(msgs) - 1, first, -1):
        m = msgs[i]
        if m.role != "user":
            continue
        cleaned = _clean(m.content, keywords)
        if salient_terms(cleaned, 1):
            latest = cleaned
            break
    if not task and not latest:
        # Nothing but wrappers and sim text: fall back to the system prompt's own words.
        return _clean(request.system, keywords)
    return f"{latest}\n{task}".strip() if latest and latest != task else task


# --- stop keywords ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StopKeyword:
    """A keyword the prompt asks the model to produce when it is done."""

    text: str
    """The keyword as it must appear (``TERMINATE``, ``APPROVE``, ``FINAL ANSWER:``)."""
    position: str = "end"
    """``end``: after the answer; ``start``: the reply begins with it."""

    def apply(self, answer: str) -> str:
        """``answer`` with the keyword where the prompt wants it."""
        answer = (answer or "").strip()
        if self.position == "start":
            return f"{self.text} {answer}".strip()
        if self.text.endswith(":"):
            return f"{answer}\n\n{self.text} {answer.split('. ')[0].rstrip('.') or 'done'}".strip()
        return f"{answer}\n\n{self.text}".strip()


_NOT_KEYWORDS = frozenset(
    {"json", "xml", "yaml", "csv", "html", "sql", "url", "api", "yes", "no", "true", "false", "none", "null", "ok",
     "user", "ai", "llm", "id", "markdown", "python", "code", "text"}
)
_KW_VERBS = (
    r"reply|respond|answer|say|write|output|print|return|type|emit|signal|state|include|end|finish|conclude|close|"
    r"start|begin|prefix|mark"
)
_KW_FILLER = (
    r"your|the|a|an|its|final|whole|complete|last|each|every|reply|response|message|answer|output|turn|conversation|"
    r"text|it|this|with|by|using|saying|writing|exactly|only|just|simply|word|words|keyword|phrase|token|marker|"
    r"string|term|line|following|single|own|on|in|all|caps|capitals|uppercase|should|must|template|format"
)
_KEYWORD_RE = re.compile(
    rf"\b(?P<verb>{_KW_VERBS})(?:s|es|ed|ing)?\b(?:[ \t]+(?:{_KW_FILLER})\b){{0,6}}?[ \t]*:?[ \t]*"
    r"""(?:(?P<open>["'`\u201c\u2018])(?P<qkw>[^"'`\u201d\u2019\n]{1,40})["'`\u201d\u2019]|(?-i:(?P<kw>[A-Z][A-Z0-9_]{2,}(?:[ _][A-Z][A-Z0-9_]{1,})*:?)))""",
    re.IGNORECASE,
)


def _keyword_ok(kw: str, quoted: bool) -> bool:
    k = kw.strip()
    if not k or len(k.split()) > 4 or any(w in _NOT_KEYWORDS for w in re.split(r"[\s_:]+", k.lower()) if w):
        return False
    if not quoted:
        # Unquoted: only ALL-CAPS words count (``reply with TERMINATE``, not ``reply with that``).
        return k.rstrip(":").replace(" ", "").replace("_", "").isupper()
    return any(c.isalpha() for c in k) and "{" not in k and "<" not in k


def stop_keywords(texts: list[str]) -> list[StopKeyword]:
    """Keywords ``texts`` ask for, in order of appearance: ``reply with TERMINATE when
    done``, ``say "APPROVE" when the draft is good``, ``end your answer with FINAL ANSWER:
    <answer>``, ``start your reply with 'DONE'``. A keyword offered as one of several
    (``answer YES or NO``) is a choice, not a stop convention, and is skipped."""
    found: dict[str, StopKeyword] = {}
    for text in texts:
        for m in _KEYWORD_RE.finditer(text or ""):
            quoted = m.group("qkw") is not None
            kw = (m.group("qkw") if quoted else m.group("kw")).strip()
            if not kw or not _keyword_ok(kw, quoted):
                continue
            after = text[m.end() : m.end() + 12]
            if re.match(r"""\s*(?:or|/|\|)\s""", after, re.I):
                continue
            verb = m.group("verb").lower()
            position = "start" if verb in ("start", "begin", "prefix") else "end"
            found.setdefault(kw, StopKeyword(kw, position))
    return list(found.values())


# --- handoffs --------------------------------------------------------------------------------

_HANDOFF_RE = re.compile(r"^(?:transfer|handoff|hand_off|switch|route|delegate|escalate)_?to_?(?P<target>\w*)$", re.I)


@dataclass(frozen=True)
class Handoff:
    """A tool that hands the conversation to another participant."""

    tool: SimTool
    targets: tuple[str, ...]
    """Who it can hand to (one for ``transfer_to_x``; the enum of ``transfer_to_agent``)."""
    argument: str | None = None
    """The argument naming the target, when the tool takes one."""

    @property
    def terminal(self) -> bool:
        """Whether every target ends the exchange (``transfer_to_user``)."""
        return bool(self.targets) and all(t.lower() in TERMINAL_TARGETS for t in self.targets)


def handoff_tools(tools: tuple[SimTool, ...]) -> list[Handoff]:
    """The handoff tools among ``tools``."""
    out = []
    for t in tools:
        m = _HANDOFF_RE.match(t.name)
        if not m:
            continue
        target = m.group("target")
        if target and target.lower() != "agent":
            out.append(Handoff(t, (target,)))
            continue
        props = (t.parameters or {}).get("properties") or {}
        arg: str | None = None
        opts: tuple[str, ...] = ()
        for pname, ps in props.items():
            if isinstance(ps, dict) and isinstance(ps.get("enum"), list):
                arg, opts = pname, tuple(str(x) for x in ps["enum"])
                break
        if arg is None:
            arg = next((p for p in props if "agent" in p.lower() or "name" in p.lower() or "target" in p.lower()), None)
        out.append(Handoff(t, opts, arg))
    return out


def is_handoff_name(name: str | None) -> bool:
    return bool(name) and bool(_HANDOFF_RE.match(name or ""))


# --- choices ---------------------------------------------------------------------------------

_CHOICE_RE = re.compile(
    r"\b(?:select|choose|pick)\b[^\n.]{0,80}?\bfrom\b(?:\s*(?P<list>\[[^\]\n]{1,600}\])|\s*:\s*(?P<list2>[^\n)]{1,300}))", re.I
)


def _parse_list(raw: str) -> list[str]:
    raw = raw.strip().rstrip(".")
    if raw.startswith("["):
        try:
            val = ast.literal_eval(raw)
            if isinstance(val, (list, tuple)):
                return [str(x) for x in val if str(x).strip()]
        except (ValueError, SyntaxError):
            raw = raw.strip("[]")
    parts = re.split(r"\s*(?:,|\||\bor\b|/)\s*", raw)
    out = []
    for p in parts:
        p = p.strip().strip("`'\"[]() ").rstrip(".")
        if p and len(p) <= 60 and len(p.split()) <= 4:
            out.append(p)
    return out


def choice_request(text: str) -> list[str] | None:
    """The options of a "select/choose/pick ... from [a, b]" instruction in ``text`` (the
    last one), or None."""
    found = None
    for m in _CHOICE_RE.finditer(text or ""):
        opts = _parse_list(m.group("list") or m.group("list2") or "")
        if opts:
            found = opts
    return found


# --- JSON asked for in the prompt --------------------------------------------------------------

_ASKS_JSON_RE = re.compile(
    r"\b(?:respond|answer|reply|output|return|format|formatted|write|provide|give|produce)\w*\b[^.\n]{0,60}\bJSON\b"
    r"|\bJSON\b[^.\n]{0,40}\b(?:format|object|only|schema)\b|\bin JSON\b",
    re.I,
)
_KEYS_RE = re.compile(
    r"\b(?:keys?|fields?|properties)\b\s*:?\s*(?P<list>[`\"']?[A-Za-z_]\w*[`\"']?(?:\s*(?:,|and|,\s*and)\s*[`\"']?[A-Za-z_]\w*[`\"']?){1,15})",
    re.I,
)
_TEMPLATE_START_RE = re.compile(r"""\{\s*["']?[A-Za-z_][\w -]{0,60}["']?\s*:""")


def _match_brace(text: str, start: int) -> int | None:
    depth = 0
    quote = None
    for i in range(start, min(len(text), start + 20000)):
        c = text[i]
        if quote:
            if c == quote and text[i - 1] != "\\":
                quote = None
            continue
        if c == '"':
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _desc_schema(desc: str) -> dict[str, Any]:
    d = desc.strip().rstrip(",").strip()
    low = d.lower()
    m = re.search(r"(?:select|choose|pick)\s+(?:one\s+)?(?:from|of)\s*:?\s*(?P<l>[^)]*)|\bone of\s*:?\s*(?P<l2>[^)]*)", d, re.I)
    if m:
        opts = _parse_list(m.group("l") or m.group("l2") or "")
        if opts:
            return {"type": "string", "enum": opts}
    if low.startswith(("bool", "true", "false")):
        return {"type": "boolean"}
    if low.startswith(("int",)):
        return {"type": "integer"}
    if low.startswith(("number", "float", "double", "decimal")) or re.fullmatch(r"-?\d+(?:\.\d+)?", low):
        return {"type": "integer"} if re.fullmatch(r"-?\d+", low) else {"type": "number"}
    if low.startswith(("list", "array")):
        return {"type": "array", "items": {"type": "string"}}
    return {"type": "string"}


class _TemplateParser:
    """A forgiving reader of pseudo-JSON templates: ``{"key": string (select from: a, b),
    "flag": boolean, "nested": {...}, "items": [string]}``."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def obj(self) -> dict[str, Any]:
        assert self.peek() == "{"
        self.i += 1
        props: dict[str, Any] = {}
        while self.i < len(self.s):
            self.ws()
            c = self.peek()
            if c == "}":
                self.i += 1
                break
            if c == ",":
                self.i += 1
                continue
            key = self.key()
            if key is None:
                break
            self.ws()
            if self.peek() != ":":
                break
            self.i += 1
            self.ws()
            c = self.peek()
            if c == "{":
                props[key] = self.obj()
            elif c == "[":
                props[key] = self.arr()
            else:
                props[key] = _desc_schema(self.scalar())
        return {"type": "object", "properties": props, "required": list(props)}

    def key(self) -> str | None:
        c = self.peek()
        if c in "\"'":
            end = self.s.find(c, self.i + 1)
            if end < 0:
                return None
            k = self.s[self.i + 1 : end]
            self.i = end + 1
            return k
        m = re.compile(r"[A-Za-z_][\w-]*").match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group()

    def arr(self) -> dict[str, Any]:
        self.i += 1
        self.ws()
        c = self.peek()
        item: dict[str, Any] = {"type": "string"}
        if c == "{":
            item = self.obj()
        elif c != "]":
            item = _desc_schema(self.scalar(stop="],"))
        depth = 1
        while self.i < len(self.s) and depth:
            c = self.s[self.i]
            depth += c == "["
            depth -= c == "]"
            self.i += 1
        return {"type": "array", "items": item}

    def scalar(self, stop: str = ",}") -> str:
        start = self.i
        depth = 0
        quote = None
        while self.i < len(self.s):
            c = self.s[self.i]
            if quote:
                if c == quote:
                    quote = None
            elif c == '"':
                quote = c
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif depth <= 0 and (c in stop or c == "\n"):
                break
            self.i += 1
        raw = self.s[start : self.i].strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            inner = raw[1:-1]
            return inner if re.match(r"(?i)(string|bool|int|number|float|list|array|select|one of)", inner) else "string"
        return raw


def _schema_of_example(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array", "items": _schema_of_example(value[0]) if value else {"type": "string"}}
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: _schema_of_example(v) for k, v in value.items()}, "required": list(value)}
    if isinstance(value, str):
        return _desc_schema(value) if re.match(r"(?i)(bool|int|number|float|list|array)\b|.*\b(select|one of)\b", value) else {"type": "string"}
    return {"type": "string"}


def template_schema(text: str) -> dict[str, Any] | None:
    """The JSON schema of the first JSON template in ``text`` (a real JSON example or a
    pseudo-JSON one with type words), or None."""
    for m in _TEMPLATE_START_RE.finditer(text or ""):
        end = _match_brace(text, m.start())
        if end is None:
            continue
        block = text[m.start() : end + 1]
        try:
            value = json.loads(block)
            schema = _schema_of_example(value) if isinstance(value, dict) else None
        except ValueError:
            try:
                schema = _TemplateParser(block).obj()
            except (AssertionError, IndexError):
                schema = None
        if schema and schema.get("properties"):
            return schema
    return None


def _key_schema(key: str) -> dict[str, Any]:
    from maestro.sim.synth import _DONE_KEY_RE, _NEG_KEY_RE, _POS_KEY_RE

    if key.startswith(("is_", "has_", "should_", "needs_")) or any(r.search(key) for r in (_DONE_KEY_RE, _NEG_KEY_RE, _POS_KEY_RE)):
        return {"type": "boolean"}
    return {"type": "string"}


def json_request(texts: list[str]) -> tuple[bool, dict[str, Any] | None]:
    """Whether ``texts`` (the instruction, then the system prompt) ask for a JSON answer, and
    the schema they spell out: an inline template, or "with keys a, b and c"."""
    asked = False
    for text in texts:
        if not text:
            continue
        if _ASKS_JSON_RE.search(text):
            asked = True
            schema = template_schema(text)
            if schema:
                return True, schema
            m = _KEYS_RE.search(text)
            if m:
                keys = [k.strip("`\"'") for k in re.split(r"\s*(?:,\s*and|,|and)\s*", m.group("list")) if k.strip("`\"'")]
                if len(keys) >= 2:
                    return True, {"type": "object", "properties": {k: _key_schema(k) for k in keys}, "required": keys}
    return asked, None


def schema_choices(schema: dict[str, Any] | None, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], list[Any]]:
    """Key paths of ``schema`` whose value is an enum (the options a prompt lists)."""
    out: dict[tuple[str, ...], list[Any]] = {}
    if not isinstance(schema, dict):
        return out
    if isinstance(schema.get("enum"), list) and path:
        out[path] = list(schema["enum"])
    for k, v in (schema.get("properties") or {}).items():
        out.update(schema_choices(v, (*path, k)))
    if isinstance(schema.get("items"), dict):
        out.update(schema_choices(schema["items"], path))
    return out


# --- everything at once ----------------------------------------------------------------------


@dataclass
class Conventions:
    """What a request says about how to go on and how to end (see the module docstring)."""

    turns: int
    keywords: list[StopKeyword] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    choices: list[str] | None = None
    json_asked: bool = False
    """A JSON answer is asked for, by the instruction being answered or the system prompt."""
    json_schema: dict[str, Any] | None = None
    """The schema the prompt spells out for it (template or keys), if any."""
    json_in_instruction: bool = False
    """The JSON is asked for by the instruction being answered (not only the system prompt):
    the answer is the JSON, never a tool call."""
    topic: str = ""
    own_streak: int = 0
    """How many of the last messages are the model's own text turns: the floor came back to
    it with nothing new said (a Swarm agent that answered without handing over)."""

    @property
    def terminal_handoffs(self) -> list[Handoff]:
        return [h for h in self.handoffs if h.terminal]

    @property
    def other_handoffs(self) -> list[Handoff]:
        return [h for h in self.handoffs if not h.terminal]


def _instruction_texts(request: SimRequest) -> list[str]:
    """System prompts and the user's own messages, wrapper-free: where a MAS states its
    conventions. Other agents' turns and this service's words are left out."""
    msgs = request.messages
    first = _first_user(msgs)
    out = [m.content for m in msgs if m.role == "system"]
    for i, m in enumerate(msgs):
        if m.role == "user" and not _is_other_agent(m, i, first):
            out.append(strip_sim_text(_ADK_QUOTED_RE.sub(" ", m.content)))
    return out


def read_conventions(request: SimRequest) -> Conventions:
    """All conventions of ``request`` at once."""
    msgs = request.messages
    last = msgs[-1] if msgs else None
    instruction = last.content if last is not None and last.role in ("user", "system") else ""
    keywords = stop_keywords(_instruction_texts(request))
    in_instruction, schema = json_request([instruction])
    asked = in_instruction
    if not asked:
        asked, schema = json_request([request.system])
    return Conventions(
        turns=count_turns(request),
        keywords=keywords,
        handoffs=handoff_tools(request.tools),
        choices=choice_request(strip_sim_text(instruction)) if instruction and not asked else None,
        json_asked=asked,
        json_schema=schema,
        json_in_instruction=in_instruction,
        topic=topic_text(request, tuple(k.text for k in keywords)),
        own_streak=own_streak(request),
    )


def own_streak(request: SimRequest) -> int:
    """Trailing assistant text turns of ``request`` (see :attr:`Conventions.own_streak`)."""
    n = 0
    for m in reversed(request.messages):
        if m.role != "assistant" or m.tool_calls:
            break
        n += 1
    return n
