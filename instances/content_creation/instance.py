"""``ContentCreationInstance``: the distributed ADK content studio behind maestro's ``Instance``.

``build`` starts the planner, writer and editor as A2A servers, each in its own process on
a free loopback port (:class:`~.servers.RemoteServers`; or uses servers already running
elsewhere, option ``remote_urls``), each given the run's Gemini-REST endpoint, and builds
the coordinator against them; the runner wraps it with ``maestro.adapters.adk.instrument``,
whose A2A hook carries the run's trace context to the servers and records the hand-overs.
``run`` sends the brief, takes the coordinator's final reply as the article and stops the
servers. A hand-over that fails (a remote process killed or hung past ``remote_timeout_s``)
ends the run as ``failure`` naming the agent; the LLM-call cap also ends it as ``failure``.
"""

from __future__ import annotations

import logging
from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options

from .agents import make_model
from .coordinator import RemoteAgentError, build_coordinator
from .judge import judge as judge_article
from .options import OPTIONS
from .prompts import REMOTE_AGENTS
from .servers import RemoteServers
from .tasks import load_tasks

__all__ = ["CONTENT_CREATION_INFO", "ContentCreationInstance", "parse_remote_urls"]

CONTENT_CREATION_INFO = InstanceInfo(
    name="content_creation",
    title="Content creation (ADK agents over A2A)",
    app_field="Content",
    framework="adk",
    interaction="Coordination",
    n_agents=4,
    n_tools=1,
    data_in="Artifacts",
    data_out="Open-End",
    suites="F",
    source="ADK A2A multi-agent content creation sample (paper Table 2, the distributed instance)",
)
"""The studio's row of the paper's Table 2 (coordinator + 3 remote agents, 1 tool)."""

log = logging.getLogger(__name__)


def parse_remote_urls(value: str) -> dict[str, str]:
    """``'content_planner=URL,...'`` -> ``{name: URL}``; a ValueError names a missing or unknown agent."""
    urls = {}
    for item in filter(None, (s.strip() for s in value.split(","))):
        name, sep, url = item.partition("=")
        if not sep or name.strip() not in REMOTE_AGENTS:
            raise ValueError(f"remote_urls: {item!r} is not <agent>=<url> with agent in {', '.join(REMOTE_AGENTS)}")
        urls[name.strip()] = url.strip()
    missing = [n for n in REMOTE_AGENTS if n not in urls]
    if missing:
        raise ValueError(f"remote_urls: no URL for {', '.join(missing)}")
    return urls


def _remote_error(exc: BaseException) -> RemoteAgentError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RemoteAgentError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class ContentCreationInstance:
    """The content studio on the bundled briefs."""

    info: InstanceInfo = CONTENT_CREATION_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def __init__(self) -> None:
        self.servers: RemoteServers | None = None
        """The current run's servers (one run per process)."""

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled briefs, or a user JSONL file; a seeded sample of ``n`` when given."""
        return load_tasks(source=source, n=n, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """Start (or find) the remote agents and build the coordinator for one run."""
        ep = ctx.endpoint
        if not ep.gemini_base_url:
            raise ValueError(f"instance 'content_creation' (ADK, Gemini REST) needs a sim/* or gemini/* backend, "
                             f"not {ep.spec!r}")
        opts = resolve_options(self.options, ctx.options)
        config = {"gemini_base_url": ep.gemini_base_url, "model": ep.model, "api_key": ep.api_key,
                  "provider": ep.provider, "tools_enabled": ctx.tools_enabled, "temperature": opts["temperature"],
                  "max_tokens": ctx.max_tokens, "http_attempts": opts["http_attempts"]}
        if opts["remote_urls"]:
            urls = parse_remote_urls(opts["remote_urls"])
        else:
            self.stop()
            self.servers = RemoteServers(REMOTE_AGENTS, config, opts["start_timeout_s"], opts["launch"])
            urls = self.servers.start()
        timeout = min(float(ctx.timeout_s), opts["remote_timeout_s"])
        return build_coordinator(make_model(config), urls, config, max_revisions=opts["max_revisions"],
                                 remote_timeout_s=timeout)

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Send the brief; the article is the coordinator's final reply. Stops the servers."""
        from google.adk.agents.invocation_context import LlmCallsLimitExceededError
        from google.adk.agents.run_config import RunConfig

        run_config = RunConfig(max_llm_calls=resolve_options(self.options, ctx.options)["max_llm_calls"])
        try:
            text = app.run(task.question, run_config=run_config).text
        except LlmCallsLimitExceededError as e:
            return TaskResult(answer=None, outcome="failure", reason=f"LLM-call cap reached: {e}")
        except Exception as e:
            remote = _remote_error(e)
            if remote is None:
                raise
            return TaskResult(answer=None, outcome="failure", reason=str(remote)[:500])
        finally:
            self.stop()
        if not text.strip():
            return TaskResult(answer="", outcome="failure", reason="empty article from the coordinator")
        return TaskResult(answer=text, outcome="success")

    def stop(self) -> None:
        """Stop the current run's servers (idempotent)."""
        if self.servers is not None:
            self.servers.stop()
            self.servers = None

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Key points covered within the length (see ``judge``)."""
        return judge_article(task, answer)

    def warm(self) -> None:
        """Preload (forkserver): import ADK's runner and A2A client and what an A2A server
        needs, so forked runs and the servers they fork start with them imported."""
        import a2a.server.apps  # noqa: F401 - imported to be inherited by forked runs
        import a2a.server.request_handlers  # noqa: F401
        import google.adk.a2a.agent  # noqa: F401
        import google.adk.runners  # noqa: F401
        import uvicorn  # noqa: F401
