"""maestro's unified span schema: every attribute name, span type and enum in one place.

This module imports nothing of maestro's; every other part speaks through these names.

The schema follows the MAESTRO paper's Listing 1 and the OpenTelemetry GenAI semantic
conventions (Development stability at the time of writing). Two deliberate differences
from the paper:

* The paper's ``gen_ai.operation.name = "call_llm"`` is written as the current OTel
  operation name ``chat`` (``generate_content`` for Gemini-shaped calls). Analysis code
  should test ``maestro.span.type == "llm"`` rather than an operation name.
* The paper's ``gen_ai.system`` is superseded by ``gen_ai.provider.name``; maestro writes
  the latter. ``GEN_AI_SYSTEM`` is kept so traces from older tools can be read.

maestro adds what neither the paper nor OTel defines: run identity (``maestro.*``),
explicit agent-to-agent message records, HTTP attempt counts and whether token usage was
estimated.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "SCHEMA_VERSION",
    "SIM_PROVIDER",
    "SpanType",
    "Operation",
    "RunStatus",
    "Judgement",
    "RetryTrigger",
    "AgentFailureCategory",
    "PAPER_OPERATION_ALIASES",
    "OPERATION_SPAN_TYPES",
    "SECRET_ENV_MARKERS",
    "SECRET_ENV_SUBSTRINGS",
    "SECRET_ENV_WORDS",
    "SECRET_ENV_EXCLUDED",
]

SCHEMA_VERSION = 1
"""Version of the span schema and of the on-disk trace layout. Stored in every artefact
(parquet key-value metadata ``maestro.schema_version``, ``study.json``, ``runs.parquet``).
Bump when a column changes meaning or type; readers refuse versions they do not know."""

SCHEMA_VERSION_METADATA_KEY = b"maestro.schema_version"
"""Parquet key-value metadata key that carries SCHEMA_VERSION in every file maestro writes."""

ARTEFACT_METADATA_KEY = b"maestro.artefact"
"""Parquet key-value metadata key naming what a file holds (``spans``, ``resources``, ``runs``)."""


class SpanType(str, Enum):
    """maestro's coarse classification of a span, stored as ``maestro.span.type``."""

    RUN = "run"
    """The root span of one run (one task through one MAS)."""
    AGENT = "agent"
    """One turn of one agent (a LangGraph node execution, an AutoGen agent reply, ...)."""
    LLM = "llm"
    """One model call (the paper's ``call_llm``)."""
    TOOL = "tool"
    """One tool execution."""
    MESSAGE = "message"
    """One agent-to-agent message: zero-duration record with source, target and bytes."""
    OTHER = "other"
    """Anything else a framework or user emits."""


class Operation(str, Enum):
    """Values of ``gen_ai.operation.name`` (OTel GenAI conventions)."""

    CHAT = "chat"
    """An LLM chat call. The paper calls this ``call_llm``."""
    GENERATE_CONTENT = "generate_content"
    """A Gemini-shaped LLM call; analysed exactly like ``chat``."""
    INVOKE_AGENT = "invoke_agent"
    """An agent turn."""
    EXECUTE_TOOL = "execute_tool"
    """A tool call."""
    INVOKE_WORKFLOW = "invoke_workflow"
    """A whole run of a multi-agent workflow (maestro's run root)."""
    EMBEDDINGS = "embeddings"
    """An embeddings call; analysed as an LLM call."""


PAPER_OPERATION_ALIASES = {"call_llm": Operation.CHAT.value}
"""Operation names used in the paper mapped to the OTel names maestro writes."""

OPERATION_SPAN_TYPES = {
    Operation.INVOKE_WORKFLOW.value: SpanType.RUN.value,
    Operation.INVOKE_AGENT.value: SpanType.AGENT.value,
    Operation.CHAT.value: SpanType.LLM.value,
    Operation.GENERATE_CONTENT.value: SpanType.LLM.value,
    Operation.EMBEDDINGS.value: SpanType.LLM.value,
    "text_completion": SpanType.LLM.value,
    "call_llm": SpanType.LLM.value,
    Operation.EXECUTE_TOOL.value: SpanType.TOOL.value,
}
"""Span type of spans that carry an operation name but no ``maestro.span.type`` (spans
of frameworks and other instrumentations)."""


class RunStatus(str, Enum):
    """How a run ended, as the runner saw it (``run.outcome`` plus maestro's detail)."""

    SUCCESS = "success"
    """The MAS returned an answer (whether it is correct is ``run.judgement``)."""
    FAILURE = "failure"
    """The MAS returned but reported failure (no answer, or an explicit failure)."""
    EXCEPTION = "exception"
    """The MAS raised; the reason holds the exception type and message."""
    TIMEOUT = "timeout"
    """The run exceeded its time cap and was stopped (or killed)."""
    CRASHED = "crashed"
    """The worker process died without reporting (segfault, OOM kill)."""
    WRITE_FAILED = "write_failed"
    """The run's files could not be written (a full disk, a vanished folder): its spans are
    lost, and a resume runs it again."""


SIM_PROVIDER = "maestro.sim"
"""``gen_ai.provider.name`` of maestro's simulated LLM service."""


class Judgement(str, Enum):
    """Values of ``run.judgement``."""

    CORRECT = "correct"
    WRONG = "wrong"
    UNJUDGED = "unjudged"
    """No judgement: no scorer, no target to score against, or the run produced nothing to
    score. Never counted as a failure. (Studies written before 0.2 say ``unknown``; readers
    map it to ``unjudged``.)"""


class RetryTrigger(str, Enum):
    """Values of ``agent.retry.trigger`` (paper Listing 1)."""

    QUALITY = "quality"
    RELEVANCE_GUARD = "relevance_guard"
    GUARD_FAIL = "guard_fail"
    TIMEOUT = "timeout"
    SYSTEM = "system"
    UPSTREAM = "upstream"


class AgentFailureCategory(str, Enum):
    """Values of ``agent.failure.category`` (paper Listing 1): why one span failed. (A run's
    failure in Table 3's taxonomy is ``maestro.analysis.failures.FailureCategory``.)"""

    GUARD = "guard"
    QUALITY = "quality"
    SYSTEM = "system"
    TIMEOUT = "timeout"
    UPSTREAM = "upstream"


# --- OTel GenAI attributes (Listing 1, "attributes") -----------------------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
"""Operation: one of ``Operation``."""
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
"""Model provider as maestro resolved it (``openai``, ``gcp.gemini``, ``maestro.sim``)."""
GEN_AI_SYSTEM = "gen_ai.system"
"""Deprecated predecessor of ``gen_ai.provider.name`` (paper Listing 1); read, never written."""
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
"""Name of the agent a span belongs to."""
GEN_AI_AGENT_ID = "gen_ai.agent.id"
"""Framework id of the agent, when it has one."""
GEN_AI_AGENT_DESCRIPTION = "gen_ai.agent.description"
"""Free-text description of the agent."""
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
"""Model name the request asked for."""
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
"""Model name the provider says answered."""
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
"""Provider's id of the completion."""
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
"""Output-token cap sent with the request."""
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
"""Conversation/session id where the framework has one."""
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
"""Tool name."""
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
"""``FunctionTool`` or ``Builtin`` (paper) / OTel ``function``, ``extension``, ``datastore``."""
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
"""Id of the tool call (the model's id, or the framework's run id when the model gave none)."""
GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description"
"""Tool description."""
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
"""Prompt tokens of one LLM call (set on LLM spans only; parents never sum them)."""
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
"""Completion tokens of one LLM call."""
GEN_AI_USAGE_TOTAL_TOKENS = "gen_ai.usage.total_tokens"
"""Input plus output tokens of one LLM call."""
GEN_AI_LLM_CALL_COUNT = "gen_ai.llm.call.count"
"""On agent and run spans: LLM calls made beneath them."""
GEN_AI_MCP_CALL_COUNT = "gen_ai.mcp.call.count"
"""On agent and run spans: MCP tool calls made beneath them."""
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
"""Finish reasons of the completion's choices."""
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
"""Prompt content (JSON). Only with content capture on; redacted."""
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
"""Completion content (JSON). Only with content capture on; redacted."""
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
"""System prompt. Only with content capture on; redacted."""
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
"""Tool arguments (JSON). Only with content capture on; redacted."""
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
"""Tool result. Only with content capture on; redacted."""

CONTENT_ATTRIBUTES = frozenset(
    {
        GEN_AI_INPUT_MESSAGES,
        GEN_AI_OUTPUT_MESSAGES,
        GEN_AI_SYSTEM_INSTRUCTIONS,
        GEN_AI_TOOL_CALL_ARGUMENTS,
        GEN_AI_TOOL_CALL_RESULT,
    }
)
"""Attributes that carry message content: written only when a study opts in."""

# --- MCP and ADK-native attributes (Listing 1), kept for traces that carry them ----------
MCP_SERVER = "mcp.server"
"""MCP server name of a tool call."""
MCP_TOOL = "mcp.tool"
"""MCP tool name."""
GCP_VERTEX_AGENT_LLM_REQUEST = "gcp.vertex.agent.llm_request"
"""ADK legacy: raw LLM request JSON (content; dropped unless capture is on)."""
GCP_VERTEX_AGENT_LLM_RESPONSE = "gcp.vertex.agent.llm_response"
"""ADK legacy: raw LLM response JSON (content; dropped unless capture is on)."""
GCP_VERTEX_AGENT_TOOL_CALL_ARGS = "gcp.vertex.agent.tool_call_args"
"""ADK legacy: tool arguments (content)."""
GCP_VERTEX_AGENT_TOOL_RESPONSE = "gcp.vertex.agent.tool_response"
"""ADK legacy: tool response (content)."""
GCP_VERTEX_AGENT_INVOCATION_ID = "gcp.vertex.agent.invocation_id"
"""ADK invocation id."""
GCP_VERTEX_AGENT_SESSION_ID = "gcp.vertex.agent.session_id"
"""ADK session id."""
GCP_VERTEX_AGENT_EVENT_ID = "gcp.vertex.agent.event_id"
"""ADK event id."""

# --- Paper's agent/run attributes (Listing 1) --------------------------------------------
AGENT_LOG = "agent.log"
"""Optional log line attached by an agent."""
AGENT_RETRY_ATTEMPT_NUMBER = "agent.retry.attempt_number"
"""1 for a first attempt, 2+ for retries of the same logical step."""
AGENT_RETRY_TRIGGER = "agent.retry.trigger"
"""Why a retry happened: one of ``RetryTrigger``."""
AGENT_RETRY_PREVIOUS_SPAN_ID = "agent.retry.previous_span_id"
"""Span id of the attempt this one retries (retry lineage)."""
AGENT_RETRY_REASON = "agent.retry.reason"
"""Free-text retry reason."""
RUN_OUTCOME = "run.outcome"
"""On the run span: ``success`` or ``failure`` (paper); maestro's finer status is ``maestro.run.status``."""
RUN_OUTCOME_REASON = "run.outcome_reason"
"""Why the run ended as it did (exception text, timeout, ...)."""
RUN_JUDGEMENT = "run.judgement"
"""On the run span: ``correct``, ``wrong`` or ``unknown`` against the gold answer."""
RUN_JUDGEMENT_REASON = "run.judgement_reason"
"""How the judgement was reached (e.g. ``exact_match=1 f1=1.00``)."""
AGENT_FAILURE_CATEGORY = "agent.failure.category"
"""On a failing span: one of ``AgentFailureCategory``."""
AGENT_FAILURE_REASON = "agent.failure.reason"
"""Free-text failure reason."""
AGENT_OUTPUT_USELESS = "agent.output.useless"
"""True when an agent produced output that later steps discarded."""
AGENT_OUTPUT_USELESS_REASON = "agent.output.useless_reason"
"""Why the output was useless."""

# --- Communication (Listing 1) -----------------------------------------------------------
COMMUNICATION_IS_IN_PROCESS_CALL = "communication.is_in_process_call"
"""True for messages passed in memory (agent-to-agent in one process), false for HTTP."""
COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES = "communication.input_message_size_bytes"
"""Bytes sent: HTTP request body for LLM spans; serialised message for message spans."""
COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES = "communication.output_message_size_bytes"
"""Bytes received: HTTP response body (all attempts, all stream chunks) for LLM spans."""
COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES = "communication.total_message_size_bytes"
"""Input plus output bytes."""

# --- maestro's own attributes ------------------------------------------------------------
MAESTRO_SPAN_TYPE = "maestro.span.type"
"""One of ``SpanType``; the column analysis filters on."""
MAESTRO_STUDY_ID = "maestro.study.id"
"""Study the run belongs to (resource attribute)."""
MAESTRO_RUN_ID = "maestro.run.id"
"""Run id, unique within a study and stable across resumes (resource attribute)."""
MAESTRO_INSTANCE = "maestro.instance"
"""MAS instance name, e.g. ``crag`` (resource attribute)."""
MAESTRO_FRAMEWORK = "maestro.framework"
"""``langgraph``, ``autogen``, ``adk`` or ``custom`` (resource attribute)."""
MAESTRO_REPEAT = "maestro.repeat"
"""Repeat index of the run within its configuration cell (resource attribute)."""
MAESTRO_SEED = "maestro.seed"
"""Seed of the run: fixes the simulated model's responses (resource attribute)."""
MAESTRO_BACKEND = "maestro.backend"
"""Backend spec, e.g. ``sim/strong`` or ``openai/gpt-4o-mini`` (resource attribute)."""
MAESTRO_BACKEND_SIMULATED = "maestro.backend.simulated"
"""True when the backend is maestro's simulated service (resource attribute)."""
MAESTRO_TOOLS_ENABLED = "maestro.tools.enabled"
"""Whether the run's external tools (web search) were on (resource attribute)."""
MAESTRO_TASK_ID = "maestro.task.id"
"""Task id within the study's task set (resource attribute)."""
MAESTRO_RUN_STATUS = "maestro.run.status"
"""On the run span: one of ``RunStatus``."""
MAESTRO_MESSAGE_SOURCE = "maestro.message.source"
"""On message spans: sending agent (``__start__`` for the run's input)."""
MAESTRO_MESSAGE_TARGET = "maestro.message.target"
"""On message spans: receiving agent (``__end__`` for the run's output)."""
MAESTRO_MESSAGE_DERIVED = "maestro.message.derived"
"""On message spans of imported traces: true when the hand-over was derived from the order
of agent spans (``maestro import``/``ingest``), not recorded by an adapter."""
MAESTRO_SOURCE_NAME = "maestro.source.name"
"""On imported spans renamed to maestro's convention: the span's name in the source trace."""
MAESTRO_USAGE_ESTIMATED = "maestro.usage.estimated"
"""True when token counts were estimated from text because the provider reported none."""
MAESTRO_HTTP_ATTEMPTS = "maestro.http.attempts"
"""On LLM spans: HTTP requests made for this call (retries included)."""
MAESTRO_HTTP_STATUS_CODES = "maestro.http.status_codes"
"""On LLM spans: HTTP status of each attempt, in order (e.g. ``[429, 200]``)."""
MAESTRO_BYTES_OBSERVED = "maestro.bytes.observed"
"""On LLM spans: ``false`` when no HTTP request of this call was seen (a client maestro does
not hook, or an in-process model): its byte attributes are then 0 because they are unknown,
not because nothing was sent. Absent when bytes were observed."""
MAESTRO_NODE_STEP = "maestro.node.step"
"""On agent spans from step-based frameworks (LangGraph): the superstep number."""

# --- Search-based architectures (LATS, Tree of Thoughts): the explored tree -----------------
MAESTRO_SEARCH_NODE_ID = "maestro.search.node_id"
"""On agent spans of a tree search: the search-tree node this step works on (e.g. ``n3``)."""
MAESTRO_SEARCH_PARENT_NODE_ID = "maestro.search.parent_node_id"
"""On agent spans of a tree search: the parent of ``maestro.search.node_id`` (absent at the root)."""
MAESTRO_SEARCH_DEPTH = "maestro.search.depth"
"""On agent spans of a tree search: depth of the node (the root is 0)."""
MAESTRO_SEARCH_SCORE = "maestro.search.score"
"""On agent spans of a tree search: the evaluator's score of the node (0..1)."""
MAESTRO_SEARCH_VALUE = "maestro.search.value"
"""On agent spans of a tree search: the node's value after backpropagation or at selection."""
MAESTRO_SEARCH_VISITS = "maestro.search.visits"
"""On agent spans of a tree search: the node's visit count after backpropagation or at selection."""
MAESTRO_SEARCH_ACTION = "maestro.search.action"
"""On agent spans of a tree search: the kind of action the node holds (``search``, ``answer``...)."""

MAESTRO_SPAN_ATTRIBUTES_EVENT = "maestro.span_attributes"
"""Name of the framework event (LangChain custom event) with which MAS code annotates the
span of the agent step that emits it; its data is a dict of ``maestro.*`` attributes."""

# --- OpenInference (Arize Phoenix and peers): written on OTLP export, read on import ------
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
"""OpenInference span kind (``AGENT``, ``LLM``, ``TOOL``, ``CHAIN``, ``EMBEDDING`` ...)."""
OPENINFERENCE_PROJECT_NAME = "openinference.project.name"
"""Resource attribute naming the Phoenix project a trace lands in."""
OPENINFERENCE_SPAN_KINDS = {
    SpanType.RUN.value: "CHAIN",
    SpanType.AGENT.value: "AGENT",
    SpanType.LLM.value: "LLM",
    SpanType.TOOL.value: "TOOL",
    SpanType.MESSAGE.value: "CHAIN",
    SpanType.OTHER.value: "CHAIN",
}
"""``maestro.span.type`` -> the OpenInference kind an exported span carries."""
LLM_MODEL_NAME = "llm.model_name"
"""OpenInference: model of an LLM span."""
LLM_PROVIDER = "llm.provider"
"""OpenInference: provider of an LLM span."""
LLM_SYSTEM = "llm.system"
"""OpenInference: model family/vendor of an LLM span (``openai``, ``vertexai`` ...)."""
LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt"
"""OpenInference: prompt tokens of an LLM span."""
LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion"
"""OpenInference: completion tokens of an LLM span."""
LLM_TOKEN_COUNT_TOTAL = "llm.token_count.total"
"""OpenInference: total tokens of an LLM span."""
TOOL_NAME = "tool.name"
"""OpenInference: tool name of a TOOL span."""
AGENT_NAME = "agent.name"
"""OpenInference: agent name of an AGENT span."""

# --- Resource attributes (Listing 1, "resource") -----------------------------------------
SERVICE_NAME = "service.name"
SERVICE_VERSION = "service.version"
DEPLOYMENT_ENVIRONMENT = "deployment.environment"
TELEMETRY_SDK_NAME = "telemetry.sdk.name"
TELEMETRY_SDK_LANGUAGE = "telemetry.sdk.language"
TELEMETRY_SDK_VERSION = "telemetry.sdk.version"
HOST_NAME = "host.name"

RUN_IDENTITY_ATTRIBUTES = (
    MAESTRO_STUDY_ID,
    MAESTRO_RUN_ID,
    MAESTRO_INSTANCE,
    MAESTRO_FRAMEWORK,
    MAESTRO_REPEAT,
    MAESTRO_SEED,
    MAESTRO_BACKEND,
    MAESTRO_BACKEND_SIMULATED,
    MAESTRO_TOOLS_ENABLED,
    MAESTRO_TASK_ID,
)
"""Resource attributes that identify a run; every span of the run carries them."""

SECRET_ENV_SUBSTRINGS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL")
"""An env var whose upper-cased name contains one of these anywhere is secret-named."""

SECRET_ENV_WORDS = ("PASS", "PWD", "AUTH", "OAUTH", "AUTHN", "AUTHZ", "AUTHORIZATION", "PRIVATE", "DSN", "CREDS")
"""An env var with one of these as a whole word of its name (words split at anything not a
letter) is secret-named: ``DB_PASS``, ``MYSQL_PWD``, ``BASIC_AUTH``, ``SENTRY_DSN``, but not
``BYPASS`` or ``GIT_AUTHOR_NAME``."""

SECRET_ENV_EXCLUDED = ("PWD", "OLDPWD", "SSH_AUTH_SOCK")
"""Env var names that are never secret although they match the rules above."""

SECRET_ENV_MARKERS = SECRET_ENV_SUBSTRINGS + ("PASS", "PWD", "AUTH", "PRIVATE", "DSN", "CREDS")
"""Substrings that every secret-named env var contains (a superset screen: a name holding
none of these is never secret). The exact rule, with whole words, exclusions and which
values count, is :func:`maestro.collector.redact.is_secret_env_name` /
:func:`~maestro.collector.redact.is_secret_value`; their values are redacted from content."""

REDACTED = "[REDACTED]"
"""What a redacted secret is replaced with."""
