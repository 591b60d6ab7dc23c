"""One span schema from every framework: the same assertions over one real run of each case
in ``cases.py`` (LangGraph, AutoGen, ADK, mcp-agent instances), through the study runner, against the
simulated service over HTTP."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import maestro
from maestro.instances import get_instance
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study
from maestro.store.schema import SPAN_COLUMNS, arrow_schema

from .cases import CASES, ConformanceCase

pytestmark = pytest.mark.slow

# Edge endpoints that are not agents: the run's entry and exit as each framework names them.
BOUNDARY_NODES = {"__start__", "__end__", "user"}


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def case_run(request, tmp_path_factory):
    case: ConformanceCase = request.param
    out = tmp_path_factory.mktemp(case.id)
    config = study_config_from_dict({
        "id": case.id, "instances": [case.instance], "backends": [case.backend], "tools": case.tools,
        "repeats": 1, "tasks": 1, "time_factor": 0, "workers": 1, "out": str(out), "timeout_s": 120,
        "instance_options": {case.instance: case.options} if case.options else {},
    })
    result = run_study(config, progress=False)
    study = maestro.load_study(result.path)
    assert len(study.runs) == 1, f"{case.id}: expected one run"
    run = study.runs.iloc[0]
    assert run.status in ("success", "failure"), f"{case.id}: run ended {run.status}: {run.outcome_reason}\n{run.error}"
    spans_file = result.path / "spans" / f"{run.run_id}.parquet"
    return case, run, study.spans, spans_file


def test_one_trace_and_one_root(case_run):
    case, run, spans, _ = case_run
    assert spans.trace_id.nunique() == 1
    roots = spans[spans.parent_span_id.isna()]
    assert len(roots) == 1 and roots.iloc[0].span_type == "run"
    # every span hangs off the root: parents exist within the run
    assert set(spans.parent_span_id.dropna()) <= set(spans.span_id)
    assert (spans.framework == get_instance(case.instance).info.framework).all()


def test_agent_spans_are_named_by_their_agent(case_run):
    _, _, spans, _ = case_run
    agents = spans[spans.span_type == "agent"]
    assert len(agents) > 0
    assert agents.agent_name.notna().all() and (agents.agent_name != "").all()
    assert (agents.name == "invoke_agent " + agents.agent_name).all()


def test_llm_spans_have_model_tokens_and_bytes(case_run):
    _, run, spans, _ = case_run
    llm = spans[spans.span_type == "llm"]
    assert len(llm) > 0
    assert llm.request_model.notna().all() and (llm.request_model != "").all()
    assert llm.provider.notna().all() and (llm.provider != "").all()
    # A model call whose reply is not text (image generation, embeddings: a tool's direct
    # google-genai call) has no output tokens and sits under the tool span that made it.
    text = llm.operation == "chat"
    assert (llm.input_tokens > 0).all() and (llm[text].output_tokens > 0).all()
    assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all()
    # an LLM span sits inside an agent turn (or the run itself for framework-level calls)
    types = dict(zip(spans.span_id, spans.span_type))
    assert all(types[p] in ("agent", "run") for p in llm[text].parent_span_id)
    assert all(types[p] in ("tool", "agent") for p in llm[~text].parent_span_id)
    assert run.llm_calls == len(llm)


def test_no_duplicate_llm_spans(case_run):
    # Every model byte the HTTP transport carried is attributed to exactly one LLM span: a
    # doubled span (e.g. a framework's native span beside ours) breaks the equality or
    # shows up as a span without bytes.
    _, run, spans, _ = case_run
    llm = spans[spans.span_type == "llm"]
    assert llm.input_bytes.sum() == run.llm_request_bytes
    assert llm.output_bytes.sum() == run.llm_response_bytes
    assert (llm.http_attempts.fillna(0) >= 1).all()


def test_tool_spans_have_name_and_call_id(case_run):
    case, _, spans, _ = case_run
    tools = spans[spans.span_type == "tool"]
    if case.expects_tools:
        assert len(tools) > 0
    else:
        assert tools.empty
    assert tools.tool_name.notna().all() and (tools.tool_name != "").all()
    assert tools.tool_call_id.notna().all() and (tools.tool_call_id != "").all()
    assert (tools.name == "execute_tool " + tools.tool_name).all()


def test_edges_are_consistent_with_the_agents_seen(case_run):
    case, run, spans, _ = case_run
    edges = spans[spans.span_type == "message"]
    agents = set(spans.loc[spans.span_type == "agent", "agent_name"])
    if not case.expects_edges:
        return
    assert len(edges) > 0 and run.messages == len(edges)
    endpoints = set(edges.message_source) | set(edges.message_target)
    assert endpoints - BOUNDARY_NODES <= agents, "an edge names an agent that never ran"
    assert agents <= endpoints, "an agent ran without any message reaching or leaving it"
    assert (edges.total_bytes.fillna(0) >= 0).all()
    assert (edges.message_source != edges.message_target).any()


def test_no_message_content_by_default(case_run):
    _, _, spans, _ = case_run
    for blob in spans.attributes_json.dropna():
        # AutoGen puts whole payloads on a `message` attribute; content attributes are dropped
        # unless the study opted in.
        assert '"message":' not in blob and "gen_ai.input.messages" not in blob


def test_parquet_columns_are_the_schema_columns(case_run):
    # Each case's spans file has exactly the schema's columns and types, so every framework's
    # files are identical in name and type to each other.
    _, _, _, spans_file = case_run
    assert pq.read_schema(spans_file).remove_metadata().equals(arrow_schema(SPAN_COLUMNS))
