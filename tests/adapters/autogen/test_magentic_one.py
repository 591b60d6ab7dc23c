"""The AutoGen adapter on a MagenticOneGroupChat, end to end: two small agents defined
here, the real orchestrator and OpenAIChatCompletionClient, the simulated service over
HTTP, parquet on disk.

MagenticOne's orchestrator drives the team with its own model calls: a facts survey and
a plan (the task ledger), then per round a JSON progress ledger that names the next
speaker or declares the request satisfied, then a final answer. The service's generic
fallback cannot write that ledger, so this module registers (for its own tests only) a
policy that recognises the orchestrator's prompts and steers the run: alpha, then beta,
then done.
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


def _ledger(satisfied: bool, speaker: str, instruction: str) -> str:
    """A progress ledger in the orchestrator's schema (every entry has reason and answer)."""
    return json.dumps({
        "is_request_satisfied": {"reason": "both notes and draft are in" if satisfied else "not yet",
                                 "answer": satisfied},
        "is_in_loop": {"reason": "each step is new", "answer": False},
        "is_progress_being_made": {"reason": "just starting or adding value", "answer": True},
        "next_speaker": {"reason": "the plan's next step", "answer": speaker},
        "instruction_or_question": {"reason": "what that step needs", "answer": instruction},
    })


class _Orchestrator:
    """Answers the MagenticOne orchestrator: facts, plan, progress ledgers, final answer."""

    name = "test.autogen.magentic_one.orchestrator"

    def matches(self, request):
        last = request.last_user
        return any(mark in last for mark in (FACTS_MARK, PLAN_MARK, LEDGER_MARK, FINAL_MARK))

    def respond(self, request, ctx):
        last = request.last_user
        if FACTS_MARK in last:
            return SimReply(text="1. GIVEN OR VERIFIED FACTS\n- Oslo, two days.\n2. FACTS TO LOOK UP\n- Sights.\n"
                                 "3. FACTS TO DERIVE\n- None.\n4. EDUCATED GUESSES\n- A fjord cruise.")
        if PLAN_MARK in last:
            return SimReply(text="- alpha gathers notes.\n- beta drafts the plan.")
        if FINAL_MARK in last:
            return SimReply(text=FINAL)
        # Progress ledger: the conversation so far tells which step is done.
        seen = request.text
        if "BETA-DRAFT" in seen:
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


def _make_team(sim, http_client=None):
    client = OpenAIChatCompletionClient(model="sim-strong", base_url=openai_base_url(sim.url, "strong", seed=21),
                                        api_key="test-key", model_info=INFO, http_client=http_client)
    alpha = AssistantAgent("alpha", model_client=client, description="Researches facts.", system_message=ALPHA_SYSTEM)
    beta = AssistantAgent("beta", model_client=client, description="Writes plans.", system_message=BETA_SYSTEM)
    return MagenticOneGroupChat([alpha, beta], model_client=client, max_turns=6)


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

    # One trace, one root; the orchestrator's calls (facts, plan, a ledger per round, final
    # answer) sit between the turns under the root, each agent's call under its turn.
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    chat = ("chat sim-strong", "llm")
    assert span_tree(spans, "agent_name") == [
        (0, "invoke_workflow custom", "run", None),
        (1, *chat, ORCH),  # facts survey
        (1, *chat, ORCH),  # plan
        (1, *chat, ORCH),  # progress ledger: alpha next
        (1, "invoke_agent alpha", "agent", "alpha"),
        (2, "message __start__ -> alpha", "message", None),
        (2, *chat, "alpha"),
        (1, *chat, ORCH),  # progress ledger: beta next
        (1, "invoke_agent beta", "agent", "beta"),
        (2, "message alpha -> beta", "message", None),
        (2, *chat, "beta"),
        (1, *chat, ORCH),  # progress ledger: satisfied
        (1, *chat, ORCH),  # final answer
        (1, "message beta -> __end__", "message", None),
    ]

    # Every model call is exactly one LLM span with model, provider, tokens and bytes.
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == seen["calls"] == row.llm_calls == 8
    assert (llm.request_model == "sim-strong").all() and (llm.provider == "maestro.sim").all()
    assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all() and llm.usage_estimated.isna().all()
    assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all() and (llm.http_attempts == 1).all()
    # Bytes per span, summed, equal the client's own tally and the run's HTTP totals.
    assert llm.input_bytes.sum() == seen["request"] == row.llm_request_bytes
    assert llm.output_bytes.sum() == seen["response"] == row.llm_response_bytes
    assert row.agent_turns == 2 and row.messages == 3 and row.clean and row.status == "success"

    # Edges follow the orchestrator's choices; each carries the previous hand-over's bytes.
    replies = {m.source: m for m in result.messages if m.source in ("alpha", "beta")}
    msgs = spans[spans.span_type == "message"].sort_values("start_time_ns")
    assert list(zip(msgs.message_source, msgs.message_target)) == [
        ("__start__", "alpha"), ("alpha", "beta"), ("beta", "__end__")]
    task_bytes = len(json.dumps({"source": "user", "content": task, "type": "TextMessage"},
                                separators=(",", ":")).encode())
    assert list(msgs.input_bytes) == [task_bytes, _size(replies["alpha"]), _size(replies["beta"])]
    assert row.a2a_bytes == sum(msgs.input_bytes)
    agents = spans[spans.span_type == "agent"].set_index("agent_name")
    assert agents.output_bytes["alpha"] == _size(replies["alpha"])
    assert agents.output_bytes["beta"] == _size(replies["beta"])

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
    assert "Plan two days in Oslo." in payloads[0] and ALPHA_REPLY in payloads[1] and BETA_REPLY in payloads[2]
