"""Where a study's runs execute: the local forkserver pool, or a Ray cluster.

Both executors meet the study through one interface (:class:`maestro.runner.pool.Executor`):
``run(specs, ctx, on_result, failure_row, should_run)`` reports one ``runs.parquet`` row per
run, and the study records it. :func:`open_executor` starts what an executor needs for the
length of a study and stops it afterwards.

* ``local`` (default): :class:`~maestro.runner.pool.ProcessExecutor` on this machine. The
  study's simulated service runs in one child process; a forkserver preloads the frameworks
  and the systems (:func:`preload_files`); every run is a process forked from it.
* ``ray``: :class:`RayExecutor`. Each run is a Ray task (one CPU); the task runs the very same
  ``ProcessExecutor`` on its node for that one run, so the MAS still runs in its own process,
  forked from a forkserver the Ray worker started (and preloaded once), under the same
  watchdog, hard deadline and crash record. Every node gets its own simulated service (a Ray
  actor started by the driver, pinned to the node) or the run reaches the configured
  endpoint. A run writes its files to a temporary folder on its node; the task returns their
  bytes with the row, and the driver writes them through the store's writers, so workers
  need no shared filesystem and no access to the study's store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import shutil
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from maestro import settings
from maestro.runner.config import ConfigError, RunSpec
from maestro.runner.pool import Executor, ProcessExecutor, ResultCallback, StartMethod
from maestro.runner.worker import WorkerContext, preload_spec_path
from maestro.semconv import RunStatus
from maestro.store.mirror import remove_orphaned_folders

__all__ = ["EXECUTORS", "Preload", "SimPlan", "resolve_executor", "open_executor", "preload_files", "LocalExecutor",
           "RayExecutor", "RunFiles", "loopback_ray_cluster"]

log = logging.getLogger(__name__)

EXECUTORS = settings.EXECUTORS
"""The executor kinds: ``local`` and ``ray``."""

FailureRow = Callable[[RunSpec, int, str, str, "str | None"], dict[str, Any]]
"""``failure_row(spec, attempt, status, reason, error)``: the row of a run that could not report."""


@dataclass(frozen=True)
class Preload:
    """What a forkserver preloads before the first run is forked from it."""

    frameworks: tuple[str, ...] = ()
    """Frameworks the study's systems use (their modules are imported and warmed)."""
    systems: tuple[str, ...] = ()
    """Systems named by reference (built-in names, ``module:attribute``, modules)."""
    shipped: tuple[bytes, ...] = ()
    """Pickled system objects (``maestro.runner.systems.pickle_system``)."""
    python_path: tuple[str, ...] = field(default_factory=tuple)
    """The study process's import path: a remote worker adds the entries that exist on its
    node, so a user's module imports there as it does here (same checkout on every node)."""


@dataclass(frozen=True)
class SimPlan:
    """The simulated service a study needs: policy modules to import and its speed."""

    modules: tuple[str, ...]
    """Modules that register simulated policies (``--import``)."""
    time_factor: float
    """Real-time latencies x this factor."""


def resolve_executor(executor: str | None, address: str | None) -> tuple[str, str | None]:
    """The executor kind and cluster address a study uses: ``executor`` when given, else
    ``MAESTRO_EXECUTOR``, else ``local``. ``address`` belongs to ``ray`` (None: Ray's own
    ``RAY_ADDRESS``, else a Ray instance started on this machine); a ``HOST:PORT`` that does
    not answer is refused here, before a study writes anything."""
    kind = executor or settings.EXECUTOR.get()
    if kind not in EXECUTORS:
        raise ConfigError(f"executor {kind!r}: expected one of {', '.join(EXECUTORS)}")
    if address is not None and kind != "ray":
        raise ConfigError(f"address {address!r} is for executor 'ray'; this study uses executor {kind!r}")
    if kind == "ray":
        _check_reachable(address or os.environ.get("RAY_ADDRESS"))
    return kind, address


@contextlib.contextmanager
def preload_files(preload: Preload, runner_pid: int | None = None, *, main: bool = False) -> Iterator[list[str]]:
    """What a forkserver preloads: a spec file (``worker.preload_spec_path``) keyed by the id
    of the process that will start the forkserver, which the forkserver finds through its
    parent's id; the pickled systems beside it. ``main``: the forkserver also imports this
    process's main script or module once (``maestro.runner.preload``). Yields the
    forkserver's preload module list. Both files are removed afterwards (the forkserver
    removes them once read, too)."""
    from multiprocessing import spawn

    spec = preload_spec_path(os.getpid() if runner_pid is None else runner_pid)
    shipped_file = spec.with_suffix(".pkl") if preload.shipped else None
    if shipped_file is not None:
        shipped_file.write_bytes(pickle.dumps(list(preload.shipped)))
    data = spawn.get_preparation_data("maestro-forkserver") if main else {}
    spec.write_text(json.dumps({"frameworks": sorted(preload.frameworks), "systems": list(preload.systems),
                                "shipped_file": str(shipped_file) if shipped_file else None,
                                "main": {k: v for k, v in data.items() if k.startswith("init_main_from_")}}))
    try:
        yield ["maestro.runner.preload"]
    finally:
        # The forkserver reads these once, when it starts (before the first run).
        for path in (spec, shipped_file):
            if path is not None:
                path.unlink(missing_ok=True)


def _sim_env(python_path: Iterable[str]) -> dict[str, str]:
    # The service imports the built-ins' and referenced modules' policies (and the LLM
    # judge's grader): give it the study's import path, so a user's own module that imports
    # in the study imports there too.
    return dict(os.environ, PYTHONPATH=os.pathsep.join(dict.fromkeys(p for p in python_path if p)))


def _start_sim(plan: SimPlan, python_path: Iterable[str]):
    from maestro.sim.process import start_sim_subprocess

    return start_sim_subprocess(["maestro.scorers", *plan.modules], plan.time_factor, env=_sim_env(python_path))


class LocalExecutor:
    """Today's executor: the study's simulated service in a child process, and
    :class:`ProcessExecutor` forking each run from a preloaded forkserver."""

    def __init__(self, pool: ProcessExecutor, sim_url: str | None):
        self.pool = pool
        self.sim_url = sim_url

    def run(self, specs: Iterable[tuple[RunSpec, int]], ctx: WorkerContext, on_result: ResultCallback,
            failure_row: FailureRow, should_run: Callable[[RunSpec], bool] = lambda spec: True) -> None:
        """Run every spec here (see :meth:`ProcessExecutor.run`)."""
        self.pool.run(specs, replace(ctx, sim_url=self.sim_url), on_result, failure_row, should_run)


@contextlib.contextmanager
def open_executor(kind: str, *, workers: int | None, preload: Preload, sim: SimPlan | None,
                  address: str | None = None, start_method: StartMethod = "forkserver") -> Iterator[Executor]:
    """The executor ``kind`` (``local`` or ``ray``), with its simulated service(s) running
    when ``sim`` is given, for the length of the block. ``workers``: runs at once (local:
    None is one per core; Ray: None is the cluster's CPUs)."""
    if kind == "ray":
        ray_executor = RayExecutor(address, workers=workers, preload=preload, sim=sim)
        try:
            yield ray_executor
        finally:
            ray_executor.close()
        return
    proc = _start_sim(sim, preload.python_path) if sim is not None else None
    try:
        with preload_files(preload, main=True) as modules:
            yield LocalExecutor(ProcessExecutor(workers or os.cpu_count() or 1, preload=modules,
                                                start_method=start_method), proc.url if proc else None)
    finally:
        if proc is not None:
            proc.stop()


# --- Ray ------------------------------------------------------------------------------

_NODE_DIR_PREFIX = "maestro-ray-"
"""Per Ray worker process scratch folder (``<tmp>/maestro-ray-<pid>``) for runs' files."""


@dataclass
class RunFiles:
    """What a Ray task returns: the run's row and the bytes of its files (None: no file)."""

    row: dict[str, Any]
    spans: bytes | None
    resources: bytes | None


def _remove_stale_node_dirs() -> int:
    """Remove scratch folders of Ray worker processes that are gone (a worker killed
    mid-run leaves its run's files behind). Returns how many were removed."""
    return remove_orphaned_folders(_NODE_DIR_PREFIX)


class _NodeAgent:
    """One per node, a Ray actor pinned to it: tidies the node's stale scratch folders and
    runs the node's simulated service (when the study needs one)."""

    def __init__(self, sim: SimPlan | None, python_path: tuple[str, ...]):
        _remove_stale_node_dirs()
        path = [p for p in python_path if os.path.isdir(p)] + sys.path
        self.sim = _start_sim(sim, path) if sim is not None else None

    def sim_url(self) -> str | None:
        return self.sim.url if self.sim is not None else None

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()


_WORKER: dict[str, Any] = {}
"""Per Ray worker process: its ProcessExecutor (one forkserver, started on its first run)
and a simulated service started here when its node has none."""


def _worker_pool(preload: Preload, settings_env: dict[str, str]) -> tuple[ProcessExecutor, bool]:
    """This Ray worker's pool, and whether it is new (its forkserver not started yet)."""
    pool = _WORKER.get("pool")
    if pool is not None:
        return pool, False
    # The driver's MAESTRO_* settings (kill grace, fsync, sampling) hold here as there.
    os.environ.update(settings_env)
    for p in preload.python_path:
        if p not in sys.path and os.path.isdir(p):
            sys.path.append(p)  # before the forkserver starts: it copies this path
    _remove_stale_node_dirs()
    pool = _WORKER["pool"] = ProcessExecutor(1, preload=["maestro.runner.preload"], start_method="forkserver")
    return pool, True


def _node_sim_url(sim_urls: dict[str, str | None], sim: SimPlan | None, python_path: tuple[str, ...]) -> str | None:
    if sim is None:
        return None
    import ray

    url = sim_urls.get(ray.get_runtime_context().get_node_id())
    if url:
        return url
    # A node that joined after the study started has no agent: a service of this worker's own.
    proc = _WORKER.get("sim")
    if proc is None or not proc.running:
        proc = _WORKER["sim"] = _start_sim(sim, [p for p in python_path if os.path.isdir(p)] + sys.path)
    return proc.url


def _ray_run(spec: RunSpec, attempt: int, ctx: WorkerContext, preload: Preload, sim: SimPlan | None,
             sim_urls: dict[str, str | None], failure_row: FailureRow) -> RunFiles:
    """A Ray task: one run, in its own process forked from this worker's forkserver, its
    files written to this worker's scratch folder and returned as bytes."""
    from maestro.store.layout import StudyLayout

    settings_env = {k: v for k, v in ctx.env.items() if k.startswith("MAESTRO_")}
    pool, new = _worker_pool(preload, settings_env)
    scratch = Path(tempfile.gettempdir()) / f"{_NODE_DIR_PREFIX}{os.getpid()}" / ctx.study_id
    layout = StudyLayout(scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    layout.create()
    node_ctx = replace(ctx, study_root=str(scratch), sim_url=_node_sim_url(sim_urls, sim, preload.python_path))
    rows: list[dict[str, Any]] = []
    try:
        preloading = preload_files(preload) if new else contextlib.nullcontext()
        with preloading:
            pool.run([(spec, attempt)], node_ctx, lambda s, row: rows.append(row), failure_row)
        files = [layout.spans_file(spec.run_id), layout.resources_file(spec.run_id)]
        spans, resources = (p.read_bytes() if p.exists() else None for p in files)
        return RunFiles(rows[0], spans, resources)
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)


def _store_run_files(study_root: str, run_id: str, files: RunFiles) -> dict[str, Any]:
    """Write a Ray run's files into the study through the store's atomic writer, as the node
    wrote them; the row, or a ``write_failed`` row when they cannot be written here (as when
    a local run cannot write its files)."""
    from maestro.store.layout import StudyLayout, atomic_write_bytes

    layout = StudyLayout(study_root)
    try:
        for data, path in ((files.spans, layout.spans_file(run_id)), (files.resources, layout.resources_file(run_id))):
            if data is not None:
                atomic_write_bytes(data, path)
    except OSError as e:
        row = files.row
        spans = row.get("spans_created") or 0  # none of them is in the study: all lost
        why = row.get("outcome_reason")
        reason = f"the run's files could not be written by the study process ({type(e).__name__}: {e}); " \
                 f"the run itself: {row['status']}{f' ({why})' if why else ''}"
        return {**row, "status": RunStatus.WRITE_FAILED.value, "outcome": "failure", "outcome_reason": reason,
                "spans_written": 0, "spans_dropped": spans, "clean": False}
    return files.row


def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail fast, naming the address, when a ``HOST:PORT`` cluster address does not answer
    (``ray.init`` would retry for minutes)."""
    import socket

    where = address or ""
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit() or "://" in where:  # "auto", ray://, a local instance: Ray's to check
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise ConfigError(f"executor 'ray': no Ray cluster answers at {where} ({e.strerror or e}); "
                          "start one (ray start --head) or fix the address") from None


class RayExecutor:
    """Runs each RunSpec as a Ray task (1 CPU) on a Ray cluster; ``workers`` tasks at once
    (None: the cluster's CPUs when the study starts)."""

    def __init__(self, address: str | None = None, *, workers: int | None = None, preload: Preload = Preload(),
                 sim: SimPlan | None = None):
        try:
            import ray
        except ImportError:
            raise ConfigError("executor 'ray' needs Ray: pip install 'maestro-mas[ray]'") from None
        self.ray = ray
        self.owns_connection = not ray.is_initialized()
        if self.owns_connection:
            _check_reachable(address or os.environ.get("RAY_ADDRESS"))
            try:
                ray.init(address=address, logging_level=logging.WARNING)
            except (ConnectionError, ValueError, RuntimeError) as e:
                raise ConfigError(f"executor 'ray': cannot connect to the Ray cluster at "
                                  f"{address or os.environ.get('RAY_ADDRESS') or 'a new local instance'} ({e})") from None
        self.preload = preload
        self.sim = sim
        self.agents: list[Any] = []
        try:
            self.window = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            self.sim_urls = self._start_agents()
        except BaseException:
            self.close()
            raise
        self._task = ray.remote(num_cpus=1, max_retries=0)(_ray_run)

    def _start_agents(self) -> dict[str, str | None]:
        """One agent per alive node with CPUs (node id -> its simulated service's URL)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        agent_cls = self.ray.remote(num_cpus=0, max_restarts=0)(_NodeAgent)
        nodes = [n["NodeID"] for n in self.ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU")]
        for node in nodes:
            strategy = NodeAffinitySchedulingStrategy(node_id=node, soft=False)
            self.agents.append(agent_cls.options(scheduling_strategy=strategy).remote(self.sim, self.preload.python_path))
        urls = self.ray.get([a.sim_url.remote() for a in self.agents])
        return dict(zip(nodes, urls))

    def run(self, specs: Iterable[tuple[RunSpec, int]], ctx: WorkerContext, on_result: ResultCallback,
            failure_row: FailureRow, should_run: Callable[[RunSpec], bool] = lambda spec: True) -> None:
        """Run every spec on the cluster; each finished run's files are written into
        ``ctx.study_root`` here, then ``on_result`` records its row. A task whose worker or
        node dies is recorded ``crashed``; ``failure_row`` must be picklable (it travels to
        the tasks, which use it for crashes and kills on their node)."""
        ray = self.ray
        pending = deque(specs)
        inflight: dict[Any, tuple[RunSpec, int]] = {}
        args = [ray.put(x) for x in (replace(ctx, study_root="", sim_url=None), self.preload, self.sim,
                                     self.sim_urls, failure_row)]
        try:
            while pending or inflight:
                while pending and len(inflight) < self.window:
                    spec, attempt = pending.popleft()
                    if not should_run(spec):
                        continue
                    ref = self._task.options(name=f"maestro-run {spec.run_id}").remote(spec, attempt, *args)
                    inflight[ref] = (spec, attempt)
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
                for ref in ready:
                    spec, attempt = inflight.pop(ref)
                    on_result(spec, self._collect(ref, spec, attempt, ctx, failure_row))
        finally:
            for ref in inflight:  # interrupted (Ctrl-C, an error): no run outlives us
                ray.cancel(ref, force=True)

    def _collect(self, ref, spec: RunSpec, attempt: int, ctx: WorkerContext, failure_row: FailureRow) -> dict[str, Any]:
        ray = self.ray
        try:
            files: RunFiles = ray.get(ref)
        except ray.exceptions.RayTaskError as e:  # our task code raised on the node
            return failure_row(spec, attempt, RunStatus.EXCEPTION.value, "maestro worker error", str(e)[-4000:])
        except ray.exceptions.RayError as e:  # the Ray worker or its node died mid-run
            first = next((line for line in str(e).splitlines() if line.strip()), "")[:300]
            return failure_row(spec, attempt, RunStatus.CRASHED.value,
                               f"Ray worker died without reporting ({type(e).__name__}: {first})", None)
        return _store_run_files(ctx.study_root, spec.run_id, files)

    def close(self) -> None:
        """Stop the node agents (and their simulated services); disconnect when this
        executor connected."""
        ray = self.ray
        if self.agents:
            with contextlib.suppress(Exception):
                ray.get([a.stop.remote() for a in self.agents], timeout=30)
            for a in self.agents:
                with contextlib.suppress(Exception):
                    ray.kill(a)
            self.agents = []
        if self.owns_connection and ray.is_initialized():
            ray.shutdown()


# --- a Ray cluster on this machine ---------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_started(proc, log: Path, what: str, timeout_s: float) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Ray runtime started" in text:
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = (log.read_text(errors="replace") if log.exists() else "")[-2000:]
    raise RuntimeError(f"{what} did not start within {timeout_s:g} s (exit code {proc.poll()}); log tail:\n{tail}")


@contextlib.contextmanager
def loopback_ray_cluster(nodes: int = 2, cpus_per_node: int = 1, object_store_mb: int = 100,
                         timeout_s: float = 120) -> Iterator[str]:
    """A Ray cluster of ``nodes`` nodes on this machine, addressed over 127.0.0.1: a head
    and ``nodes - 1`` worker nodes, each a ``ray start --block`` in its own process group.
    Yields the head's address (``127.0.0.1:PORT``) for ``RayExecutor``/``--address``.

    For trying the Ray executor, tests and benchmarks. Everything lives in a fresh temporary
    folder (Ray's sessions and logs, and ``TMPDIR`` of every Ray process, so the runs'
    scratch folders too); on exit every node's process group is stopped (SIGTERM, then
    SIGKILL) and the folder removed; if this process dies first, the nodes stop too."""
    import signal
    import subprocess

    from maestro.procs import die_with_parent, kill_group

    ray_bin = Path(sys.executable).with_name("ray")
    base = Path(tempfile.mkdtemp(prefix="mray-"))  # short: Ray's socket paths live under it
    tmp = base / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), RAY_DEDUP_LOGS="0", RAY_USAGE_STATS_ENABLED="0")
    env.pop("RAY_ADDRESS", None)
    port = _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(nodes):
            role = ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={base / 'ray'}",
                    f"--ray-client-server-port={_free_port()}", f"--dashboard-port={_free_port()}",
                    "--node-ip-address=127.0.0.1"] if i == 0 else [f"--address=127.0.0.1:{port}"]
            log = base / f"node{i}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [str(ray_bin), "start", *role, f"--num-cpus={cpus_per_node}",
                     f"--object-store-memory={object_store_mb * 1024 * 1024}",
                     f"--dashboard-agent-listen-port={_free_port()}", "--disable-usage-stats", "--log-style=record",
                     "--block"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                    # SIGTERM, which `ray start --block` answers by stopping its node, if we die first
                    preexec_fn=lambda: die_with_parent(signal.SIGTERM))
            procs.append(proc)
            _wait_started(proc, log, f"Ray node {i} ({'head' if i == 0 else 'worker'})", timeout_s)
        yield f"127.0.0.1:{port}"
    finally:
        for proc in reversed(procs):  # worker nodes first, then the head
            kill_group(proc.pid, signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            kill_group(proc.pid, signal.SIGKILL)  # whatever of the group is left
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)
