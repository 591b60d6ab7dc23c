"""Spans of other instrumentations -> maestro's schema, one run at a time.

Five dialects are recognised per span (first match wins; docs/trace-format.md has the
tables):

1. **maestro** (``maestro.span.type`` set): maestro's own export, kept as it is;
2. **OpenInference** (``openinference.span.kind``): ``LLM``/``EMBEDDING`` -> ``llm``,
   ``TOOL`` -> ``tool``, ``AGENT`` -> ``agent``; a LangGraph node (a ``CHAIN`` whose
   ``metadata`` names it as ``langgraph_node``) -> ``agent`` with its superstep;
3. **OTel GenAI** (``gen_ai.operation.name``), which ADK 2.x and AutoGen emit natively:
   ``chat``/``generate_content``/``text_completion``/``embeddings`` -> ``llm``,
   ``invoke_agent`` -> ``agent``, ``execute_tool`` -> ``tool``, ``invoke_workflow`` -> ``run``.
   ADK's ``transfer_to_agent`` tool is its hand-over mechanism: it becomes ``other`` (the
   hand-over is a message edge, as maestro's ADK adapter records it);
4. **ADK legacy** span names: ``invocation``, ``agent_run [name]``, ``call_llm``;
5. everything else -> ``other``, attributes kept.

Per run: typed spans are renamed to maestro's convention (``invoke_agent <agent>``, ``chat
<model>``, ``execute_tool <tool>``; the source name kept in ``maestro.source.name``); LLM
and tool spans take the agent of their nearest agent ancestor; the run gets exactly one
root (the trace's single root becomes the run span, else one is made above the roots); and,
when the trace has no message records of its own, hand-overs are **derived** from the
order of agent spans (``maestro.message.derived = true``):

* agents with LangGraph supersteps: the adapter's rule (``__start__`` -> the first step's
  nodes, each step's finished nodes -> the next step's nodes, the last step's nodes ->
  ``__end__``; a node of a subgraph is ``<container>/<node>`` and its container stands for
  ``__start__``/``__end__``);
* otherwise (ADK, AutoGen, generic GenAI): ``__start__`` -> the first top-level agent, each
  top-level agent -> the next (ADK's transfers), the agent of the run's last model call ->
  ``__end__``; an agent nested in another agent's span is called by it (``P -> C`` when it
  starts, ``C -> P`` when it ends).

No ``__end__`` edge is derived when the run failed. Message bytes are the UTF-8 size of the
sender's ``output.value`` (and the run input's ``input.value``) when the trace carries
content, else 0.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from maestro import semconv as sc
from maestro.interop.otlp import OtlpSpan
from maestro.store.layout import valid_id

__all__ = ["MappedSpan", "MappedRun", "map_run", "classify", "detect_framework", "ImportOptions", "group_runs",
           "key_of", "run_id_for", "CONTENT_PREFIXES", "START", "END"]

START, END = "__start__", "__end__"

OI = "openinference"
"""Dialect names, as ``maestro.source.dialect`` would say them."""

CONTENT_PREFIXES = (
    "input.value", "output.value", "llm.input_messages", "llm.output_messages", "llm.prompts",
    "llm.prompt_template", "tool.parameters", "tool_call.function.arguments", "message.content",
    "gen_ai.prompt", "gen_ai.completion", "retrieval.documents", "gen_ai.input.messages",
    "gen_ai.output.messages", "gen_ai.system_instructions", "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result", "gcp.vertex.agent.llm_request", "gcp.vertex.agent.llm_response",
    "gcp.vertex.agent.tool_call_args", "gcp.vertex.agent.tool_response", "message",
)
"""Attributes (and prefixes of flattened ones) that carry content: dropped on import unless
content capture is on (then kept, redacted)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LLM_KINDS = {"LLM": sc.Operation.CHAT.value, "EMBEDDING": sc.Operation.EMBEDDINGS.value}
_TRANSFER_TOOL = "transfer_to_agent"


@dataclass
class MappedSpan(OtlpSpan):
    """One span in maestro's schema: a received span with its maestro type (plain values;
    ``maestro.runner.importer`` makes SDK spans of them)."""

    span_type: str = sc.SpanType.OTHER.value
    output_bytes: int = 0
    """UTF-8 size of the span's ``output.value`` (before content was dropped)."""
    input_bytes: int = 0
    """UTF-8 size of the span's ``input.value``."""
    step: int | None = None
    """LangGraph superstep of an agent span (OpenInference metadata)."""


@dataclass
class MappedRun:
    """The spans of one run in maestro's schema, root first."""

    spans: list[MappedSpan]
    root: MappedSpan
    resource: dict[str, Any]
    """Resource attributes of the run's spans (the first span's)."""
    derived_messages: int = 0
    """Message records derived from the order of agent spans."""

    def identity_attributes(self) -> dict[str, Any]:
        """maestro identity attributes found on the resource or the root (maestro's own
        export re-imported), root first."""
        out = {k: v for k, v in self.resource.items() if k in sc.RUN_IDENTITY_ATTRIBUTES}
        out.update({k: v for k, v in self.root.attributes.items() if k in sc.RUN_IDENTITY_ATTRIBUTES})
        return out


@dataclass(frozen=True)
class ImportOptions:
    """How spans become runs."""

    group_by: str | None = None
    """Attribute (of a span or its resource) whose value names a run; traces that share it
    form one run (AutoGen starts a trace per message). None: one run per trace id."""
    capture_content: bool = False
    """Keep content attributes (prompts, outputs, ``input.value``...), redacted."""
    instance: str | None = None
    """Instance name of every run (default: ``maestro.instance``, else ``service.name``)."""
    framework: str | None = None
    """Framework of every run (default: ``maestro.framework``, else detected)."""
    backend: str | None = None
    """Backend spec of every run (default: ``maestro.backend``, else from the model calls)."""


def key_of(span: OtlpSpan, key: str) -> Any:
    """The value of attribute ``key`` on ``span``, else on its resource (None: neither)."""
    value = span.attributes.get(key)
    return value if value is not None else span.resource.get(key)


def group_runs(spans: Iterable[OtlpSpan], group_by: str | None = None) -> dict[str, list[OtlpSpan]]:
    """Spans by run: by trace id, or by the value of ``group_by`` (a trace whose spans
    carry it anywhere joins that run; a trace that never does stays a run of its own)."""
    traces: dict[str, list[OtlpSpan]] = defaultdict(list)
    for s in spans:
        traces[s.trace_id].append(s)
    if group_by is None:
        return dict(traces)
    out: dict[str, list[OtlpSpan]] = defaultdict(list)
    for tid, members in traces.items():
        value = next((v for v in (key_of(s, group_by) for s in members) if v is not None), None)
        out[str(value) if value is not None else tid].extend(members)
    return dict(out)


def run_id_for(key: str) -> str:
    """A valid run id for a group key (a trace id, or an attribute's value)."""
    cleaned = _UNSAFE.sub("_", key).strip("._-")[:200]
    try:
        return valid_id(cleaned, "run id")
    except ValueError:
        return "run-" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _metadata(attrs: dict[str, Any]) -> dict[str, Any]:
    raw = attrs.get("metadata")
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            value = json.loads(raw)
            return value if isinstance(value, dict) else {}
        except json.JSONDecodeError:
            return {}
    return {}


def classify(span: OtlpSpan) -> tuple[str, str | None]:
    """(maestro span type, LLM operation or None) of one span, by its dialect (module doc)."""
    a = span.attributes
    if a.get(sc.MAESTRO_SPAN_TYPE):
        return str(a[sc.MAESTRO_SPAN_TYPE]), a.get(sc.GEN_AI_OPERATION_NAME)
    kind = a.get(sc.OPENINFERENCE_SPAN_KIND)
    if kind:
        kind = str(kind).upper()
        if kind in _LLM_KINDS:
            return sc.SpanType.LLM.value, _LLM_KINDS[kind]
        if kind == "TOOL":
            return sc.SpanType.TOOL.value, None
        if kind == "AGENT":
            return sc.SpanType.AGENT.value, None
        return sc.SpanType.OTHER.value, None  # CHAIN: a node or not, decided with its parent
    op = a.get(sc.GEN_AI_OPERATION_NAME)
    if op:
        op = sc.PAPER_OPERATION_ALIASES.get(str(op), str(op))
        span_type = sc.OPERATION_SPAN_TYPES.get(op, sc.SpanType.OTHER.value)
        if span_type == sc.SpanType.TOOL.value and _tool_name(span) == _TRANSFER_TOOL:
            return sc.SpanType.OTHER.value, None
        return span_type, op if span_type == sc.SpanType.LLM.value else None
    if span.name == "call_llm":
        return sc.SpanType.LLM.value, sc.Operation.GENERATE_CONTENT.value
    if span.name.startswith("agent_run"):
        return sc.SpanType.AGENT.value, None
    if span.name == "invocation":
        return sc.SpanType.RUN.value, None
    return sc.SpanType.OTHER.value, None


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):].strip() if name.startswith(prefix) else name


def _tool_name(span: OtlpSpan) -> str:
    a = span.attributes
    return str(a.get(sc.GEN_AI_TOOL_NAME) or a.get(sc.TOOL_NAME) or _strip(span.name, "execute_tool"))


def _agent_name(span: OtlpSpan) -> str:
    a = span.attributes
    name = a.get(sc.GEN_AI_AGENT_NAME) or a.get(sc.AGENT_NAME)
    if name:
        return str(name)
    text = _strip(_strip(span.name, "invoke_agent"), "agent_run")
    return text.strip("[] ") or "agent"


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _size(value: Any) -> int:
    if value is None:
        return 0
    return len((value if isinstance(value, str) else json.dumps(value, default=str)).encode())


def _is_content(key: str) -> bool:
    return any(key == p or key.startswith(p + ".") for p in CONTENT_PREFIXES)


def _llm_attributes(span: OtlpSpan, operation: str | None) -> dict[str, Any]:
    a = span.attributes
    out: dict[str, Any] = {sc.GEN_AI_OPERATION_NAME: operation or a.get(sc.GEN_AI_OPERATION_NAME) or sc.Operation.CHAT.value}
    params = a.get("llm.invocation_parameters")
    params = json.loads(params) if isinstance(params, str) and params.startswith("{") else {}
    model = a.get(sc.GEN_AI_REQUEST_MODEL) or a.get(sc.LLM_MODEL_NAME) or params.get("model") \
        or params.get("model_name") or _strip(_strip(span.name, "chat"), "generate_content")
    out[sc.GEN_AI_REQUEST_MODEL] = str(model) if model else None
    response_model = a.get(sc.GEN_AI_RESPONSE_MODEL)
    if response_model:
        out[sc.GEN_AI_RESPONSE_MODEL] = response_model
    provider = a.get(sc.GEN_AI_PROVIDER_NAME) or a.get(sc.LLM_PROVIDER) or a.get(sc.GEN_AI_SYSTEM) or a.get(sc.LLM_SYSTEM)
    if provider:
        out[sc.GEN_AI_PROVIDER_NAME] = str(provider)
    i = _int(a.get(sc.GEN_AI_USAGE_INPUT_TOKENS, a.get("gen_ai.usage.prompt_tokens", a.get(sc.LLM_TOKEN_COUNT_PROMPT))))
    o = _int(a.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS,
                   a.get("gen_ai.usage.completion_tokens", a.get(sc.LLM_TOKEN_COUNT_COMPLETION))))
    t = _int(a.get(sc.GEN_AI_USAGE_TOTAL_TOKENS, a.get(sc.LLM_TOKEN_COUNT_TOTAL)))
    if i is not None:
        out[sc.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        out[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    if t is not None or (i is not None and o is not None):
        out[sc.GEN_AI_USAGE_TOTAL_TOKENS] = t if t is not None else (i or 0) + (o or 0)
    return out


def _tool_attributes(span: OtlpSpan) -> dict[str, Any]:
    a = span.attributes
    out = {sc.GEN_AI_OPERATION_NAME: sc.Operation.EXECUTE_TOOL.value, sc.GEN_AI_TOOL_NAME: _tool_name(span)}
    call_id = a.get(sc.GEN_AI_TOOL_CALL_ID) or a.get("tool_call.id")
    if call_id:
        out[sc.GEN_AI_TOOL_CALL_ID] = str(call_id)
    return out


def _mapped(span: OtlpSpan, span_type: str, operation: str | None, capture: bool) -> MappedSpan:
    a = span.attributes
    attrs = {k: v for k, v in a.items() if capture or not _is_content(k)}
    # The run identity is re-derived per run; a span never carries another run's.
    for key in sc.RUN_IDENTITY_ATTRIBUTES:
        attrs.pop(key, None)
    name = span.name
    if span_type == sc.SpanType.LLM.value:
        attrs.update(_llm_attributes(span, operation))
        name = f"{attrs[sc.GEN_AI_OPERATION_NAME]} {attrs.get(sc.GEN_AI_REQUEST_MODEL) or 'unknown'}"
    elif span_type == sc.SpanType.TOOL.value:
        attrs.update(_tool_attributes(span))
        name = f"execute_tool {attrs[sc.GEN_AI_TOOL_NAME]}"
    elif span_type == sc.SpanType.AGENT.value:
        attrs[sc.GEN_AI_OPERATION_NAME] = sc.Operation.INVOKE_AGENT.value
        attrs[sc.GEN_AI_AGENT_NAME] = _agent_name(span)
        name = f"invoke_agent {attrs[sc.GEN_AI_AGENT_NAME]}"
    attrs[sc.MAESTRO_SPAN_TYPE] = span_type
    if name != span.name and sc.MAESTRO_SOURCE_NAME not in attrs:
        attrs[sc.MAESTRO_SOURCE_NAME] = span.name
    return MappedSpan(
        trace_id=span.trace_id, span_id=span.span_id, parent_span_id=span.parent_span_id, name=name, kind=span.kind,
        start_ns=span.start_ns, end_ns=span.end_ns, status_code=span.status_code, status_message=span.status_message,
        attributes=attrs, events=span.events, scope=span.scope, span_type=span_type,
        output_bytes=_size(a.get("output.value")), input_bytes=_size(a.get("input.value")))


def _derived_id(*parts: Any) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def detect_framework(spans: Iterable[OtlpSpan]) -> str:
    """``langgraph``, ``adk``, ``autogen`` or ``custom``: from instrumentation scopes and
    LangGraph metadata."""
    scopes = set()
    for s in spans:
        scopes.add(s.scope)
        if "langgraph_node" in _metadata(s.attributes):
            return "langgraph"
    if any(s.startswith(("gcp.vertex.agent", "google.adk")) for s in scopes):
        return "adk"
    if any(s.startswith("autogen") for s in scopes):
        return "autogen"
    return "custom"


def _to_agent(m: MappedSpan, name: str, step: int | None) -> None:
    m.span_type = sc.SpanType.AGENT.value
    m.attributes[sc.MAESTRO_SPAN_TYPE] = m.span_type
    m.attributes[sc.GEN_AI_OPERATION_NAME] = sc.Operation.INVOKE_AGENT.value
    m.attributes[sc.GEN_AI_AGENT_NAME] = name
    if step is not None:
        m.attributes[sc.MAESTRO_NODE_STEP] = step
    m.step = step
    m.attributes.setdefault(sc.MAESTRO_SOURCE_NAME, m.name)
    m.name = f"invoke_agent {name}"


def map_run(spans: list[OtlpSpan], *, capture_content: bool = False, instance: str = "imported",
            trace_id: str | None = None) -> MappedRun:
    """The spans of one run (one trace, or several grouped) in maestro's schema.

    ``trace_id``: the run's trace id when spans of several traces are grouped (all spans
    get it; default: the first span's)."""
    if not spans:
        raise ValueError("map_run: no spans")
    spans = sorted(spans, key=lambda s: (s.start_ns, s.end_ns))
    by_id = {s.span_id: s for s in spans}
    children: dict[str | None, list[OtlpSpan]] = defaultdict(list)
    for s in spans:
        children[s.parent_span_id if s.parent_span_id in by_id else None].append(s)
    mapped: dict[str, MappedSpan] = {}
    agent_of: dict[str, str | None] = {}  # span id -> name of the nearest agent at or above it
    node_key: dict[str, tuple[str, Any]] = {}  # LangGraph node spans: (node, step)

    def visit(s: OtlpSpan, parent: MappedSpan | None) -> None:
        span_type, op = classify(s)
        m = _mapped(s, span_type, op, capture_content)
        md = _metadata(s.attributes)
        container = agent_of.get(parent.span_id) if parent is not None else None
        if span_type == sc.SpanType.OTHER.value and md.get("langgraph_node") == s.name \
                and str(s.attributes.get(sc.OPENINFERENCE_SPAN_KIND, "")).upper() == "CHAIN" \
                and (parent is None or node_key.get(parent.span_id) != (s.name, md.get("langgraph_step"))):
            # a LangGraph node (routing functions and inner runnables carry their node's
            # metadata under another name); a subgraph's nodes are <container>/<node>
            _to_agent(m, f"{container}/{s.name}" if container else s.name, _int(md.get("langgraph_step")))
            node_key[m.span_id] = (s.name, md.get("langgraph_step"))
        if m.span_type == sc.SpanType.AGENT.value:
            agent_of[m.span_id] = m.attributes[sc.GEN_AI_AGENT_NAME]
        else:
            agent_of[m.span_id] = container
            if m.span_type in (sc.SpanType.LLM.value, sc.SpanType.TOOL.value) and container \
                    and not m.attributes.get(sc.GEN_AI_AGENT_NAME):
                m.attributes[sc.GEN_AI_AGENT_NAME] = container
        mapped[m.span_id] = m
        for c in children.get(s.span_id, []):
            visit(c, m)

    for r in children[None]:
        visit(r, None)
    ordered = list(mapped.values())
    roots = [m for m in ordered if m.parent_span_id not in mapped]
    tid = trace_id or spans[0].trace_id
    for m in ordered:
        m.trace_id = tid
    if len(roots) == 1 and roots[0].span_type in (sc.SpanType.RUN.value, sc.SpanType.OTHER.value):
        root = roots[0]
        root.parent_span_id = None
    else:  # several roots, or a root that is an agent or model call: one run span above them
        root = MappedSpan(
            trace_id=tid, span_id=_derived_id("root", tid), parent_span_id=None, name="", kind="INTERNAL",
            start_ns=min(m.start_ns for m in roots), end_ns=max(m.end_ns for m in roots),
            status_code="ERROR" if any(m.status_code == "ERROR" for m in roots) else "UNSET", status_message=None,
            attributes={}, input_bytes=roots[0].input_bytes, output_bytes=roots[-1].output_bytes)
        for m in roots:
            m.parent_span_id = root.span_id
        ordered.insert(0, root)
    root.span_type = sc.SpanType.RUN.value
    root.attributes[sc.MAESTRO_SPAN_TYPE] = sc.SpanType.RUN.value
    root.attributes[sc.GEN_AI_OPERATION_NAME] = sc.Operation.INVOKE_WORKFLOW.value
    if root.name:
        root.attributes.setdefault(sc.MAESTRO_SOURCE_NAME, root.name)
    root.name = f"invoke_workflow {instance}"
    run = MappedRun(ordered, root, dict(spans[0].resource))
    if not any(m.span_type == sc.SpanType.MESSAGE.value for m in ordered):
        messages = _derive_messages(ordered, root)
        run.spans.extend(messages)
        run.derived_messages = len(messages)
    return run


# -- derived hand-overs ------------------------------------------------------------------

def _message(source: str, target: str, nbytes: int, at_ns: int, parent: MappedSpan, n: int) -> MappedSpan:
    attrs = {
        sc.MAESTRO_SPAN_TYPE: sc.SpanType.MESSAGE.value, sc.MAESTRO_MESSAGE_SOURCE: source,
        sc.MAESTRO_MESSAGE_TARGET: target, sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: nbytes,
        sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: 0, sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES: nbytes,
        sc.COMMUNICATION_IS_IN_PROCESS_CALL: True, sc.MAESTRO_MESSAGE_DERIVED: True,
    }
    return MappedSpan(trace_id=parent.trace_id, span_id=_derived_id("msg", parent.trace_id, n, source, target),
                      parent_span_id=parent.span_id, name=f"message {source} -> {target}", kind="PRODUCER",
                      start_ns=at_ns, end_ns=at_ns, status_code="UNSET", status_message=None, attributes=attrs,
                      span_type=sc.SpanType.MESSAGE.value)


def _derive_messages(spans: list[MappedSpan], root: MappedSpan) -> list[MappedSpan]:
    by_id = {m.span_id: m for m in spans}
    agents = [m for m in spans if m.span_type == sc.SpanType.AGENT.value]
    if not agents:
        return []

    def container(m: MappedSpan) -> MappedSpan | None:
        p = by_id.get(m.parent_span_id or "")
        while p is not None and p.span_type != sc.SpanType.AGENT.value:
            p = by_id.get(p.parent_span_id or "")
        return p

    groups: dict[str | None, list[MappedSpan]] = defaultdict(list)
    for a in agents:
        c = container(a)
        groups[c.span_id if c is not None else None].append(a)
    out: list[MappedSpan] = []

    def emit(source: str, target: str, nbytes: int, at_ns: int, parent: MappedSpan) -> None:
        out.append(_message(source, target, nbytes, at_ns, parent, len(out)))

    stepped = all(a.step is not None for a in agents)
    for cid, members in groups.items():
        members.sort(key=lambda m: (m.start_ns, m.end_ns))
        owner = by_id[cid] if cid is not None else None
        scope_span = owner or root
        entry = owner.attributes[sc.GEN_AI_AGENT_NAME] if owner is not None else START
        exit_ = owner.attributes[sc.GEN_AI_AGENT_NAME] if owner is not None else END
        failed = scope_span.status_code == "ERROR"
        if stepped:
            steps: dict[int, list[MappedSpan]] = defaultdict(list)
            for m in members:
                steps[m.step if m.step is not None else 0].append(m)
            prev: list[tuple[str, int]] = []
            for step in sorted(steps):
                for m in steps[step]:
                    senders = prev or [(entry, m.input_bytes or scope_span.input_bytes)]
                    for source, nbytes in senders:
                        emit(source, m.attributes[sc.GEN_AI_AGENT_NAME], nbytes, m.start_ns, m)
                prev = [(m.attributes[sc.GEN_AI_AGENT_NAME], m.output_bytes) for m in steps[step]
                        if m.status_code != "ERROR"]
            if not failed:
                for source, nbytes in prev:
                    emit(source, exit_, nbytes, scope_span.end_ns, scope_span)
            continue
        if owner is not None:  # called by the agent it runs under, and returns to it
            for m in members:
                name = m.attributes[sc.GEN_AI_AGENT_NAME]
                emit(entry, name, m.input_bytes, m.start_ns, m)
                emit(name, entry, m.output_bytes, m.end_ns, owner)
            continue
        previous: MappedSpan | None = None
        for m in members:
            source, nbytes = (previous.attributes[sc.GEN_AI_AGENT_NAME], previous.output_bytes) if previous \
                else (START, m.input_bytes or root.input_bytes)
            emit(source, m.attributes[sc.GEN_AI_AGENT_NAME], nbytes, m.start_ns, m)
            previous = m
        if not failed and previous is not None:
            speaker = _last_speaker(spans, members) or previous.attributes[sc.GEN_AI_AGENT_NAME]
            emit(speaker, END, previous.output_bytes or root.output_bytes, root.end_ns, root)
    return out


def _last_speaker(spans: list[MappedSpan], members: list[MappedSpan]) -> str | None:
    """The agent of the latest-ending model call: who gave the final answer."""
    llm = [m for m in spans if m.span_type == sc.SpanType.LLM.value and m.attributes.get(sc.GEN_AI_AGENT_NAME)]
    if not llm:
        return None
    return str(max(llm, key=lambda m: m.end_ns).attributes[sc.GEN_AI_AGENT_NAME])
