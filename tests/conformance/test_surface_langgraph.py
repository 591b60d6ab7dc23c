"""LangGraph's public surface under maestro's adapter: every entry point x every topology.

Each case builds its graph here (ChatOpenAI against the in-process simulated service, whose
generic fallback answers), runs it through one entry point of the instrumented graph inside
``maestro.trace_run`` and checks the one span schema:

* one trace, one root, a finished run;
* one ``chat`` span per request the simulated service served, with HTTP bytes both ways;
* the agent spans are the nodes LangGraph itself reports (``stream_mode="debug"`` with
  ``subgraphs=True`` on a twin run: same seed, so the same replies), in its order and named
  by graph path (``team/draft``);
* the message edges are the hand-overs those nodes imply: a graph's first superstep receives
  from ``__start__`` (a subgraph's: from the node running it), each superstep from every node
  of the previous one, and the last superstep hands to ``__end__`` (a subgraph's: back to its
  node); each input of a ``batch`` call separately, told apart by ``maestro.batch.index``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import operator
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Send

import maestro
from maestro.adapters.langgraph import instrument
from maestro.sim import SimServer, openai_base_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:The v3 streaming protocol on Pregel is experimental"),
]

SEED = 4
"""Seed of every case; with it the ReAct agent calls its tool for both topics."""

TOPICS = ("tide pools", "glaciers")
"""The topic of each input (a batch sends both)."""


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as s:
        yield s


# -- topologies: build(llm) -> compiled graph, and the input for a topic ---------------------

class Notes(TypedDict, total=False):
    topic: str
    draft: str
    rounds: int
    parts: Annotated[list[str], operator.add]


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the team's notes."""
    return f"notes on {topic}: see the atlas"


def _ask(llm, prompt: str) -> str:
    return llm.invoke(prompt).text  # not .content: under stream_events v3 that is a list of content blocks


def plain(llm):
    """Two nodes in a row, each calling the model."""
    g = StateGraph(Notes)
    g.add_node("outliner", lambda s: {"draft": _ask(llm, f"Outline a note on {s['topic']}")})
    g.add_node("writer", lambda s: {"draft": _ask(llm, f"Write the note from: {s['draft']}")})
    g.add_edge(START, "outliner")
    g.add_edge("outliner", "writer")
    g.add_edge("writer", END)
    return g.compile()


def subgraph(llm):
    """A compiled two-node graph as node ``team``, then a reviewer."""
    inner = StateGraph(Notes)
    inner.add_node("draft", lambda s: {"draft": _ask(llm, f"Draft a note on {s['topic']}")})
    inner.add_node("edit", lambda s: {"draft": _ask(llm, f"Edit this draft: {s['draft']}")})
    inner.add_edge(START, "draft")
    inner.add_edge("draft", "edit")
    inner.add_edge("edit", END)
    g = StateGraph(Notes)
    g.add_node("team", inner.compile())
    g.add_node("review", lambda s: {"draft": _ask(llm, f"Review this note: {s['draft']}")})
    g.add_edge(START, "team")
    g.add_edge("team", "review")
    g.add_edge("review", END)
    return g.compile()


def react(llm):
    """LangGraph's prebuilt ReAct agent with a tool, as node ``agent`` of an outer graph."""
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():  # deprecated for langchain.agents, still LangGraph's own
        warnings.simplefilter("ignore", DeprecationWarning)
        agent = create_react_agent(llm, [lookup], prompt="You keep the team's notes.")
    g = StateGraph(MessagesState)
    g.add_node("agent", agent)
    g.add_node("post", lambda s: {})
    g.add_edge(START, "agent")
    g.add_edge("agent", "post")
    g.add_edge("post", END)
    return g.compile()


def send_fan_out(llm):
    """A planner sends three angles to parallel copies of ``work``; ``reduce`` joins them."""
    g = StateGraph(Notes)
    g.add_node("plan", lambda s: {"draft": _ask(llm, f"Plan a note on {s['topic']}")})
    g.add_node("work", lambda s: {"parts": [_ask(llm, f"Write the {s['angle']} part on {s['topic']}")]})
    g.add_node("reduce", lambda s: {"draft": _ask(llm, "Join: " + " | ".join(sorted(s["parts"])))})
    g.add_edge(START, "plan")
    g.add_conditional_edges(
        "plan", lambda s: [Send("work", {"topic": s["topic"], "angle": a}) for a in ("history", "science", "art")],
        ["work"])
    g.add_edge("work", "reduce")
    g.add_edge("reduce", END)
    return g.compile()


def bounded_loop(llm):
    """Draft and review, back to the drafter until three rounds are done."""
    g = StateGraph(Notes)
    g.add_node("drafter", lambda s: {"draft": _ask(llm, f"Draft {s.get('rounds', 0) + 1} on {s['topic']}"),
                                     "rounds": s.get("rounds", 0) + 1})
    g.add_node("reviewer", lambda s: {"draft": _ask(llm, f"Review draft {s['rounds']}: {s['draft']}")})
    g.add_edge(START, "drafter")
    g.add_edge("drafter", "reviewer")
    g.add_conditional_edges("reviewer", lambda s: "drafter" if s["rounds"] < 3 else END, ["drafter", END])
    return g.compile()


def _topic_input(topic: str) -> dict:
    return {"topic": topic}


def _chat_input(topic: str) -> dict:
    return {"messages": [("user", f"Look up {topic} in the notes")]}


TOPOLOGIES: dict[str, tuple[Callable, Callable[[str], dict]]] = {
    "plain": (plain, _topic_input),
    "subgraph": (subgraph, _topic_input),
    "react": (react, _chat_input),
    "send": (send_fan_out, _topic_input),
    "loop": (bounded_loop, _topic_input),
}


# -- entry points: drive(instrumented graph, inputs) with one or two inputs -----------------

def _drain(iterator) -> None:
    for _ in iterator:
        pass


async def _adrain(iterator) -> None:
    async for _ in iterator:
        pass


ENTRY_POINTS: dict[str, tuple[int, Callable[[Any, list], None]]] = {
    "invoke": (1, lambda g, i: g.invoke(i[0])),
    "ainvoke": (1, lambda g, i: asyncio.run(g.ainvoke(i[0]))),
    "stream-values": (1, lambda g, i: _drain(g.stream(i[0], stream_mode="values"))),
    "stream-updates-subgraphs": (1, lambda g, i: _drain(g.stream(i[0], stream_mode="updates", subgraphs=True))),
    "stream-messages": (1, lambda g, i: _drain(g.stream(i[0], stream_mode="messages"))),
    "stream-mode-list": (1, lambda g, i: _drain(g.stream(
        i[0], stream_mode=["values", "updates", "messages", "custom", "debug", "tasks"]))),
    "astream-updates": (1, lambda g, i: asyncio.run(_adrain(g.astream(i[0], stream_mode="updates")))),
    "astream-messages": (1, lambda g, i: asyncio.run(_adrain(g.astream(i[0], stream_mode="messages")))),
    "astream_events-v2": (1, lambda g, i: asyncio.run(_adrain(g.astream_events(i[0], version="v2")))),
    "stream_events-v3": (1, lambda g, i: _drain(g.stream_events(i[0], version="v3"))),
    "batch": (2, lambda g, i: g.batch(i, [{"metadata": {"who": "test"}}] * len(i))),  # a config per input
    "abatch": (2, lambda g, i: asyncio.run(g.abatch(i))),
    "batch_as_completed": (2, lambda g, i: _drain(g.batch_as_completed(i, {"metadata": {"who": "test"}}))),
    "abatch_as_completed": (2, lambda g, i: asyncio.run(_adrain(g.abatch_as_completed(i)))),
}


# -- what LangGraph reports and what maestro recorded -----------------------------------------

Task = tuple[str | None, int, str]
"""(container path or None, superstep, node path) of one node execution."""


def _path(ns: tuple[str, ...]) -> str | None:
    """The container path of a LangGraph namespace (``("team:<task id>",)`` -> ``team``)."""
    return "/".join(part.split(":")[0] for part in ns) or None


def langgraph_tasks(graph, graph_input: dict) -> list[tuple[tuple[str, ...], Task]]:
    """The node executions LangGraph reports for one run (its debug stream, subgraphs
    included), in its order, each with its graph invocation (namespace)."""
    tasks = []
    for ns, event in graph.stream(graph_input, stream_mode="debug", subgraphs=True):
        if event["type"] == "task":
            container, name = _path(ns), event["payload"]["name"]
            tasks.append((ns, (container, event["step"], f"{container}/{name}" if container else name)))
    return tasks


def in_steps(tasks: list[Task]) -> list[tuple[str | None, int, tuple[str, ...]]]:
    """Tasks grouped by superstep (consecutive tasks of one container and step), each group's
    nodes sorted: parallel nodes have no order."""
    return [(c, step, tuple(sorted(t[2] for t in group)))
            for (c, step), group in itertools.groupby(tasks, key=lambda t: (t[0], t[1]))]


def expected_edges(tasks: list[tuple[tuple[str, ...], Task]]) -> Counter:
    """The hand-overs the adapter's documented rule gives for LangGraph's reported tasks."""
    edges: Counter = Counter()
    for ns in dict.fromkeys(ns for ns, _ in tasks):
        mine = [t for n, t in tasks if n == ns]
        container = mine[0][0]
        senders = [container or "__start__"]
        for _, _, nodes in in_steps(mine):
            edges.update((s, n) for n in nodes for s in senders)
            senders = list(nodes)
        edges.update((s, container or "__end__") for s in senders)
    return edges


def _attrs(row) -> dict:
    return json.loads(row.attributes_json) if isinstance(row.attributes_json, str) else {}


def recorded(spans, index: int | None) -> tuple[list[Task], Counter, list[str]]:
    """Of one batch input (``index``; None outside a batch): its agent spans as tasks in start
    order, its message edges, and the receivers of the edges entering an agent span, in the
    order the edges were recorded (one entry per receiving span)."""
    s = spans[[_attrs(r).get("maestro.batch.index") == index for r in spans.itertuples()]]
    s = s.sort_values(["start_time_ns", "span_id"], kind="stable")
    agents = s[s.span_type == "agent"]
    tasks = [(r.agent_name.rpartition("/")[0] or None, _attrs(r)["maestro.node.step"], r.agent_name)
             for r in agents.itertuples()]
    msgs = s[s.span_type == "message"]
    starts = dict(zip(agents.span_id, zip(agents.agent_name, agents.start_time_ns)))
    entering = [p for p, target, t in zip(msgs.parent_span_id, msgs.message_target, msgs.start_time_ns)
                if starts.get(p) == (target, t)]  # recorded under the receiver, as it starts
    return (tasks, Counter(zip(msgs.message_source, msgs.message_target)),
            [starts[p][0] for p, _ in itertools.groupby(entering)])


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("topology", list(TOPOLOGIES))
def test_entry_point_x_topology(sim, tmp_path, topology, entry):
    build, make_input = TOPOLOGIES[topology]
    n_inputs, drive = ENTRY_POINTS[entry]
    inputs = [make_input(topic) for topic in TOPICS[:n_inputs]]

    def llm(nonce: str) -> ChatOpenAI:
        return ChatOpenAI(model="sim-strong", api_key="sim",
                          base_url=openai_base_url(sim.url, "strong", SEED, f"{topology}-{entry}-{nonce}"))

    reference = build(llm("reference"))
    reported = [langgraph_tasks(reference, i) for i in inputs]
    graph = build(llm("traced"))
    served_before = sim.request_count
    with maestro.trace_run("surface", out=str(tmp_path), framework="langgraph", backend="sim/strong") as run:
        drive(instrument(graph, run), inputs)
    served = sim.request_count - served_before

    study = maestro.load_study(tmp_path / "surface")
    spans = study.spans
    assert len(study.runs) == 1 and study.runs.iloc[0].status == "success"
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    assert set(spans.parent_span_id.dropna()) <= set(spans.span_id)

    llm_spans = spans[spans.span_type == "llm"]
    assert len(llm_spans) == served == study.runs.iloc[0].llm_calls > 0
    assert (llm_spans.input_bytes > 0).all() and (llm_spans.output_bytes > 0).all()
    assert (llm_spans.input_tokens > 0).all() and (llm_spans.output_tokens > 0).all()

    if n_inputs > 1:  # every span but the root belongs to one input
        assert {_attrs(r).get("maestro.batch.index") for r in spans.itertuples() if r.span_type != "run"} == {0, 1}
    for index, lg in enumerate(reported):
        tasks, edges, receivers = recorded(spans, index if n_inputs > 1 else None)
        assert in_steps(tasks) == in_steps([t for _, t in lg]), "the nodes differ from LangGraph's report"
        assert receivers == [name for _, _, name in tasks], "a node ran before its hand-over was recorded"
        assert edges == expected_edges(lg)
    if topology == "react":  # the topology exercised its tool
        assert "agent/tools" in set(spans.agent_name) and (spans.span_type == "tool").any()
