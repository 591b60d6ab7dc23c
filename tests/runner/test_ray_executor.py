"""Studies on a real 2-node Ray cluster on loopback (``ray start`` head + worker node).

The same study, run once by the local executor and once on the cluster, records the same
runs (ids, statuses, span counts, edge sequences); each run on Ray still runs in its own
process under the same watchdog (timeouts, crashes, hard kills are recorded the same);
SIGKILL of the Ray worker that runs a run records a crash, the study finishes, and a rerun
resumes exactly; both with the study in S3-compatible storage on loopback (the nodes need no
access to it). Nothing of the cluster is left afterwards: no process, no scratch folder.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

import maestro
from maestro.runner.executors import loopback_ray_cluster
from maestro.store.location import Location
from maestro.store.reader import load_study

from trace_helpers import assert_same_runs, edge_sequence

pytestmark = pytest.mark.slow

PIDS_ENV = "MAESTRO_TEST_RAY_PIDS"
"""A folder where test systems note the processes a run went through (the study's
``MAESTRO_*`` variables reach the runs on every node)."""


def _ray_worker() -> psutil.Process | None:
    """The Ray worker process this run hangs from (run process -> forkserver -> Ray
    worker); None for a run of the local executor."""
    worker = psutil.Process().parent().parent()
    return worker if worker.name().startswith("ray::") else None


def note_processes() -> None:
    """Note this run's process, its forkserver, its Ray worker and the worker's node id
    (from its raylet's command line) in the folder named by ``PIDS_ENV``."""
    folder = os.environ.get(PIDS_ENV)
    worker = _ray_worker()
    if not folder or worker is None:
        return
    raylet = worker.parent()
    node = next(a.split("=", 1)[1] for a in raylet.cmdline() if a.startswith("--node_id="))
    me = psutil.Process()
    (Path(folder) / f"{me.pid}").write_text(f"{me.pid} {me.parent().pid} {worker.pid} {node}")


def build_pipeline(ctx: maestro.RunContext):
    """A planner, a solver (with a calculator when tools are on) and a checker, in a line."""
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.graph import END, START, MessagesState, StateGraph

    note_processes()
    llm = ChatOpenAI(model=ctx.endpoint.model, base_url=ctx.endpoint.base_url, api_key=ctx.endpoint.api_key,
                     max_retries=0)

    @tool
    def calculator(expression: str) -> str:
        """Evaluate a sum of integers such as '19 + 23'."""
        return str(sum(int(t) for t in expression.replace(" ", "").split("+") if t.isdigit()))

    def planner(state):
        reply = llm.invoke([SystemMessage("You are the planner."), HumanMessage(state["messages"][0].content)])
        return {"messages": [reply]}

    def solver(state):
        model = llm.bind_tools([calculator]) if ctx.tools_enabled else llm
        msgs = [SystemMessage("You are the solver."), HumanMessage(state["messages"][-1].content)]
        reply = model.invoke(msgs)
        if reply.tool_calls:
            call = reply.tool_calls[0]
            reply = llm.invoke([*msgs, reply, ToolMessage(calculator.invoke(call["args"]), tool_call_id=call["id"])])
        return {"messages": [reply]}

    def checker(state):
        reply = llm.invoke([SystemMessage("You are the checker."), HumanMessage(state["messages"][-1].content)])
        return {"messages": [reply]}

    g = StateGraph(MessagesState)
    for name, node in (("planner", planner), ("solver", solver), ("checker", checker)):
        g.add_node(name, node)
    g.add_edge(START, "planner")
    g.add_edge("planner", "solver")
    g.add_edge("solver", "checker")
    g.add_edge("checker", END)
    return g.compile()


PIPELINE = maestro.MAS(name="pipeline", framework="langgraph", build=build_pipeline,
                       dataset=[maestro.Sample("sum", "What is 19 + 23?", target="42"),
                                maestro.Sample("capital", "What is the capital of France?", target="Paris")],
                       scorer=maestro.scorers.includes())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head and a worker node (1 CPU, 100 MiB object store each) on 127.0.0.1; on
    teardown every process a run went through is gone, and no process names the cluster."""
    pids = tmp_path_factory.mktemp("ray-pids")
    with loopback_ray_cluster(nodes=2, cpus_per_node=1, object_store_mb=100) as address:
        yield address, pids
    port = address.rpartition(":")[2]
    noted = [int(p) for f in pids.iterdir() for p in f.read_text().split()[:3]]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in noted):
        time.sleep(0.2)
    assert not [p for p in noted if psutil.pid_exists(p)], "a run, forkserver or Ray worker outlived the cluster"
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(f":{port}" in arg for arg in proc.info["cmdline"] or ()):
            left.append(proc.pid)
    assert not left, f"processes of the cluster left behind: {left}"


def _nodes(pids: Path) -> set[str]:
    return {f.read_text().split()[3] for f in pids.iterdir() if f.name.isdigit()}


def test_a_study_on_ray_into_s3_records_what_the_local_executor_records(cluster, s3, tmp_path, monkeypatch):
    address, pids = cluster
    _, bucket = s3
    monkeypatch.setenv(PIDS_ENV, str(pids))
    body = dict(instances=[PIPELINE, "crag"], backends=["sim/strong"], tools=(True, False), repeats=2, tasks=2,
                time_factor=0, timeout_s=120, seed=7)
    local = maestro.run_study(maestro.StudyConfig(study_id="local", workers=2, out=str(tmp_path), **body),
                              progress=False)
    assert not list(pids.iterdir())  # the local runs have no Ray worker
    # on Ray, into object storage: the nodes return each run's files, the study process stores them
    on_ray = maestro.run_study(maestro.StudyConfig(study_id="ray", executor="ray", address=address,
                                                   out=f"s3://{bucket}/traces", **body), progress=False)
    assert on_ray.path == f"s3://{bucket}/traces/ray"
    assert local.executed == on_ray.executed == 16 and not on_ray.all_raised
    assert len(_nodes(pids)) == 2  # the runs were spread over both nodes

    a, b = load_study(local.path), load_study(on_ray.path)
    assert_same_runs(a, b)
    rb = b.runs.set_index("run_id")
    assert (rb.spans_dropped == 0).all() and rb.clean.all()
    assert {len(edge_sequence(b.spans, r)) for r in rb.index} != {0}
    # every run's resource samples came back too
    assert b.resources.run_id.nunique() == 16
    # worker pids are the run processes on the nodes, not this process
    assert os.getpid() not in set(rb.worker_pid)


def test_timeouts_crashes_and_hard_kills_on_ray_are_recorded_as_locally(cluster, tmp_path, monkeypatch):
    address, _ = cluster
    monkeypatch.setenv("MAESTRO_HARD_KILL_GRACE_S", "1")
    cfg = maestro.StudyConfig(study_id="faults", instances=["fake_mas"], backends=["sim/strong"], tools=(True,),
                              repeats=1, tasks=5, timeout_s=1.5, time_factor=0, out=str(tmp_path), executor="ray",
                              address=address)
    result = maestro.run_study(cfg, progress=False)
    runs = load_study(result.path, spans=False).runs.set_index("task_id")
    assert result.counts == {"success": 1, "failure": 0, "exception": 1, "timeout": 2, "crashed": 1, "write_failed": 0}
    assert runs.loc["raise", "status"] == "exception" and "ValueError: the MAS gave up" in runs.loc["raise", "outcome_reason"]
    assert runs.loc["hang", "status"] == "timeout" and "exceeded 1.5 s" in runs.loc["hang", "outcome_reason"]
    assert runs.loc["crash", "status"] == "crashed" and "exit code 3" in runs.loc["crash", "outcome_reason"]
    assert runs.loc["freeze", "status"] == "timeout" and "killed" in runs.loc["freeze", "outcome_reason"]
    # the watchdog's spans of the hung run travelled back: root + the open agent span, as errors
    spans = load_study(result.path).spans
    hang = spans[spans.run_id == runs.loc["hang", "run_id"]]
    assert sorted(hang.name) == ["invoke_agent solo", "invoke_workflow fake_mas"]
    assert (hang.status_code == "ERROR").all()


def kill_my_ray_worker_once(app, sample, ctx):
    """Task ``kill``: SIGKILL the Ray worker running this run, the first time only."""
    note_processes()
    marker = Path(os.environ[PIDS_ENV]) / "killed-once"
    if sample.input == "kill" and not marker.exists():
        marker.write_text("")
        worker = _ray_worker()
        assert worker is not None
        os.kill(worker.pid, signal.SIGKILL)
        time.sleep(60)
    return "done"


def test_sigkill_of_a_ray_worker_mid_run_is_a_crash_and_a_rerun_resumes_exactly(cluster, s3, monkeypatch):
    """On Ray into object storage: each rerun starts from what storage holds."""
    address, pids = cluster
    _, bucket = s3
    monkeypatch.setenv(PIDS_ENV, str(pids))
    mas = maestro.MAS(name="fragile", framework="custom", build=lambda ctx: None, invoke=kill_my_ray_worker_once,
                      dataset=[maestro.Sample(str(i), s) for i, s in enumerate(["a", "b", "kill", "c", "d", "e"])])
    cfg = maestro.StudyConfig(study_id="killed", instances=[mas], backends=["sim/strong"], tools=False, repeats=1,
                              timeout_s=60, time_factor=0, out=f"s3://{bucket}/traces", executor="ray",
                              address=address)
    t0 = time.monotonic()
    first = maestro.run_study(cfg, progress=False)
    assert time.monotonic() - t0 < 90
    assert first.executed == 6 and first.counts["crashed"] == 1 and first.counts["success"] == 5
    runs = load_study(first.path, spans=False).runs.set_index("task_id")
    assert runs.loc["2", "status"] == "crashed"
    assert runs.loc["2", "outcome_reason"].startswith("Ray worker died without reporting")

    again = maestro.run_study(cfg, progress=False)  # nothing to do: every run is recorded
    assert again.executed == 0 and again.skipped == 6
    assert load_study(again.path, spans=False).runs.set_index("run_id").started_at_ns.to_dict() == \
        runs.set_index("run_id").started_at_ns.to_dict()

    retried = maestro.run_study(cfg, progress=False, retry=["crashed"])  # exactly the crashed run runs again
    assert retried.executed == 1 and retried.counts["success"] == 6
    study = load_study(retried.path)
    after = study.runs.set_index("task_id")
    assert after.loc["2", "attempt"] == 2 and study.runs.run_id.is_unique
    kept = runs.drop(index="2").started_at_ns.to_dict()
    assert after.drop(index="2").started_at_ns.to_dict() == kept  # no other run was repeated
    assert set(study.spans.run_id) == set(study.runs.run_id) and not study.warnings
    loc = Location.of(retried.path)
    history = loc.parquet_file(loc.path("history", "runs.parquet")).read().to_pylist()
    assert [r["status"] for r in history] == ["crashed"]
