"""The AutoGen adapter end to end: small teams defined here, real agentchat and
OpenAIChatCompletionClient, the simulated service over HTTP, parquet on disk."""

from __future__ import annotations

import asyncio
import json

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat, SelectorGroupChat, Swarm
from autogen_ext.models.openai import OpenAIChatCompletionClient

import maestro
from maestro.adapters.autogen import InstrumentedAutoGen, TracedChatCompletionClient, instrument
from maestro.sim import openai_base_url
from maestro.sim.policy import SimReply, SimToolCall, register_policy

INFO = {"vision": False, "function_calling": True, "json_output": True, "family": "unknown", "structured_output": False}


class _Policy:
    """A test role: matches its marker in the system prompt (or anywhere, for the selector)."""

    def __init__(self, name, marker, respond, anywhere=False):
        self.name, self.marker, self._respond, self.anywhere = name, marker, respond, anywhere

    def matches(self, request):
        return self.marker in (request.text if self.anywhere else request.system)

    def respond(self, request, ctx):
        return self._respond(request, ctx)


def _weather(request, ctx):
    if any(m.role == "tool" for m in request.messages):
        return SimReply(text="It is sunny in Oslo.")
    return SimReply(tool_calls=(SimToolCall("get_weather", {"city": "Oslo"}),))


def _alice(request, ctx):
    if any(m.role == "tool" for m in request.messages):
        return SimReply(text="Handed over.")
    return SimReply(tool_calls=(SimToolCall("transfer_to_bob", {}),))


def _selector(request, ctx):
    # The selector prompt embeds the conversation; pick whoever has not spoken in it yet.
    history = request.text.split("Only return the role.", 1)[-1].rsplit("Read the above conversation", 1)[0]
    return SimReply(text="critic" if "writer:" in history else "writer")


register_policy(_Policy("test.autogen.weather", "You are the weather test agent.", _weather))
register_policy(_Policy("test.autogen.alice", "You are alice the swarm test agent.", _alice))
register_policy(_Policy("test.autogen.bob", "You are bob the swarm test agent.",
                        lambda r, c: SimReply(text="Bob here, all done.")))
register_policy(_Policy("test.autogen.selector", "Read the following conversation. Then select the next role",
                        _selector, anywhere=True))


def _client(sim, seed=4, **kw):
    return OpenAIChatCompletionClient(model="sim-strong", base_url=openai_base_url(sim.url, "strong", seed=seed),
                                      api_key="test-key", model_info=INFO, **kw)


def _run(tmp_path, make_team, task="Plan a short trip to Oslo.", capture=False, study="ag"):
    with maestro.trace_run(study, out=str(tmp_path), framework="autogen", backend="sim/strong",
                           capture_content=capture, sample_resources=False) as run:
        team = instrument(make_team(), run, provider="maestro.sim")
        result = asyncio.run(team.run(task=task))
    loaded = maestro.load_study(tmp_path / study)
    return result, loaded.spans, loaded.runs.iloc[0]


def _edges(spans):
    m = spans[spans.span_type == "message"].sort_values(["start_time_ns", "name"])
    return list(zip(m.message_source, m.message_target))


def _round_robin(sim, capture_stream=False, **client_kw):
    def make():
        client = _client(sim, **client_kw)
        a = AssistantAgent("writer", model_client=client, system_message="You write one sentence.")
        b = AssistantAgent("critic", model_client=client, system_message="You critique the sentence.",
                           model_client_stream=capture_stream)
        return RoundRobinGroupChat([a, b], termination_condition=MaxMessageTermination(4))

    return make


def test_round_robin_span_tree_one_trace_tokens_and_bytes(sim, tmp_path, body_counter, span_tree):
    http_client, seen = body_counter()
    result, spans, run = _run(tmp_path, _round_robin(sim, capture_stream=True, http_client=http_client))
    assert [m.source for m in result.messages] == ["user", "writer", "critic", "writer"]
    assert span_tree(spans) == [
        (0, "invoke_workflow custom", "run"),
        (1, "invoke_agent writer", "agent"),
        (2, "message __start__ -> writer", "message"),
        (2, "chat sim-strong", "llm"),
        (1, "invoke_agent critic", "agent"),
        (2, "message writer -> critic", "message"),
        (2, "chat sim-strong", "llm"),
        (1, "invoke_agent writer", "agent"),
        (2, "message critic -> writer", "message"),
        (2, "chat sim-strong", "llm"),
        (1, "message writer -> __end__", "message"),
    ]
    assert spans.trace_id.nunique() == 1 and spans.parent_span_id.isna().sum() == 1
    llm = spans[spans.span_type == "llm"]
    assert list(llm.agent_name) == ["writer", "critic", "writer"]
    assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all() and (llm.provider == "maestro.sim").all()
    assert llm.usage_estimated.isna().all()  # the streamed critic call was sent with include_usage
    # The response model comes from the provider's reply (the stream's chunks for the critic).
    assert (llm.response_model == "sim-strong").all() and run.response_model == "sim-strong"
    assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all() and (llm.http_attempts == 1).all()
    # The bytes the client's own hooks counted, call by call, summed; and every HTTP body byte
    # of the run is attributed to exactly one LLM span.
    assert llm.input_bytes.sum() == seen["request"] > 0 and llm.output_bytes.sum() == seen["response"] > 0
    assert llm.input_bytes.sum() == run.llm_request_bytes and llm.output_bytes.sum() == run.llm_response_bytes
    assert run.llm_calls == 3 and run.agent_turns == 3 and run.messages == 4 and run.clean
    # The edge into a turn carries the bytes of the previous speaker's reply.
    agents = spans[spans.span_type == "agent"].sort_values("start_time_ns")
    msgs = spans[spans.span_type == "message"].sort_values("start_time_ns")
    assert list(msgs.input_bytes.iloc[1:]) == list(agents.output_bytes)
    # No payload or content attribute without capture.
    for attrs in spans.attributes_json.dropna():
        keys = json.loads(attrs)
        assert "message" not in keys and "gen_ai.input.messages" not in keys and "gen_ai.output.messages" not in keys


def test_without_override_the_endpoint_names_the_provider(sim, tmp_path):
    # The client class says openai; the simulated service says what it is, and that wins.
    with maestro.trace_run("ag-provider", out=str(tmp_path), framework="autogen", sample_resources=False) as run:
        asyncio.run(instrument(_round_robin(sim)(), run).run(task="Plan a short trip to Oslo."))
    study = maestro.load_study(tmp_path / "ag-provider")
    assert set(study.spans[study.spans.span_type == "llm"].provider) == {"maestro.sim"}
    assert study.runs.iloc[0].provider == "maestro.sim"


def test_capture_content_writes_redacted_payloads(sim, tmp_path, monkeypatch):
    secret = "s3cr3t-value-123456"
    monkeypatch.setenv("MAESTRO_TEST_API_KEY", secret)
    _, spans, _ = _run(tmp_path, _round_robin(sim), task=f"Plan a trip; my key is {secret}.", capture=True)
    msgs = spans[spans.span_type == "message"]
    payloads = [json.loads(a)["message"] for a in msgs.attributes_json]
    assert len(payloads) == 4 and all(payloads)
    assert "[REDACTED]" in payloads[0] and secret not in "".join(payloads)
    llm_attrs = [json.loads(a) for a in spans[spans.span_type == "llm"].attributes_json]
    assert all("gen_ai.input.messages" in a and "gen_ai.output.messages" in a for a in llm_attrs)
    assert secret not in spans.attributes_json.str.cat()


def test_selector_calls_get_llm_spans(sim, tmp_path):
    def make():
        client = _client(sim, seed=5)
        a = AssistantAgent("writer", model_client=client, description="Writes.", system_message="You write.")
        b = AssistantAgent("critic", model_client=client, description="Critiques.", system_message="You critique.")
        c = AssistantAgent("editor", model_client=client, description="Edits.", system_message="You edit.")
        # Three agents: with the previous speaker excluded two candidates remain, so the
        # second selection also asks the model (a single candidate is chosen without a call).
        return SelectorGroupChat([a, b, c], model_client=client, termination_condition=MaxMessageTermination(3))

    result, spans, run = _run(tmp_path, make)
    assert [m.source for m in result.messages] == ["user", "writer", "critic"]
    llm = spans[spans.span_type == "llm"].sort_values("start_time_ns")
    names = dict(zip(spans.span_id, spans.name))
    selector = llm[llm.agent_name == "SelectorGroupChatManager"]
    assert len(selector) == 2 and (selector.input_tokens > 0).all() and (selector.input_bytes > 0).all()
    assert all(names[p].startswith("invoke_workflow") for p in selector.parent_span_id)  # between turns
    assert list(llm.agent_name) == ["SelectorGroupChatManager", "writer", "SelectorGroupChatManager", "critic"]
    assert _edges(spans) == [("__start__", "writer"), ("writer", "critic"), ("critic", "__end__")]
    assert spans.trace_id.nunique() == 1 and run.llm_calls == 4


def test_swarm_handoff_is_an_edge_and_a_tool_span(sim, tmp_path):
    def make():
        client = _client(sim, seed=9)
        alice = AssistantAgent("alice", model_client=client, handoffs=["bob"],
                               system_message="You are alice the swarm test agent.")
        bob = AssistantAgent("bob", model_client=client, system_message="You are bob the swarm test agent.")
        return Swarm([alice, bob], termination_condition=MaxMessageTermination(3))

    result, spans, _ = _run(tmp_path, make)
    assert [type(m).__name__ for m in result.messages][:2] == ["TextMessage", "ToolCallRequestEvent"]
    assert _edges(spans) == [("__start__", "alice"), ("alice", "bob"), ("bob", "__end__")]
    tool = spans[spans.span_type == "tool"]
    assert list(tool.tool_name) == ["transfer_to_bob"] and tool.tool_call_id.iloc[0]
    alice_turn = spans[(spans.span_type == "agent") & (spans.agent_name == "alice")]
    assert tool.parent_span_id.iloc[0] == alice_turn.span_id.iloc[0]
    handoff = next(m for m in result.messages if type(m).__name__ == "HandoffMessage")
    assert handoff.target == "bob" and tool.tool_call_id.iloc[0] == result.messages[1].content[0].id


def test_lone_agent_tool_call_has_call_id(sim, tmp_path, span_tree):
    async def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    def make():
        return AssistantAgent("forecaster", model_client=_client(sim, seed=11), tools=[get_weather],
                              reflect_on_tool_use=True, system_message="You are the weather test agent.")

    result, spans, run = _run(tmp_path, make, task="Weather in Oslo?")
    request = next(m for m in result.messages if type(m).__name__ == "ToolCallRequestEvent")
    tool = spans[spans.span_type == "tool"]
    assert len(tool) == 1 and tool.tool_name.iloc[0] == "get_weather"
    assert tool.tool_call_id.iloc[0] == request.content[0].id and tool.status_code.iloc[0] != "ERROR"
    assert tool.output_bytes.iloc[0] == len("sunny in Oslo")
    assert span_tree(spans) == [
        (0, "invoke_workflow custom", "run"),
        (1, "invoke_agent forecaster", "agent"),
        (2, "message __start__ -> forecaster", "message"),
        (2, "chat sim-strong", "llm"),
        (2, "execute_tool get_weather", "tool"),
        (2, "chat sim-strong", "llm"),
        (1, "message forecaster -> __end__", "message"),
    ]
    assert run.tool_calls == 1 and run.llm_calls == 2


def test_stream_without_usage_is_estimated(sim, tmp_path):
    def make():
        client = _client(sim, seed=13, stream_options={"include_usage": False})
        return AssistantAgent("streamer", model_client=client, model_client_stream=True,
                              system_message="You answer briefly.")

    _, spans, run = _run(tmp_path, make, task="Say hello.")
    llm = spans[spans.span_type == "llm"]
    assert len(llm) == 1 and llm.usage_estimated.iloc[0] == True  # noqa: E712 - pandas bool
    assert llm.input_tokens.iloc[0] > 0 and llm.output_tokens.iloc[0] > 0 and llm.output_bytes.iloc[0] > 0
    assert run.usage_estimated_calls == 1


def test_instrument_rebinds_and_uninstruments(sim, tmp_path):
    team = _round_robin(sim)()
    writer = team._participants[0]
    original_client = writer._model_client
    with maestro.trace_run("rebind", out=str(tmp_path), sample_resources=False) as run:
        wrapped = instrument(team, run)
        again = instrument(wrapped, run)  # instrumenting twice neither double-wraps nor fails
    assert isinstance(again, InstrumentedAutoGen) and again.target is team
    assert isinstance(writer._model_client, TracedChatCompletionClient)
    assert writer._model_client._maestro_inner is original_client
    assert again.uninstrument() is team  # it only rebound: nothing of its own to undo
    assert writer._model_client is not original_client
    assert "create" in original_client._client.chat.completions.__dict__  # the SDK reply tap
    assert wrapped.uninstrument() is team
    assert writer._model_client is original_client and "on_messages_stream" not in writer.__dict__
    assert "create" not in original_client._client.chat.completions.__dict__


def test_instrument_rejects_other_objects(tmp_path):
    with maestro.trace_run("bad", out=str(tmp_path), sample_resources=False) as run:
        with pytest.raises(TypeError, match="neither an agentchat team nor a chat agent"):
            instrument(object(), run)


def test_model_errors_end_spans_as_errors_and_propagate(tmp_path):
    client = OpenAIChatCompletionClient(model="sim-strong", base_url="http://127.0.0.1:9/v1", api_key="k",
                                        model_info=INFO, max_retries=0)
    agent = AssistantAgent("unlucky", model_client=client, system_message="You answer.")
    with pytest.raises(Exception, match="[Cc]onnect"):
        with maestro.trace_run("err", out=str(tmp_path), sample_resources=False) as run:
            asyncio.run(instrument(agent, run).run(task="hi"))
    spans = maestro.load_study(tmp_path / "err").spans
    by_type = {t: s for t, s in spans.groupby("span_type")}
    assert by_type["llm"].status_code.iloc[0] == "ERROR" and by_type["llm"].failure_category.iloc[0] == "upstream"
    assert by_type["agent"].status_code.iloc[0] == "ERROR"
    assert spans.trace_id.nunique() == 1


def test_a_run_that_raises_hands_nothing_to_end(sim, tmp_path):
    """The ``-> __end__`` edge means a result was handed over: a team whose second speaker
    fails records the hand-over into the failed turn, and no edge to ``__end__``."""
    bad = OpenAIChatCompletionClient(model="sim-strong", base_url="http://127.0.0.1:9/v1", api_key="k",
                                     model_info=INFO, max_retries=0)

    def make():
        a = AssistantAgent("writer", model_client=_client(sim, seed=21), system_message="You write one sentence.")
        b = AssistantAgent("critic", model_client=bad, system_message="You critique the sentence.")
        return RoundRobinGroupChat([a, b], termination_condition=MaxMessageTermination(4))

    with pytest.raises(RuntimeError, match="[Cc]onnect"):
        _run(tmp_path, make, study="ag-raise")
    spans = maestro.load_study(tmp_path / "ag-raise").spans
    assert _edges(spans) == [("__start__", "writer"), ("writer", "critic")]
    agents = spans[spans.span_type == "agent"].sort_values("start_time_ns")
    assert list(zip(agents.agent_name, agents.status_code)) == [("writer", "UNSET"), ("critic", "ERROR")]


def test_broken_telemetry_never_breaks_the_team(sim, tmp_path, caplog):
    def make():
        return AssistantAgent("solo", model_client=_client(sim, seed=17), system_message="You answer.")

    with maestro.trace_run("broken", out=str(tmp_path), sample_resources=False) as run:
        team = instrument(make(), run)

        def boom(*a, **k):
            raise RuntimeError("collector is down")

        run.start_span = boom  # every span the adapter tries to open fails
        result = asyncio.run(team.run(task="hi"))
    assert result.messages[-1].source == "solo"
    assert "maestro autogen adapter" in caplog.text and "collector is down" in caplog.text


def test_nested_teams_and_manager_clients_are_wrapped(sim, tmp_path):
    from autogen_agentchat.teams import MagenticOneGroupChat

    client = _client(sim)
    inner = RoundRobinGroupChat([AssistantAgent("inner_a", model_client=client)], max_turns=1)
    outer = RoundRobinGroupChat([AssistantAgent("outer_a", model_client=client), inner], max_turns=2)
    m1 = MagenticOneGroupChat([AssistantAgent("worker", model_client=client)], model_client=client)
    with maestro.trace_run("nested", out=str(tmp_path), sample_resources=False) as run:
        instrument(outer, run)
        instrument(m1, run)
    inner_agent = inner._participants[0]
    assert isinstance(inner_agent._model_client, TracedChatCompletionClient)
    assert "on_messages_stream" in inner_agent.__dict__
    assert m1._model_client._maestro_owner == "MagenticOneOrchestrator"
    assert m1._participants[0]._model_client._maestro_owner == "worker"
