"""The AutoGen adapter on a MagenticOneGroupChat, end to end: two small agents defined
here, the real orchestrator and OpenAIChatCompletionClient, the simulated service over
HTTP, parquet on disk.

MagenticOne's orchestrator drives the team with its own model calls: a facts survey and
a plan (the task ledger), then per round a JSON progress ledger that names the next
speaker or declares the request satisfied, then a final answer. The service's generic
fallback cannot write that ledger, so this module registers (for its own tests only) a
policy that recognises the orchestrator's prompts and steers the run: alpha, then beta,
then done (or, by a marker in the task: done at once; or alpha, a stall that makes the
orchestrator re-plan, alpha again, done).

The orchestrator writes most of the conversation (task ledger, an instruction per step,
the final answer), so it is a participant: every hand-over goes through it.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.teams import MagenticOneGroupChat
from autogen_ext.models.openai import OpenAIChatCompletionClient

import maestro
from maestro.adapters.autogen import instrument
from maestro.sim import openai_base_url
from maestro.sim.policy import SimReply, register_policy, unregister_policy
from maestro.sim.profiles import Profile, register_profile

INFO = {"vision": False, "function_calling": True, "json_output": True, "family": "unknown", "structured_output": False}

ALPHA_SYSTEM = "You are alpha, the magentic test researcher."
BETA_SYSTEM = "You are beta, the magentic test writer."
ALPHA_REPLY = "ALPHA-NOTES: Oslo has a fjord, a palace and an opera house."
BETA_REPLY = "BETA-DRAFT: Day one fjord cruise, day two palace and opera."
FINAL = "Here is your two-day Oslo plan: a fjord cruise, then the palace and the opera."

# Fragments of autogen-agentchat 0.7's MagenticOne orchestrator prompts (_magentic_one/_prompts.py),
# each unique to one of its requests; each is the request's last user message.
FACTS_MARK = "please answer the following pre-survey"
PLAN_MARK = "please devise a short bullet-point plan"
LEDGER_MARK = "Please output an answer in pure JSON format according to the following schema"
FINAL_MARK = "provide the final answer to the original request"
FACTS_UPDATE_MARK = "Please rewrite the following fact sheet"
PLAN_UPDATE_MARK = "come up with a new plan"

SOLO_TASK = "ALREADY-DONE: say hello."
"""A task the orchestrator declares satisfied at its first progress ledger."""
REPLAN_TASK = "REPLAN-TEST: plan two days in Oslo."
"""A task where alpha's first notes count as a stall (with ``max_stalls=1``: a re-plan)."""
REPLANNED = "REPLANNED-FACTS"


def _ledger(satisfied: bool, speaker: str, instruction: str, progress: bool = True) -> str:
    """A progress ledger in the orchestrator's schema (every entry has reason and answer)."""
    return json.dumps({
        "is_request_satisfied": {"reason": "both notes and draft are in" if satisfied else "not yet",
                                 "answer": satisfied},
        "is_in_loop": {"reason": "each step is new", "answer": False},
        "is_progress_being_made": {"reason": "just starting or adding value", "answer": progress},
        "next_speaker": {"reason": "the plan's next step", "answer": speaker},
        "instruction_or_question": {"reason": "what that step needs", "answer": instruction},
    })


class _Orchestrator:
    """Answers the MagenticOne orchestrator: facts, plan, progress ledgers, final answer."""

    name = "test.autogen.magentic_one.orchestrator"

    def matches(self, request):
        last = request.last_user
        marks = (FACTS_MARK, PLAN_MARK, LEDGER_MARK, FINAL_MARK, FACTS_UPDATE_MARK, PLAN_UPDATE_MARK)
        return any(mark in last for mark in marks)

    def respond(self, request, ctx):
        last = request.last_user
        if FACTS_UPDATE_MARK in last:
            return SimReply(text=f"1. GIVEN OR VERIFIED FACTS\n- {REPLANNED}: alpha must look again.")
        if PLAN_UPDATE_MARK in last:
            return SimReply(text="- alpha looks again, more carefully.")
        if FACTS_MARK in last:
            return SimReply(text="1. GIVEN OR VERIFIED FACTS\n- Oslo, two days.\n2. FACTS TO LOOK UP\n- Sights.\n"
                                 "3. FACTS TO DERIVE\n- None.\n4. EDUCATED GUESSES\n- A fjord cruise.")
        if PLAN_MARK in last:
            return SimReply(text="- alpha gathers notes.\n- beta drafts the plan.")
        if FINAL_MARK in last:
            return SimReply(text=FINAL)
        # Progress ledger: the conversation so far tells which step is done.
        seen = request.text
        if "REPLAN-TEST" in seen:  # alpha, a stall (re-plan), alpha again, done
            if REPLANNED in seen:
                done = "ALPHA-NOTES" in seen
                return SimReply(text=_ledger(done, "alpha", "Look again." if not done else "Nothing more."))
            if "ALPHA-NOTES" in seen:
                return SimReply(text=_ledger(False, "alpha", "Same again.", progress=False))
            return SimReply(text=_ledger(False, "alpha", "Gather notes on Oslo's sights."))
        if "BETA-DRAFT" in seen or "ALREADY-DONE" in seen:
            return SimReply(text=_ledger(True, "beta", "Nothing more."))
        if "ALPHA-NOTES" in seen:
            return SimReply(text=_ledger(False, "beta", "Draft the two-day plan from alpha's notes."))
        return SimReply(text=_ledger(False, "alpha", "Gather notes on Oslo's sights."))


class _Agent:
    def __init__(self, name, system, reply):
        self.name, self.system, self.reply = name, system, reply

    def matches(self, request):
        return self.system in request.system

    def respond(self, request, ctx):
        return SimReply(text=self.reply)


@pytest.fixture(scope="module", autouse=True)
def magentic_policies():
    """Register this module's policies, and remove exactly those afterwards."""
    mine = [_Orchestrator(), _Agent("test.autogen.magentic_one.alpha", ALPHA_SYSTEM, ALPHA_REPLY),
            _Agent("test.autogen.magentic_one.beta", BETA_SYSTEM, BETA_REPLY)]
    for p in mine:
        register_policy(p)
    yield mine
    for p in mine:
        unregister_policy(p)


def _make_team(sim, http_client=None, max_stalls=3, alpha_client=None):
    client = OpenAIChatCompletionClient(model="sim-strong", base_url=openai_base_url(sim.url, "strong", seed=21),
                                        api_key="test-key", model_info=INFO, http_client=http_client)
    alpha = AssistantAgent("alpha", model_client=alpha_client or client, description="Researches facts.",
                           system_message=ALPHA_SYSTEM)
    beta = AssistantAgent("beta", model_client=client, description="Writes plans.", system_message=BETA_SYSTEM)
    return MagenticOneGroupChat([alpha, beta], model_client=client, max_turns=6, max_stalls=max_stalls)


def _trace(sim, tmp_path, study, task, **team_kw):
    """One traced run of the team; returns (result, spans)."""
    with maestro.trace_run(study, out=str(tmp_path), framework="autogen", sample_resources=False) as run:
        result = asyncio.run(instrument(_make_team(sim, **team_kw), run).run(task=task))
    return result, maestro.load_study(tmp_path / study).spans


def _edges(spans):
    msgs = spans[spans.span_type == "message"].sort_values(["start_time_ns", "name"])
    return list(zip(msgs.message_source, msgs.message_target))


def _speakers(result):
    """Who spoke, in order, as the team itself recorded it (``TaskResult.messages``): the
    task's ``user`` is ``__start__``, consecutive messages of one speaker are one turn."""
    order = ["__start__"]
    for m in result.messages:
        source = "__start__" if m.source == "user" else m.source
        if source != order[-1]:
            order.append(source)
    return [*order, "__end__"]


def _size(msg):
    """Bytes of a chat message as compact UTF-8 JSON of its dump (what an edge carries)."""
    return len(json.dumps(msg.dump(), default=str, separators=(",", ":"), ensure_ascii=False).encode())


ORCH = "MagenticOneOrchestrator"


def test_magentic_one_span_tree_edges_and_bytes(sim, tmp_path, body_counter, span_tree):
    task = "Plan two days in Oslo."
    http_client, seen = body_counter()
    with maestro.trace_run("m1", out=str(tmp_path), framework="autogen", backend="sim/strong",
                           sample_resources=False) as run:
        team = instrument(_make_team(sim, http_client), run, provider="maestro.sim")
        result = asyncio.run(team.run(task=task))
    loaded = maestro.load_study(tmp_path / "m1")
    spans, row = loaded.spans, loaded.runs.iloc[0]

    # The orchestrator really drove the run: alpha, then beta, then its final answer.
    assert [(m.source, m.content) for m in result.messages if m.source in ("alpha", "beta")] == [
        ("alpha", ALPHA_REPLY), ("beta", BETA_REPLY)]
    assert result.messages[-1].source == ORCH and result.messages[-1].content == FINAL
    assert "Both notes and draft are in".lower() in result.stop_reason.lower()

    # One trace, one root; the orchestrator is a participant: its turns (facts, plan, a
    # ledger per round, final answer) alternate with the agents', each call under its turn.
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    chat = ("chat sim-strong", "llm")
    assert span_tree(spans, "agent_name") == [
        (0, "invoke_workflow custom", "run", None),
        (1, f"invoke_agent {ORCH}", "agent", ORCH),
        (2, f"message __start__ -> {ORCH}", "message", None),
        (2, *chat, ORCH),  # facts survey
        (2, *chat, ORCH),  # plan
        (2, *chat, ORCH),  # progress ledger: alpha next
        (1, "invoke_agent alpha", "agent", "alpha"),
        (2, f"message {ORCH} -> alpha", "message", None),
        (2, *chat, "alpha"),
        (1, f"invoke_agent {ORCH}", "agent", ORCH),
        (2, f"message alpha -> {ORCH}", "message", None),
        (2, *chat, ORCH),  # progress ledger: beta next
        (1, "invoke_agent beta", "agent", "beta"),
        (2, f"message {ORCH} -> beta", "message", None),
        (2, *chat, "beta"),
        (1, f"invoke_agent {ORCH}", "agent", ORCH),
        (2, f"message beta -> {ORCH}", "message", None),
        (2, *chat, ORCH),  # progress ledger: satisfied
        (2, *chat, ORCH),  # final answer
        (1, f"message {ORCH} -> __end__", "message", None),
    ]

    # Every model call is exactly one LLM span with model, provider, response model, tokens and bytes.
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == seen["calls"] == row.llm_calls == 8
    assert (llm.request_model == "sim-strong").all() and (llm.provider == "maestro.sim").all()
    assert (llm.response_model == "sim-strong").all()
    assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all() and llm.usage_estimated.isna().all()
    assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all() and (llm.http_attempts == 1).all()
    # Bytes per span, summed, equal the client's own tally and the run's HTTP totals.
    assert llm.input_bytes.sum() == seen["request"] == row.llm_request_bytes
    assert llm.output_bytes.sum() == seen["response"] == row.llm_response_bytes
    assert row.agent_turns == 5 and row.messages == 6 and row.clean and row.status == "success"

    # Edges are the team's own record of who spoke in which order; each carries what its
    # sender wrote in the turn it ends (the orchestrator: task ledger + instruction, then an
    # instruction, then the final answer).
    assert _edges(spans) == list(zip(_speakers(result), _speakers(result)[1:])) == [
        ("__start__", ORCH), (ORCH, "alpha"), ("alpha", ORCH), (ORCH, "beta"), ("beta", ORCH), (ORCH, "__end__")]
    msgs = spans[spans.span_type == "message"].sort_values("start_time_ns")
    task_bytes = len(json.dumps({"source": "user", "content": task, "type": "TextMessage"},
                                separators=(",", ":")).encode())
    _, ledger, step1, alpha, step2, beta, final = result.messages
    assert list(msgs.input_bytes) == [task_bytes, _size(ledger) + _size(step1), _size(alpha), _size(step2),
                                      _size(beta), _size(final)]
    assert row.a2a_bytes == sum(msgs.input_bytes)
    agents = spans[spans.span_type == "agent"].sort_values("start_time_ns")
    assert list(agents.output_bytes) == list(msgs.input_bytes[1:])

    # No content by default: no payload/prompt attributes, no reply text anywhere in the spans.
    for attrs in spans.attributes_json.dropna():
        keys = json.loads(attrs)
        assert not {"message", "gen_ai.input.messages", "gen_ai.output.messages"} & set(keys)
    text = spans.astype(str).to_csv()
    assert "ALPHA-NOTES" not in text and "BETA-DRAFT" not in text and "fjord" not in text


def test_magentic_one_capture_content_records_the_ledgers(sim, tmp_path):
    with maestro.trace_run("m1c", out=str(tmp_path), framework="autogen", backend="sim/strong",
                           capture_content=True, sample_resources=False) as run:
        asyncio.run(instrument(_make_team(sim), run, provider="maestro.sim").run(task="Plan two days in Oslo."))
    spans = maestro.load_study(tmp_path / "m1c").spans
    llm = spans[(spans.span_type == "llm") & (spans.agent_name == ORCH)].sort_values("start_time_ns")
    outputs = [json.loads(a)["gen_ai.output.messages"] for a in llm.attributes_json]
    # facts, plan, three progress ledgers (alpha, beta, satisfied), final answer
    ledgers = [json.loads(o) for o in outputs[2:5]]
    assert [(d["next_speaker"]["answer"], d["is_request_satisfied"]["answer"]) for d in ledgers] == [
        ("alpha", False), ("beta", False), ("beta", True)]
    assert outputs[0].startswith("1. GIVEN OR VERIFIED FACTS") and outputs[5] == FINAL
    prompts = [json.loads(json.loads(a)["gen_ai.input.messages"])[-1]["content"] for a in llm.attributes_json]
    assert [m for p in prompts for m in (FACTS_MARK, PLAN_MARK, LEDGER_MARK, FINAL_MARK) if m in p] == [
        FACTS_MARK, PLAN_MARK, LEDGER_MARK, LEDGER_MARK, LEDGER_MARK, FINAL_MARK]
    payloads = [json.loads(a)["message"] for a in spans[spans.span_type == "message"].sort_values(
        "start_time_ns").attributes_json]
    assert "Plan two days in Oslo." in payloads[0] and "Gather notes on Oslo" in payloads[1]
    assert ALPHA_REPLY in payloads[2] and BETA_REPLY in payloads[4] and FINAL in payloads[5]


def test_an_orchestrator_that_finishes_alone_still_hands_over(sim, tmp_path):
    """Satisfied at its first progress ledger, the orchestrator answers without any agent:
    ``__start__ -> orchestrator -> __end__``, all its calls inside its one turn."""
    result, spans = _trace(sim, tmp_path, "m1-solo", SOLO_TASK)
    assert {m.source for m in result.messages} == {"user", ORCH}
    assert _edges(spans) == list(zip(_speakers(result), _speakers(result)[1:])) == [
        ("__start__", ORCH), (ORCH, "__end__")]
    turn = spans[spans.span_type == "agent"]
    assert list(turn.agent_name) == [ORCH]
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == 4 and set(llm.parent_span_id) == set(turn.span_id)  # facts, plan, ledger, answer
    assert spans[spans.span_type == "message"].input_bytes.min() > 0


def test_a_replan_goes_through_the_orchestrator_without_self_edges(sim, tmp_path):
    """A stall makes the orchestrator re-plan (new facts, plan and ledger) and pick alpha
    again: alpha hands back to the orchestrator, never to itself."""
    result, spans = _trace(sim, tmp_path, "m1-replan", REPLAN_TASK, max_stalls=1)
    assert [m.source for m in result.messages].count("alpha") == 2
    edges = _edges(spans)
    assert edges == list(zip(_speakers(result), _speakers(result)[1:])) == [
        ("__start__", ORCH), (ORCH, "alpha"), ("alpha", ORCH), (ORCH, "alpha"), ("alpha", ORCH), (ORCH, "__end__")]
    assert all(source != target for source, target in edges)


def test_an_agent_error_is_one_line_with_the_traceback_on_an_event(sim, tmp_path):
    """agentchat re-raises an agent's error as a RuntimeError carrying the whole remote
    traceback: the run's reason, the root's and every failed span's status are one bounded
    line; the traceback is on the spans' ``exception`` events."""
    register_profile(Profile(name="autogen-test-429", description="always HTTP 429 (test)", ttft_s=0.0,
                             tokens_per_s=1000.0, verbosity=1.0, reasoning=1.0, p_rate_limit=1.0))
    limited = OpenAIChatCompletionClient(model="sim-strong", base_url=openai_base_url(sim.url, "autogen-test-429", 1),
                                         api_key="test-key", model_info=INFO, max_retries=0)
    with pytest.raises(RuntimeError) as raised:
        _trace(sim, tmp_path, "m1-429", "Plan two days in Oslo.", alpha_client=limited)
    assert "\n" not in str(raised.value) and "RateLimitError" in str(raised.value)
    assert "Traceback:" in str(raised.value.__cause__)  # the original is kept as the cause
    study = maestro.load_study(tmp_path / "m1-429")
    spans, run = study.spans, study.runs.iloc[0]
    assert run.status == "exception" and "\n" not in run.outcome_reason and len(run.outcome_reason) <= 600
    failed = spans[spans.status_code == "ERROR"]
    assert set(failed.span_type) >= {"run", "llm", "agent"}
    assert all("\n" not in d and len(d) <= 600 for d in failed.status_description)
    for row in failed[failed.span_type != "run"].itertuples():
        (event,) = json.loads(row.events_json)
        assert event["name"] == "exception" and event["attributes"]["exception.type"] == "RateLimitError"
        assert "Traceback" in event["attributes"]["exception.stacktrace"]
        assert len(event["attributes"]["exception.stacktrace"]) <= 4000
    (root_event,) = json.loads(spans[spans.span_type == "run"].events_json.iloc[0])
    stack = root_event["attributes"]["exception.stacktrace"]
    assert "RateLimitError" in stack and len(stack) <= 4000
    assert "\n" not in root_event["attributes"]["exception.message"]
