"""A MAS we did not write, run as a study through the public API only.

Each test builds its own system here, in the test file (LangGraph, AutoGen, ADK, mcp-agent), and runs it
with ``maestro.run_study(maestro.StudyConfig(instances=[maestro.MAS(...)]))``: the runner
ships it to run processes, applies the adapter, scores it and records a complete run row.
"""

from __future__ import annotations

import asyncio
import functools
import json

import pandas as pd
import psutil
import pytest

import maestro
from maestro.mas import default_invoke
from maestro.store.reader import load_study

pytestmark = pytest.mark.slow

SAMPLES = [
    maestro.Sample("capital", "What is the capital of France?", target="Paris"),
    maestro.Sample("sum", "What is 19 + 23?", target="42"),
]


def build_langgraph(ctx: maestro.RunContext):
    return make_graph(ctx.endpoint.base_url, ctx.endpoint.api_key, ctx.endpoint.model, ctx.tools_enabled)


def make_graph(base_url: str, api_key: str, model: str, tools_enabled: bool):
    """Four agents in a line: researcher (with a lookup tool when tools are on), analyst,
    writer, reviewer."""
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.graph import END, START, MessagesState, StateGraph

    llm = ChatOpenAI(model=model, base_url=base_url, api_key=api_key, max_retries=0)

    @tool
    def lookup(query: str) -> str:
        """Look a fact up in the team's notes."""
        return f"notes on {query}: nothing unusual"

    def researcher(state):
        model = llm.bind_tools([lookup]) if tools_enabled else llm
        question = state["messages"][0].content
        msgs = [SystemMessage("You are the researcher."), HumanMessage(question)]
        reply = model.invoke(msgs)
        if reply.tool_calls:
            call = reply.tool_calls[0]
            result = lookup.invoke(call["args"])
            reply = llm.invoke([*msgs, reply, ToolMessage(result, tool_call_id=call["id"])])
        return {"messages": [reply]}

    def agent(role):
        def node(state):
            reply = llm.invoke([SystemMessage(f"You are the {role}."), HumanMessage(state["messages"][-1].content)])
            return {"messages": [reply]}
        return node

    g = StateGraph(MessagesState)
    g.add_node("researcher", researcher)
    for role in ("analyst", "writer", "reviewer"):
        g.add_node(role, agent(role))
    g.add_edge(START, "researcher")
    g.add_edge("researcher", "analyst")
    g.add_edge("analyst", "writer")
    g.add_edge("writer", "reviewer")
    g.add_edge("reviewer", END)
    return g.compile()


def _config(tmp_path, system, **kw):
    body = dict(study_id=f"user-{system.framework}", instances=[system], backends=["sim/strong", "sim/verbose"],
                tools=(True, False), repeats=1, timeout_s=60, workers=2, out=str(tmp_path), store_answers=True)
    body.update(kw)
    return maestro.StudyConfig(**body)


def _check_complete_records(study, n_runs: int, tools=(True, False), backends=("sim/strong", "sim/verbose")):
    runs = study.runs
    assert len(runs) == n_runs
    # a run whose MAS gave no answer is a failure that says so; nothing raised
    assert runs.status.isin(["success", "failure"]).all(), runs[["run_id", "status", "outcome_reason"]]
    assert (runs[runs.status == "failure"].outcome_reason == "the MAS returned no answer").all()
    assert (runs.status == "success").sum() >= n_runs // 2
    assert set(runs.backend) == set(backends)
    assert set(runs.model) == {b.replace("/", "-") for b in backends}
    assert (runs.provider == "maestro.sim").all()
    assert set(runs.tools_enabled) == set(tools)
    assert (runs.cost_usd > 0).all()
    assert runs.judgement.isin(["correct", "wrong"]).all()
    assert ((runs.judgement == "correct") == (runs.score == 1.0)).all()
    assert runs.gold.notna().all() and runs.question.notna().all()
    assert runs[runs.status == "success"].answer.str.len().gt(0).all()
    # set-up is outside the root span; the root span is the work; total covers both and more
    assert (runs.setup_s > 0).all() and (runs.working_s > 0).all()
    assert (runs.total_s >= runs.setup_s + runs.working_s).all()
    roots = study.spans[study.spans.parent_span_id.isna()].set_index("run_id")
    root_s = roots.loc[runs.run_id, "duration_ns"].to_numpy() / 1e9
    assert root_s == pytest.approx(runs.working_s.to_numpy(), abs=1e-6)
    return runs


def test_a_custom_langgraph_mas_runs_as_a_study(tmp_path):
    mas = maestro.MAS(name="four-agents", framework="langgraph", build=build_langgraph, dataset=SAMPLES,
                      scorer=maestro.scorers.includes())
    result = maestro.run_study(_config(tmp_path, mas), progress=False)
    assert result.executed == 8 and not result.all_raised
    study = load_study(result.path)
    runs = _check_complete_records(study, 8)
    agents = study.spans[study.spans.span_type == "agent"]
    assert set(agents.agent_name) == {"researcher", "analyst", "writer", "reviewer"}
    tool_runs = set(study.spans[study.spans.span_type == "tool"].run_id)
    assert tool_runs and tool_runs <= set(runs[runs.tools_enabled.astype(bool)].run_id)  # none in a tools-off run
    llm = study.spans[study.spans.span_type == "llm"]
    assert (llm.provider == "maestro.sim").all()  # the endpoint said what it is
    assert llm.groupby("run_id").size().sum() == runs.llm_calls.sum()


def build_autogen(ctx: maestro.RunContext):
    """A round robin of a planner (with a weather tool when tools are on), a critic and a
    summariser, stopped after six messages."""
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.conditions import MaxMessageTermination
    from autogen_agentchat.teams import RoundRobinGroupChat
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    client = OpenAIChatCompletionClient(
        model=ctx.endpoint.model, base_url=ctx.endpoint.base_url, api_key=ctx.endpoint.api_key, max_retries=0,
        model_info={"vision": False, "function_calling": True, "json_output": True, "structured_output": False,
                    "family": "unknown"})

    def weather(city: str) -> str:
        """Today's weather in a city."""
        return f"sunny in {city}"

    planner = AssistantAgent("planner", model_client=client, tools=[weather] if ctx.tools_enabled else None,
                             system_message="Plan the answer.")
    critic = AssistantAgent("critic", model_client=client, system_message="Criticise the plan.")
    summariser = AssistantAgent("summariser", model_client=client, system_message="Give the final answer.")
    return RoundRobinGroupChat([planner, critic, summariser], termination_condition=MaxMessageTermination(4))


def test_a_custom_autogen_team_runs_as_a_study(tmp_path):
    mas = maestro.MAS(name="trio", framework="autogen", build=build_autogen, dataset=SAMPLES,
                      scorer=lambda sample, answer: (sample.target in (answer or ""), "target in answer"))
    result = maestro.run_study(_config(tmp_path, mas), progress=False)
    study = load_study(result.path)
    runs = _check_complete_records(study, 8)
    assert (runs.judgement_reason == "target in answer").all()
    agents = study.spans[study.spans.span_type == "agent"]
    assert set(agents.agent_name) == {"planner", "critic", "summariser"}


def build_adk(ctx: maestro.RunContext):
    """A coordinator that can hand over to a writer and a fact checker (who may call a
    clock tool when tools are on)."""
    from google.adk.agents import LlmAgent
    from google.adk.models import Gemini

    model = Gemini(model=ctx.endpoint.model, base_url=ctx.endpoint.gemini_base_url,
                   client_kwargs={"api_key": ctx.endpoint.api_key})

    def clock() -> str:
        """The current date."""
        return "2026-11-30"

    checker = LlmAgent(name="checker", model=model, instruction="Check the facts.", description="Checks facts.",
                       tools=[clock] if ctx.tools_enabled else [])
    writer = LlmAgent(name="writer", model=model, instruction="Write the answer.", description="Writes answers.")
    return LlmAgent(name="coordinator", model=model, instruction="Delegate to the right agent.",
                    description="Coordinates.", sub_agents=[writer, checker])


def test_a_custom_adk_agent_tree_runs_as_a_study(tmp_path):
    mas = maestro.MAS(name="desk", framework="adk", build=build_adk, dataset=SAMPLES,
                      scorer=maestro.scorers.llm_judge("sim/strong"))
    result = maestro.run_study(_config(tmp_path, mas), progress=False)
    study = load_study(result.path)
    runs = _check_complete_records(study, 8)
    judged = runs[runs.status == "success"]
    assert judged.judgement_reason.str.startswith("sim/strong judged it").all()
    assert "coordinator" in set(study.spans[study.spans.span_type == "agent"].agent_name)


def test_trace_run_in_a_loop_records_complete_runs(tmp_path):
    """The same MAS traced with ``trace_run``: model, provider and backend are measured from
    the endpoint, cost priced, the answer scored; tools_enabled is what the user said."""
    from maestro.adapters.langgraph import instrument
    from maestro.sim import SimServer, openai_base_url

    with SimServer() as sim:
        for profile in ("strong", "verbose"):
            for sample in SAMPLES:
                for repeat in range(2):
                    graph = make_graph(openai_base_url(sim.url, profile, seed=repeat), "sim-key", f"sim-{profile}",
                                       tools_enabled=False)
                    with maestro.trace_run("looped", out=tmp_path, framework="langgraph", task_id=sample.id,
                                           repeat=repeat, question=sample.input, target=sample.target,
                                           scorer=maestro.scorers.includes(), tools_enabled=False,
                                           store_answers=True) as run:
                        state = instrument(graph, run).invoke({"messages": [("user", sample.input)]})
                        run.set_answer(state["messages"][-1].content)
    study = load_study(tmp_path / "looped")
    runs = study.runs
    assert len(runs) == 8 and (runs.status == "success").all()
    assert set(runs.backend) == {"sim/strong", "sim/verbose"} and set(runs.model) == {"sim-strong", "sim-verbose"}
    assert (runs.provider == "maestro.sim").all() and (runs.response_model == runs.model).all()
    assert (runs.tools_enabled == False).all()  # noqa: E712 - what the user said, not a guess
    prices = {"sim/strong": (0.25, 2.00), "sim/verbose": (0.05, 0.40)}
    expected = [(r.input_tokens * prices[r.backend][0] + r.output_tokens * prices[r.backend][1]) / 1e6
                for r in runs.itertuples()]
    assert runs.cost_usd.tolist() == pytest.approx(expected) and (runs.cost_usd > 0).all()
    assert runs.judgement.isin(["correct", "wrong"]).all() and runs.answer.notna().all()
    assert study.info["simulated"] and set(study.info["backends"]) == {"sim/strong", "sim/verbose"}


def test_trace_run_without_a_judgement_is_unjudged_and_tools_unknown(tmp_path):
    with maestro.trace_run("bare", out=tmp_path, question="what is 6 x 7?", target="42") as run:
        run.set_answer("42")
    row = load_study(tmp_path / "bare").runs.iloc[0]
    assert row.judgement == "unjudged" and pd.isna(row.score) and pd.isna(row.tools_enabled)
    assert pd.isna(row.question) and pd.isna(row.answer)  # text is stored only when asked
    assert pd.isna(row.model) and pd.isna(row.cost_usd) and row.status == "success"


# -- mcp-agent -----------------------------------------------------------------------------
FACTS_SERVER = '''
import os, sys, threading, time
from pathlib import Path
from mcp.server.fastmcp import FastMCP

# The test checks this process is gone after its run and counts the calls it served.
calls = Path(sys.argv[1], f"{os.getpid()}.pid")
calls.touch()
parent = os.getppid()


def watch_parent():
    # mcp starts stdio servers in a session of their own: end with the run's process
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
server = FastMCP("facts", log_level="WARNING")


@server.tool()
def lookup(query: str) -> str:
    """Look a fact up in the team's notes."""
    with calls.open("a") as log:
        log.write(query.replace("\\n", " ") + "\\n")
    return f"notes on {query}: nothing unusual"


server.run()
'''
"""A one-tool stdio MCP server, started by mcp-agent as ``python -c FACTS_SERVER PID_DIR``."""


def build_mcp_agent(ctx: maestro.RunContext, pid_dir: str):
    """The team's ``MCPApp``: OpenAI settings at the run's endpoint; with tools on, the
    ``facts`` server; mcp-agent's own logging, tracing and usage telemetry off."""
    import sys

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

    servers = {"facts": MCPServerSettings(name="facts", transport="stdio", command=sys.executable,
                                          args=["-c", FACTS_SERVER, pid_dir])} if ctx.tools_enabled else {}
    settings = Settings(
        execution_engine="asyncio", mcp=MCPSettings(servers=servers),
        openai=OpenAISettings(api_key=ctx.endpoint.api_key or "none", base_url=ctx.endpoint.base_url,
                              default_model=ctx.endpoint.model),
        logger=LoggerSettings(type="none", transports=["none"], level="error"),
        otel=OpenTelemetrySettings(enabled=False), usage_telemetry=UsageTelemetrySettings(enabled=False))
    return MCPApp(name="research_desk", settings=settings)


def ask_mcp_agent_team(app, sample: maestro.Sample, ctx: maestro.RunContext) -> str:
    """Two agents: the writer consults the researcher and answers with its notes. With tools
    on the researcher looks the question up in the ``facts`` server first (its own code's
    call) and its model may call ``lookup`` too."""
    from mcp_agent.agents.agent import Agent
    from mcp_agent.workflows.llm.augmented_llm import RequestParams
    from mcp_agent.workflows.llm.augmented_llm_openai import OpenAIAugmentedLLM

    class ConsultingLLM(OpenAIAugmentedLLM):
        """An agent's model that asks its ``helper`` first: the helper's turn runs inside
        this one, so the hand-overs are writer -> researcher -> writer."""

        helper: OpenAIAugmentedLLM

        async def generate_str(self, message, request_params=None):
            notes = await self.helper.generate_str(message, request_params=request_params)
            return await super().generate_str(f"{message}\n\nResearcher's notes: {notes}", request_params)

    class ResearcherLLM(OpenAIAugmentedLLM):
        """Retrieval first: the question's notes from the facts server, then the model."""

        async def generate_str(self, message, request_params=None):
            if self.agent.server_names:
                found = await self.agent.call_tool("facts_lookup", {"query": str(message)})
                message = f"{message}\n\nFrom the notes: {found.content[0].text}"
            return await super().generate_str(message, request_params)

    params = RequestParams(model=ctx.endpoint.model, maxTokens=ctx.max_tokens, use_history=False, max_iterations=3)

    async def team() -> str:
        async with app.run():
            researcher = Agent(name="researcher", instruction="You are the researcher: find the facts.",
                               server_names=["facts"] if ctx.tools_enabled else [])
            writer = Agent(name="writer", instruction="You are the writer: answer from the researcher's notes.")
            async with researcher, writer:
                consulting = ConsultingLLM(agent=writer)
                consulting.helper = await researcher.attach_llm(ResearcherLLM)
                llm = await writer.attach_llm(llm=consulting)
                return await llm.generate_str(sample.text, request_params=params)

    return asyncio.run(team())


def test_an_mcp_agent_mas_needs_invoke():
    with pytest.raises(ValueError, match="framework 'mcp_agent' needs invoke="):
        maestro.MAS(name="m", framework="mcp_agent", build=lambda ctx: None, dataset=SAMPLES)
    with pytest.raises(ValueError, match="framework 'mcp_agent' needs invoke="):
        default_invoke("mcp_agent", None, SAMPLES[0], None)


def test_a_custom_mcp_agent_team_runs_as_a_study(tmp_path):
    pid_dir = tmp_path / "server-pids"
    pid_dir.mkdir()
    mas = maestro.MAS(name="research-desk", framework="mcp_agent",
                      build=functools.partial(build_mcp_agent, pid_dir=str(pid_dir)), invoke=ask_mcp_agent_team,
                      dataset=SAMPLES, scorer=maestro.scorers.includes(), n_tools=1, n_agents=2)
    result = maestro.run_study(_config(tmp_path, mas, backends=["sim/strong"]), progress=False)
    assert result.executed == 4 and not result.all_raised
    study = load_study(result.path)
    runs = _check_complete_records(study, 4, backends=("sim/strong",))
    assert (runs.framework == "mcp_agent").all()
    spans = study.spans
    for run in runs.itertuples():
        mine = spans[spans.run_id == run.run_id]
        agents = mine[mine.span_type == "agent"]
        assert set(agents.agent_name) == {"researcher", "writer"}, run.run_id
        writer = agents[agents.agent_name == "writer"].span_id.tolist()
        assert len(writer) == 1 and (agents[agents.agent_name == "researcher"].parent_span_id == writer[0]).all()
        llm = mine[mine.span_type == "llm"]
        assert len(llm) >= 2 and len(llm) == run.llm_calls and (llm.provider == "maestro.sim").all()
        assert set(llm.agent_name) == {"researcher", "writer"}
        edges = mine[mine.span_type == "message"].sort_values("start_time_ns")
        assert list(zip(edges.message_source, edges.message_target)) == [
            ("__start__", "writer"), ("writer", "researcher"), ("researcher", "writer"), ("writer", "__end__")]
        # the question goes in and is passed on as it is; the writer's reply is the answer
        asked = len({x.id: x for x in SAMPLES}[run.task_id].text.encode())
        assert edges.input_bytes.tolist()[:2] == [asked, asked]
        assert edges.input_bytes.tolist()[3] == len((run.answer or "").encode())
        tools = mine[mine.span_type == "tool"]
        assert len(tools) >= (1 if run.tools_enabled else 0) and (run.tools_enabled or tools.empty), run.run_id
        for tool in tools.itertuples():
            attrs = json.loads(tool.attributes_json)
            assert (tool.name, tool.tool_name, tool.agent_name) == ("execute_tool lookup", "lookup", "researcher")
            assert (attrs["mcp.server"], attrs["mcp.tool"]) == ("facts", "lookup")
            assert tool.input_bytes > 0 and tool.output_bytes > 0 and tool.status_code != "ERROR"
            assert tool.parent_span_id == agents[agents.agent_name == "researcher"].span_id.iloc[0]
    # one server per tools-on run, a tool span per call it served, each server gone with its run
    logs = list(pid_dir.glob("*.pid"))
    assert len(logs) == int(runs.tools_enabled.astype(bool).sum())
    served = sum(len(f.read_text().splitlines()) for f in logs)
    assert served == (spans.span_type == "tool").sum() >= len(logs)
    alive = []
    for pid in (int(f.stem) for f in logs):
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"MCP server processes outlived their runs: {alive}"
