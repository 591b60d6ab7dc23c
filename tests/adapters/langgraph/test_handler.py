"""The LangGraph adapter on a graph defined here (not a built-in instance), against the
simulated service over real HTTP: span tree snapshot, tokens, bytes, edges, errors."""

from __future__ import annotations

from typing import TypedDict

import httpx2
import pyarrow.parquet as pq
import pytest
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import END, StateGraph

from maestro.adapters.langgraph import instrument
from maestro.sim.server import SimServer
from maestro.sim.urls import openai_base_url


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as s:
        yield s


class State(TypedDict, total=False):
    question: str
    notes: str
    answer: str


@tool
def lookup(query: str) -> str:
    """Look a query up in a tiny local index."""
    return f"notes about {query}"


def make_graph(llm, fail_in_writer=False):
    def research(state, config):
        return {"notes": lookup.invoke({"query": state["question"]}, config)}

    def route(state):
        return "writer"

    def writer(state):
        if fail_in_writer:
            raise RuntimeError("writer broke")
        return {"answer": llm.invoke(f"Answer using {state['notes']}: {state['question']}").content}

    g = StateGraph(State)
    g.add_node("research", research)
    g.add_node("writer", writer)
    g.set_entry_point("research")
    g.add_conditional_edges("research", route, {"writer": "writer"})
    g.add_edge("writer", END)
    return g.compile()


def test_span_tree_tokens_bytes_and_edges(sim, make_telemetry, layout):
    seen = {"req": [], "resp": []}
    client = httpx2.Client(event_hooks={
        "request": [lambda r: seen["req"].append(len(r.content))],
        "response": [lambda r: (r.read(), seen["resp"].append(len(r.content)))],
    })
    llm = ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 5), api_key="x", model="sim-strong",
                     http_client=client, stream_usage=True)
    t = make_telemetry().start()
    graph = instrument(make_graph(llm), t, provider="maestro.sim")
    out = graph.invoke({"question": "who founded Xo?"})
    assert out["answer"]
    t.finish()
    rows = pq.read_table(layout.spans_file("run-1")).to_pylist()
    by_id = {r["span_id"]: r for r in rows}
    tree = sorted(
        (r["name"], r["span_type"], by_id[r["parent_span_id"]]["name"] if r["parent_span_id"] else None)
        for r in rows
    )
    assert tree == sorted([
        ("invoke_workflow toy", "run", None),
        ("invoke_agent research", "agent", "invoke_workflow toy"),
        ("execute_tool lookup", "tool", "invoke_agent research"),
        ("message __start__ -> research", "message", "invoke_agent research"),
        ("invoke_agent writer", "agent", "invoke_workflow toy"),
        ("message research -> writer", "message", "invoke_agent writer"),
        ("chat sim-strong", "llm", "invoke_agent writer"),
        ("message writer -> __end__", "message", "invoke_workflow toy"),
    ])
    chat = next(r for r in rows if r["span_type"] == "llm")
    assert chat["input_tokens"] > 0 and chat["output_tokens"] > 0 and chat["request_model"] == "sim-strong"
    assert chat["provider"] == "maestro.sim" and chat["agent_name"] == "writer" and chat["usage_estimated"] is None
    assert (chat["input_bytes"], chat["output_bytes"]) == (seen["req"][0], seen["resp"][0])
    tool_span = next(r for r in rows if r["span_type"] == "tool")
    assert tool_span["tool_name"] == "lookup" and tool_span["tool_call_id"] and tool_span["agent_name"] == "research"
    edge = next(r for r in rows if r["name"] == "message research -> writer")
    research = next(r for r in rows if r["name"] == "invoke_agent research")
    assert edge["total_bytes"] == research["output_bytes"] > 0


def test_node_error_marks_span_and_never_breaks_callbacks(sim, make_telemetry, layout):
    llm = ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 5), api_key="x", model="sim-strong")
    t = make_telemetry().start()
    graph = instrument(make_graph(llm, fail_in_writer=True), t)
    with pytest.raises(RuntimeError, match="writer broke"):
        graph.invoke({"question": "q"})
    t.finish("exception", "RuntimeError: writer broke")
    rows = {r["name"]: r for r in pq.read_table(layout.spans_file("run-1")).to_pylist()}
    assert rows["invoke_agent writer"]["status_code"] == "ERROR"
    assert "writer broke" in rows["invoke_agent writer"]["status_description"]
    assert rows["invoke_agent writer"]["failure_category"] == "system"
    assert rows["invoke_workflow toy"]["status_code"] == "ERROR"


def test_instrument_without_telemetry_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no active run telemetry"):
        instrument(object())


def test_trace_run_wraps_a_users_graph(sim, tmp_path):
    import maestro

    llm = ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 1), api_key="x", model="sim-strong")
    with maestro.trace_run("mine", "r1", out=str(tmp_path), backend="sim/strong") as run:
        instrument(make_graph(llm), run).invoke({"question": "q"})
    study = maestro.load_study(tmp_path / "mine")
    assert study.runs.loc[0, "status"] == "success" and study.runs.loc[0, "llm_calls"] == 1
    assert set(study.spans["span_type"]) == {"run", "agent", "tool", "llm", "message"}
