"""The ADK adapter's surface, one system per way ADK hands work between agents, each built
here against an in-process simulated service (the real ``Gemini`` model class over HTTP) and
traced with ``maestro.trace_run`` + ``instrument``: ``transfer_to_agent``, an agent run as a
tool (``AgentTool``), ``SequentialAgent``, ``ParallelAgent``, ``LoopAgent`` ended by
``escalate``, and your own ``Runner`` instrumented for two runs in a row.

Every run is checked against what the framework and the service say themselves: one
``chat`` span per request the service served, each with HTTP body bytes; the agents the
message edges hand to, in order, are ADK's own record of who spoke (the authors of the
events it emitted, nested invocations included: a plain ADK plugin logs them); one trace;
and the run ends. Loops have an iteration cap, so they end even if the model never escalates.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections import Counter
from dataclasses import dataclass

import pytest
from google.adk.agents import LlmAgent, LoopAgent, ParallelAgent, SequentialAgent
from google.adk.apps import App
from google.adk.models import Gemini
from google.adk.plugins.base_plugin import BasePlugin
from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.adk.tools import exit_loop
from google.adk.tools.agent_tool import AgentTool

import maestro
from maestro.adapters.adk import instrument
from maestro.sim import SimReply, SimServer, SimToolCall, gemini_base_url, register_policy, unregister_policy

pytestmark = [pytest.mark.slow,
              # ADK's AgentTool passes plugins to its inner Runner the deprecated way.
              pytest.mark.filterwarnings("ignore:The `plugins` argument is deprecated:DeprecationWarning")]

os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must not probe a cloud metadata server


class _Role:
    """A policy for one agent, matched by the marker in its instruction: ``first`` until a
    tool result is in the conversation, then ``after_tool``."""

    def __init__(self, name, mark, first, after_tool=None):
        self.name, self.mark, self.first, self.after_tool = f"test.surface.adk.{name}", mark, first, after_tool

    def matches(self, request):
        return self.mark in request.system

    def respond(self, request, ctx):
        if self.after_tool is not None and any(m.role == "tool" for m in request.messages):
            return self.after_tool
        return self.first


def _calls(*calls):
    return SimReply(tool_calls=tuple(SimToolCall(name, args) for name, args in calls))


POLICIES = (
    _Role("coord", "SURFACE-ADK-COORD", _calls(("transfer_to_agent", {"agent_name": "s_writer"}))),
    _Role("writer", "SURFACE-ADK-WRITER", _calls(("check_domain", {"domain": "tidepool.com"})),
          SimReply(text="tidepool.com is free.")),
    _Role("tool-coord", "SURFACE-ADK-TOOLCOORD", _calls(("s_writer", {"request": "Is tidepool.com free?"})),
          SimReply(text="The writer says tidepool.com is free.")),
    _Role("drafter", "SURFACE-ADK-DRAFTER", SimReply(text="Tide pools hold small worlds.")),
    _Role("editor", "SURFACE-ADK-EDITOR", SimReply(text="Tide pools hold whole small worlds.")),
    _Role("checker", "SURFACE-ADK-CHECKER", _calls(("exit_loop", {})), SimReply(text="Good enough.")),
)


class AuthorLog(BasePlugin):
    """ADK's own record of who spoke: the author of every event it emits, nested
    invocations (an ``AgentTool``'s) included."""

    def __init__(self):
        super().__init__(name="author_log")
        self.authors: list[str] = []

    async def on_event_callback(self, *, invocation_context, event):
        if event.author and event.author != "user" and not event.partial:
            self.authors.append(event.author)


def check_domain(domain: str) -> dict:
    """Check whether a domain name is still free."""
    return {"domain": domain, "available": True}


# -- the systems: an App (with the author log) from a model factory --------------------------
def transfer(model):
    writer = LlmAgent(name="s_writer", model=model(), instruction="SURFACE-ADK-WRITER", description="Answers.",
                      tools=[check_domain])
    return LlmAgent(name="s_coord", model=model(), instruction="SURFACE-ADK-COORD", description="Routes.",
                    sub_agents=[writer])


def agent_tool(model):
    writer = LlmAgent(name="s_writer", model=model(), instruction="SURFACE-ADK-WRITER", description="Answers.",
                      tools=[check_domain])
    return LlmAgent(name="s_coord", model=model(), instruction="SURFACE-ADK-TOOLCOORD", tools=[AgentTool(agent=writer)])


def sequential(model):
    return SequentialAgent(name="s_pipeline", sub_agents=[
        LlmAgent(name="s_drafter", model=model(), instruction="SURFACE-ADK-DRAFTER"),
        LlmAgent(name="s_editor", model=model(), instruction="SURFACE-ADK-EDITOR")])


def parallel(model):
    return ParallelAgent(name="s_fanout", sub_agents=[
        LlmAgent(name="s_drafter", model=model(), instruction="SURFACE-ADK-DRAFTER"),
        LlmAgent(name="s_editor", model=model(), instruction="SURFACE-ADK-EDITOR")])


def loop_with_escalate(model):
    return LoopAgent(name="s_loop", max_iterations=3, sub_agents=[
        LlmAgent(name="s_drafter", model=model(), instruction="SURFACE-ADK-DRAFTER"),
        LlmAgent(name="s_checker", model=model(), instruction="SURFACE-ADK-CHECKER", tools=[exit_loop])])


def own_runner_twice(model):
    return transfer(model)


SYSTEMS = [transfer, agent_tool, sequential, parallel, loop_with_escalate, own_runner_twice]
CONCURRENT = {parallel}
"""Systems whose agents speak concurrently: who spoke is compared as a multiset."""


@dataclass
class Traced:
    """One traced run of a system."""

    result: object
    spans: object
    row: object
    served: int
    """Requests the simulated service served during the run."""
    authors: list[str]
    """ADK's record of who spoke, in order."""
    speakers: set[str]
    """Names of the agents with a model (the ones that speak)."""


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def _policies():
    for p in POLICIES:
        register_policy(p)
    yield
    for p in POLICIES:
        unregister_policy(p)


def _speakers(agent) -> set[str]:
    tools = [t.agent for t in getattr(agent, "tools", []) if isinstance(t, AgentTool)]
    own = {agent.name} if isinstance(agent, LlmAgent) else set()
    return own.union(*(_speakers(a) for a in [*agent.sub_agents, *tools]))


@pytest.fixture(scope="module", params=SYSTEMS, ids=[s.__name__ for s in SYSTEMS])
def traced(request, sim, tmp_path_factory):
    """The system's traced runs (two for ``own_runner_twice``, through one ``Runner``)."""
    tmp_path = tmp_path_factory.mktemp(request.param.__name__)
    url = gemini_base_url(sim.url, "strong", seed=3)
    log = AuthorLog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Sequential/Parallel/LoopAgent are deprecated in ADK 2.x but still run
        root = request.param(lambda: Gemini(model="sim-strong", base_url=url, client_kwargs={"api_key": "sim-key"}))
    app = App(name="surface", root_agent=root, plugins=[log])
    own = request.param is own_runner_twice
    target = Runner(app=app, session_service=InMemorySessionService()) if own else app
    runs = []
    for i in range(2 if own else 1):
        log.authors.clear()
        before = sim.request_count
        with maestro.trace_run(f"surface-{i}", out=str(tmp_path), framework="adk", sample_resources=False) as run:
            result = asyncio.run(asyncio.wait_for(instrument(target, run).run_async("Is tidepool.com free?"), 60))
        study = maestro.load_study(tmp_path / f"surface-{i}")
        runs.append(Traced(result, study.spans, study.runs.iloc[0], sim.request_count - before,
                           list(log.authors), _speakers(root)))
    return request.param, runs


def _collapse(names):
    out = []
    for n in names:
        if not out or out[-1] != n:
            out.append(n)
    return out


def test_one_trace_and_one_root(traced):
    _, runs = traced
    for t in runs:
        assert t.spans.trace_id.nunique() == 1 and t.spans.parent_span_id.isna().sum() == 1
        assert set(t.spans.parent_span_id.dropna()) <= set(t.spans.span_id)


def test_one_chat_span_per_request_served(traced):
    _, runs = traced
    for t in runs:
        llm = t.spans[t.spans.span_type == "llm"]
        assert len(llm) == t.served == t.row.llm_calls > 0
        assert (llm.name == "chat sim-strong").all() and (llm.provider == "maestro.sim").all()


def test_every_chat_span_has_bytes(traced):
    _, runs = traced
    for t in runs:
        llm = t.spans[t.spans.span_type == "llm"]
        assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all() and (llm.http_attempts == 1).all()
        assert llm.input_bytes.sum() == t.row.llm_request_bytes and llm.output_bytes.sum() == t.row.llm_response_bytes


def test_edges_hand_to_the_agents_adk_says_spoke(traced):
    system, runs = traced
    for t in runs:
        edges = t.spans[t.spans.span_type == "message"].sort_values(["start_time_ns", "name"])
        pairs = list(zip(edges.message_source, edges.message_target))
        handed_to = _collapse([target for _, target in pairs if target in t.speakers])
        spoke = _collapse(t.authors)
        if system in CONCURRENT:
            assert Counter(handed_to) == Counter(spoke)
        else:
            assert handed_to == spoke
        # every hand-over carries what was handed over; nothing hands to itself
        assert (edges.input_bytes > 0).all() and all(s != d for s, d in pairs)
        assert pairs[0][0] == "__start__" and pairs[-1][1] == "__end__"


def test_the_run_ends(traced):
    _, runs = traced
    for t in runs:
        assert t.result.events and t.row.status == "success" and t.row.clean
        assert (t.spans.status_code != "ERROR").all() and t.spans.end_time_ns.notna().all()
