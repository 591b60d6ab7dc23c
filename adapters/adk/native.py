"""Keep ADK's own OpenTelemetry spans out of a maestro-traced run.

ADK creates its native spans (``invoke_workflow``, ``invoke_agent {name}``,
``generate_content {model}``, ``execute_tool {name}``, ``call_llm`` ...) through one
module-level ``ProxyTracer`` (``google.adk.telemetry.tracing.tracer``) that every ADK module
shares, bound to the process-global tracer provider. maestro's plugin records the same
things in maestro's schema, so letting ADK's spans through would double every LLM call
wherever a global provider exists (and give wrong provider names and a broken parent tree).

Two gates, both per run, never global (other ADK runs in the same process keep their spans):

* ``suppressed()`` marks the current context; while it is active, that shared tracer hands
  out non-recording spans (``InstrumentedAdk`` steps ADK's runner inside it, so nothing of
  ADK's is recorded);
* ``mark_invocation()``, called by the plugin when ADK starts an invocation
  (``before_run_callback``), marks the invocation's span, the current one at that point:
  every ADK span opened under it is non-recording, carrying the marked span's context so its
  own children are recognised too. That covers a user who adds the plugin to their own
  ``App`` and drives their own ``Runner``: ADK's agent, model and tool spans stay out of
  their provider. The invocation span itself, which ADK opens before any plugin hook, is
  recorded once; step the runner inside ``suppressed()`` to drop it too.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, NoOpTracer, SpanContext

__all__ = ["install_gate", "suppressed", "is_suppressed", "mark_invocation", "unmark_invocation"]

log = logging.getLogger(__name__)

_SUPPRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("maestro_adk_suppress_native", default=False)
_NOOP = NoOpTracer()
_LOCK = threading.Lock()
_INSTALLED = False
_MARKED: set[int] = set()
"""Span ids of ADK invocation spans whose descendants are not recorded."""


def is_suppressed() -> bool:
    """Whether ADK's native spans are suppressed in the current context."""
    return _SUPPRESS.get()


def install_gate() -> bool:
    """Wrap ADK's shared tracer once per process. Returns False when ADK's layout is not
    what this was written against (then nothing is changed and a warning is logged)."""
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return True
        try:
            from google.adk.telemetry import tracing
        except Exception:  # pragma: no cover - ADK is a dependency of this adapter
            log.warning("maestro adk: google.adk.telemetry.tracing not importable; native spans not suppressed")
            return False
        tracer = getattr(tracing, "tracer", None)
        if tracer is None or not hasattr(tracer, "start_span") or not hasattr(tracer, "start_as_current_span"):
            log.warning("maestro adk: ADK's tracer not found; native ADK spans are not suppressed")
            return False
        orig_start = tracer.start_span
        orig_current = tracer.start_as_current_span

        # Instance attributes shadow the class's methods on this one shared object, which
        # every ADK module imported by reference.
        def start_span(*args, **kwargs):
            if _SUPPRESS.get():
                return _NOOP.start_span(*args, **kwargs)
            marked = _marked_parent(args, kwargs)
            if marked is not None:
                return NonRecordingSpan(marked)
            return orig_start(*args, **kwargs)

        def start_as_current_span(*args, **kwargs):
            if _SUPPRESS.get():
                return _NOOP.start_as_current_span(*args, **kwargs)
            marked = _marked_parent(args, kwargs)
            if marked is not None:
                return trace.use_span(NonRecordingSpan(marked), end_on_exit=False)
            return orig_current(*args, **kwargs)

        tracer.start_span = start_span
        tracer.start_as_current_span = start_as_current_span
        _INSTALLED = True
        return True


def _marked_parent(args: tuple, kwargs: dict[str, Any]) -> SpanContext | None:
    """The parent of a span ADK is opening (its ``context`` argument, else the current
    context), when that parent is a marked invocation span or one of its non-recording
    descendants (which carry its context)."""
    if not _MARKED:
        return None
    context = kwargs.get("context", args[1] if len(args) > 1 else None)
    parent = trace.get_current_span(context).get_span_context()
    return parent if parent.span_id in _MARKED else None


def mark_invocation() -> int | None:
    """Record nothing more of ADK's under the current span (the invocation ADK is starting).
    Returns the marked span id, for ``unmark_invocation``; None when there is nothing to
    mark (no valid ADK span, e.g. inside ``suppressed()``) or it is marked already (an
    invocation nested in a marked one, such as an ``AgentTool``'s). The plugin installs the
    gate that honours the mark."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or context.span_id in _MARKED:
        return None
    _MARKED.add(context.span_id)
    return context.span_id


def unmark_invocation(span_id: int | None) -> None:
    """Undo ``mark_invocation`` (when its invocation has ended)."""
    _MARKED.discard(span_id)


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Suppress ADK's native spans in this context (and tasks created inside it)."""
    install_gate()
    token = _SUPPRESS.set(True)
    try:
        yield
    finally:
        _SUPPRESS.reset(token)
