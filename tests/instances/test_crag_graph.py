"""CRAG graph: structure, control flow with policy-driven fake models, the Instance face."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import GraphRecursionError

from maestro.contract import Instance, ModelEndpoint, RunContext, Task
from maestro.instances.crag import INSTANCE, build_graph, make_retriever_tool, make_web_search_tool
from maestro.instances.crag.graph import AGENT_NODES
from maestro.instances.crag.prompts import extract_answer
from maestro.instances.qa_world import build_world, judge, load_tasks

WORLD = build_world()
TASKS = {t.task_id: t for t in load_tasks()}


def answer_of(state: dict) -> str:
    """The final answer, extracted as ``CragInstance.run`` does."""
    return extract_answer(state.get("generation"))


def graph(llm, tools: bool, **kw):
    return build_graph(llm, tools_enabled=tools, retriever_tool=make_retriever_tool(),
                       web_search_tool=make_web_search_tool() if tools else None, **kw)


class Recorder(BaseCallbackHandler):
    """Collects node, tool and model callback events."""

    def __init__(self) -> None:
        self.tools: list[str] = []
        self.nodes: list[str] = []
        self.llm_calls = 0

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kw: Any) -> None:
        self.tools.append(kw.get("name") or (serialized or {}).get("name"))

    def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
        node = (kw.get("metadata") or {}).get("langgraph_node")
        if node and kw.get("name") == node:
            self.nodes.append(node)

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self.llm_calls += 1


def run(app, task: Task) -> tuple[dict, Recorder]:
    rec = Recorder()
    state = app.invoke({"question": task.question}, config={"recursion_limit": 40, "callbacks": [rec]})
    return state, rec


def pick(hops: int, local_complete: bool) -> Task:
    return next(t for t in TASKS.values() if t.meta["hops"] == hops and t.meta["local_complete"] == local_complete)


@pytest.mark.parametrize(
    "tools, expected",
    [
        pytest.param(True, set(AGENT_NODES), id="tools-on"),
        pytest.param(False, set(AGENT_NODES) - {"web_search"}, id="tools-off"),
    ],
)
def test_graph_nodes(policy_chat, tools, expected):
    g = graph(policy_chat(), tools).get_graph()
    assert set(g.nodes) - {"__start__", "__end__"} == expected


def test_tools_on_needs_a_web_tool(policy_chat):
    with pytest.raises(ValueError):
        build_graph(policy_chat(), tools_enabled=True, retriever_tool=make_retriever_tool(), web_search_tool=None)


def test_tools_are_langchain_tools():
    rec = Recorder()
    out = make_retriever_tool().invoke({"query": "capital"}, config={"callbacks": [rec]})
    assert rec.tools == ["local_retriever"] and len(out) == 4 and {"id", "title", "text", "source"} <= set(out[0])


def test_web_only_question_needs_web_search(policy_chat):
    task = pick(1, local_complete=False)
    on, rec_on = run(graph(policy_chat(accuracy=1.0), True), task)
    assert judge(task, answer_of(on)).judgement == "correct"
    assert rec_on.tools.count("web_search") == 1
    assert rec_on.nodes[:2] == ["retrieve", "grade_documents"] and rec_on.nodes[-1] == "generate"
    off, rec_off = run(graph(policy_chat(accuracy=1.0), False), task)
    assert "web_search" not in rec_off.tools and "web_search" not in rec_off.nodes
    assert judge(task, answer_of(off)).judgement == "wrong"


def test_two_hop_solved_by_rewrite_then_web(policy_chat):
    task = next(t for t in TASKS.values() if t.meta["hops"] == 2 and t.meta["support_pools"] == ["local", "web"])
    state, rec = run(graph(policy_chat(accuracy=1.0), True), task)
    assert rec.nodes == ["retrieve", "grade_documents", "transform_query", "web_search", "generate"]
    assert judge(task, answer_of(state)).judgement == "correct"


def test_tools_off_retries_at_most_max_rewrites(policy_chat):
    # A question nothing in the corpus is about: the grader rejects every document, and the
    # loop must stop after max_rewrites rewrites; the generator, noticing it has nothing,
    # abstains.
    llm = policy_chat(accuracy=1.0, calibration=1.0, abstention=1.0)
    state, rec = run(graph(llm, False, max_rewrites=2), Task("t", "Where do zorbles nest in winter?", "caves"))
    assert rec.nodes.count("retrieve") == 3 and rec.nodes.count("transform_query") == 2
    assert rec.nodes[-1] == "generate" and state["rewrites"] == 2 and state["relevant"] == []
    assert rec.tools == ["local_retriever"] * 3 and "cannot determine" in state["generation"]


def test_enough_relevant_skips_correction(policy_chat):
    state, rec = run(graph(policy_chat(accuracy=1.0), True, min_relevant=1), pick(1, True))
    assert rec.nodes == ["retrieve", "grade_documents", "generate"]
    assert "web_search" not in rec.tools


def test_control_flow_and_outcome_vary_with_seed(policy_chat):
    tasks = list(TASKS.values())[::15]

    def trace(seed: int) -> list[tuple[tuple[str, ...], str]]:
        app = graph(policy_chat(seed=seed, accuracy=0.6, strictness=0.5), False)
        out = []
        for t in tasks:
            state, rec = run(app, t)
            out.append((tuple(rec.nodes), judge(t, answer_of(state)).judgement))
        return out

    first = trace(1)
    assert first != trace(2)  # another seed takes other paths and gets other outcomes
    assert first == trace(1)  # the same seed repeats itself


def test_accuracy_by_hops_with_and_without_tools(policy_chat):
    # every task (50 per hop count): on the default world tools add about 5 points, which a
    # 45-task sample does not show reliably (tools on did not beat tools off on 6 of 16
    # model seeds); the whole set shows it on all 16
    tasks = load_tasks()
    acc = {}
    for tools in (True, False):
        app = graph(policy_chat(seed=3, accuracy=0.9, strictness=0.5), tools)
        acc[tools] = sum(judge(t, answer_of(app.invoke({"question": t.question}))).judgement == "correct"
                         for t in tasks) / len(tasks)
    assert acc[True] > acc[False] > 0.2


# ----------------------------------------------------------------------- Instance face


def ctx(tools: bool = True, **options: Any) -> RunContext:
    ep = ModelEndpoint(spec="sim/strong", provider="maestro.sim", model="sim-strong",
                       base_url="http://127.0.0.1:9/sim/strong/0/v1", api_key="sim", simulated=True)
    return RunContext(endpoint=ep, tools_enabled=tools, seed=0, options=options)


def test_instance_protocol_and_info():
    assert isinstance(INSTANCE, Instance)
    i = INSTANCE.info
    assert (i.name, i.framework, i.interaction, i.n_agents, i.n_tools, i.data_in, i.data_out, i.suites) == (
        "crag", "langgraph", "Coordination", 5, 2, "Datasets", "Open-End", "F,A")
    assert len(INSTANCE.tasks(n=6)) == 6


@pytest.mark.parametrize("tools", [pytest.param(True, id="tools-on"), pytest.param(False, id="tools-off")])
def test_build_uses_chat_openai_and_honours_tools(tools):
    app = INSTANCE.build(ctx(tools))
    assert ("web_search" in app.get_graph().nodes) is tools


class _StubApp:
    def __init__(self, result: Any) -> None:
        self.result = result
        self.configs: list[dict] = []

    def invoke(self, inputs: dict, config: dict | None = None) -> dict:
        self.configs.append(config or {})
        if isinstance(self.result, Exception):
            raise self.result
        return {"question": inputs["question"], "generation": self.result}


@pytest.mark.parametrize(
    "generation, answer, outcome",
    [
        pytest.param("Answer: Brashford\nThe passage says so.", "Brashford", "success", id="answer-line"),
        pytest.param("Brashford", "Brashford", "success", id="bare"),
        pytest.param("", "", "failure", id="empty"),
        pytest.param(GraphRecursionError("too deep"), None, "failure", id="recursion"),
    ],
)
def test_run_extracts_answer(generation, answer, outcome):
    app = _StubApp(generation)
    r = INSTANCE.run(app, Task("t", "q?", "Brashford"), ctx())
    assert (r.answer, r.outcome) == (answer, outcome)
    assert (r.reason is None) == (outcome == "success")
    assert app.configs[0]["recursion_limit"] == 40


def test_judge_delegates_to_scoring():
    assert INSTANCE.judge(Task("t", "q?", "Brashford"), "the city of Brashford").judgement == "correct"
