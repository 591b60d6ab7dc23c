"""Dialects -> maestro's schema, and hand-overs derived from agent order (hand-built spans
with hand-computed expectations)."""

from __future__ import annotations

import json

import pytest

from maestro import semconv as sc
from maestro.interop import ImportOptions, group_runs, map_run
from maestro.interop.mapping import classify, detect_framework, run_id_for
from maestro.runner.importer import StudyWriter

from .spans import TRACE, lg_node, oi_llm, sid, span


def _edges(run) -> list[tuple[str, str, int]]:
    msgs = sorted((m for m in run.spans if m.span_type == "message"), key=lambda m: m.start_ns)
    return [(m.attributes[sc.MAESTRO_MESSAGE_SOURCE], m.attributes[sc.MAESTRO_MESSAGE_TARGET],
             m.attributes[sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES]) for m in msgs]


def _by_id(run):
    return {m.span_id: m for m in run.spans}


def langgraph_trace(root_status: str = "UNSET"):
    """graph: a (step 1, one LLM call, a routing function) -> b, c in parallel (step 2) ->
    d (step 3) running a subgraph x -> y."""
    oi = {"openinference.span.kind": "CHAIN"}
    return [
        span(1, "graph", None, 0, 100, status=root_status, a={**oi, "input.value": "question?"}),
        lg_node(2, "a", 1, 1, 1, 10, **{"output.value": "hello"}),
        oi_llm(3, 2, 2, 8, "a", 1, prompt=10, completion=2),
        span(4, "route", 2, 9, 10, a={**oi, "metadata": json.dumps({"langgraph_node": "a", "langgraph_step": 1})}),
        lg_node(5, "b", 2, 1, 11, 20, **{"output.value": "bb"}),
        lg_node(6, "c", 2, 1, 12, 30, **{"output.value": "ccc"}),
        lg_node(7, "d", 3, 1, 31, 90, **{"output.value": "dddd"}),
        span(8, "LangGraph", 7, 32, 89, a={**oi, "metadata": json.dumps({"langgraph_node": "d", "langgraph_step": 3})}),
        lg_node(9, "x", 1, 8, 33, 40, **{"output.value": "x1"}),
        lg_node(10, "y", 2, 8, 41, 88, **{"output.value": "y22"}),
        oi_llm(11, 10, 42, 80, "y", 2, prompt=30, completion=5),
        span(12, "search", 10, 81, 87, a={"openinference.span.kind": "TOOL", "tool.name": "search"}),
    ]


def test_openinference_langgraph_superstep_edges_and_subgraphs():
    run = map_run(langgraph_trace(), instance="g")
    assert _edges(run) == [
        ("__start__", "a", 9), ("a", "b", 5), ("a", "c", 5), ("b", "d", 2), ("c", "d", 3),
        ("d", "d/x", 0), ("d/x", "d/y", 2), ("d/y", "d", 3), ("d", "__end__", 4),
    ]
    assert run.derived_messages == 9
    types = {m.span_id: m.span_type for m in run.spans}
    assert types[sid(1)] == "run" and types[sid(4)] == "other" and types[sid(8)] == "other"
    assert [types[sid(n)] for n in (2, 5, 6, 7, 9, 10)] == ["agent"] * 6
    by = _by_id(run)
    assert by[sid(10)].name == "invoke_agent d/y" and by[sid(10)].attributes[sc.MAESTRO_NODE_STEP] == 2
    llm = by[sid(11)]
    assert llm.name == "chat gpt-4o" and llm.attributes[sc.GEN_AI_AGENT_NAME] == "d/y"
    assert (llm.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS], llm.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS],
            llm.attributes[sc.GEN_AI_USAGE_TOTAL_TOKENS], llm.attributes[sc.GEN_AI_PROVIDER_NAME]) == (30, 5, 35, "openai")
    assert by[sid(12)].attributes[sc.GEN_AI_TOOL_NAME] == "search" and by[sid(12)].attributes[sc.GEN_AI_AGENT_NAME] == "d/y"
    assert by[sid(1)].name == "invoke_workflow g" and by[sid(1)].attributes[sc.MAESTRO_SOURCE_NAME] == "graph"
    # content is dropped unless captured (its size is still measured for the edges)
    assert not any(k.startswith(("llm.input_messages", "input.value", "output.value"))
                   for m in run.spans for k in m.attributes)
    kept = map_run(langgraph_trace(), capture_content=True)
    assert _by_id(kept)[sid(3)].attributes["llm.input_messages.0.message.content"] == "secret question"
    assert detect_framework(langgraph_trace()) == "langgraph"


def test_a_failed_run_hands_nothing_to_end():
    run = map_run(langgraph_trace(root_status="ERROR"))
    assert ("d", "__end__", 4) not in _edges(run) and ("d/y", "d", 3) in _edges(run)


def adk_trace():
    """ADK 2.x native spans: coordinator transfers to helper (a sibling), helper uses a tool
    and transfers back, the coordinator answers."""
    def agent(n, name, start, end):
        return span(n, f"invoke_agent {name}", 1, start, end, scope="gcp.vertex.agent",
                    gen_ai__operation__name="invoke_agent", gen_ai__agent__name=name)

    def llm(n, parent, agent_name, start, end, i, o):
        return span(n, "generate_content sim-strong", parent, start, end, scope="gcp.vertex.agent",
                    gen_ai__operation__name="generate_content", gen_ai__request__model="sim-strong",
                    gen_ai__provider__name="gcp.gemini", gen_ai__agent__name=agent_name,
                    gen_ai__usage__input_tokens=i, gen_ai__usage__output_tokens=o)

    def tool(n, parent, name, start, end):
        return span(n, f"execute_tool {name}", parent, start, end, scope="gcp.vertex.agent",
                    gen_ai__operation__name="execute_tool", gen_ai__tool__name=name, gen_ai__tool__call__id=f"c{n}")

    return [
        span(1, "invoke_workflow coord", None, 0, 100, scope="gcp.vertex.agent", gen_ai__operation__name="invoke_workflow"),
        agent(2, "coord", 1, 20), llm(3, 2, "coord", 2, 10, 100, 5), tool(4, 2, "transfer_to_agent", 11, 12),
        agent(5, "helper", 21, 60), llm(6, 5, "helper", 22, 30, 200, 7), tool(7, 5, "lookup", 31, 40),
        llm(8, 5, "helper", 41, 50, 250, 3), tool(9, 5, "transfer_to_agent", 51, 52),
        agent(10, "coord", 61, 99), llm(11, 10, "coord", 62, 98, 300, 40),
    ]


def test_adk_native_transfers_become_the_edge_sequence():
    run = map_run(adk_trace())
    assert [(s, t) for s, t, _ in _edges(run)] == [
        ("__start__", "coord"), ("coord", "helper"), ("helper", "coord"), ("coord", "__end__")]
    types = [m.span_type for m in run.spans if m.span_type != "message"]
    assert types.count("llm") == 4 and types.count("tool") == 1 and types.count("other") == 2
    tokens = [(m.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS], m.attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS])
              for m in run.spans if m.span_type == "llm"]
    assert [sum(x) for x in zip(*tokens)] == [850, 55]
    assert detect_framework(adk_trace()) == "adk"


def test_nested_agents_are_called_and_return():
    """A workflow agent's sub-agents nest in its span (ADK SequentialAgent): P -> C, C -> P;
    the agent of the last model call answers."""
    ga = {"gen_ai.operation.name": "invoke_agent"}
    spans = [
        span(1, "invoke_agent seq", None, 0, 100, a={**ga, "gen_ai.agent.name": "seq"}),
        span(2, "invoke_agent first", 1, 1, 40, a={**ga, "gen_ai.agent.name": "first"}),
        span(3, "chat m", 2, 2, 39, gen_ai__operation__name="chat", gen_ai__request__model="m"),
        span(4, "invoke_agent second", 1, 41, 99, a={**ga, "gen_ai.agent.name": "second"}),
        span(5, "chat m", 4, 42, 98, gen_ai__operation__name="chat", gen_ai__request__model="m"),
    ]
    run = map_run(spans)
    # an agent root gets a run span above it
    assert run.root.span_id != sid(1) and _by_id(run)[sid(1)].parent_span_id == run.root.span_id
    assert [(s, t) for s, t, _ in _edges(run)] == [
        ("__start__", "seq"), ("seq", "first"), ("first", "seq"), ("seq", "second"), ("second", "seq"),
        ("second", "__end__")]
    assert _by_id(run)[sid(5)].attributes[sc.GEN_AI_AGENT_NAME] == "second"


def test_maestro_messages_are_kept_not_derived():
    spans = [
        span(1, "invoke_workflow x", None, 0, 10, maestro__span__type="run"),
        span(2, "invoke_agent a", 1, 1, 9, maestro__span__type="agent", gen_ai__agent__name="a"),
        span(3, "message __start__ -> a", 2, 1, 1, maestro__span__type="message", maestro__message__source="__start__",
             maestro__message__target="a", communication__input_message_size_bytes=12),
    ]
    run = map_run(spans)
    assert run.derived_messages == 0 and _edges(run) == [("__start__", "a", 12)]


@pytest.mark.parametrize("s, expected", [
    pytest.param(span(1, "call_llm", None, 0, 1), ("llm", "generate_content"), id="adk-legacy-call-llm"),
    pytest.param(span(1, "agent_run [a]", None, 0, 1), ("agent", None), id="adk-legacy-agent"),
    pytest.param(span(1, "x", None, 0, 1, gen_ai__operation__name="call_llm"), ("llm", "chat"), id="paper-alias"),
    pytest.param(span(1, "create_agent a", None, 0, 1, gen_ai__operation__name="create_agent"), ("other", None),
                 id="autogen-create-agent"),
    pytest.param(span(1, "autogen publish", None, 0, 1), ("other", None), id="autogen-messaging"),
    pytest.param(span(1, "emb", None, 0, 1, openinference__span__kind="EMBEDDING"), ("llm", "embeddings"),
                 id="oi-embedding"),
    pytest.param(span(1, "ret", None, 0, 1, openinference__span__kind="RETRIEVER"), ("other", None), id="oi-retriever"),
])
def test_classify(s, expected):
    assert classify(s) == expected


def test_legacy_token_and_provider_names():
    spans = [span(1, "chat gpt", None, 0, 5, gen_ai__operation__name="chat", gen_ai__system="openai",
                  gen_ai__request__model="gpt", gen_ai__usage__prompt_tokens=7, gen_ai__usage__completion_tokens=3,
                  maestro__run__id="spoofed")]
    run = map_run(spans)
    llm = next(m for m in run.spans if m.span_type == "llm")
    assert (llm.attributes[sc.GEN_AI_PROVIDER_NAME], llm.attributes[sc.GEN_AI_USAGE_TOTAL_TOKENS]) == ("openai", 10)
    assert sc.MAESTRO_RUN_ID not in llm.attributes  # identity is never taken from a non-root span's attributes


def test_grouping_by_an_attribute_joins_traces():
    """AutoGen starts a trace per message: traces sharing a conversation id are one run."""
    t2, t3 = "1" * 32, "2" * 32
    spans = [
        span(1, "invoke_agent a", None, 0, 10, trace=t2, gen_ai__operation__name="invoke_agent",
             gen_ai__agent__name="a", gen_ai__conversation__id="conv-1"),
        span(2, "invoke_agent b", None, 11, 20, trace=t3, gen_ai__operation__name="invoke_agent",
             gen_ai__agent__name="b"),
        span(3, "execute_tool t", 2, 12, 13, trace=t3, gen_ai__operation__name="execute_tool", gen_ai__tool__name="t",
             gen_ai__conversation__id="conv-1"),
        span(4, "invoke_agent c", None, 0, 5, trace=TRACE, gen_ai__operation__name="invoke_agent",
             gen_ai__agent__name="c"),
    ]
    groups = group_runs(spans, "gen_ai.conversation.id")
    assert sorted(groups) == sorted(["conv-1", TRACE]) and len(groups["conv-1"]) == 3
    run = map_run(groups["conv-1"], trace_id=t2)
    assert {m.trace_id for m in run.spans} == {t2} and run.root.span_type == "run"
    assert [(s, t) for s, t, _ in _edges(run)] == [("__start__", "a"), ("a", "b"), ("b", "__end__")]
    assert len(group_runs(spans)) == 3
    assert run_id_for("conv 1/ä") == "conv_1" and run_id_for("___").startswith("run-")


def test_studywriter_writes_one_run_per_trace_with_overrides(tmp_path):
    import maestro

    other = "f" * 32
    lg = langgraph_trace()
    for s in lg:
        s.trace_id = other
    with StudyWriter(str(tmp_path / "imp"), ImportOptions(backend="gemini/sim-strong", instance="agency")) as w:
        ids = w.write_all(adk_trace() + lg)
    study = maestro.load_study(tmp_path / "imp")
    runs = study.runs.set_index("run_id")
    assert ids == [TRACE, other] and sorted(runs.index) == sorted(ids)
    assert (runs.instance == "agency").all() and (runs.backend == "gemini/sim-strong").all()
    assert runs.loc[TRACE].framework == "adk" and runs.loc[other].framework == "langgraph"
    assert runs.loc[other].input_tokens == 40 and runs.loc[other].messages == 9
    assert study.info["backends"] == ["gemini/sim-strong"] and study.info["config"] == {"imported": True}
    assert study.info["simulated"] is False  # a gemini/... backend, as the user said


def test_studywriter_run_record_totals(tmp_path):
    import maestro

    with StudyWriter(str(tmp_path / "adk")) as w:
        w.write_all(adk_trace())
    study = maestro.load_study(tmp_path / "adk")
    r = study.runs.iloc[0]
    assert (r.llm_calls, r.tool_calls, r.agent_turns, r.messages) == (4, 1, 3, 4)
    assert (r.input_tokens, r.output_tokens, r.total_tokens) == (850, 55, 905)
    assert (r.status, r.framework, r.instance, r.provider, r.model) == ("success", "adk", "shop", "gcp.gemini",
                                                                       "sim-strong")
    assert r.backend == "gemini/sim-strong" and r.working_s == pytest.approx(0.1)
    assert r.spans_written == r.spans_created == len(adk_trace()) + 4 and r.clean
    assert study.spans.trace_id.nunique() == 1 and study.spans.parent_span_id.isna().sum() == 1
