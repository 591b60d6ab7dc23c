"""The mcp-agent adapter's lifecycle with real mcp-agent objects against the simulated service
(no MCP servers here: see tests/conformance/test_surface_mcp_agent.py): turns and their
hand-overs, chat spans with bytes, hooks that stay inert outside an instrumented run,
uninstrument, failures, and bookkeeping errors that never reach the user's agents."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from mcp_agent.agents.agent import Agent
from mcp_agent.app import MCPApp
from mcp_agent.config import LoggerSettings, OpenAISettings, OpenTelemetrySettings, Settings, UsageTelemetrySettings
from mcp_agent.workflows.llm.augmented_llm import RequestParams
from mcp_agent.workflows.llm.augmented_llm_openai import OpenAIAugmentedLLM

import maestro
from maestro.adapters.mcp_agent import extract, instrument, uninstrument
from maestro.instances.financial_analyzer.instance import close_connections
from maestro.sim import SimServer, openai_base_url

PARAMS = RequestParams(model="sim-strong", maxTokens=256, use_history=False)


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


def _app(sim, seed=1) -> MCPApp:
    return MCPApp(name="t", settings=Settings(
        execution_engine="asyncio", openai=OpenAISettings(api_key="sim", base_url=openai_base_url(sim.url, "strong", seed),
                                                          default_model="sim-strong"),
        logger=LoggerSettings(type="none", transports=["none"], level="error"),
        otel=OpenTelemetrySettings(enabled=False), usage_telemetry=UsageTelemetrySettings(enabled=False)))


@contextlib.asynccontextmanager
async def _running(app: MCPApp):
    """``app.run()``, closing the agents' shared MCP connections at the end (else asyncio.run
    can hang on mcp-agent's connection-manager task)."""
    async with app.run():
        try:
            yield
        finally:
            await close_connections(app)


def _llm(name: str) -> OpenAIAugmentedLLM:
    return OpenAIAugmentedLLM(agent=Agent(name=name, instruction=f"You are {name}. Answer briefly."))


def _pipeline_class(fail: bool = False):
    # Defined after instrument() on purpose: app.run() reaches subclasses defined since.
    class Pipeline(OpenAIAugmentedLLM):
        async def generate_str(self, message, request_params=None):
            first = await self.first.generate_str(message, request_params)
            if fail:
                raise ValueError("pipeline broke")
            return await self.second.generate_str(f"Polish: {first}", request_params)

    return Pipeline


async def _run_pipeline(app, fail=False):
    async with _running(app):
        pipe = _pipeline_class(fail)(agent=Agent(name="pipeline", instruction="Run the pipeline."))
        pipe.first, pipe.second = _llm("drafter"), _llm("editor")
        return await pipe.generate_str("Write about tide pools.", request_params=PARAMS)


def _trace(tmp_path, sim, body, study="t"):
    with maestro.trace_run(study, out=str(tmp_path), framework="mcp_agent", backend="sim/strong",
                           sample_resources=False) as run:
        app = instrument(_app(sim), run)
        try:
            result = asyncio.run(body(app))
        finally:
            uninstrument(app)
    study_ = maestro.load_study(f"{tmp_path}/{study}")
    return result, study_.runs.iloc[0], study_.spans.sort_values(["start_time_ns", "name"])


def test_nested_turns_hand_over_to_their_caller_with_the_message_bytes(tmp_path, sim):
    result, run, spans = _trace(tmp_path, sim, _run_pipeline)
    agents = spans[spans.span_type == "agent"]
    assert list(agents.agent_name) == ["pipeline", "drafter", "editor"]
    ids = dict(zip(agents.agent_name, agents.span_id, strict=True))
    assert agents.set_index("agent_name").loc[["drafter", "editor"], "parent_span_id"].tolist() == [ids["pipeline"]] * 2
    edges = spans[spans.span_type == "message"]
    assert list(zip(edges.message_source, edges.message_target, strict=True)) == [
        ("__start__", "pipeline"), ("pipeline", "drafter"), ("drafter", "pipeline"), ("pipeline", "editor"),
        ("editor", "pipeline"), ("pipeline", "__end__")]
    task = len(b"Write about tide pools.")
    assert edges.input_bytes.iloc[0] == edges.input_bytes.iloc[1] == task
    assert edges.input_bytes.iloc[-1] == edges.input_bytes.iloc[-2] == len(result.encode())
    # one chat span per model call, inside its agent's turn, carrying all the HTTP bytes
    llm = spans[spans.span_type == "llm"]
    assert list(llm.agent_name) == ["drafter", "editor"] and set(llm.parent_span_id) == {ids["drafter"], ids["editor"]}
    assert llm.input_bytes.sum() == run.llm_request_bytes and llm.output_bytes.sum() == run.llm_response_bytes
    assert (llm.input_tokens > 0).all() and (llm.provider == "maestro.sim").all() and (llm.http_attempts == 1).all()
    assert run.llm_calls == 2 and run.agent_turns == 3


def test_a_failing_turn_is_an_error_span_and_hands_nothing_back(tmp_path, sim):
    with pytest.raises(ValueError, match="pipeline broke"):
        _trace(tmp_path, sim, lambda app: _run_pipeline(app, fail=True))
    spans = maestro.load_study(f"{tmp_path}/t").spans.sort_values(["start_time_ns", "name"])
    pipe = spans[(spans.span_type == "agent") & (spans.agent_name == "pipeline")].iloc[0]
    assert pipe.status_code == "ERROR" and pipe.failure_reason == "ValueError"
    edges = spans[spans.span_type == "message"]
    assert ("pipeline", "__end__") not in set(zip(edges.message_source, edges.message_target, strict=True))


async def _plain(app):
    async with _running(app):
        return await _llm("solo").generate_str("Hello?", request_params=PARAMS)


def test_hooks_are_inert_outside_an_instrumented_run(tmp_path, sim):
    with maestro.trace_run("quiet", out=str(tmp_path), framework="mcp_agent", sample_resources=False):
        app = _app(sim)
        instrument(app)  # then undone: the class hooks stay installed but nothing is bound
        uninstrument(app)
        assert "run" not in vars(app)
        assert asyncio.run(_plain(app))
    spans = maestro.load_study(f"{tmp_path}/quiet").spans
    assert list(spans.span_type) == ["run"]


def test_an_llm_can_be_instrumented_on_its_own(tmp_path, sim):
    async def body(app):
        async with _running(app):
            llm = _llm("solo")
            instrument(llm)
            return await llm.generate_str("Hello?", request_params=PARAMS)

    with maestro.trace_run("solo", out=str(tmp_path), framework="mcp_agent", sample_resources=False):
        assert asyncio.run(body(_app(sim)))
    spans = maestro.load_study(f"{tmp_path}/solo").spans.sort_values("start_time_ns")
    assert list(spans.span_type) == ["run", "message", "agent", "llm", "message"]


def test_bookkeeping_errors_never_reach_the_agents(tmp_path, sim, monkeypatch):
    def broken(llm):
        raise RuntimeError("bookkeeping bug")

    monkeypatch.setattr(extract, "agent_name", broken)
    result, run, spans = _trace(tmp_path, sim, _run_pipeline)
    assert result and not (spans.span_type == "agent").any()
    assert (spans.span_type == "llm").sum() == 2  # model calls are still recorded, under the run


def test_a_workflow_named_after_its_agent_continues_that_agents_turn(tmp_path, sim):
    # mcp-agent names an EvaluatorOptimizerLLM after its optimizer: one turn, never a self-edge.
    from mcp_agent.workflows.evaluator_optimizer.evaluator_optimizer import EvaluatorOptimizerLLM

    async def body(app):
        async with _running(app):
            loop = EvaluatorOptimizerLLM(optimizer=Agent(name="drafter", instruction="Draft a line."),
                                         evaluator=Agent(name="judge", instruction="Rate the line."),
                                         llm_factory=OpenAIAugmentedLLM, max_refinements=2)
            return await loop.generate_str("A line on tide pools.", request_params=PARAMS)

    _, run, spans = _trace(tmp_path, sim, body)
    edges = list(zip(spans[spans.span_type == "message"].message_source,
                     spans[spans.span_type == "message"].message_target, strict=True))
    assert edges[0] == ("__start__", "drafter") and edges[-1] == ("drafter", "__end__")
    assert set(edges[1:-1]) == {("drafter", "judge"), ("judge", "drafter")}
    agents = spans[spans.span_type == "agent"]
    assert agents.agent_name.iloc[0] == "drafter" and (agents.agent_name.iloc[1:] == "judge").all()
    ratings = len(agents) - 1  # every draft is rated, except a last refinement
    assert run.llm_calls in (2 * ratings, 2 * ratings + 1)


def test_instrument_refuses_what_it_cannot_trace(tmp_path):
    with maestro.trace_run("r", out=str(tmp_path), sample_resources=False) as run:
        with pytest.raises(TypeError, match="expected an MCPApp or AugmentedLLM, got object"):
            instrument(object(), run)
