"""The LangGraph adapter on a graph defined here (not a built-in instance), against the
simulated service over real HTTP: span tree snapshot, tokens, bytes, edges, errors, and the
rest of LangGraph's surface (batches, async and event streams, subgraphs, interrupts,
streamed usage). tests/conformance/test_surface_langgraph.py crosses every entry point with
every topology."""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import TypedDict

import httpx2
import pyarrow.parquet as pq
import pytest
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.types import Command, interrupt

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


# -- LangGraph's whole surface: entry points, subgraphs, control flow, errors -------------

class Count(TypedDict, total=False):
    x: str


def _rows(layout):
    rows = pq.read_table(layout.spans_file("run-1")).to_pylist()
    return sorted(rows, key=lambda r: (r["start_time_ns"], r["span_type"] != "message"))


def _edges(rows):
    return [(r["message_source"], r["message_target"]) for r in rows if r["span_type"] == "message"]


def _attrs(row):
    return json.loads(row["attributes_json"] or "{}")


def react_in_outer_graph(llm):
    """A prebuilt ReAct agent (nodes ``agent``, ``tools``) as node ``agent`` of an outer graph."""
    with warnings.catch_warnings():  # deprecated for langchain.agents, still LangGraph's own
        warnings.simplefilter("ignore", DeprecationWarning)
        agent = create_react_agent(llm, [lookup], prompt="Be terse.")
    outer = StateGraph(MessagesState)
    outer.add_node("agent", agent)
    outer.add_node("post", lambda s: {})
    outer.add_edge(START, "agent")
    outer.add_edge("agent", "post")
    outer.add_edge("post", END)
    return outer.compile()


def test_batch_with_a_config_per_input_keeps_the_inputs_apart(sim, make_telemetry, layout):
    llm = ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 5), api_key="x", model="sim-strong")
    t = make_telemetry().start()
    graph = instrument(make_graph(llm), t)
    out = graph.batch([{"question": "q0"}, {"question": "q1"}], [{"metadata": {"mine": 1}}] * 2)
    assert all(o["answer"] for o in out)
    t.finish()
    rows = _rows(layout)
    for index in (0, 1):
        mine = [r for r in rows if _attrs(r).get("maestro.batch.index") == index]
        assert _edges(mine) == [("__start__", "research"), ("research", "writer"), ("writer", "__end__")]
        assert {r["span_type"] for r in mine} == {"agent", "tool", "llm", "message"}
    assert sum(r["span_type"] == "llm" for r in rows) == 2


def test_abatch_astream_events_and_with_config_are_traced(sim, make_telemetry, layout):
    llm = ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 5), api_key="x", model="sim-strong")
    t = make_telemetry().start()
    graph = instrument(make_graph(llm), t)

    async def run():
        await graph.abatch([{"question": "q0"}, {"question": "q1"}])
        return [e["event"] async for e in graph.astream_events({"question": "q2"}, version="v2")]

    events = asyncio.run(run())
    assert "on_chat_model_end" in events
    assert graph.with_config(recursion_limit=5).invoke({"question": "q3"})["answer"]
    assert graph.get_graph().nodes.keys() >= {"research", "writer"}  # delegated untouched
    stats = t.finish()
    assert stats.llm_calls == 4 and stats.agent_turns == 8
    assert _edges(_rows(layout)).count(("writer", "__end__")) == 4


def test_subgraph_nodes_are_named_by_their_graph_path(sim, make_telemetry, layout):
    llm = ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 3), api_key="x", model="sim-strong")
    t = make_telemetry().start()
    instrument(react_in_outer_graph(llm), t).invoke({"messages": [("user", "look it up")]})
    t.finish()
    rows = _rows(layout)
    agents = [r["agent_name"] for r in rows if r["span_type"] == "agent"]
    assert agents == ["agent", "agent/agent", "agent/tools", "agent/agent", "post"]  # seed 3 calls the tool
    assert _edges(rows) == [("__start__", "agent"), ("agent", "agent/agent"), ("agent/agent", "agent/tools"),
                            ("agent/tools", "agent/agent"), ("agent/agent", "agent"), ("agent", "post"),
                            ("post", "__end__")]
    by_id = {r["span_id"]: r for r in rows}
    for r in rows:  # inner spans sit inside the container node's span
        if r["span_type"] != "run" and (r["agent_name"] or "").startswith("agent/"):
            assert by_id[r["parent_span_id"]]["agent_name"] in ("agent", r["agent_name"])
    assert {r["agent_name"] for r in rows if r["span_type"] == "llm"} == {"agent/agent"}
    assert {r["agent_name"] for r in rows if r["span_type"] == "tool"} == {"agent/tools"}
    exit_edge = next(r for r in rows if r["name"] == "message agent/agent -> agent")
    assert by_id[exit_edge["parent_span_id"]]["name"] == "invoke_agent agent"


def test_failing_node_hands_nothing_on_and_records_the_exception(make_telemetry, layout):
    def b(state):
        raise RuntimeError("b broke\nsecond line")

    g = StateGraph(Count)
    g.add_node("a", lambda s: {"x": "a"})
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    t = make_telemetry().start()
    with pytest.raises(RuntimeError):
        instrument(g.compile(), t).invoke({"x": ""})
    t.finish("exception", "RuntimeError: b broke")
    rows = _rows(layout)
    assert _edges(rows) == [("__start__", "a"), ("a", "b")]  # nobody reached __end__
    failed = next(r for r in rows if r["name"] == "invoke_agent b")
    assert failed["status_code"] == "ERROR"
    (event,) = json.loads(failed["events_json"])
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "RuntimeError"
    assert event["attributes"]["exception.message"] == "b broke"
    assert event["attributes"]["exception.stacktrace"] == f"test_handler.py:{b.__code__.co_firstlineno + 1} in b"


def test_interrupt_and_parent_command_are_hand_overs_not_errors(make_telemetry, layout):
    ask = StateGraph(Count)
    ask.add_node("a", lambda s: {"x": "a"})
    ask.add_node("ask", lambda s: {"x": interrupt("ok?")})
    ask.add_edge(START, "a")
    ask.add_edge("a", "ask")
    ask.add_edge("ask", END)
    inner = StateGraph(Count)
    inner.add_node("hand", lambda s: Command(graph=Command.PARENT, goto="b", update={"x": "h"}))
    inner.add_edge(START, "hand")
    handoff = StateGraph(Count)
    handoff.add_node("a", inner.compile())
    handoff.add_node("b", lambda s: {"x": s["x"] + "b"})
    handoff.add_edge(START, "a")
    handoff.add_edge("b", END)
    t = make_telemetry().start()
    paused = instrument(ask.compile(checkpointer=InMemorySaver()), t)
    config = {"configurable": {"thread_id": "1"}}
    assert "__interrupt__" in paused.invoke({"x": ""}, config)
    assert paused.invoke(Command(resume="yes"), config) == {"x": "yes"}
    assert instrument(handoff.compile(), t).invoke({"x": ""}) == {"x": "hb"}
    t.finish()
    rows = _rows(layout)
    assert {r["status_code"] for r in rows if r["span_type"] == "agent"} == {"UNSET"}
    assert _edges(rows) == [("__start__", "a"), ("a", "ask"), ("ask", "__end__"),  # paused: the question goes out
                            ("__start__", "ask"), ("ask", "__end__"),  # resumed
                            ("__start__", "a"), ("a", "a/hand"), ("a/hand", "a"), ("a", "b"), ("b", "__end__")]


def test_streamed_call_without_usage_is_estimated_like_the_provider_counts(sim, make_telemetry, layout):
    # stream_mode="messages" makes ChatOpenAI stream; with a custom base URL it asks for no
    # usage unless stream_usage=True, so maestro estimates: system prompt and tool schemas
    # count like the provider counts them (same seed: same replies, two runs apart by nonce).
    reported, estimated = (ChatOpenAI(base_url=openai_base_url(sim.url, "strong", 3, nonce), api_key="x",
                                      model="sim-strong", stream_usage=usage)
                           for nonce, usage in (("reported", True), ("estimated", False)))
    t = make_telemetry().start()
    for llm in (reported, estimated):
        for _ in instrument(react_in_outer_graph(llm), t).stream({"messages": [("user", "look it up")]},
                                                                  stream_mode=["messages", "updates"]):
            pass
    t.finish()
    llm_rows = [r for r in _rows(layout) if r["span_type"] == "llm"]
    assert [r["usage_estimated"] for r in llm_rows] == [None, None, True, True]
    tokens = [(r["input_tokens"], r["output_tokens"]) for r in llm_rows]
    assert tokens[:2] == tokens[2:]
