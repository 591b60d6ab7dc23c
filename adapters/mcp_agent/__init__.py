"""maestro adapter for mcp-agent (0.2.x, with ``mcp`` < 2).

Wrap your ``MCPApp`` (or a workflow you built) in one line, with no change to your agents::

    from maestro.adapters.mcp_agent import instrument
    with maestro.trace_run("my-study", framework="mcp_agent") as run:
        app = instrument(MCPApp(name="finance", settings=settings), run)
        async with app.run():
            orchestrator = Orchestrator(llm_factory=OpenAIAugmentedLLM, available_agents=[...])
            await orchestrator.generate_str("...")

Records an ``invoke_agent`` span per agent or workflow call (``generate``,
``generate_str``, ``generate_structured`` of any ``AugmentedLLM``: the Orchestrator, its
planner and synthesizer, an ``EvaluatorOptimizerLLM`` and its optimizer and evaluator, the
agents' attached LLMs), a ``chat`` span per OpenAI chat completion with tokens and HTTP body
bytes, an ``execute_tool`` span per MCP tool call with server, tool and the JSON-RPC request
and response bytes, and a ``message`` edge per hand-over between a caller and the agent it
called. See ``hooks.py`` for how.
"""

from __future__ import annotations

from typing import Any

from maestro.adapters.mcp_agent.hooks import GENERATE_METHODS, Recorder, bound, current_recorder, install_hooks
from maestro.collector.telemetry import RunTelemetry, current_telemetry

__all__ = ["instrument", "uninstrument", "Recorder", "FRAMEWORK", "current_recorder"]

FRAMEWORK = "mcp_agent"

_UNDO = "_maestro_mcp_agent_undo"


def _bind_app(app: Any, recorder: Recorder) -> None:
    original = app.run  # MCPApp.run: an async context manager factory

    def run(*args, **kwargs):
        return _BoundRun(original(*args, **kwargs), recorder)

    app.run = run


class _BoundRun:
    """``app.run()``'s async context manager with the recorder bound for the block."""

    def __init__(self, inner: Any, recorder: Recorder):
        self.inner = inner
        self.recorder = recorder
        self._binding: Any = None

    async def __aenter__(self):
        self._binding = bound(self.recorder)
        self._binding.__enter__()
        try:
            return await self.inner.__aenter__()
        except BaseException:
            self._binding.__exit__(None, None, None)
            raise

    async def __aexit__(self, *exc):
        try:
            return await self.inner.__aexit__(*exc)
        finally:
            self._binding.__exit__(None, None, None)


def _binding_call(method: Any, recorder: Recorder) -> Any:
    async def call(*args, **kwargs):
        with bound(recorder):
            return await method(*args, **kwargs)

    return call


def _bind_llm(llm: Any, recorder: Recorder) -> None:
    for name in GENERATE_METHODS:
        method = getattr(llm, name, None)
        if method is not None:
            setattr(llm, name, _binding_call(method, recorder))


def instrument(target: Any, telemetry: RunTelemetry | None = None, provider: str | None = "", *,
               capture_content: bool | None = None) -> Any:
    """Trace ``target`` into ``telemetry``; returns ``target`` itself, instrumented.

    Args:
        target: an ``mcp_agent.app.MCPApp`` (everything run inside ``async with
            target.run():`` is traced) or an ``AugmentedLLM`` / workflow (each of its
            ``generate*`` calls is traced). Instrumenting it again rebinds it to the new run;
            ``uninstrument(target)`` undoes it.
        telemetry: the run's telemetry; defaults to the one active in this process
            (``maestro.trace_run`` or the study runner starts it).
        provider: ``gen_ai.provider.name`` for LLM spans (default: ``openai``, or what the
            endpoint says it is).
        capture_content: override the run's content-capture setting.

    Raises:
        RuntimeError: no telemetry given and none active.
        TypeError: ``target`` is neither an ``MCPApp`` nor an ``AugmentedLLM``.
    """
    from mcp_agent.app import MCPApp
    from mcp_agent.workflows.llm.augmented_llm import AugmentedLLM

    telemetry = telemetry or current_telemetry()
    if telemetry is None:
        raise RuntimeError(
            "maestro.adapters.mcp_agent.instrument: no active run telemetry; pass one or call it "
            "inside `with maestro.trace_run(...)`"
        )
    if not isinstance(target, (MCPApp, AugmentedLLM)):
        raise TypeError(f"maestro.adapters.mcp_agent.instrument: expected an MCPApp or AugmentedLLM, "
                        f"got {type(target).__name__}")
    install_hooks()
    uninstrument(target)
    recorder = Recorder(telemetry, provider=provider or None, capture_content=capture_content)
    names = ("run",) if isinstance(target, MCPApp) else GENERATE_METHODS
    previous = {n: target.__dict__[n] for n in names if n in target.__dict__}
    if isinstance(target, MCPApp):
        _bind_app(target, recorder)
    else:
        _bind_llm(target, recorder)
    setattr(target, _UNDO, (names, previous))
    return target


def uninstrument(target: Any) -> Any:
    """Undo :func:`instrument` on ``target`` (a no-op when it is not instrumented); the class
    hooks stay installed and inert."""
    undo = target.__dict__.get(_UNDO) if hasattr(target, "__dict__") else None
    if undo is None:
        return target
    names, previous = undo
    for n in names:
        target.__dict__.pop(n, None)
        if n in previous:
            target.__dict__[n] = previous[n]
    del target.__dict__[_UNDO]
    return target
