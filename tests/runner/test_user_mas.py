"""A MAS we did not write, run as a study through the public API only.

Each test builds its own system here, in the test file (LangGraph, AutoGen, ADK), and runs it
with ``maestro.run_study(maestro.StudyConfig(instances=[maestro.MAS(...)]))``: the runner
ships it to run processes, applies the adapter, scores it and records a complete run row.
"""

from __future__ import annotations

import pandas as pd
import pytest

import maestro
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


def _check_complete_records(study, n_runs: int, tools=(True, False)):
    runs = study.runs
    assert len(runs) == n_runs
    # a run whose MAS gave no answer is a failure that says so; nothing raised
    assert runs.status.isin(["success", "failure"]).all(), runs[["run_id", "status", "outcome_reason"]]
    assert (runs[runs.status == "failure"].outcome_reason == "the MAS returned no answer").all()
    assert (runs.status == "success").sum() >= n_runs // 2
    assert set(runs.backend) == {"sim/strong", "sim/verbose"}
    assert set(runs.model) == {"sim-strong", "sim-verbose"}
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
