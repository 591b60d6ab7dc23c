"""Column specifications of every table maestro stores.

One declarative list per table: each column has a name, an Arrow type and a doc string.
The writers build Arrow tables from these lists, the reader validates files against them,
and ``docs/trace-format.md`` documents exactly these columns (a test keeps them in step).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = ["Column", "SPAN_COLUMNS", "RESOURCE_COLUMNS", "RUN_COLUMNS", "arrow_schema", "markdown_table", "TABLES"]


@dataclass(frozen=True)
class Column:
    """One stored column."""

    name: str
    """Column name."""
    type: pa.DataType
    """Arrow type; every column is nullable."""
    doc: str
    """What the column holds (rendered into docs/trace-format.md)."""
    optional: bool = False
    """True for a column added after files of the same schema version were written: a
    file without it is still valid and readers fill it with nulls of ``type``. Only new
    columns may be optional (an additive change keeps SCHEMA_VERSION); removing or
    retyping a column needs a new schema version."""


_S, _I, _F, _B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

RUN_IDENTITY_COLUMNS: list[Column] = [
    Column("study_id", _S, "Study id (folder name under traces/)."),
    Column("run_id", _S, "Run id, unique in the study and stable across resumes."),
    Column("instance", _S, "MAS instance name, e.g. `crag`."),
    Column("framework", _S, "`langgraph`, `autogen`, `adk`, `mcp_agent` or `custom`."),
    Column("backend", _S, "Backend spec, e.g. `sim/strong`, `openai/gpt-4o-mini`."),
    Column("tools_enabled", _B, "Whether external tools (web search) were on."),
    Column("repeat", _I, "Repeat index within the configuration cell (0-based)."),
    Column("seed", _I, "Run seed; fixes the simulated model's responses."),
    Column("task_id", _S, "Task id within the study's task set."),
]

SPAN_COLUMNS: list[Column] = RUN_IDENTITY_COLUMNS + [
    Column("trace_id", _S, "32-hex trace id; one per run."),
    Column("span_id", _S, "16-hex span id."),
    Column("parent_span_id", _S, "16-hex parent span id; null for the run root."),
    Column("name", _S, "Span name, e.g. `invoke_agent grade_documents`, `chat sim-strong`."),
    Column("kind", _S, "OTel span kind: INTERNAL, CLIENT, SERVER, PRODUCER, CONSUMER."),
    Column("span_type", _S, "maestro.span.type: run, agent, llm, tool, message, other."),
    Column("operation", _S, "gen_ai.operation.name: invoke_workflow, invoke_agent, chat, execute_tool, ..."),
    Column("agent_name", _S, "gen_ai.agent.name: the agent the span belongs to (LLM/tool spans inherit it)."),
    Column("start_time_ns", _I, "Start, ns since the Unix epoch (the span clock: time.time_ns)."),
    Column("end_time_ns", _I, "End, ns since the Unix epoch."),
    Column("duration_ns", _I, "end_time_ns - start_time_ns."),
    Column("status_code", _S, "UNSET, OK or ERROR."),
    Column("status_description", _S, "Error description (redacted) when status is ERROR."),
    Column("provider", _S, "gen_ai.provider.name on LLM spans (`maestro.sim`, `openai`, `gcp.gemini`)."),
    Column("request_model", _S, "gen_ai.request.model on LLM spans."),
    Column("response_model", _S, "gen_ai.response.model on LLM spans."),
    Column("input_tokens", _I, "gen_ai.usage.input_tokens; set on LLM spans only (never summed into parents)."),
    Column("output_tokens", _I, "gen_ai.usage.output_tokens; LLM spans only."),
    Column("total_tokens", _I, "gen_ai.usage.total_tokens; LLM spans only."),
    Column("usage_estimated", _B, "True when tokens were estimated from text (provider reported none)."),
    Column("tool_name", _S, "gen_ai.tool.name on tool spans."),
    Column("tool_call_id", _S, "gen_ai.tool.call.id on tool spans."),
    Column("tool_type", _S, "gen_ai.tool.type on tool spans."),
    Column("message_source", _S, "On message spans: sending agent (`__start__` = run input)."),
    Column("message_target", _S, "On message spans: receiving agent (`__end__` = run output)."),
    Column("input_bytes", _I, "communication.input_message_size_bytes: HTTP request body bytes (LLM) or serialised message bytes (message)."),
    Column("output_bytes", _I, "communication.output_message_size_bytes: HTTP response body bytes, all attempts and stream chunks (LLM)."),
    Column("total_bytes", _I, "communication.total_message_size_bytes."),
    Column("is_in_process_call", _B, "communication.is_in_process_call: true for in-memory messages, false for HTTP."),
    Column("http_attempts", _I, "maestro.http.attempts: HTTP requests behind one LLM call (retries included)."),
    Column("retry_attempt", _I, "agent.retry.attempt_number."),
    Column("retry_trigger", _S, "agent.retry.trigger."),
    Column("retry_previous_span_id", _S, "agent.retry.previous_span_id (retry lineage)."),
    Column("failure_category", _S, "agent.failure.category."),
    Column("failure_reason", _S, "agent.failure.reason."),
    Column("attributes_json", _S, "All other span attributes as a JSON object (content only if the study opted in, redacted)."),
    Column("events_json", _S, "Span events (e.g. exceptions) as a JSON list of {name, time_ns, attributes}."),
]

RESOURCE_COLUMNS: list[Column] = [
    Column("study_id", _S, "Study id."),
    Column("run_id", _S, "Run id."),
    Column("time_ns", _I, "Sample time on the span clock (time.time_ns)."),
    Column("cpu_percent", _F, "CPU % of the run process and its children since the previous sample (100 = one core)."),
    Column("rss_bytes", _I, "Resident memory of the run process and its children."),
    Column("num_processes", _I, "Processes counted (the run process plus live children)."),
]

RUN_COLUMNS: list[Column] = [
    Column("schema_version", _I, "maestro.semconv.SCHEMA_VERSION that wrote the row."),
    *RUN_IDENTITY_COLUMNS,
    Column("model", _S, "Model name sent on the wire (null when unknown)."),
    Column("response_model", _S, "Model name the provider reported in its responses (most frequent over the run's LLM spans); null when none was reported.", optional=True),
    Column("provider", _S, "gen_ai.provider.name of the backend (`maestro.sim` for the simulated service)."),
    Column("simulated", _B, "True when the backend is maestro's simulated service."),
    Column("task_meta_json", _S, "Task metadata (e.g. hops) as JSON."),
    Column("status", _S, "success, failure, exception, timeout, crashed or write_failed (the run's files could not be written; rerun on resume)."),
    Column("outcome", _S, "run.outcome: success or failure (paper)."),
    Column("outcome_reason", _S, "Why the run ended as it did (redacted error text for exceptions)."),
    Column("judgement", _S, "run.judgement: `correct` or `wrong` when a scorer judged the answer, else `unjudged` (never a failure by itself)."),
    Column("judgement_reason", _S, "How the judgement was reached (the scorer's explanation)."),
    Column("score", _F, "The scorer's numeric score (1.0 correct, 0.0 wrong, or a partial value); null when unjudged.", optional=True),
    Column("exact_match", _F, "Exact match against gold (0/1), null without gold."),
    Column("f1", _F, "Token F1 against gold, null without gold."),
    # optional: studies written before the column existed load with nulls
    Column("question", _S, "Task question (redacted); null when answers are not stored.", optional=True),
    Column("answer", _S, "Final answer (redacted); null when answers are not stored."),
    Column("gold", _S, "The task's target (gold) answer; null when the task has none."),
    Column("started_at_ns", _I, "Run start on the span clock (before set-up)."),
    Column("duration_s", _F, "Seconds of the MAS's own work: the run root span (same as `working_s`)."),
    Column("setup_s", _F, "Seconds before the MAS started: building it (framework clients, lazy imports), wrapping it with the adapter, resolving the backend.", optional=True),
    Column("working_s", _F, "Seconds of the MAS's own work: the run root span, from the first call into the MAS to its return.", optional=True),
    Column("total_s", _F, "Seconds from the run's start to its record: set-up + work + scoring + teardown (span and resource writes, OTLP flush).", optional=True),
    Column("input_tokens", _I, "Sum of input tokens over the run's LLM spans."),
    Column("output_tokens", _I, "Sum of output tokens over the run's LLM spans."),
    Column("total_tokens", _I, "input_tokens + output_tokens."),
    Column("usage_estimated_calls", _I, "LLM calls whose usage was estimated."),
    Column("bytes_unobserved_calls", _I, "LLM calls whose HTTP bytes maestro could not observe (an unhooked client or an in-process model; their byte columns count nothing for them).", optional=True),
    Column("cost_usd", _F, "Sum over LLM spans of tokens x the study's price snapshot (0 for simulated prices unless set)."),
    Column("llm_calls", _I, "LLM spans in the run."),
    Column("tool_calls", _I, "Tool spans in the run."),
    Column("agent_turns", _I, "Agent spans in the run."),
    Column("messages", _I, "Agent-to-agent message records in the run."),
    Column("llm_request_bytes", _I, "HTTP request body bytes to model endpoints."),
    Column("llm_response_bytes", _I, "HTTP response body bytes from model endpoints."),
    Column("a2a_bytes", _I, "Serialised agent-to-agent message bytes."),
    Column("cpu_mean", _F, "Mean CPU % over resource samples."),
    Column("cpu_peak", _F, "Peak CPU %."),
    Column("cpu_min", _F, "Minimum CPU %."),
    Column("rss_mean_bytes", _F, "Mean resident memory."),
    Column("rss_peak_bytes", _I, "Peak resident memory."),
    Column("rss_min_bytes", _I, "Minimum resident memory."),
    Column("resource_samples", _I, "Resource samples taken."),
    Column("spans_created", _I, "Spans started in the run."),
    Column("spans_written", _I, "Spans written to the run's spans file."),
    Column("spans_dropped", _I, "spans_created - spans_written; > 0 flags the run."),
    Column("clean", _B, "True when nothing was dropped and the run's files are complete."),
    Column("spans_export_failed", _I, "Spans the run's OTLP export did not deliver (endpoint down, refused, not flushed within MAESTRO_OTLP_FLUSH_S); null when OTLP export was off. Never fails or flags the run.", optional=True),
    Column("attempt", _I, "How many times the runner has started this run (resumes count)."),
    Column("worker_pid", _I, "Process id of the run's worker."),
    Column("error", _S, "Traceback tail or runner error text (redacted), null when none."),
]

TABLES = {"spans": SPAN_COLUMNS, "resources": RESOURCE_COLUMNS, "runs": RUN_COLUMNS}
"""Table name -> column list."""


def arrow_schema(columns: list[Column], metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    """Arrow schema for a column list, with optional key-value metadata."""
    return pa.schema([pa.field(c.name, c.type) for c in columns], metadata=metadata)


def markdown_table(columns: list[Column]) -> str:
    """The columns as a Markdown table (docs/trace-format.md embeds these verbatim);
    optional columns are marked *(optional)* after their doc."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type} | {c.doc}{' *(optional)*' if c.optional else ''} |" for c in columns]
    return "\n".join(lines)
