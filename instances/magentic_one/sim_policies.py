"""Simulated-model behaviour for Magentic-One's coder, file surfer and orchestrator.

The orchestrator's task ledger (facts and plan, and their updates after stalls) is left to
the service's generic fallback. Its progress ledger has a policy: the fallback answers the
ledger's JSON template with a next speaker drawn at random and a done flag that grows with
the turns, so a team of specialists rarely got through read -> code -> run before it
stopped (0 of 10 tools-on runs correct on ``sim/strong`` when tried); a planning model
reads where the work stands, as below.

Every policy reads only the request (the conversation as the agent sees it) and draws
randomness only from ``ctx.rng``; none opens the document folder or knows the truth.

* File surfer (system-prompt marker): with its tools offered it calls ``read_file`` for the
  file the question names, unless that file's contents (``Contents of <file>:``) are
  already in its context; with no file named it calls ``list_files`` once. With every
  file read it says so; with no tools (tools off) it says it cannot open files.
* Coder (marker): finds the question (``questions.parse_question``) in the conversation.
  When the terminal has printed a result since its last code block it repeats that result,
  without code; when the terminal refused to run code it gives up (no code). Otherwise it
  writes one ```python block: when the file's contents are in its context, a script that
  holds that text and computes the answer from it (the terminal really runs it, and what
  it prints is the result); with probability ``1 - accuracy`` the script has a bug drawn
  from the profile's failure mix: ``wrong`` (aggregates another numeric column; for counts
  and line counts, drops the first row or line as if it were a header), ``underspecified``
  (ignores the row filter; with none, drops the first row or line) or ``empty`` (computes
  but never prints). Without the contents
  it writes a script that opens the file by name, which the terminal cannot see.
* Orchestrator, progress ledger (AutoGen's ledger prompt in a conversation holding this
  instance's task marker): JSON in the prompt's schema. Done when the terminal printed a
  result after the coder's last script. Otherwise the next step of the plan: the terminal
  when a script waits to run, else the file surfer while the question's file is unread
  (and the surfer has not said it has no tools), else the coder (to write the script, or
  to fix the one that failed). When the work is blocked (the terminal refused, or the
  coder gave up) it reports no progress and gives up (done) with the fallback's stop
  probability for the turns taken. With probability ``1 - accuracy`` a step slips as the failure mix draws:
  ``empty`` declares the request done too early, otherwise a random speaker is picked.
  Looping (an agent's last two messages identical) is reported as ``is_in_loop``.
* Orchestrator, final answer (AutoGen's final-answer prompt in a conversation holding this
  instance's task marker): repeats the last result the terminal printed; with none it says
  it could not compute the answer, or, with probability ``1 - accuracy`` when the failure
  mix draws ``wrong``, confabulates a number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.conventions import count_turns, stop_probability
from maestro.sim.policy import PolicyContext, SimMessage, SimReply, SimRequest, SimToolCall

from .prompts import (
    CODER,
    CODER_MARKER,
    FILE_SURFER,
    FILE_SURFER_MARKER,
    FINAL_ANSWER_MARKER,
    ORCHESTRATOR,
    PARTICIPANTS,
    PROGRESS_LEDGER_MARKER,
    TASK_MARKER,
    TERMINAL,
)
from .questions import Question, find_question, format_question, parse_question, word_pattern

__all__ = ["FileSurferPolicy", "CoderPolicy", "ProgressLedgerPolicy", "FinalAnswerPolicy", "POLICIES",
           "register_sim_policies", "WorkState", "work_state", "file_contents", "terminal_result", "solution_code",
           "CODE_MODES"]

CODE_MODES = ("correct", "wrong", "underspecified", "empty")
"""How a coder's script can turn out (see ``solution_code``)."""

_FILE_NAME = re.compile(r"\b[\w.-]+\.(?:csv|txt|log)\b")
_CONTENTS = re.compile(r"^Contents of ([\w.-]+):[ \t]*$", re.MULTILINE)
_CODE_BLOCK = re.compile(r"```(?:python|py|python3)\s*\n[\s\S]*?```")
_FILLER = (
    "The script only uses the rows shown in the conversation.", "Nothing here needs the network.",
    "The data is embedded so the terminal can run it as is.", "The result is printed on one line.",
    "I kept the computation short and explicit.",
)

# What AutoGen's CodeExecutorAgent (0.7) writes instead of a script's output
_NOT_A_RESULT = ("The script ran, then exited with an error", "The script ran but produced no output",
                 "No code blocks found", "Refused:")


def _others(request: SimRequest) -> list[SimMessage]:
    """Non-system messages, in order."""
    return [m for m in request.messages if m.role != "system"]


def file_contents(request: SimRequest) -> dict[str, str]:
    """File name -> text, for every ``Contents of <name>:`` block in the conversation (tool
    results and teammates' messages; the last copy of a file wins)."""
    found: dict[str, str] = {}
    for m in _others(request):
        text = m.content or ""
        heads = list(_CONTENTS.finditer(text))
        for i, h in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            body = text[h.end():end].strip("\n")
            if body.strip():
                found[h.group(1)] = body.rstrip() + "\n"
    return found


def _question(request: SimRequest) -> Question | None:
    return find_question([m.content for m in _others(request) if m.role == "user"])


def terminal_result(text: str) -> str | None:
    """The output of a script that ran and printed something, or None for AutoGen's error,
    no-output and no-code messages and the guard's refusals."""
    t = (text or "").strip()
    if not t or t.startswith(_NOT_A_RESULT):
        return None
    return t


def _last_terminal(messages: list[SimMessage]) -> SimMessage | None:
    for m in reversed(messages):
        if m.role == "user" and m.name == TERMINAL:
            return m
    return None


# -- file surfer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSurferPolicy(MarkerPolicy):
    """Reads the question's file with ``read_file`` (``list_files`` when none is named)."""

    name: str = "magentic_one.file_surfer"
    marker: str = FILE_SURFER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        q = _question(request)
        named = [q.file] if q else []
        if not named:
            for m in _others(request):
                if m.role == "user":
                    named = list(dict.fromkeys(_FILE_NAME.findall(m.content)))
                    if named:
                        break
        tools = {t.name for t in request.tools}
        if "read_file" not in tools:
            what = named[0] if named else "the document folder"
            return SimReply(text=f"I cannot open {what}: I have no file tools in this run, so I cannot show "
                                 "its contents.")
        seen = file_contents(request)
        todo = [n for n in named if n not in seen]
        if todo:
            return SimReply(tool_calls=tuple(SimToolCall("read_file", {"name": n}) for n in todo))
        listed = any("Files in the document folder:" in (m.content or "") for m in _others(request))
        if not named and not listed and "list_files" in tools:
            return SimReply(tool_calls=(SimToolCall("list_files", {}),))
        if seen:
            return SimReply(text=f"The contents of {', '.join(sorted(seen))} are shown above.")
        return SimReply(text="The request names no file I can read.")


# -- coder ---------------------------------------------------------------------------------


def _literal(text: str) -> str:
    if '"""' in text or "\\" in text:
        return repr(text)
    return '"""' + text + '"""'


def _numeric_columns(data: str) -> list[str]:
    """Columns of a CSV text whose first data row parses as a number."""
    lines = [ln for ln in data.splitlines() if ln.strip()]
    if len(lines) < 2:
        return []
    header, first = lines[0].split(","), lines[1].split(",")
    out = []
    for h, v in zip(header, first, strict=False):
        try:
            float(v)
        except ValueError:
            continue
        out.append(h.strip())
    return out


def solution_code(q: Question, data: str | None, mode: str = "correct") -> str:
    """The coder's script for ``q``: computing from ``data`` (the file's text as seen in the
    conversation) embedded in the script, or opening the file by name when ``data`` is
    None. ``mode`` (one of :data:`CODE_MODES`) plants the bug described in the module doc."""
    if mode not in CODE_MODES:
        raise ValueError(f"unknown mode {mode!r}")
    lines: list[str]
    if q.op == "lines":
        source = f"DATA = {_literal(data)}\nlines = DATA.splitlines()" if data is not None else \
            f"with open({q.file!r}, encoding='utf-8') as f:\n    lines = f.read().splitlines()"
        lines = ["import re", "", source]
        if mode in ("wrong", "underspecified"):
            lines.append("lines = lines[1:]  # skip the header line")
        lines.append(f"count = sum(1 for line in lines if re.search(r{word_pattern(q.word or '')!r}, line))")
        if mode != "empty":
            lines.append("print(count)")
        return "\n".join(lines)
    source = f"DATA = {_literal(data)}\nrows = list(csv.DictReader(io.StringIO(DATA)))" if data is not None else \
        f"with open({q.file!r}, newline='', encoding='utf-8') as f:\n    rows = list(csv.DictReader(f))"
    lines = ["import csv", "import io", "", source]
    column = q.column
    skip_first = mode == "wrong" and q.op == "count"
    if mode == "wrong" and q.op != "count":
        others = [c for c in _numeric_columns(data or "") if c != column]
        if others:
            column = others[0]
        else:
            skip_first = True
    if mode == "underspecified" and not q.where_column:
        skip_first = True
    if skip_first:
        lines.append("rows = rows[1:]  # skip the header row")
    if q.where_column and mode != "underspecified":
        lines.append(f"rows = [r for r in rows if r[{q.where_column!r}].strip() == {q.where_value!r}]")
    if q.op == "count":
        lines.append("result = len(rows)")
    else:
        lines.append(f"values = [float(r[{column!r}]) for r in rows]")
        lines.append({"sum": "result = round(sum(values), 2)",
                      "mean": "result = round(sum(values) / len(values), 2)",
                      "max": "result = max(values)"}[q.op])
    if mode != "empty":
        lines.append("print(result)")
    return "\n".join(lines)


@dataclass(frozen=True)
class CoderPolicy(MarkerPolicy):
    """Writes a script computing the answer from file contents in its context (see module doc)."""

    name: str = "magentic_one.coder"
    marker: str = CODER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        q = _question(request)
        if q is None:
            return SimReply(text="I see no question about a file that I could compute.")
        msgs = _others(request)
        last_code = max((i for i, m in enumerate(msgs) if m.role == "assistant" and _CODE_BLOCK.search(m.content)),
                        default=-1)
        term = _last_terminal(msgs[last_code + 1:]) if last_code >= 0 else None
        if term is not None:
            result = terminal_result(term.content)
            if result is not None:
                return SimReply(text=f"The terminal printed {result.splitlines()[-1].strip()}: that is the answer.")
            if "Refused:" in term.content:
                return SimReply(text="The terminal refuses to run code in this run, so I cannot compute the answer.")
        data = file_contents(request).get(q.file)
        rng = ctx.rng
        if data is None:
            mode = "correct"
            intro = f"I have not seen the contents of {q.file}; this script reads it from the working directory:"
        else:
            mode = "correct" if rng.random() < ctx.accuracy else ctx.failure_mix.draw(rng)
            intro = f"This script computes the answer from the contents of {q.file} shown above:"
        code = solution_code(q, data, mode)
        text = pad(intro, rng, ctx.verbosity, _FILLER, cap=4)
        return SimReply(text=f"{text}\n\n```python\n{code}\n```")


# -- orchestrator's progress ledger --------------------------------------------------------


def _orchestrator_request(request: SimRequest, marker: str) -> bool:
    """The orchestrator's prompt holding ``marker``, in a conversation about this instance's task."""
    last = request.messages[-1] if request.messages else None
    return (last is not None and last.role == "user" and marker in last.content
            and last.name in (None, ORCHESTRATOR) and TASK_MARKER in request.text)


@dataclass(frozen=True)
class WorkState:
    """Where the work stands, as the orchestrator's context shows it."""

    question: Question | None
    data_seen: bool
    """The question's file contents are in the conversation."""
    surfer_blocked: bool
    """The file surfer said it has no file tools."""
    pending_code: bool
    """The coder wrote a script the terminal has not run yet."""
    has_code: bool
    """The coder wrote at least one script."""
    result: str | None
    """What the terminal printed for the coder's last script, when it ran and printed."""
    failure: str | None
    """The first line of the terminal's last report when the script failed (not refused)."""
    refused: bool
    """The terminal refused the coder's last script."""
    coder_gave_up: bool
    """The coder's last message has no script and is not a reported result."""
    looping: bool
    """An agent's last two messages are identical."""


def work_state(request: SimRequest) -> WorkState:
    """Read the state of the work from the conversation (agents' turns are user messages
    named after them)."""
    msgs = _others(request)[:-1]  # the last message is the ledger prompt
    agent_msgs = [(i, m) for i, m in enumerate(msgs) if m.role == "user" and m.name in PARTICIPANTS]
    q = _question(request)
    seen = file_contents(request)
    code_idx = [i for i, m in agent_msgs if m.name == CODER and _CODE_BLOCK.search(m.content)]
    term_idx = [i for i, m in agent_msgs if m.name == TERMINAL]
    last_code = code_idx[-1] if code_idx else -1
    after = [msgs[i] for i in term_idx if i > last_code] if code_idx else []
    report = after[-1].content if after else None
    result = terminal_result(report) if report is not None else None
    refused = report is not None and "Refused:" in report
    failure = None if report is None or result is not None or refused else report.strip().splitlines()[0]
    coder_msgs = [m for _, m in agent_msgs if m.name == CODER]
    gave_up = bool(coder_msgs) and not _CODE_BLOCK.search(coder_msgs[-1].content) and \
        "that is the answer" not in coder_msgs[-1].content
    looping = False
    for name in PARTICIPANTS:
        mine = [m.content for _, m in agent_msgs if m.name == name]
        if len(mine) >= 2 and mine[-1].strip() == mine[-2].strip():
            looping = True
    return WorkState(
        question=q, data_seen=bool(q and q.file in seen),
        surfer_blocked=any(m.name == FILE_SURFER and "no file tools" in m.content for _, m in agent_msgs),
        pending_code=bool(code_idx) and not after, has_code=bool(code_idx), result=result, failure=failure,
        refused=refused, coder_gave_up=gave_up, looping=looping)


def _ledger(satisfied: tuple[bool, str], loop: tuple[bool, str], progress: tuple[bool, str],
            speaker: tuple[str, str], instruction: tuple[str, str]) -> str:
    keys = ("is_request_satisfied", "is_in_loop", "is_progress_being_made", "next_speaker", "instruction_or_question")
    parts = (satisfied, loop, progress, speaker, instruction)
    return json.dumps({k: {"reason": reason, "answer": answer} for k, (answer, reason) in zip(keys, parts, strict=True)},
                      indent=2)


@dataclass(frozen=True)
class ProgressLedgerPolicy:
    """The orchestrator's progress ledger: plans the next step from the work's state (see module doc)."""

    name: str = "magentic_one.progress_ledger"

    def matches(self, request: SimRequest) -> bool:
        return _orchestrator_request(request, PROGRESS_LEDGER_MARKER)

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        st = work_state(request)
        rng = ctx.rng
        q = st.question
        file = q.file if q else "the file the request names"
        task = _task_sentence(request)
        loop = (st.looping, "The last two messages of an agent repeat each other." if st.looping
                else "Each step so far asked for something new.")
        if st.result is not None:
            value = st.result.splitlines()[-1].strip()
            return SimReply(text=_ledger((True, f"The terminal printed {value} for the coder's script."), loop,
                                         (True, "The result is computed."), (CODER, "Nobody needs to speak."),
                                         ("The computation is done.", "Nothing is left to do.")))
        blocked = st.refused or (st.coder_gave_up and (st.surfer_blocked or st.has_code))
        if blocked:
            turns = count_turns(request)
            if rng.random() < stop_probability(turns, ctx.extra):
                return SimReply(text=_ledger((True, "The request cannot be completed: the team cannot read the "
                                                    "file or run code in this setting."), loop,
                                             (False, "Every route to the data is blocked."),
                                             (CODER, "Nobody can make progress."),
                                             ("We have to stop here.", "No route is left.")))
        if st.pending_code:
            speaker, instruction = TERMINAL, "Please run the coder's latest script and report what it prints."
        elif not st.data_seen and not st.surfer_blocked:
            speaker, instruction = FILE_SURFER, f"Please read {file} with your read_file tool and show its contents."
        elif not st.data_seen:
            speaker, instruction = CODER, f"The file surfer cannot open {file}. Please compute this in Python " \
                                          f"anyway: {task}"
        elif st.failure is not None:
            speaker, instruction = CODER, f"The script failed ({st.failure}). Please fix it using the contents " \
                                          f"of {file} shown above and print the result."
        else:
            speaker, instruction = CODER, f"Please write a Python script that answers: {task} Use the contents of " \
                                          f"{file} shown above and print the result."
        done = (False, "No computed result yet.")
        if rng.random() >= ctx.accuracy:  # a slip in planning
            if ctx.failure_mix.draw(rng) == "empty":
                done = (True, "The team has discussed the request enough.")
            else:
                speaker = rng.choice(PARTICIPANTS)
                instruction = f"Please continue with the request: {task}"
        progress = (not blocked and not st.looping, "Recent messages add value." if not blocked and not st.looping
                    else "Recent messages show a barrier or a repetition.")
        return SimReply(text=_ledger(done, loop, progress, (speaker, f"{speaker} has the next step."),
                                     (instruction, "This is the next step of the plan.")))


def _task_sentence(request: SimRequest) -> str:
    """The question as the task states it (without the task marker), or a generic phrase."""
    for m in _others(request):
        if m.role != "user":
            continue
        q = parse_question(m.content)
        if q is not None:
            return format_question(q).replace(TASK_MARKER, "").strip()
    return "the request above."


# -- orchestrator's final answer -----------------------------------------------------------


@dataclass(frozen=True)
class FinalAnswerPolicy:
    """The orchestrator's final answer: the terminal's last printed result, repeated."""

    name: str = "magentic_one.final_answer"

    def matches(self, request: SimRequest) -> bool:
        return _orchestrator_request(request, FINAL_ANSWER_MARKER)

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        q = _question(request)
        subject = f"the question about {q.file}" if q else "the question"
        results = [r for m in _others(request) if m.role == "user" and m.name == TERMINAL
                   if (r := terminal_result(m.content)) is not None]
        rng = ctx.rng
        if results:
            value = results[-1].splitlines()[-1].strip()
            text = f"The computer terminal computed {subject} from the file's data. The answer is {value}."
        elif rng.random() >= ctx.accuracy and ctx.failure_mix.draw(rng) == "wrong":
            text = f"No script finished, but from what we saw the answer to {subject} is about {rng.randint(2, 999)}."
        else:
            text = f"We could not compute {subject}: no script ran successfully on the file's data."
        return SimReply(text=text)


POLICIES = (FileSurferPolicy(), CoderPolicy(), ProgressLedgerPolicy(), FinalAnswerPolicy())
"""The instance's policies (the task ledger goes to the generic fallback)."""


def register_sim_policies() -> None:
    """Register the policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
