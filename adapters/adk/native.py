"""Keep ADK's own OpenTelemetry spans out of a maestro-traced run.

ADK creates its native spans (``invoke_workflow``, ``invoke_agent {name}``,
``generate_content {model}``, ``execute_tool {name}``, ``call_llm`` ...) through one
module-level ``ProxyTracer`` (``google.adk.telemetry.tracing.tracer``) that every ADK module
shares, bound to the process-global tracer provider. maestro's plugin records the same
things in maestro's schema, so letting ADK's spans through would double every LLM call
wherever a global provider exists (and give wrong provider names and a broken parent tree).

``suppressed()`` marks the current context; while it is active, that shared tracer hands
out non-recording spans. Code outside the context (other ADK runs in the same process)
keeps ADK's spans: the gate is per context (task/thread), not global.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator

from opentelemetry.trace import NoOpTracer

__all__ = ["install_gate", "suppressed", "is_suppressed"]

log = logging.getLogger(__name__)

_SUPPRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("maestro_adk_suppress_native", default=False)
_NOOP = NoOpTracer()
_LOCK = threading.Lock()
_INSTALLED = False


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
            return orig_start(*args, **kwargs)

        def start_as_current_span(*args, **kwargs):
            if _SUPPRESS.get():
                return _NOOP.start_as_current_span(*args, **kwargs)
            return orig_current(*args, **kwargs)

        tracer.start_span = start_span
        tracer.start_as_current_span = start_as_current_span
        _INSTALLED = True
        return True


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Suppress ADK's native spans in this context (and tasks created inside it)."""
    install_gate()
    token = _SUPPRESS.set(True)
    try:
        yield
    finally:
        _SUPPRESS.reset(token)
