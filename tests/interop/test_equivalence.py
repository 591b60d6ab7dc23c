"""Acceptance: a run traced only by its framework's own OpenTelemetry instrumentation
(OpenInference for LangGraph, ADK's native spans), exported over OTLP/HTTP into
``maestro ingest``'s receiver, gives the same agent edge sequence, chat span count and token
totals as maestro's own adapter on the same seeded run (same sim seed, time factor 0; each
run its own nonce, which never feeds the simulated model's draws). AutoGen's native spans
have no model calls and split a run into a trace per message: grouped by the process's
``service.instance.id`` they give the adapter's agent turns and edge sequence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import maestro
from maestro.backends import resolve_endpoint
from maestro.contract import RunContext
from maestro.instances import get_instance
from maestro.interop import ImportOptions
from maestro.runner.importer import open_receiver
from maestro.runner.worker import wrap_with_adapter
from maestro.sim.cli import import_policy_modules
from maestro.sim.server import SimServer

pytestmark = pytest.mark.slow

SEED = 11
NATIVE = Path(__file__).with_name("native_runs.py")
CASES = [("langgraph", "crag"), ("adk", "marketing")]
AUTOGEN = ("autogen", "travel_planning")


@pytest.fixture(scope="module")
def sim():
    import_policy_modules([f"maestro.instances.{name}" for _, name in [*CASES, AUTOGEN]])
    with SimServer(time_factor=0) as server:
        yield server


def _own_adapter_run(sim, instance: str, out: Path):
    """The same task through maestro's adapter (what ``maestro study run`` records)."""
    inst = get_instance(instance)
    endpoint = resolve_endpoint("sim/strong", sim_url=sim.url, seed=SEED, nonce="own")
    ctx = RunContext(endpoint=endpoint, tools_enabled=True, seed=SEED, max_tokens=512, timeout_s=120)
    task = inst.tasks(n=1, seed=0)[0]
    with maestro.trace_run("own", out=str(out), instance=instance, framework=inst.info.framework,
                           backend="sim/strong", task_id=task.task_id, sample_resources=False) as run:
        app = wrap_with_adapter(inst.info.framework, inst.build(ctx), run, endpoint.provider)
        result = inst.run(app, task, ctx)
        run.set_answer(result.answer)
    return maestro.load_study(out / "own")


def _native_run_ingested(sim, framework: str, instance: str, out: Path, options: ImportOptions | None = None):
    """The run traced natively in its own process, exported over OTLP into the receiver."""
    written: list[str] = []
    receiver = open_receiver(str(out / "ingested"), options or ImportOptions(), port=0, idle_s=0.5,
                             on_run=written.append)
    with receiver:
        proc = subprocess.run([sys.executable, str(NATIVE), framework, instance, sim.url, str(SEED), "native",
                               receiver.url], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "success"
    assert receiver.spans_received == report["spans_sent"] > 0 and receiver.late_spans == 0
    return maestro.load_study(out / "ingested"), report


def _edges(spans) -> list[tuple[str, str]]:
    msgs = spans[spans.span_type == "message"].sort_values(["start_time_ns", "span_id"], kind="stable")
    return list(zip(msgs.message_source, msgs.message_target))


@pytest.mark.parametrize("framework, instance", CASES, ids=[f"{f}-{i}" for f, i in CASES])
def test_native_spans_ingested_match_the_adapter(sim, tmp_path, framework, instance):
    own = _own_adapter_run(sim, instance, tmp_path)
    ingested, report = _native_run_ingested(sim, framework, instance, tmp_path)
    assert len(own.runs) == len(ingested.runs) == 1
    a, b = own.runs.iloc[0], ingested.runs.iloc[0]
    assert a.status == b.status == "success"
    assert b.framework == framework and b.task_id == "" and b.instance == f"native-{instance}"
    # the agent hand-over sequence (derived from agent order on the ingested side)
    own_edges, derived = _edges(own.spans), _edges(ingested.spans)
    assert derived == own_edges and len(own_edges) >= 4
    assert ingested.spans[ingested.spans.span_type == "message"].attributes_json.str.contains(
        '"maestro.message.derived":true').all()
    # model calls and tokens
    own_llm = own.spans[own.spans.span_type == "llm"]
    in_llm = ingested.spans[ingested.spans.span_type == "llm"]
    assert len(in_llm) == len(own_llm) == a.llm_calls == b.llm_calls > 0
    assert (in_llm.request_model == "sim-strong").all()
    assert (b.input_tokens, b.output_tokens) == (a.input_tokens, a.output_tokens)
    assert in_llm.input_tokens.sum() == own_llm.input_tokens.sum() and b.input_tokens > 0
    # agents: same turns, same names in the same order
    own_agents = own.spans[own.spans.span_type == "agent"].sort_values("start_time_ns").agent_name.tolist()
    in_agents = ingested.spans[ingested.spans.span_type == "agent"].sort_values("start_time_ns").agent_name.tolist()
    assert in_agents == own_agents
    assert b.tool_calls == a.tool_calls
    # every span of the native trace is in the study, plus the derived messages
    assert b.spans_written == report["spans_sent"] + len(derived) and b.clean
    # LLM and tool spans know their agent, as the adapter's do
    assert in_llm.agent_name.notna().all()
    print(f"\n{framework}/{instance}: edges {len(derived)}, chat spans {len(in_llm)}, tokens "
          f"{b.input_tokens}+{b.output_tokens}, native spans {report['spans_sent']}")


def test_autogen_native_spans_grouped_into_one_run_match_the_adapters_turns(sim, tmp_path):
    own = _own_adapter_run(sim, AUTOGEN[1], tmp_path)
    ingested, report = _native_run_ingested(sim, *AUTOGEN, tmp_path, ImportOptions(group_by="service.instance.id"))
    assert len(ingested.runs) == 1  # many traces, one run
    b = ingested.runs.iloc[0]
    assert b.framework == "autogen" and b.spans_written == report["spans_sent"] + b.messages + 1  # + the run span
    own_agents = own.spans[own.spans.span_type == "agent"].sort_values("start_time_ns").agent_name.tolist()
    in_agents = ingested.spans[ingested.spans.span_type == "agent"].sort_values("start_time_ns").agent_name.tolist()
    assert in_agents == own_agents and len(in_agents) >= 4
    assert _edges(ingested.spans) == _edges(own.spans)
    assert b.llm_calls == 0 < own.runs.iloc[0].llm_calls  # AutoGen's native spans carry no model calls
    assert ingested.spans.trace_id.nunique() == 1 and ingested.spans.parent_span_id.isna().sum() == 1
    print(f"\nautogen/travel_planning: {report['spans_sent']} native spans -> 1 run, agent turns {len(in_agents)}, "
          f"edges {_edges(ingested.spans)}")
