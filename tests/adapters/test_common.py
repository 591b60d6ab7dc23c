"""The adapters' shared span-attribute rules and callback guards (maestro.adapters._common)."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.collector.http import HttpLedger

log = logging.getLogger("test.adapters.common")


def _ledger(request=0, response=0, attempts=0, codes=()):
    return HttpLedger(request_bytes=request, response_bytes=response, attempts=attempts, status_codes=list(codes))


def test_ledger_attributes_sum_bytes_and_copy_codes():
    led = _ledger(120, 380, 2, (500, 200))
    attrs = common.ledger_attributes(led)
    assert attrs == {
        sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: 120,
        sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: 380,
        sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES: 500,
        sc.MAESTRO_HTTP_ATTEMPTS: 2,
        sc.MAESTRO_HTTP_STATUS_CODES: [500, 200],
    }
    led.status_codes.append(503)  # the span keeps its own copy
    assert attrs[sc.MAESTRO_HTTP_STATUS_CODES] == [500, 200]


@pytest.mark.parametrize("usage, reasons, model, expected", [
    pytest.param((10, 4, 14), ["stop"], "m-1",
                 {sc.GEN_AI_USAGE_INPUT_TOKENS: 10, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 4, sc.GEN_AI_USAGE_TOTAL_TOKENS: 14,
                  sc.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"], sc.GEN_AI_RESPONSE_MODEL: "m-1"},
                 id="reported-usage"),
    pytest.param(None, [], None,
                 {sc.MAESTRO_USAGE_ESTIMATED: True, sc.GEN_AI_USAGE_INPUT_TOKENS: 7,
                  sc.GEN_AI_USAGE_OUTPUT_TOKENS: 3, sc.GEN_AI_USAGE_TOTAL_TOKENS: 10},
                 id="no-usage-is-estimated-and-flagged"),
])
def test_llm_end_attributes_estimate_only_without_usage(usage, reasons, model, expected):
    calls = []

    def estimate():
        calls.append(1)
        return 7, 3, 10

    attrs = common.llm_end_attributes(_ledger(5, 6, 1, (200,)), usage, estimate, reasons, model)
    assert {k: v for k, v in attrs.items() if k not in common.ledger_attributes(_ledger())} == expected
    assert attrs[sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES] == 11
    assert len(calls) == (1 if usage is None else 0)


@pytest.mark.parametrize("raw, expected", [
    pytest.param("google_genai", "gcp.gemini", id="langchain-spelling"),
    pytest.param("vertex_ai", "gcp.vertex_ai", id="litellm-spelling"),
    pytest.param("xai", "x_ai", id="otel-name-differs"),
    pytest.param("acme", "acme", id="unknown-unchanged"),
])
def test_provider_alias(raw, expected):
    assert common.provider_alias(raw) == expected


def test_start_attributes_leave_out_unknown_provider_and_agent():
    llm = common.llm_attributes("m", None, None)
    assert sc.GEN_AI_PROVIDER_NAME not in llm and sc.GEN_AI_AGENT_NAME not in llm
    assert llm[sc.COMMUNICATION_IS_IN_PROCESS_CALL] is False and llm[sc.MAESTRO_SPAN_TYPE] == "llm"
    tool = common.tool_attributes("search", "c1", 17, "alice")
    assert tool[sc.GEN_AI_AGENT_NAME] == "alice" and tool[sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES] == 17
    assert tool[sc.COMMUNICATION_IS_IN_PROCESS_CALL] is True and tool[sc.GEN_AI_TOOL_CALL_ID] == "c1"


def test_tool_end_attributes_total_is_input_plus_output():
    handle = SimpleNamespace(attributes={sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: 17})
    assert common.tool_end_attributes(handle, 25) == {
        sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: 25, sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES: 42}


def test_end_failed_names_the_exception():
    ended = []
    telemetry = SimpleNamespace(end_span=lambda h, attrs, error=None: ended.append((h, attrs, error)))
    common.end_failed(telemetry, "h", TimeoutError("slow"), sc.AgentFailureCategory.UPSTREAM, {"x": 1})
    assert ended == [("h", {"x": 1, sc.AGENT_FAILURE_CATEGORY: sc.AgentFailureCategory.UPSTREAM.value,
                            sc.AGENT_FAILURE_REASON: "TimeoutError"}, "TimeoutError: slow")]


def test_guarded_logs_and_returns_none(caplog):
    @common.guarded("maestro test callback", log)
    def boom(x):
        raise ValueError(x)

    @common.guarded("maestro test callback", log)
    def fine(x):
        return x * 2

    with caplog.at_level(logging.ERROR):
        assert boom(1) is None
    assert fine(2) == 4
    assert "maestro test callback boom failed" in caplog.text


def test_guarded_async_always_returns_none(caplog):
    @common.guarded_async("maestro test hook", log)
    def boom():
        raise RuntimeError("x")

    @common.guarded_async("maestro test hook", log)
    def fine():
        return "would alter the flow"

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(boom()) is None
    assert asyncio.run(fine()) is None
    assert "maestro test hook boom failed" in caplog.text
