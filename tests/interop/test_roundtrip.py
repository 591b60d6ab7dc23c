"""Acceptance: a study exported over OTLP/HTTP (the study's ``otlp_endpoint`` option) to a
real receiver on loopback (``maestro ingest``'s): every span arrives, the run root carries
the run identity, ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` are honoured, spans are
typed for OpenInference peers; and the ingested study reads back like the original."""

from __future__ import annotations

import pytest

import maestro
from maestro import semconv as sc
from maestro.interop import ImportOptions, OtlpSpan, Receiver
from maestro.runner.config import study_config_from_dict
from maestro.runner.importer import StudyWriter
from maestro.runner.study import run_study

pytestmark = pytest.mark.slow

IDENTITY = (sc.MAESTRO_STUDY_ID, sc.MAESTRO_RUN_ID, sc.MAESTRO_INSTANCE, sc.MAESTRO_BACKEND, sc.MAESTRO_REPEAT,
            sc.MAESTRO_TASK_ID)


class Recording(StudyWriter):
    """The study writer, keeping every span it was handed as received."""

    received: list[OtlpSpan]

    def write_group(self, key, spans):
        self.__dict__.setdefault("received", []).extend(spans)
        return super().write_group(key, spans)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("roundtrip")
    mp = pytest.MonkeyPatch()
    mp.setenv("OTEL_SERVICE_NAME", "maestro-roundtrip")
    mp.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=qa,service.name=ignored-by-otel-service-name")
    mp.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    mp.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    sink = Recording(str(out / "ingested"), ImportOptions())
    receiver = Receiver(sink, port=0, idle_s=0.5)
    try:
        with receiver:
            config = study_config_from_dict({
                "id": "exported", "instances": ["crag"], "backends": ["sim/strong"], "tools": True,
                "repeats": 2, "tasks": 1, "time_factor": 0, "workers": 1, "out": str(out), "timeout_s": 120,
                "otlp_endpoint": f"http://127.0.0.1:{receiver.port}",
            })
            result = run_study(config, progress=False)
    finally:
        mp.undo()
    return maestro.load_study(result.path), maestro.load_study(out / "ingested"), sink.received, receiver


def test_every_span_arrives_with_identity_and_service_name(exported):
    study, _, received, receiver = exported
    runs = study.runs
    assert len(runs) == 2 and (runs.status == "success").all()
    assert (runs.spans_export_failed == 0).all() and runs.clean.all()
    assert len(received) == receiver.spans_received == runs.spans_created.sum() == len(study.spans)
    assert {s.span_id for s in received} == set(study.spans.span_id)
    for s in received:
        assert s.resource[sc.SERVICE_NAME] == "maestro-roundtrip"  # OTEL_SERVICE_NAME wins over the default
        assert s.resource["team"] == "qa"  # OTEL_RESOURCE_ATTRIBUTES
        assert s.resource[sc.OPENINFERENCE_PROJECT_NAME] == "exported"
        assert s.attributes[sc.OPENINFERENCE_SPAN_KIND] in ("CHAIN", "AGENT", "LLM", "TOOL")
    roots = [s for s in received if s.parent_span_id is None]
    assert len(roots) == 2
    by_run = runs.set_index("run_id")
    for root in roots:
        run = by_run.loc[root.attributes[sc.MAESTRO_RUN_ID]]
        assert all(k in root.attributes for k in IDENTITY)
        assert root.attributes[sc.MAESTRO_STUDY_ID] == "exported"
        assert root.attributes[sc.MAESTRO_TASK_ID] == run["task_id"]
        assert root.attributes[sc.MAESTRO_REPEAT] == run["repeat"]
        assert root.attributes[sc.MAESTRO_BACKEND] == "sim/strong"
        assert root.attributes[sc.OPENINFERENCE_SPAN_KIND] == "CHAIN"
    kinds = {(s.attributes[sc.MAESTRO_SPAN_TYPE], s.attributes[sc.OPENINFERENCE_SPAN_KIND]) for s in received}
    assert {("agent", "AGENT"), ("llm", "LLM"), ("tool", "TOOL"), ("message", "CHAIN"), ("run", "CHAIN")} <= kinds
    llm = [s for s in received if s.attributes[sc.MAESTRO_SPAN_TYPE] == "llm"]
    assert all(s.attributes[sc.LLM_TOKEN_COUNT_PROMPT] == s.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] for s in llm)
    assert sum(s.attributes[sc.LLM_TOKEN_COUNT_PROMPT] for s in llm) == runs.input_tokens.sum()


def test_ingested_study_reads_like_the_original(exported):
    study, ingested, _, _ = exported
    a = study.runs.set_index("run_id").sort_index()
    b = ingested.runs.set_index("run_id").sort_index()
    assert list(b.index) == list(a.index)  # the run id travels on the root
    cols = ["instance", "framework", "backend", "task_id", "repeat", "seed", "status", "llm_calls", "tool_calls",
            "agent_turns", "messages", "input_tokens", "output_tokens", "a2a_bytes", "model", "provider"]
    assert b[cols].to_dict() == a[cols].to_dict()
    assert ingested.info["simulated"] is True and ingested.info["backends"] == ["sim/strong"]
    # maestro's own message records are kept, not derived again
    assert not ingested.spans.attributes_json.fillna("").str.contains("maestro.message.derived").any()
    assert len(ingested.spans) == len(study.spans)


def test_the_analysis_reads_the_ingested_study(exported):
    from maestro.analysis import edges_df, runs_df

    study, ingested, _, _ = exported
    e_in, e_own = edges_df(ingested), edges_df(study)
    key = ["run_id", "order", "message_source", "message_target", "bytes"]
    assert e_in[key].sort_values(key).to_dict("records") == e_own[key].sort_values(key).to_dict("records")
    assert len(runs_df(ingested)) == 2
