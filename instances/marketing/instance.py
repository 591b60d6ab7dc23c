"""``MarketingInstance``: the ADK marketing agency behind maestro's ``Instance`` interface.

``build`` makes one ADK ``Gemini`` model per run pointed at the run's Gemini-REST endpoint
(the simulated service's ``gemini_base_url`` or Google's API: same code path) with
google-genai's HTTP retries, and builds the agent tree; the runner wraps it with
``maestro.adapters.adk.instrument``. ``run`` sends the brief through the wrapped app and
takes the last final response (the coordinator's kit) as the answer. The LLM-call cap ends
the run as ``failure`` with the reason; a model error response (after retries) or an
unreachable endpoint propagates, and the runner records an ``exception`` naming the
backend, as for every other instance.

Options (``RunContext.options``): declared in :mod:`.options` (``temperature``,
``http_attempts``, ``max_llm_calls``; types, defaults, docs) and read through
``resolve_options``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options

from .agents import build_agency
from .judge import judge as judge_kit
from .options import OPTIONS
from .tasks import load_tasks

__all__ = ["MARKETING_INFO", "MarketingInstance", "make_model"]

MARKETING_INFO = InstanceInfo(
    name="marketing",
    title="Marketing agency",
    app_field="Marketing",
    framework="adk",
    interaction="Coordination",
    n_agents=4,
    n_tools=1,
    data_in="Artifacts",
    data_out="Open-End",
    suites="F",
    source="google/adk-samples, marketing-agency (paper Table 2, 'Marketing (adksamples)')",
)
"""The marketing agency's row of the paper's Table 2 (4 specialists under a coordinator, 1 tool)."""


def make_model(ctx: RunContext) -> Any:
    """ADK ``Gemini`` model for ``ctx.endpoint`` (needs a Gemini-REST endpoint)."""
    from google.adk.models import Gemini
    from google.genai import types

    ep = ctx.endpoint
    if not ep.gemini_base_url:
        raise ValueError(f"instance 'marketing' (ADK, Gemini REST) needs a sim/* or gemini/* backend, not {ep.spec!r}")
    os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must never probe a metadata server
    attempts = resolve_options(OPTIONS, ctx.options)["http_attempts"]
    retry = types.HttpRetryOptions(attempts=attempts, initial_delay=0.05, max_delay=1.0) if attempts > 1 else None
    return Gemini(model=ep.model, base_url=ep.gemini_base_url, client_kwargs={"api_key": ep.api_key},
                  retry_options=retry)


class _DropCacheAdvice(logging.Filter):
    # ADK advises context caching once per app and process; every run is its own process,
    # so a study would print it once per run. The agency transfers by design and the
    # simulated service has no context cache, so the advice is dropped (only it).
    def filter(self, record: logging.LogRecord) -> bool:
        return "has no context_cache_config" not in str(record.msg)


_CACHE_ADVICE_FILTER = _DropCacheAdvice()


def _quiet_cache_advice() -> None:
    logging.getLogger("google_adk.google.adk.runners").addFilter(_CACHE_ADVICE_FILTER)  # idempotent


class MarketingInstance:
    """The ADK marketing agency on the bundled business briefs."""

    info: InstanceInfo = MARKETING_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled briefs, or a user JSONL file; a seeded sample of ``n`` when given."""
        return load_tasks(source=source, n=n, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """The coordinator agent for one run (the logo tool follows ``ctx.tools_enabled``)."""
        _quiet_cache_advice()
        return build_agency(make_model(ctx), tools_enabled=ctx.tools_enabled, max_tokens=ctx.max_tokens,
                            temperature=resolve_options(self.options, ctx.options)["temperature"])

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Send the brief; the kit is the last final response. ``app`` is the wrapped agent
        the runner hands over: ``app.run(message, run_config=...)`` returns the final ``.text``."""
        from google.adk.agents.invocation_context import LlmCallsLimitExceededError
        from google.adk.agents.run_config import RunConfig

        run_config = RunConfig(max_llm_calls=resolve_options(self.options, ctx.options)["max_llm_calls"])
        try:
            text = app.run(task.question, run_config=run_config).text
        except LlmCallsLimitExceededError as e:
            return TaskResult(answer=None, outcome="failure", reason=f"LLM-call cap reached: {e}")
        # Anything else (an unreachable endpoint, a bug) propagates: the runner records it
        # as an exception naming the backend.
        if not text.strip():
            return TaskResult(answer="", outcome="failure", reason="empty launch kit from the coordinator")
        return TaskResult(answer=text, outcome="success")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Deliverables present and about the brief's business (see ``judge``)."""
        return judge_kit(task, answer)

    def warm(self) -> None:
        """Preload (forkserver): import ADK's runner and models, and build one
        google-genai client so its HTTP/SSL set-up is inherited by every forked run."""
        import google.adk.runners  # noqa: F401 - imported to be inherited by forked runs
        from google import genai
        from google.genai import types

        genai.Client(api_key="warm-up", http_options=types.HttpOptions(base_url="http://127.0.0.1:9"))
