"""maestro adapter for Google ADK (google-adk 2.x).

Wrap a root agent, an ``App`` or a ``Runner`` in one line::

    from maestro.adapters.adk import instrument
    with maestro.trace_run("my-study") as run:
        app = instrument(root_agent, run)          # or instrument(my_app, run)
        result = app.run("Plan a launch for ...")
        print(result.text)

``instrument`` adds a :class:`MaestroAdkPlugin` to the app's plugins (a copy of your
``App``; your object is not modified) and returns an :class:`InstrumentedAdk`, which runs
messages through an ``InMemoryRunner`` (or the runner you passed, with the plugin
registered on it: instrumenting it again replaces that plugin, ``uninstrument()`` removes
it). While it runs, ADK's own OpenTelemetry spans are suppressed (see ``native``) so every
model call is recorded exactly once, by the plugin.

Your own ``App`` and ``Runner`` instead: add ``MaestroAdkPlugin(run)`` to the App's plugins
and drive the runner yourself. The plugin keeps ADK's agent, model and tool spans out of
your tracer provider; ADK's one invocation span stays unless you step the runner inside
:func:`suppressed`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from maestro.adapters import _common as common
from maestro.adapters.adk import extract
from maestro.adapters.adk.native import suppressed
from maestro.adapters.adk.plugin import END, START, STREAM_INVOCATIONS, MaestroAdkPlugin
from maestro.collector.telemetry import RunTelemetry, current_telemetry

__all__ = ["MaestroAdkPlugin", "InstrumentedAdk", "AdkResult", "instrument", "suppressed", "START", "END"]

log = logging.getLogger(__name__)

FRAMEWORK = "adk"


@dataclass
class AdkResult:
    """What one message through the agent tree produced."""

    text: str
    """Text of the last final response ('' when no agent answered in text)."""
    author: str | None
    """Agent that gave that final response."""
    session_id: str
    """Session the message ran in (pass it again to continue the conversation)."""
    events: list[Any] = field(default_factory=list, repr=False)
    """Every event the runner yielded, in order (left out of ``repr``: asyncio formats the
    result of a finished task, and a full event dump costs milliseconds)."""

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"AdkResult(author={self.author!r}, text={text!r}, events={len(self.events)})"


class InstrumentedAdk:
    """An ADK app whose runs are traced. ``run``/``run_async``/``stream`` send one user
    message; anything else is delegated to the wrapped ``App``."""

    def __init__(self, app: Any, runner: Any, plugin: MaestroAdkPlugin, user_id: str = "user",
                 target: Any = None):
        self.app = app
        """The App carrying the maestro plugin."""
        self.runner = runner
        """The runner (``InMemoryRunner`` unless you passed your own)."""
        self.plugin = plugin
        self.user_id = user_id
        self.target = target
        """What was instrumented (your agent, App or Runner)."""

    def uninstrument(self) -> Any:
        """Remove the maestro plugin from the runner; returns what was instrumented."""
        _remove_plugin(self.runner.plugin_manager, self.plugin)
        return self.target

    async def _session_id(self, user_id: str, session_id: str | None) -> str:
        service = self.runner.session_service
        app_name = self.runner.app_name
        if session_id is not None:
            existing = await service.get_session(app_name=app_name, user_id=user_id, session_id=session_id)
            if existing is not None:
                return session_id
        session = await service.create_session(app_name=app_name, user_id=user_id, session_id=session_id)
        return session.id

    async def stream(self, message: Any, *, user_id: str | None = None, session_id: str | None = None,
                     run_config: Any = None) -> AsyncIterator[Any]:
        """Yield the runner's events for one user message (text or ``types.Content``)."""
        from google.genai import types

        user_id = user_id or self.user_id
        content = message if isinstance(message, types.Content) else types.Content(
            role="user", parts=[types.Part(text=str(message))])
        with suppressed():
            sid = await self._session_id(user_id, session_id)
        kwargs = {"user_id": user_id, "session_id": sid, "new_message": content}
        if run_config is not None:
            kwargs["run_config"] = run_config
        # The gate is set around each step of ADK's generator, never across our own
        # ``yield``: an async generator runs in its consumer's context, so a gate held
        # while suspended would switch off ADK's spans in the caller's code too (and stay
        # off after a ``break`` that leaves this generator unclosed).
        events = self.runner.run_async(**kwargs)
        opened: list[str] = []
        try:
            while True:
                with suppressed():
                    token = STREAM_INVOCATIONS.set(opened)
                    try:
                        event = await events.__anext__()
                    except StopAsyncIteration:
                        break
                    finally:
                        STREAM_INVOCATIONS.reset(token)
                yield event
        except BaseException as e:
            # Cancelled, timed out or failed where ADK reports nothing: end the open spans now
            # (not at the end of the whole run).
            self.plugin.close_invocations(opened, common.error_text(e) if not isinstance(e, GeneratorExit)
                                          else "event stream closed before the run ended")
            raise
        finally:
            with suppressed():
                await events.aclose()

    async def run_async(self, message: Any, *, user_id: str | None = None, session_id: str | None = None,
                        run_config: Any = None) -> AdkResult:
        """Run one user message to completion and collect its events."""
        user_id = user_id or self.user_id
        sid = await self._session_id(user_id, session_id)
        events, text, author = [], "", None
        async for event in self.stream(message, user_id=user_id, session_id=sid, run_config=run_config):
            events.append(event)
            try:
                if event.is_final_response() and event.content is not None:
                    answer = extract.content_text(event.content)
                    if answer or not extract.function_calls(event.content):
                        text, author = answer, event.author
            except Exception:  # an odd event must not lose the run
                log.debug("could not read an ADK event", exc_info=True)
        return AdkResult(text=text, author=author, session_id=sid, events=events)

    def run(self, message: Any, **kwargs: Any) -> AdkResult:
        """Synchronous ``run_async`` (in a fresh event loop; use ``run_async`` inside one)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run_async(message, **kwargs))
        raise RuntimeError("InstrumentedAdk.run() called inside a running event loop; await run_async() instead")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)


def _remove_plugin(plugin_manager: Any, plugin: MaestroAdkPlugin | None = None) -> None:
    """Take ``plugin`` (default: every maestro plugin) off a runner's plugin manager."""
    plugin_manager.plugins[:] = [
        p for p in plugin_manager.plugins
        if not (p is plugin if plugin is not None else isinstance(p, MaestroAdkPlugin))]


def _runner_types():
    from google.adk.apps import App
    from google.adk.runners import InMemoryRunner, Runner

    return App, Runner, InMemoryRunner


def instrument(
    app_or_agent: Any,
    telemetry: RunTelemetry | None = None,
    provider: str | None = "",
    *,
    capture_content: bool | None = None,
    app_name: str | None = None,
) -> InstrumentedAdk:
    """Trace ``app_or_agent`` (a root agent, an ``App`` or a ``Runner``) into ``telemetry``.

    Instrumenting the same ``Runner`` (or the ``InstrumentedAdk`` it returned) again, e.g. for
    the next traced run, replaces its maestro plugin; an ``App`` that carries a maestro plugin
    gets the new one instead in the copy.

    Args:
        app_or_agent: your ADK root agent, ``App`` or ``Runner`` (or an ``InstrumentedAdk``).
        telemetry: the run's telemetry; defaults to the active one (``maestro.trace_run``).
        provider: ``gen_ai.provider.name`` for LLM spans (the runner passes the endpoint's);
            empty: derived from the model class (ADK's own guess mislabels custom models).
        capture_content: override the run's content-capture setting.
        app_name: app name when wrapping a bare agent (default: the agent's name).
    """
    telemetry = telemetry or current_telemetry()
    if telemetry is None:
        raise RuntimeError(
            "maestro.adapters.adk.instrument: no active run telemetry; pass one or call it inside "
            "`with maestro.trace_run(...)`"
        )
    App, Runner, InMemoryRunner = _runner_types()
    if isinstance(app_or_agent, InstrumentedAdk):
        app_or_agent = app_or_agent.runner
    plugin = MaestroAdkPlugin(telemetry, provider=provider or None, capture_content=capture_content)
    if isinstance(app_or_agent, Runner):
        runner = app_or_agent
        _remove_plugin(runner.plugin_manager)  # a previous run's
        runner.plugin_manager.register_plugin(plugin)
        app = getattr(runner, "app", None)
        return InstrumentedAdk(app, runner, plugin, target=runner)
    if isinstance(app_or_agent, App):
        kept = [p for p in app_or_agent.plugins if not isinstance(p, MaestroAdkPlugin)]
        app = app_or_agent.model_copy(update={"plugins": [*kept, plugin]})
    elif hasattr(app_or_agent, "run_async") and hasattr(app_or_agent, "name"):
        app = App(name=app_name or _app_name(app_or_agent.name), root_agent=app_or_agent, plugins=[plugin])
    else:
        raise TypeError(
            f"maestro.adapters.adk.instrument: expected an ADK agent, App or Runner, got {type(app_or_agent).__name__}"
        )
    return InstrumentedAdk(app, InMemoryRunner(app=app), plugin, target=app_or_agent)


def _app_name(name: str) -> str:
    # App names must be identifiers; agent names already are, but be safe.
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name)) or "app"
    return cleaned if not cleaned[0].isdigit() else f"app_{cleaned}"
