from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from maestro.adapters.langgraph import extract


@pytest.mark.parametrize(
    "metadata, tags, expected",
    [
        pytest.param({"langgraph_node": "grade", "langgraph_step": 2}, ["graph:step:2"], True, id="node"),
        pytest.param({"langgraph_node": "grade", "langgraph_step": 2}, ["seq:step:1"], False, id="routing-function"),
        pytest.param({}, ["graph:step:1"], False, id="no-metadata"),
        pytest.param(None, None, False, id="nothing"),
    ],
)
def test_is_graph_node(metadata, tags, expected):
    assert extract.is_graph_node(metadata, tags) is expected


@pytest.mark.parametrize(
    "metadata, scope",
    [
        pytest.param({"langgraph_checkpoint_ns": "grade:1234"}, "", id="top-level"),
        pytest.param({"langgraph_checkpoint_ns": "outer:1|inner:2"}, "outer:1", id="subgraph"),
        pytest.param({}, "", id="missing"),
    ],
)
def test_scope_of(metadata, scope):
    assert extract.scope_of(metadata) == scope


def _result(usage=None, llm_output=None, text="hi there", finish="stop", model="m-1", tool_calls=()):
    msg = NS(usage_metadata=usage, content=text, response_metadata={"finish_reason": finish, "model_name": model},
             tool_calls=list(tool_calls))
    return NS(generations=[[NS(message=msg, generation_info={})]], llm_output=llm_output)


@pytest.mark.parametrize(
    "result, expected",
    [
        pytest.param(_result({"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}), (10, 3, 13), id="usage-metadata"),
        pytest.param(_result(None, {"token_usage": {"prompt_tokens": 7, "completion_tokens": 2}}), (7, 2, 9), id="llm-output"),
        pytest.param(_result({"input_tokens": 0, "output_tokens": 0}), None, id="zero-is-missing"),
        pytest.param(_result(None, None), None, id="absent"),
    ],
)
def test_usage_of(result, expected):
    assert extract.usage_of(result) == expected


def test_estimate_usage_by_maestro_rule():
    msgs = [[NS(type="system", content="Be brief."), NS(type="human", content="What is 2+2?")]]
    # system: 1 + 3 + 2 ; human: 1 + 6 + 2 ; output "Four ." -> 2
    assert extract.estimate_usage(msgs, _result(text="Four.")) == (15, 2, 17)


def test_model_provider_finish_and_response_model():
    assert extract.model_name(None, {"invocation_params": {"model": "gpt-x"}}, None) == "gpt-x"
    assert extract.model_name(None, {}, {"ls_model_name": "ls-m"}) == "ls-m"
    assert extract.model_name({"kwargs": {"model_name": "ser-m"}}, {}, None) == "ser-m"
    assert extract.provider_name({"ls_provider": "openai"}) == "openai"
    assert extract.provider_name({"ls_provider": "google_genai"}) == "gcp.gemini"
    assert extract.provider_name({"ls_provider": "openai"}, "maestro.sim") == "maestro.sim"
    assert extract.finish_reasons(_result(finish="length")) == ["length"]
    assert extract.response_model(_result(model="m-2")) == "m-2"


@pytest.mark.parametrize(
    "obj, size",
    [
        pytest.param({"a": 1}, len(b'{"a":1}'), id="dict"),
        pytest.param({"q": "é"}, len('{"q":"é"}'.encode()), id="utf8-bytes-not-chars"),
        pytest.param(NS(page_content="doc", metadata={}), len(b'{"page_content":"doc","metadata":{}}'), id="document"),
        pytest.param([1, (2, 3)], len(b"[1,[2,3]]"), id="nested-sequences"),
    ],
)
def test_serialised_size(obj, size):
    assert extract.serialised_size(obj) == size
