"""The ADK adapter end to end on a small agent tree defined here (not an instance): a real
ADK runner, the real google-genai client, the simulated service over HTTP.

The tree: ``coord`` transfers to ``writer`` (its sub-agent, beside ``helper``); ``writer``
calls the ``check_domain`` tool once, then answers. The sim policies below make the model
replies deterministic, so the whole span tree is a fixed snapshot.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import pytest
from google.adk.agents import LlmAgent
from google.adk.models import Gemini
from google.adk.runners import InMemoryRunner
from google.genai import types

import maestro
from maestro.adapters.adk import InstrumentedAdk, MaestroAdkPlugin, extract, instrument
from maestro.sim import SimServer
from maestro.sim.policy import SimReply, SimToolCall, register_policy, unregister_policy
from maestro.sim.urls import gemini_base_url

os.environ.setdefault("NO_GCE_CHECK", "true")

COORD_MARK = "TEST-ADK-COORDINATOR: route the request."
WRITER_MARK = "TEST-ADK-WRITER: check the domain, then answer."
AGENT_TOOL_MARK = "TEST-ADK-AGENTTOOL: ask the writer tool."


class _MarkerPolicy:
    """A test role: matches its marker in the system prompt; replies with ``first`` until
    a tool result is in the conversation, then with ``after_tool``."""

    def __init__(self, name: str, mark: str, first: SimReply, after_tool: SimReply | None = None):
        self.name, self.mark, self.first, self.after_tool = name, mark, first, after_tool

    def matches(self, r):
        return self.mark in r.system

    def respond(self, r, ctx):
        if self.after_tool is not None and any(m.role == "tool" for m in r.messages):
            return self.after_tool
        return self.first


_POLICIES = (
    # The coordinator hands over to the writer.
    _MarkerPolicy("test.adk.coord", COORD_MARK,
                  SimReply(tool_calls=(SimToolCall("transfer_to_agent", {"agent_name": "writer"}),))),
    _MarkerPolicy("test.adk.writer", WRITER_MARK,
                  SimReply(tool_calls=(SimToolCall("check_domain", {"domain": "acme.com"}),)),
                  SimReply(text="acme.com is available.")),
    # A coordinator that uses the writer as a tool (ADK ``AgentTool``) instead of transferring.
    _MarkerPolicy("test.adk.toolcoord", AGENT_TOOL_MARK,
                  SimReply(tool_calls=(SimToolCall("writer", {"request": "Is acme.com free?"}),)),
                  SimReply(text="The writer says it is free.")),
)


@pytest.fixture(scope="module", autouse=True)
def _policies():
    policies = [register_policy(p) for p in _POLICIES]
    yield
    for p in policies:
        unregister_policy(p)


def check_domain(domain: str) -> dict:
    """Check whether a domain name is still free."""
    return {"domain": domain, "available": True}


class NoUsageGemini(Gemini):
    """A Gemini model whose provider 'reports no usage' (usage_metadata stripped)."""

    async def generate_content_async(self, llm_request, stream=False):
        async for response in super().generate_content_async(llm_request, stream):
            response.usage_metadata = None
            yield response


def make_tree(base_url: str, model_cls=Gemini) -> LlmAgent:
    model = model_cls(model="sim-oracle", base_url=base_url, client_kwargs={"api_key": "sim-key"})
    writer = LlmAgent(name="writer", model=model, instruction=WRITER_MARK, description="Writes answers.",
                      tools=[check_domain])
    helper = LlmAgent(name="helper", model=model, instruction="Helps.", description="Helps with other things.")
    return LlmAgent(name="coord", model=model, instruction=COORD_MARK, description="Routes.",
                    sub_agents=[writer, helper])


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


def _trace(tmp_path, sim, study, *, seed=1, model_cls=Gemini, provider="maestro.sim", patch=None):
    """One traced run of the tree; returns (result, spans of the run, runs row, model HTTP requests)."""
    before = sim.request_count
    with maestro.trace_run(study, out=str(tmp_path), framework="adk", backend="sim/oracle",
                           sample_resources=False) as run:
        app = instrument(make_tree(gemini_base_url(sim.url, "oracle", seed), model_cls), run, provider=provider)
        if patch is not None:
            patch(run)
        result = app.run("Is acme.com free?")
    requests = sim.request_count - before
    loaded = maestro.load_study(tmp_path / study)
    return result, loaded.spans, loaded.runs.iloc[0], requests


@pytest.fixture(scope="module")
def traced(sim, tmp_path_factory):
    return _trace(tmp_path_factory.mktemp("adk"), sim, "adk-tree")


def _tree(spans):
    s = spans.sort_values(["start_time_ns", "name"])
    names = dict(zip(s.span_id, s.name))
    return [(r.name, names.get(r.parent_span_id), r.span_type) for r in s.itertuples()]


def test_span_tree_snapshot(traced):
    result, spans, run, _ = traced
    assert result.text == "acme.com is available." and result.author == "writer"
    assert _tree(spans) == [
        ("invoke_workflow custom", None, "run"),
        ("invoke_agent coord", "invoke_workflow custom", "agent"),
        ("message __start__ -> coord", "invoke_agent coord", "message"),
        ("chat sim-oracle", "invoke_agent coord", "llm"),
        # the transferred-to agent sits under the run root, not under coord
        ("invoke_agent writer", "invoke_workflow custom", "agent"),
        ("message coord -> writer", "invoke_agent writer", "message"),
        ("chat sim-oracle", "invoke_agent writer", "llm"),
        ("execute_tool check_domain", "invoke_agent writer", "tool"),
        ("chat sim-oracle", "invoke_agent writer", "llm"),
        ("message writer -> __end__", "invoke_workflow custom", "message"),
    ]
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    assert run.status == "success" and run.clean and run.spans_dropped == 0


def test_one_llm_span_per_model_http_request(traced):
    _, spans, run, requests = traced
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == requests == 3
    assert (llm.http_attempts == 1).all()
    # every model byte of the run is attributed to exactly one LLM span
    assert llm.input_bytes.sum() == run.llm_request_bytes > 0
    assert llm.output_bytes.sum() == run.llm_response_bytes > 0


def test_llm_spans_carry_model_provider_tokens(traced):
    _, spans, run, _ = traced
    llm = spans[spans.span_type == "llm"]
    assert (llm.provider == "maestro.sim").all() and (llm.request_model == "sim-oracle").all()
    assert (llm.response_model == "sim-oracle").all()
    assert list(llm.sort_values("start_time_ns").agent_name) == ["coord", "writer", "writer"]
    assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all()
    assert (llm.total_tokens == llm.input_tokens + llm.output_tokens).all()
    assert not llm.usage_estimated.fillna(False).any() and run.usage_estimated_calls == 0
    assert run.input_tokens == llm.input_tokens.sum() and run.llm_calls == 3


def test_tool_span_has_name_and_the_models_call_id(traced):
    result, spans, _, _ = traced
    tool = spans[spans.span_type == "tool"]
    assert len(tool) == 1  # transfer_to_agent is an edge, not a tool span
    t = tool.iloc[0]
    call_ids = [p.function_call.id for e in result.events if e.content for p in e.content.parts or []
                if p.function_call and p.function_call.name == "check_domain"]
    assert t.tool_name == "check_domain" and t.agent_name == "writer" and [t.tool_call_id] == call_ids
    assert t.input_bytes == len(b'{"domain": "acme.com"}') and t.output_bytes > 0


def test_edges_follow_the_documented_rule(traced):
    _, spans, _, _ = traced
    msgs = spans[spans.span_type == "message"].sort_values("start_time_ns")
    assert list(zip(msgs.message_source, msgs.message_target)) == [
        ("__start__", "coord"), ("coord", "writer"), ("writer", "__end__")]
    sizes = dict(zip(msgs.message_target, msgs.input_bytes))
    assert sizes["coord"] == len(b"Is acme.com free?")
    # coord's hand-over message is its transfer call; writer's output is its final answer
    assert sizes["coord"] < sizes["writer"] and sizes["__end__"] == len(b"acme.com is available.")


def test_without_override_the_endpoint_names_the_provider(sim, tmp_path):
    # The model class says gcp.gemini; the simulated service declares itself in its replies,
    # and what the endpoint says wins.
    _, spans, _, _ = _trace(tmp_path, sim, "adk-provider", provider="")
    assert set(spans[spans.span_type == "llm"].provider) == {"maestro.sim"}


def test_usage_is_estimated_and_flagged_when_the_provider_reports_none(sim, tmp_path):
    _, spans, run, requests = _trace(tmp_path, sim, "adk-nousage", model_cls=NoUsageGemini)
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == requests == 3
    assert llm.usage_estimated.all() and run.usage_estimated_calls == 3
    assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all()


def test_native_adk_spans_are_suppressed_only_inside_instrumented_runs(sim, tmp_path):
    from google.adk.telemetry import tracing
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = tracing.tracer._real_tracer
    # What a process-global provider would do to ADK's shared tracer, without setting one.
    tracing.tracer._real_tracer = provider.get_tracer("gcp.vertex.agent")
    try:
        _, spans, _, _ = _trace(tmp_path, sim, "adk-native", seed=2)
        assert exporter.get_finished_spans() == ()  # nothing from ADK while maestro traces
        assert len(spans[spans.span_type == "llm"]) == 3  # ours are all there

        async def plain():
            runner = InMemoryRunner(agent=make_tree(gemini_base_url(sim.url, "oracle", 3)), app_name="plain")
            s = await runner.session_service.create_session(app_name="plain", user_id="u")
            async for _ in runner.run_async(user_id="u", session_id=s.id,
                                            new_message=types.Content(role="user", parts=[types.Part(text="hi")])):
                pass

        import asyncio

        asyncio.run(plain())
        native = [s.name for s in exporter.get_finished_spans()]
        assert any(n.startswith("generate_content") or n == "call_llm" for n in native), native
    finally:
        tracing.tracer._real_tracer = saved


def test_instrumentation_failures_never_reach_the_agents(sim, tmp_path, caplog):
    def break_telemetry(run):
        def boom(*a, **k):
            raise RuntimeError("collector down")

        run.start_span = boom

    result, _, _, _ = _trace(tmp_path, sim, "adk-broken", patch=break_telemetry)
    assert result.text == "acme.com is available."
    assert "maestro adk callback" in caplog.text


def test_instrument_accepts_app_and_runner_and_rejects_junk(sim, tmp_path):
    from google.adk.apps import App

    with maestro.trace_run("adk-kinds", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        tree = make_tree(gemini_base_url(sim.url, "oracle", 4))
        app = App(name="kinds", root_agent=tree)
        wrapped = instrument(app, run, provider="maestro.sim")
        assert isinstance(wrapped, InstrumentedAdk) and app.plugins == []  # the user's App is not modified
        assert [p.name for p in wrapped.app.plugins] == ["maestro"]
        runner = InMemoryRunner(app=App(name="kinds2", root_agent=make_tree(gemini_base_url(sim.url, "oracle", 5))))
        via_runner = instrument(runner, run, provider="maestro.sim")
        assert via_runner.runner is runner and via_runner.run("Is acme.com free?").text == "acme.com is available."
        with pytest.raises(TypeError, match="expected an ADK agent, App or Runner"):
            instrument(42, run)
    assert (maestro.load_study(tmp_path / "adk-kinds").spans.span_type == "llm").sum() == 3


def test_results_name_their_session_and_can_continue_it(sim, tmp_path):
    with maestro.trace_run("adk-session", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        app = instrument(make_tree(gemini_base_url(sim.url, "oracle", 8)), run, provider="maestro.sim")
        first = app.run("Is acme.com free?")
        again = app.run("And beta.com?", session_id=first.session_id)
        other = app.run("Is acme.com free?")
    assert first.session_id and again.session_id == first.session_id != other.session_id
    assert "events=" in repr(first) and len(repr(first)) < 200  # cheap repr (see BENCHMARKS.md)


def test_workflow_agent_children_nest_and_report_back(sim, tmp_path):
    import warnings

    from google.adk.agents import SequentialAgent

    model = Gemini(model="sim-oracle", base_url=gemini_base_url(sim.url, "oracle", 6), client_kwargs={"api_key": "k"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialAgent is deprecated in ADK 2.x but still runs
        pipeline = SequentialAgent(name="pipeline", sub_agents=[
            LlmAgent(name="drafter", model=model, instruction="Draft a line."),
            LlmAgent(name="editor", model=model, instruction="Edit the line.")])
    with maestro.trace_run("adk-seq", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        result = instrument(pipeline, run, provider="maestro.sim").run("tides")
    spans = maestro.load_study(tmp_path / "adk-seq").spans
    assert _tree(spans)[:5] == [
        ("invoke_workflow custom", None, "run"),
        ("invoke_agent pipeline", "invoke_workflow custom", "agent"),
        ("message __start__ -> pipeline", "invoke_agent pipeline", "message"),
        ("invoke_agent drafter", "invoke_agent pipeline", "agent"),
        ("message pipeline -> drafter", "invoke_agent drafter", "message"),
    ]
    msgs = spans[spans.span_type == "message"].sort_values(["start_time_ns", "name"])
    assert list(zip(msgs.message_source, msgs.message_target)) == [
        ("__start__", "pipeline"), ("pipeline", "drafter"), ("drafter", "pipeline"),
        ("pipeline", "editor"), ("editor", "pipeline"), ("editor", "__end__")]
    b = list(msgs.input_bytes)
    # what each child reads is what the previous one wrote (the user message for the first)
    assert b[1] == b[0] == len(b"tides") and b[3] == b[2] > 0 and b[5] == b[4] == len(result.text.encode())
    assert result.author == "editor"


def test_model_errors_end_the_spans_as_errors_and_reach_the_caller(sim, tmp_path):
    from google.genai import errors

    from maestro.sim.profiles import Profile, register_profile

    register_profile(Profile(name="adk-test-500", description="always HTTP 500 (test)", ttft_s=0.0,
                             tokens_per_s=1000.0, verbosity=1.0, reasoning=1.0, p_server_error=1.0))
    with pytest.raises(errors.ServerError):
        with maestro.trace_run("adk-500", out=str(tmp_path), framework="adk", sample_resources=False) as run:
            instrument(make_tree(gemini_base_url(sim.url, "adk-test-500", 1)), run, provider="maestro.sim").run("hi")
    study = maestro.load_study(tmp_path / "adk-500")
    spans = study.spans
    assert spans.trace_id.nunique() == 1 and study.runs.iloc[0].status == "exception"
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == 1 and llm.iloc[0].status_code == "ERROR" and llm.iloc[0].failure_category == "upstream"
    assert llm.iloc[0].http_attempts == 1 and llm.iloc[0].input_bytes > 0
    agent = spans[spans.span_type == "agent"]
    assert list(agent.agent_name) == ["coord"] and agent.iloc[0].status_code == "ERROR"


# ADK's own AgentTool passes plugins to its inner Runner the deprecated way.
@pytest.mark.filterwarnings("ignore:The `plugins` argument is deprecated:DeprecationWarning")
def test_agent_run_as_a_tool_nests_under_the_tool_span(sim, tmp_path):
    from google.adk.tools.agent_tool import AgentTool

    model = Gemini(model="sim-oracle", base_url=gemini_base_url(sim.url, "oracle", 7), client_kwargs={"api_key": "k"})
    writer = LlmAgent(name="writer", model=model, instruction=WRITER_MARK, description="Writes.", tools=[check_domain])
    coord = LlmAgent(name="coord", model=model, instruction=AGENT_TOOL_MARK, tools=[AgentTool(agent=writer)])
    before = sim.request_count
    with maestro.trace_run("adk-agenttool", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        result = instrument(coord, run, provider="maestro.sim").run("Is acme.com free?")
    spans = maestro.load_study(tmp_path / "adk-agenttool").spans
    assert result.author == "coord" and (spans.span_type == "llm").sum() == sim.request_count - before == 4
    assert _tree(spans) == [
        ("invoke_workflow custom", None, "run"),
        ("invoke_agent coord", "invoke_workflow custom", "agent"),
        ("message __start__ -> coord", "invoke_agent coord", "message"),
        ("chat sim-oracle", "invoke_agent coord", "llm"),
        ("execute_tool writer", "invoke_agent coord", "tool"),
        # the nested invocation's agent sits under the tool call that ran it
        ("invoke_agent writer", "execute_tool writer", "agent"),
        ("message coord -> writer", "invoke_agent writer", "message"),
        ("chat sim-oracle", "invoke_agent writer", "llm"),
        ("execute_tool check_domain", "invoke_agent writer", "tool"),
        ("chat sim-oracle", "invoke_agent writer", "llm"),
        ("message writer -> coord", "execute_tool writer", "message"),
        ("chat sim-oracle", "invoke_agent coord", "llm"),
        ("message coord -> __end__", "invoke_workflow custom", "message"),
    ]


def test_native_span_gate_does_not_leak_into_the_callers_code(sim, tmp_path):
    """The gate covers ADK's steps only: the caller's loop body, and the caller after a
    ``break`` that leaves the event stream unclosed, keep ADK's native spans."""
    import asyncio

    from maestro.adapters.adk.native import is_suppressed

    seen = []

    async def main():
        app = instrument(make_tree(gemini_base_url(sim.url, "oracle", 9)), run, provider="maestro.sim")
        events = app.stream("Is acme.com free?")
        async for _ in events:
            seen.append(is_suppressed())
            break
        seen.append(is_suppressed())  # stream suspended, not closed
        await events.aclose()
        seen.append(is_suppressed())
        full = [is_suppressed() async for _ in app.stream("Is acme.com free?")]
        seen.append(any(full))

    with maestro.trace_run("adk-gate", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        asyncio.run(main())
    assert seen == [False, False, False, False]


class HangingGemini(Gemini):
    """A Gemini model whose call never returns (a stalled provider)."""

    async def generate_content_async(self, llm_request, stream=False):
        import asyncio

        await asyncio.Event().wait()
        yield  # pragma: no cover - never reached


def test_a_cancelled_run_ends_its_open_spans_at_the_cancellation(sim, tmp_path):
    """ADK reports neither after_run nor on_run_error for a cancelled run: the adapter ends
    the invocation's open spans when the cancellation passes through, not at the end of
    the whole traced run, and keeps no state of it."""
    import asyncio

    with maestro.trace_run("adk-cancel", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        hanging = instrument(make_tree(gemini_base_url(sim.url, "oracle", 10), HangingGemini), run,
                             provider="maestro.sim")
        working = instrument(make_tree(gemini_base_url(sim.url, "oracle", 11)), run, provider="maestro.sim")

        async def main():
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(hanging.run_async("Is acme.com free?"), 0.2)
            cancelled_at = time.time_ns()
            assert hanging.plugin._inv == {} and hanging.plugin._llm == {}
            await working.run_async("Is acme.com free?")
            return cancelled_at

        cancelled_at = asyncio.run(main())
    spans = maestro.load_study(tmp_path / "adk-cancel").spans
    llm = spans[spans.span_type == "llm"].sort_values("start_time_ns")
    first = llm.iloc[0]
    assert first.status_code == "ERROR" and "CancelledError" in first.status_description
    assert first.end_time_ns <= cancelled_at  # not left open until the run ended
    assert (llm.iloc[1:].status_code != "ERROR").all() and len(llm) == 4


# -- the same Runner, run after run; your own App ------------------------------------------------
def test_the_same_runner_is_instrumented_run_after_run_and_uninstrumented(sim, tmp_path):
    from google.adk.apps import App

    runner = InMemoryRunner(app=App(name="again", root_agent=make_tree(gemini_base_url(sim.url, "oracle", 12))))
    wrapped = None
    for study in ("adk-again-1", "adk-again-2", "adk-again-3"):
        with maestro.trace_run(study, out=str(tmp_path), framework="adk", sample_resources=False) as run:
            # the runner itself, twice; then what instrument returned
            wrapped = instrument(wrapped if study == "adk-again-3" else runner, run, provider="maestro.sim")
            assert wrapped.run("Is acme.com free?").text == "acme.com is available."
        assert [p.name for p in runner.plugin_manager.plugins] == ["maestro"]  # replaced, not added
        assert (maestro.load_study(tmp_path / study).spans.span_type == "llm").sum() == 3
    assert wrapped.uninstrument() is runner and runner.plugin_manager.plugins == []


def test_an_app_that_carries_the_plugin_is_instrumented_with_the_new_one(sim, tmp_path):
    from google.adk.apps import App

    with maestro.trace_run("adk-carried", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        old = MaestroAdkPlugin(run)
        app = App(name="carried", root_agent=make_tree(gemini_base_url(sim.url, "oracle", 13)), plugins=[old])
        wrapped = instrument(app, run, provider="maestro.sim")
        assert wrapped.app.plugins == [wrapped.plugin] and app.plugins == [old]
        assert wrapped.run("Is acme.com free?").text == "acme.com is available."
        assert wrapped.uninstrument() is app


@pytest.fixture
def global_exporter():
    """What a process-global tracer provider would do to ADK's shared tracer, without
    setting one: ADK's spans go to the returned in-memory exporter."""
    from google.adk.telemetry import tracing
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = tracing.tracer._real_tracer
    tracing.tracer._real_tracer = provider.get_tracer("gcp.vertex.agent")
    yield exporter
    tracing.tracer._real_tracer = saved


def test_the_plugin_in_your_own_app_keeps_adks_spans_out_of_your_provider(sim, tmp_path, global_exporter):
    """The documented way: your App carries ``MaestroAdkPlugin(run)``, your Runner runs it.
    ADK's agent, model and tool spans are not recorded (maestro records those); ADK's own
    invocation span, opened before any plugin hook, is, once; inside ``suppressed()`` not even that."""
    import asyncio

    from google.adk.apps import App
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService

    from maestro.adapters.adk import MaestroAdkPlugin, suppressed

    async def drive(runner, gate):
        session = await runner.session_service.create_session(app_name=runner.app_name, user_id="u")
        message = types.Content(role="user", parts=[types.Part(text="Is acme.com free?")])
        with gate:
            return [e async for e in runner.run_async(user_id="u", session_id=session.id, new_message=message)]

    for study, gate, native in (("adk-own-app", contextlib.nullcontext(), ["invoke_workflow coord"]),
                                ("adk-own-app-suppressed", suppressed(), [])):
        global_exporter.clear()
        with maestro.trace_run(study, out=str(tmp_path), framework="adk", sample_resources=False) as run:
            app = App(name="own", root_agent=make_tree(gemini_base_url(sim.url, "oracle", 14)),
                      plugins=[MaestroAdkPlugin(run, provider="maestro.sim")])
            events = asyncio.run(drive(Runner(app=app, session_service=InMemorySessionService()), gate))
        assert events[-1].author == "writer"
        assert [s.name for s in global_exporter.get_finished_spans()] == native
        spans = maestro.load_study(tmp_path / study).spans
        assert (spans.span_type == "llm").sum() == 3 and (spans.span_type == "tool").sum() == 1


# -- image generation and embeddings made by tools -----------------------------------------------
MEDIA_MARK = "TEST-ADK-MEDIA: make the poster and index it."


def _media_tools(base_url):
    from google import genai

    options = types.HttpOptions(base_url=base_url)

    def draw_poster(topic: str) -> dict:
        """Draw a poster (Vertex image generation, a synchronous client)."""
        client = genai.Client(vertexai=True, api_key="sim-key", http_options=options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # generate_images is deprecated in favour of image models
            images = client.models.generate_images(model="imagen-3.0-generate-002", prompt=f"A poster of {topic}",
                                                   config=types.GenerateImagesConfig(number_of_images=2))
        return {"images": len(images.generated_images)}

    async def index_caption(caption: str) -> dict:
        """Embed a caption twice: the Gemini API's batch embeddings, then Vertex text embeddings."""
        gemini = genai.Client(api_key="sim-key", http_options=options)
        first = await gemini.aio.models.embed_content(model="text-embedding-004", contents=[caption, "poster"])
        vertex = genai.Client(vertexai=True, api_key="sim-key", http_options=options)
        second = await vertex.aio.models.embed_content(model="text-embedding-004", contents=[caption])
        return {"vectors": len(first.embeddings) + len(second.embeddings)}

    return [draw_poster, index_caption]


def test_image_generation_and_embeddings_in_tools_are_llm_spans(sim, tmp_path):
    media = _MarkerPolicy("test.adk.media", MEDIA_MARK,
                          SimReply(tool_calls=(SimToolCall("draw_poster", {"topic": "tide pools"}),
                                               SimToolCall("index_caption", {"caption": "tide pools at dawn"}))),
                          SimReply(text="Poster drawn and indexed."))
    register_policy(media)
    try:
        url = gemini_base_url(sim.url, "oracle", 15)
        model = Gemini(model="sim-oracle", base_url=url, client_kwargs={"api_key": "k"})
        agent = LlmAgent(name="designer", model=model, instruction=MEDIA_MARK, tools=_media_tools(url))
        before = sim.request_count
        with maestro.trace_run("adk-media", out=str(tmp_path), framework="adk", sample_resources=False) as run:
            result = instrument(agent, run).run("A poster on tide pools, please.")
        served = sim.request_count - before
    finally:
        unregister_policy(media)
    assert result.text == "Poster drawn and indexed."
    study = maestro.load_study(tmp_path / "adk-media")
    spans, run = study.spans, study.runs.iloc[0]
    llm = spans[spans.span_type == "llm"].sort_values(["start_time_ns", "name"])
    assert len(llm) == served == run.llm_calls == 5  # 2 chat calls, 1 image generation, 2 embeddings
    tools = dict(zip(spans[spans.span_type == "tool"].tool_name, spans[spans.span_type == "tool"].span_id))
    direct = llm[llm.operation != "chat"]
    assert sorted(zip(direct.name, direct.operation, direct.parent_span_id)) == sorted([
        ("generate_content imagen-3.0-generate-002", "generate_content", tools["draw_poster"]),
        ("embeddings text-embedding-004", "embeddings", tools["index_caption"]),
        ("embeddings text-embedding-004", "embeddings", tools["index_caption"])])
    assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all() and (llm.http_attempts == 1).all()
    assert (llm.provider == "maestro.sim").all() and (direct.agent_name == "designer").all()
    assert (direct.input_tokens > 0).all() and (direct.output_tokens == 0).all()
    # The Vertex embeddings reply reports its tokens; the others are estimated and flagged.
    assert sorted(direct.usage_estimated.fillna(False)) == [False, True, True]
    assert llm.input_bytes.sum() == run.llm_request_bytes and llm.output_bytes.sum() == run.llm_response_bytes


def test_genai_calls_outside_traced_agents_are_left_alone(sim, tmp_path):
    from google import genai

    client = genai.Client(api_key="sim-key",
                          http_options=types.HttpOptions(base_url=gemini_base_url(sim.url, "oracle", 16)))
    with maestro.trace_run("adk-outside", out=str(tmp_path), framework="adk", sample_resources=False) as run:
        MaestroAdkPlugin(run)  # the hook is installed, but this call is made in no agent turn
        assert len(client.models.embed_content(model="text-embedding-004", contents=["x"]).embeddings) == 1
    assert (maestro.load_study(tmp_path / "adk-outside").spans.span_type == "llm").sum() == 0


# -- workflow agents hand over what their sub-agents said ----------------------------------------
def test_nested_workflow_agents_hand_over_their_last_childs_output(sim, tmp_path):
    from google.adk.agents import LoopAgent, ParallelAgent, SequentialAgent

    model = Gemini(model="sim-oracle", base_url=gemini_base_url(sim.url, "oracle", 17), client_kwargs={"api_key": "k"})

    def leaf(name):
        return LlmAgent(name=name, model=model, instruction=f"Add a line as {name}.")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # workflow agents are deprecated in ADK 2.x but still run
        trees = {"loop-of-seq": LoopAgent(name="loop", max_iterations=2,
                                          sub_agents=[SequentialAgent(name="seq", sub_agents=[leaf("a"), leaf("b")])]),
                 "seq-of-par": SequentialAgent(name="seq", sub_agents=[
                     ParallelAgent(name="par", sub_agents=[leaf("a"), leaf("b")]), leaf("c")])}
    for study, tree in trees.items():
        with maestro.trace_run(study, out=str(tmp_path), framework="adk", sample_resources=False) as run:
            result = instrument(tree, run, provider="maestro.sim").run("tides")
        msgs = maestro.load_study(tmp_path / study).spans.query("span_type == 'message'").sort_values(
            ["start_time_ns", "name"])
        said = [len(extract.content_text(e.content).encode()) for e in result.events if e.content]
        edges = list(zip(msgs.message_source, msgs.message_target, msgs.input_bytes))
        # every hand-over carries bytes; a workflow agent hands back its last child's output
        assert all(n > 0 for _, _, n in edges), edges
        if study == "loop-of-seq":
            assert [n for s, t, n in edges if (s, t) == ("seq", "loop")] == [said[1], said[3]]
        else:
            par_back = [n for s, t, n in edges if (s, t) == ("par", "seq")]
            assert par_back == [n for s, t, n in edges if (s, t) in (("a", "par"), ("b", "par"))][-1:]
