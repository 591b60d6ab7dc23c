"""The AutoGen adapter's surface, one system per team shape AutoGen offers, each built here
against an in-process simulated service and traced with ``maestro.trace_run`` + ``instrument``:
a lone agent with a tool, RoundRobinGroupChat, SelectorGroupChat, a Swarm with handoffs and
tools, MagenticOneGroupChat, the ``MagenticOne`` helper with a ``LocalCommandLineCodeExecutor``
(skipped where its extra dependencies are not installed) and nested teams (a team as a
participant).

Every system is checked against what the framework and the service say themselves: one
``chat`` span per request the service served, each with HTTP body bytes; the message edges
are the team's own record of who spoke in which order (``TaskResult.messages`` sources);
one trace; and the run ends. Each team has a max-message cap, so it ends even if the
simulated model never says its stop word.
"""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import MagenticOneGroupChat, RoundRobinGroupChat, SelectorGroupChat, Swarm
from autogen_ext.models.openai import OpenAIChatCompletionClient

import maestro
from maestro.adapters.autogen import instrument
from maestro.sim import SimReply, SimServer, SimToolCall, openai_base_url, register_policy, unregister_policy

pytestmark = pytest.mark.slow

INFO = {"vision": False, "function_calling": True, "json_output": True, "family": "unknown", "structured_output": False}
ORCH = "MagenticOneOrchestrator"

# Fragments of agentchat 0.7's MagenticOne orchestrator prompts, each unique to one request.
FACTS_MARK = "please answer the following pre-survey"
PLAN_MARK = "please devise a short bullet-point plan"
LEDGER_MARK = "Please output an answer in pure JSON format according to the following schema"
FINAL_MARK = "provide the final answer to the original request"
CODER_MARK = "Solve tasks using your coding and language skills."  # MagenticOneCoderAgent's system message


def _ledger(satisfied: bool, speaker: str, instruction: str) -> str:
    """A progress ledger in the orchestrator's schema."""
    def entry(answer):
        return {"reason": "as planned", "answer": answer}

    return json.dumps({"is_request_satisfied": entry(satisfied), "is_in_loop": entry(False),
                       "is_progress_being_made": entry(True), "next_speaker": entry(speaker),
                       "instruction_or_question": entry(instruction)})


class _Role:
    """A policy for one role: matches its marker (in the system prompt, or anywhere)."""

    def __init__(self, name, marker, respond, anywhere=False):
        self.name, self.marker, self._respond, self.anywhere = f"test.surface.autogen.{name}", marker, respond, anywhere

    def matches(self, request):
        return self.marker in (request.text if self.anywhere else request.system)

    def respond(self, request, ctx):
        return self._respond(request)


def _used_tool(request) -> bool:
    return any(m.role == "tool" for m in request.messages)


def _forecaster(request):
    if _used_tool(request):
        return SimReply(text="Sunny in Oslo.")
    return SimReply(tool_calls=(SimToolCall("get_weather", {"city": "Oslo"}),))


def _alice(request):
    # One reply, two calls: a tool and the hand-over (the Swarm's next speaker is bob).
    return SimReply(tool_calls=(SimToolCall("get_weather", {"city": "Oslo"}), SimToolCall("transfer_to_bob", {})))


def _bob(request):
    if _used_tool(request):
        return SimReply(text="Booked the fjord cruise. TERMINATE")
    return SimReply(tool_calls=(SimToolCall("book", {"what": "fjord cruise"}),))


def _selector(request):
    # The prompt lists the history as "<speaker>: <text>" lines: pick whoever has not spoken.
    history = request.text.split("HISTORY:", 1)[-1]
    return SimReply(text=next((r for r in ("s_writer", "s_critic", "s_editor") if f"{r}:" not in history),
                              "s_editor"))


def _orchestrator(first: str, second: str, second_done_mark: str, first_done_mark: str, answer: str):
    """A MagenticOne orchestrator that sends ``first``, then ``second``, then answers."""

    def respond(request):
        last, seen = request.last_user, request.text
        if FACTS_MARK in last:
            return SimReply(text="1. GIVEN OR VERIFIED FACTS\n- The request.\n2. FACTS TO LOOK UP\n- None.")
        if PLAN_MARK in last:
            return SimReply(text=f"- {first} works.\n- {second} finishes.")
        if FINAL_MARK in last:
            return SimReply(text=answer)
        if second_done_mark in seen:
            return SimReply(text=_ledger(True, second, "Nothing more."))
        if first_done_mark in seen:
            return SimReply(text=_ledger(False, second, f"{second}, take it from here."))
        return SimReply(text=_ledger(False, first, f"{first}, please start."))

    return respond


class _Orchestrator(_Role):
    """Matches the orchestrator's requests of one task (by a marker in the task)."""

    def matches(self, request):
        last = request.last_user
        return self.marker in request.text and any(m in last for m in (FACTS_MARK, PLAN_MARK, LEDGER_MARK, FINAL_MARK))


POLICIES = (
    _Role("forecaster", "SURFACE-AG-FORECASTER", _forecaster),
    _Role("alice", "SURFACE-AG-ALICE", _alice),
    _Role("bob", "SURFACE-AG-BOB", _bob),
    _Role("selector", "SURFACE-AG-SELECTOR", _selector, anywhere=True),
    _Role("m1-researcher", "SURFACE-AG-RESEARCHER", lambda r: SimReply(text="RESEARCH-NOTES: three sights.")),
    _Role("m1-writer", "SURFACE-AG-WRITER", lambda r: SimReply(text="WRITER-DRAFT: a two-day plan.")),
    _Orchestrator("m1-orchestrator", "SURFACE-AG-M1",
                  _orchestrator("s_researcher", "s_writer", "WRITER-DRAFT", "RESEARCH-NOTES", "The plan is ready.")),
    _Role("helper-coder", CODER_MARK, lambda r: SimReply(text="```python\nprint(6 * 7)\n```")),
    _Orchestrator("helper-orchestrator", "SURFACE-AG-HELPER",
                  _orchestrator("Coder", "ComputerTerminal", "42", "print(6 * 7)", "The product is 42.")),
)


async def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


async def book(what: str) -> str:
    """Book an activity."""
    return f"booked {what}"


# -- the systems: (team or agent, task) from a client factory ----------------------------------
def lone_agent(client, tmp_path):
    agent = AssistantAgent("s_forecaster", model_client=client(), tools=[get_weather],
                           reflect_on_tool_use=True, system_message="SURFACE-AG-FORECASTER: answer with the tool.")
    return agent, "Weather in Oslo?"


def round_robin(client, tmp_path):
    c = client()
    return RoundRobinGroupChat([AssistantAgent("s_writer", model_client=c, system_message="Write one line."),
                                AssistantAgent("s_critic", model_client=c, system_message="Critique the line.",
                                               model_client_stream=True)],
                               termination_condition=MaxMessageTermination(4)), "A line on tides."


def selector(client, tmp_path):
    c = client()
    agents = [AssistantAgent(n, model_client=c, description=d, system_message=d)
              for n, d in (("s_writer", "Writes."), ("s_critic", "Critiques."), ("s_editor", "Edits."))]
    prompt = "SURFACE-AG-SELECTOR. Roles: {roles}. Pick one of {participants}. HISTORY:\n{history}"
    return SelectorGroupChat(agents, model_client=c, selector_prompt=prompt,
                             termination_condition=MaxMessageTermination(4)), "A line on tides."


def swarm(client, tmp_path):
    c = client()
    alice = AssistantAgent("alice", model_client=c, tools=[get_weather], handoffs=["bob"],
                           system_message="SURFACE-AG-ALICE: check the weather, then hand over.")
    bob = AssistantAgent("bob", model_client=c, tools=[book], reflect_on_tool_use=True,
                         system_message="SURFACE-AG-BOB: book it.")
    stop = TextMentionTermination("TERMINATE") | MaxMessageTermination(12)
    return Swarm([alice, bob], termination_condition=stop), "Plan a sunny day in Oslo."


def magentic_one_group_chat(client, tmp_path):
    c = client()
    team = MagenticOneGroupChat(
        [AssistantAgent("s_researcher", model_client=c, description="Researches.",
                        system_message="SURFACE-AG-RESEARCHER"),
         AssistantAgent("s_writer", model_client=c, description="Writes.", system_message="SURFACE-AG-WRITER")],
        model_client=c, max_turns=6)
    return team, "SURFACE-AG-M1: plan two days in Oslo."


def magentic_one_helper(client, tmp_path):
    magentic_one = pytest.importorskip(
        "autogen_ext.teams.magentic_one",
        reason="the MagenticOne helper needs autogen-ext[magentic-one] (markitdown, playwright), not installed")
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its notes on GPT-4o and on approving code runs
        team = magentic_one.MagenticOne(client=client(), code_executor=LocalCommandLineCodeExecutor(work_dir=tmp_path))
    return team, "SURFACE-AG-HELPER: multiply six by seven with code."


def nested_teams(client, tmp_path):
    c = client()
    inner = RoundRobinGroupChat([AssistantAgent("inner_a", model_client=c, system_message="Add a detail."),
                                 AssistantAgent("inner_b", model_client=c, system_message="Add another.")],
                                max_turns=2)
    outer = RoundRobinGroupChat([AssistantAgent("s_writer", model_client=c, system_message="Write one line."), inner,
                                 AssistantAgent("s_closer", model_client=c, system_message="Close.")],
                                termination_condition=MaxMessageTermination(8), max_turns=3)
    return outer, "A line on tides."


SYSTEMS = [lone_agent, round_robin, selector, swarm, magentic_one_group_chat, magentic_one_helper, nested_teams]


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def _policies():
    for p in POLICIES:
        register_policy(p)
    yield
    for p in POLICIES:
        unregister_policy(p)


@pytest.fixture(scope="module", params=SYSTEMS, ids=[s.__name__ for s in SYSTEMS])
def traced(request, sim, tmp_path_factory):
    """One traced run of the system: (TaskResult, spans, runs row, requests the service served)."""
    tmp_path = tmp_path_factory.mktemp(request.param.__name__)

    def client():
        return OpenAIChatCompletionClient(model="sim-strong", base_url=openai_base_url(sim.url, "strong", seed=5),
                                          api_key="test-key", model_info=INFO)

    target, task = request.param(client, tmp_path)
    before = sim.request_count
    with maestro.trace_run("surface", out=str(tmp_path), framework="autogen", sample_resources=False) as run:
        result = asyncio.run(asyncio.wait_for(instrument(target, run).run(task=task), timeout=60))
    served = sim.request_count - before
    study = maestro.load_study(tmp_path / "surface")
    return result, study.spans, study.runs.iloc[0], served


def _speaking_order(result) -> list[str]:
    """Who spoke, in order, by the team's own record: the task's ``user`` is ``__start__``,
    one speaker's consecutive messages (tool events, its reply) are one turn."""
    order = ["__start__"]
    for m in result.messages:
        source = "__start__" if m.source == "user" else m.source
        if source != order[-1]:
            order.append(source)
    return [*order, "__end__"]


def test_one_trace_and_one_root(traced):
    _, spans, _, _ = traced
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    assert set(spans.parent_span_id.dropna()) <= set(spans.span_id)


def test_one_chat_span_per_request_served(traced):
    _, spans, run, served = traced
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == served == run.llm_calls > 0
    assert (llm.name.str.startswith("chat ")).all() and (llm.provider == "maestro.sim").all()


def test_every_chat_span_has_bytes(traced):
    _, spans, run, _ = traced
    llm = spans[spans.span_type == "llm"]
    assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all() and (llm.http_attempts == 1).all()
    assert llm.input_bytes.sum() == run.llm_request_bytes and llm.output_bytes.sum() == run.llm_response_bytes


def test_edges_are_the_teams_own_speaking_order(traced):
    result, spans, _, _ = traced
    edges = spans[spans.span_type == "message"].sort_values(["start_time_ns", "name"])
    order = _speaking_order(result)
    assert list(zip(edges.message_source, edges.message_target)) == list(zip(order, order[1:]))
    # every speaker has its turns as agent spans, and nothing else does
    agents = set(spans.loc[spans.span_type == "agent", "agent_name"])
    assert agents == set(order) - {"__start__", "__end__"}


def test_the_run_ends(traced):
    result, spans, run, _ = traced
    assert result.messages[-1].source != "user" and run.status == "success" and run.clean
    assert (spans.status_code != "ERROR").all() and spans.end_time_ns.notna().all()
