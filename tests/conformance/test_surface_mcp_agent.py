"""The mcp-agent adapter's surface, one system per workflow shape mcp-agent offers, each built
here against an in-process simulated service and two real stdio MCP servers of this test
(``weather``: ``lookup``; ``notes``: ``save``, ``fail``), traced with ``maestro.trace_run`` +
``instrument``: an agent whose model calls MCP tools (two in one reply, a tool that fails),
a tool called directly from user code, an ``EvaluatorOptimizerLLM`` that refines once, an
``Orchestrator`` with an iterative plan, and a ``ParallelLLM`` (fan-out, fan-in).

Every system is checked against what the servers and the service say themselves: the tool
spans are the calls the servers logged (server, tool, error or not); one ``chat`` span per
request the service served, with its HTTP body bytes; the hand-overs follow the calls; one
trace; and the run ends.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap

import pytest
from mcp_agent.agents.agent import Agent
from mcp_agent.app import MCPApp
from mcp_agent.config import (
    LoggerSettings,
    MCPServerSettings,
    MCPSettings,
    OpenAISettings,
    OpenTelemetrySettings,
    Settings,
    UsageTelemetrySettings,
)
from mcp_agent.workflows.evaluator_optimizer.evaluator_optimizer import EvaluatorOptimizerLLM, QualityRating
from mcp_agent.workflows.llm.augmented_llm import RequestParams
from mcp_agent.workflows.llm.augmented_llm_openai import OpenAIAugmentedLLM
from mcp_agent.workflows.orchestrator.orchestrator import Orchestrator
from mcp_agent.workflows.parallel.parallel_llm import ParallelLLM

import maestro
from maestro.adapters.mcp_agent import instrument
from maestro.sim import SimReply, SimServer, SimToolCall, openai_base_url, register_policy, unregister_policy

pytestmark = pytest.mark.slow

PARAMS = RequestParams(model="sim-strong", maxTokens=512, use_history=False, max_iterations=6)

SERVER = textwrap.dedent("""
    import json, sys
    from mcp.server.fastmcp import FastMCP

    kind, log = sys.argv[1], sys.argv[2]
    mcp = FastMCP(kind, log_level="WARNING")

    def note(tool, error=False):
        with open(log, "a") as f:
            f.write(json.dumps({"server": kind, "tool": tool, "error": error}) + "\\n")

    if kind == "weather":
        @mcp.tool()
        def lookup(city: str) -> str:
            "The weather in a city."
            note("lookup")
            return f"{city}: sunny, 14 C"
    else:
        @mcp.tool()
        def save(text: str) -> str:
            "Save a note."
            note("save")
            return "saved"

        @mcp.tool()
        def fail() -> str:
            "A tool that always fails."
            note("fail", error=True)
            raise RuntimeError("the notes disk is full")

    mcp.run()
""")


class _Role:
    """A policy for one agent: matches its marker in the system prompt."""

    def __init__(self, name, marker, respond):
        self.name, self.marker, self._respond = f"test.surface.mcp_agent.{name}", marker, respond

    def matches(self, request):
        return self.marker in request.system

    def respond(self, request, ctx):
        return self._respond(request)


def _tool_rounds(request) -> int:
    return sum(1 for m in request.messages if m.role == "assistant" and m.tool_calls)


def _forecaster(request):
    rounds = _tool_rounds(request)
    if rounds == 0:  # two calls in one reply: mcp-agent runs them in parallel
        return SimReply(tool_calls=(SimToolCall("weather_lookup", {"city": "Oslo"}),
                                    SimToolCall("weather_lookup", {"city": "Bergen"})))
    if rounds == 1:
        return SimReply(tool_calls=(SimToolCall("notes_fail", {}),))
    return SimReply(text="Oslo and Bergen: sunny, 14 C.")


def _judge(request):
    good = "Iteration 2" in request.last_user
    return SimReply(text=json.dumps({"rating": 3 if good else 0, "feedback": "ok" if good else "add the wind",
                                     "needs_improvement": not good, "focus_areas": [] if good else ["wind"]}))


def _planner(request):
    if "No steps executed yet" in request.last_user:
        step = {"description": "forecast", "tasks": [{"description": "Get the weather", "agent": "forecaster"}],
                "is_complete": False}
    else:
        step = {"description": "done", "tasks": [], "is_complete": True}
    return SimReply(text=json.dumps(step))


ROLES = [
    _Role("forecaster", "SURF-FORECASTER", _forecaster),
    _Role("drafter", "SURF-DRAFTER", lambda r: SimReply(text="Draft: a calm day in Oslo.")),
    _Role("judge", "SURF-JUDGE", _judge),
    _Role("planner", "SURF-PLANNER", _planner),
]


@pytest.fixture(scope="module")
def sim():
    policies = [register_policy(r) for r in ROLES]
    try:
        with SimServer(time_factor=0) as server:
            yield server
    finally:
        for p in policies:
            unregister_policy(p)


def _app(sim, tmp_path, seed: int) -> MCPApp:
    script = tmp_path / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    servers = {k: MCPServerSettings(name=k, command=sys.executable, args=[str(script), k, str(tmp_path / "calls.jsonl")])
               for k in ("weather", "notes")}
    return MCPApp(name="surface", settings=Settings(
        execution_engine="asyncio", mcp=MCPSettings(servers=servers),
        openai=OpenAISettings(api_key="sim", base_url=openai_base_url(sim.url, "strong", seed), default_model="sim-strong"),
        logger=LoggerSettings(type="none", transports=["none"], level="error"),
        otel=OpenTelemetrySettings(enabled=False), usage_telemetry=UsageTelemetrySettings(enabled=False)))


def _forecaster_agent():
    return Agent(name="forecaster", instruction="SURF-FORECASTER. Report the weather.", server_names=["weather", "notes"])


def _trace(tmp_path, sim, body, seed=1):
    with maestro.trace_run("s", out=str(tmp_path), framework="mcp_agent", backend="sim/strong",
                           sample_resources=False) as run:
        app = instrument(_app(sim, tmp_path, seed), run)

        async def main():
            async with app.run():
                return await body()

        result = asyncio.run(main())
    study = maestro.load_study(f"{tmp_path}/s")
    log = tmp_path / "calls.jsonl"
    served = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, study.runs.iloc[0], study.spans.sort_values(["start_time_ns", "name"]), served


def _edges(spans):
    m = spans[spans.span_type == "message"]
    return list(zip(m.message_source, m.message_target, strict=True))


def _check_common(run, spans, served):
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    assert set(spans.parent_span_id.dropna()) <= set(spans.span_id)
    tools = spans[spans.span_type == "tool"]
    got = sorted((json.loads(a)["mcp.server"], t, s == "ERROR")
                 for a, t, s in zip(tools.attributes_json, tools.tool_name, tools.status_code, strict=True))
    assert got == sorted((e["server"], e["tool"], e["error"]) for e in served)  # the servers' own count
    assert (tools.name == "execute_tool " + tools.tool_name).all() and (tools.input_bytes > 0).all()
    llm = spans[spans.span_type == "llm"]
    assert llm.input_bytes.sum() == run.llm_request_bytes and (llm.http_attempts == 1).all()
    assert (llm.input_tokens > 0).all() and (llm.output_bytes > 0).all()
    assert _edges(spans)[0][0] == "__start__" and _edges(spans)[-1][1] == "__end__"


def test_agent_with_mcp_tools_parallel_calls_and_a_failing_tool(tmp_path, sim):
    async def body():
        async with _forecaster_agent() as agent:
            llm = await agent.attach_llm(OpenAIAugmentedLLM)
            return await llm.generate_str("Weather in Oslo and Bergen?", request_params=PARAMS)

    result, run, spans, served = _trace(tmp_path, sim, body)
    _check_common(run, spans, served)
    assert result == "Oslo and Bergen: sunny, 14 C." and len(served) == 3
    turn = spans[spans.span_type == "agent"].iloc[0]
    tools = spans[spans.span_type == "tool"]
    assert set(tools.parent_span_id) == {turn.span_id} and set(tools.agent_name) == {"forecaster"}
    assert sorted(tools.tool_name) == ["fail", "lookup", "lookup"] and tools.tool_call_id.nunique() == 3
    failed = tools[tools.status_code == "ERROR"].iloc[0]
    assert "the notes disk is full" in failed.status_description and failed.failure_reason == "tool returned an error"
    assert run.llm_calls == 3 and _edges(spans) == [("__start__", "forecaster"), ("forecaster", "__end__")]
    assert json.loads(turn.attributes_json)["gen_ai.mcp.call.count"] == 3


def test_a_tool_called_from_user_code_has_its_own_span(tmp_path, sim):
    async def body():
        async with _forecaster_agent() as agent:
            res = await agent.call_tool("notes_save", {"text": "remember the umbrella"})
            llm = await agent.attach_llm(OpenAIAugmentedLLM)
            return res, await llm.generate_str("Weather in Oslo and Bergen?", request_params=PARAMS)

    (res, _), run, spans, served = _trace(tmp_path, sim, body, seed=2)
    _check_common(run, spans, served)
    assert not res.isError and len(served) == 4
    root = spans[spans.span_type == "run"].iloc[0]
    save = spans[(spans.span_type == "tool") & (spans.tool_name == "save")].iloc[0]
    assert save.parent_span_id == root.span_id and save.tool_call_id.startswith("mcp-")


def test_evaluator_optimizer_refines_once(tmp_path, sim):
    async def body():
        drafter = Agent(name="drafter", instruction="SURF-DRAFTER. Draft a forecast.")
        judge = Agent(name="judge", instruction="SURF-JUDGE. Rate the forecast.")
        loop = EvaluatorOptimizerLLM(optimizer=drafter, evaluator=judge, llm_factory=OpenAIAugmentedLLM,
                                     name="writing_loop", min_rating=QualityRating.EXCELLENT, max_refinements=3)
        return await loop.generate_str("Forecast for Oslo.", request_params=PARAMS)

    result, run, spans, served = _trace(tmp_path, sim, body, seed=3)
    _check_common(run, spans, served)
    assert _edges(spans) == [
        ("__start__", "writing_loop"), ("writing_loop", "drafter"), ("drafter", "writing_loop"),
        ("writing_loop", "judge"), ("judge", "writing_loop"), ("writing_loop", "drafter"), ("drafter", "writing_loop"),
        ("writing_loop", "judge"), ("judge", "writing_loop"), ("writing_loop", "__end__")]
    assert run.llm_calls == 4 and result.startswith("Draft:")


def test_orchestrator_with_an_iterative_plan(tmp_path, sim):
    async def body():
        orchestrator = Orchestrator(
            llm_factory=OpenAIAugmentedLLM, name="orchestrator", plan_type="iterative",
            available_agents=[_forecaster_agent()],
            planner=Agent(name="planner", instruction="SURF-PLANNER. Plan the next step."),
            synthesizer=Agent(name="synthesizer", instruction="Summarise the results."))
        return await orchestrator.generate_str("Weather in Oslo and Bergen?", request_params=PARAMS)

    result, run, spans, served = _trace(tmp_path, sim, body, seed=4)
    _check_common(run, spans, served)
    assert _edges(spans) == [
        ("__start__", "orchestrator"), ("orchestrator", "planner"), ("planner", "orchestrator"),
        ("orchestrator", "forecaster"), ("forecaster", "orchestrator"), ("orchestrator", "planner"),
        ("planner", "orchestrator"), ("orchestrator", "synthesizer"), ("synthesizer", "orchestrator"),
        ("orchestrator", "__end__")]
    agents = spans[spans.span_type == "agent"]
    orch = agents[agents.agent_name == "orchestrator"].iloc[0]
    assert set(agents[agents.agent_name != "orchestrator"].parent_span_id) == {orch.span_id}
    assert len(served) == 3 and result


def test_parallel_fan_out_and_fan_in(tmp_path, sim):
    async def body():
        parallel = ParallelLLM(
            fan_in_agent=Agent(name="editor", instruction="Merge the drafts."),
            fan_out_agents=[Agent(name="poet", instruction="Write a line."), Agent(name="critic", instruction="Critique.")],
            llm_factory=OpenAIAugmentedLLM, name="panel")
        return await parallel.generate_str("Tide pools.", request_params=PARAMS)

    result, run, spans, served = _trace(tmp_path, sim, body, seed=5)
    _check_common(run, spans, served)
    edges = _edges(spans)
    assert edges[0] == ("__start__", "panel") and edges[-3:] == [("panel", "editor"), ("editor", "panel"),
                                                                   ("panel", "__end__")]
    assert sorted(edges[1:5]) == sorted([("panel", "poet"), ("poet", "panel"), ("panel", "critic"), ("critic", "panel")])
    assert run.llm_calls == 3 and result
