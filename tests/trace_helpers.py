"""Helpers the instance and runner tests share: reading a study's trace back (the message
edges of a run, its span tree without times or ids, the common soundness checks of an
instance's study) and the seeded policy context the sim-policy unit tests call policies
with. Importable as ``trace_helpers`` (``tests/conftest.py`` puts this folder on
``sys.path``)."""

from __future__ import annotations

import random

from maestro.sim.policy import FailureMix, PolicyContext

__all__ = ["SPAN_TREE_COLUMNS", "QUERY_SCHEMA", "policy_ctx", "edge_sequence", "span_tree", "check_statuses",
           "run_spans", "check_span_tree"]

QUERY_SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
"""Parameters of a search tool that takes one ``query`` (as the QA instances' tools do)."""


def policy_ctx(seed: int = 0, *, accuracy: float = 1.0, strictness: float = 0.5, mix: FailureMix | None = None,
               verbosity: float = 1.0, knowledge: float = 0.0, calibration: float = 0.5, abstention: float = 0.5,
               instruction: float = 1.0, profile: str = "t", **extra) -> PolicyContext:
    """A policy context for profile ``profile`` whose rng is ``random.Random(seed)``:
    ``accuracy`` is the reasoning reliability, the capabilities as named; ``extra`` becomes
    the profile's extra knobs."""
    return PolicyContext(rng=random.Random(seed), profile_name=profile, accuracy=accuracy,
                         failure_mix=mix or FailureMix(), verbosity=verbosity, strictness=strictness, extra=extra,
                         knowledge=knowledge, instruction_following=instruction, calibration=calibration,
                         abstention=abstention)

SPAN_TREE_COLUMNS = ("span_type", "agent_name", "input_tokens", "output_tokens", "input_bytes", "output_bytes",
                     "tool_name", "message_source", "message_target", "status_code")
"""The span columns ``span_tree`` compares (everything but times, ids and free-form JSON)."""


def edge_sequence(spans, run_id) -> tuple[tuple[str, str], ...]:
    """The run's message edges ``(source, target)`` in start order."""
    msgs = spans[(spans.run_id == run_id) & (spans.span_type == "message")].sort_values(["start_time_ns", "name"])
    return tuple(zip(msgs.message_source, msgs.message_target))


def assert_same_runs(a, b) -> None:
    """Two loaded studies recorded the same runs: ids, statuses, judgements, seeds, counts of
    LLM calls, tokens, spans and messages, span counts per run and edge sequences."""
    assert not a.warnings and not b.warnings
    ra, rb = a.runs.set_index("run_id").sort_index(), b.runs.set_index("run_id").sort_index()
    assert list(ra.index) == list(rb.index)
    for col in ("status", "judgement", "seed", "llm_calls", "total_tokens", "spans_written", "messages"):
        assert ra[col].tolist() == rb[col].tolist(), col
    assert a.spans.groupby("run_id").size().to_dict() == b.spans.groupby("run_id").size().to_dict()
    for run_id in ra.index:
        assert edge_sequence(a.spans, run_id) == edge_sequence(b.spans, run_id), run_id


def span_tree(spans, run_id) -> list[tuple]:
    """The run's spans without times or ids: ``(name, parent name, key columns)`` in start
    order (the columns of ``SPAN_TREE_COLUMNS``, as strings)."""
    s = spans[spans.run_id == run_id].sort_values(["start_time_ns", "name"])
    names = dict(zip(s.span_id, s.name))
    return [(r.name, names.get(r.parent_span_id), tuple(str(getattr(r, c)) for c in SPAN_TREE_COLUMNS))
            for r in s.itertuples()]


def check_statuses(runs) -> None:
    """Runs end as success or failure; only the flaky endpoint may end one in an exception
    (a model call that failed on every retry), and then the error names the HTTP failure."""
    ok = runs.status.isin(["success", "failure"])
    bad = runs[~ok]
    assert (bad.backend == "sim/flaky").all() and (bad.status == "exception").all(), bad[["run_id", "status", "error"]]
    assert bad.outcome_reason.str.contains("Error").all()


def run_spans(spans, run_id, agents: set[str]):
    """The run's spans and its agent spans, after checking the run's skeleton: one root
    (the run span), one trace, agent spans named ``invoke_agent <agent_name>`` for agents of
    ``agents`` only."""
    s = spans[spans.run_id == run_id]
    roots = s[s.parent_span_id.isna()]
    assert len(roots) == 1 and roots.iloc[0].span_type == "run" and s.trace_id.nunique() == 1
    ag = s[s.span_type == "agent"]
    assert (ag.name == "invoke_agent " + ag.agent_name).all() and set(ag.agent_name) <= agents
    return s, ag


def check_span_tree(study, agents: set[str], tools: frozenset[str] = frozenset({"local_retriever", "web_search"}),
                    web_tool: str = "web_search") -> None:
    """Every run of a QA instance's study has one root run span, one trace, parents that
    exist, agent spans named after ``agents``, LLM spans with tokens and bytes, tool spans
    of ``tools`` only (no ``web_tool`` with tools off, some with tools on) and message
    edges from ``__start__`` to ``__end__``."""
    spans, runs = study.spans, study.runs
    for row in runs.itertuples():
        s, ag = run_spans(spans, row.run_id, agents)
        assert set(s.parent_span_id.dropna()) <= set(s.span_id) and len(ag)
        llm = s[s.span_type == "llm"]
        assert len(llm) and (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all()
        assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all()
        used = set(s[s.span_type == "tool"].tool_name)
        assert used <= tools
        if not row.tools_enabled:
            assert web_tool not in used, row.run_id
        edges = edge_sequence(spans, row.run_id)
        assert edges[0][0] == "__start__" and edges[-1][1] == "__end__"
    on = runs[runs.tools_enabled]
    assert web_tool in set(spans[spans.run_id.isin(on.run_id) & (spans.span_type == "tool")].tool_name)
