"""``FinancialAnalyzerInstance``: an mcp-agent financial analyzer behind maestro's ``Instance``
interface.

``build`` makes the run's ``FinancialAnalyzerApp``, an ``MCPApp`` configured for the run:
its OpenAI settings point at the run's endpoint (the simulated service or a real provider:
same code path), and with tools on it starts the run's loopback research site and declares
three stdio MCP servers of ours (``servers.py``: search, fetch, files), which mcp-agent
starts when an agent first needs them and stops when the app's run ends. Each run has its
own folder: the files server is confined to it, and the servers append their call log to it.

``run`` runs one task: inside ``async with app.run():`` an ``Orchestrator`` (full plan,
planner and synthesizer agents of ours) gets three workers: ``data_collector``, an
``EvaluatorOptimizerLLM`` whose optimizer is the ``collector`` agent (search and fetch
servers) and whose evaluator ``collector_evaluator`` rates the data; the ``analyst``; and
the ``report_writer`` (files server). The answer is the orchestrator's synthesized result.
With tools off no server and no web site is started and the agents hold no servers.

Options (``RunContext.options``): declared in :mod:`.options`.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcp_agent.agents.agent import Agent
from mcp_agent.app import MCPApp
from mcp_agent.config import (
    LoggerSettings,
    MCPServerSettings,
    MCPSettings,
    OpenAISettings,
    OpenTelemetrySettings,
    Settings,
    UsageTelemetrySettings,
)
from mcp_agent.workflows.evaluator_optimizer.evaluator_optimizer import EvaluatorOptimizerLLM, QualityRating
from mcp_agent.workflows.llm.augmented_llm import RequestParams
from mcp_agent.workflows.llm.augmented_llm_openai import OpenAIAugmentedLLM
from mcp_agent.workflows.orchestrator.orchestrator import Orchestrator

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result

from .options import MIN_RATINGS, OPTIONS
from .prompts import (
    ANALYST,
    COLLECTOR,
    DATA_COLLECTOR,
    EVALUATOR,
    ORCHESTRATOR,
    PLANNER,
    SERVERS,
    SYNTHESIZER,
    WRITER,
    instructions,
)
from .tasks import judge as judge_report
from .tasks import load_tasks
from .web import PageServer

__all__ = ["FINANCIAL_ANALYZER_INFO", "FinancialAnalyzerInstance", "FinancialAnalyzerApp", "close_connections", "CALL_LOG",
           "SERVER_MODULE", "build_orchestrator", "app_settings"]

FINANCIAL_ANALYZER_INFO = InstanceInfo(
    name="financial_analyzer",
    title="Financial Analyzer",
    app_field="Finance",
    framework="mcp_agent",
    interaction="Planning",
    n_agents=5,
    n_tools=5,
    data_in="Artifacts",
    data_out="Open-End",
    suites="F",
    source="mcp-agent's MCP financial analyzer use case (orchestrator, evaluator-optimizer data collector, "
           "analyst, report writer; MCP search, fetch and filesystem servers)",
)
"""The financial analyzer's row of the paper's Table 2: five agents (orchestrator, collector,
its evaluator, analyst, report writer; the orchestrator's planner and synthesizer are its
own), five MCP tools (search, fetch, write_file, read_file, list_files)."""

CALL_LOG = "mcp_calls.jsonl"
"""The servers' call log in a run's folder (one JSON line per ``tools/call`` served)."""

SERVER_MODULE = "maestro.instances.financial_analyzer.servers"


def app_settings(ctx: RunContext, workdir: Path, pages_url: str | None) -> Settings:
    """mcp-agent settings of one run: OpenAI against the run's endpoint, our MCP servers
    (tools on, ``pages_url`` given), mcp-agent's own logging, tracing and usage telemetry off."""
    servers = {}
    if pages_url is not None:
        log = str(workdir / CALL_LOG)
        descriptions = {"search": "Search over the financial research corpus", "fetch": "Fetch research site pages",
                        "files": "Files in the run's working folder"}
        for kind, description in descriptions.items():
            servers[kind] = MCPServerSettings(
                name=kind, description=description, transport="stdio", command=sys.executable,
                args=["-m", SERVER_MODULE, kind, "--log", log, "--pages", pages_url, "--root", str(workdir)])
    return Settings(
        execution_engine="asyncio",
        mcp=MCPSettings(servers=servers),
        openai=OpenAISettings(api_key=ctx.endpoint.api_key or "none", base_url=ctx.endpoint.base_url,
                              default_model=ctx.endpoint.model),
        logger=LoggerSettings(type="none", transports=["none"], level="error"),
        otel=OpenTelemetrySettings(enabled=False),
        usage_telemetry=UsageTelemetrySettings(enabled=False),
    )


def build_orchestrator(tools_enabled: bool, max_refinements: int = 2, min_rating: str = "EXCELLENT") -> Orchestrator:
    """The orchestrator and its workers (call inside ``async with app.run():``)."""
    text = instructions(tools_enabled)

    def agent(name: str) -> Agent:
        return Agent(name=name, instruction=text[name], server_names=list(SERVERS.get(name, ())) if tools_enabled else [])

    data_collector: EvaluatorOptimizerLLM[Any, Any] = EvaluatorOptimizerLLM(
        optimizer=agent(COLLECTOR), evaluator=agent(EVALUATOR), llm_factory=OpenAIAugmentedLLM, name=DATA_COLLECTOR,
        min_rating=QualityRating[min_rating], max_refinements=max_refinements)
    # The Orchestrator's planner sees each worker's instruction as its description; an
    # EvaluatorOptimizerLLM takes its optimizer's.
    return Orchestrator(llm_factory=OpenAIAugmentedLLM, name=ORCHESTRATOR, plan_type="full",
                        available_agents=[data_collector, agent(ANALYST), agent(WRITER)],
                        planner=agent(PLANNER), synthesizer=agent(SYNTHESIZER))


async def close_connections(app: MCPApp) -> None:
    """Close the MCP connection manager the agents of ``app``'s context share (call inside
    ``app.run()``). mcp-agent 0.2.6 leaves it open unless every agent is closed one by one,
    and its owner task then sometimes never finishes when the event loop shuts down, so
    ``asyncio.run`` hangs."""
    manager = getattr(app.context, "_mcp_connection_manager", None)
    if manager is not None:
        await manager.__aexit__(None, None, None)
        delattr(app.context, "_mcp_connection_manager")


class FinancialAnalyzerApp(MCPApp):
    """The ``MCPApp`` of one run, with the run's folder and (tools on) its research site.

    ``close()`` stops the site and removes the folder (kept when the ``workdir`` option is set).
    """

    def __init__(self, ctx: RunContext, options: dict[str, Any]):
        if options["min_rating"] not in MIN_RATINGS:
            raise ValueError(f"financial_analyzer: min_rating must be one of {', '.join(MIN_RATINGS)}, "
                             f"got {options['min_rating']!r}")
        parent = options["workdir"] or None
        if parent:
            Path(parent).mkdir(parents=True, exist_ok=True)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"fa-s{ctx.seed}-", dir=parent))
        self.keep = bool(parent)
        self.tools_enabled = ctx.tools_enabled
        self.options = options
        self.request_params = RequestParams(model=ctx.endpoint.model, maxTokens=ctx.max_tokens, use_history=False,
                                            max_iterations=max(1, int(options["max_plan_iterations"])))
        self.site = PageServer() if ctx.tools_enabled else None
        super().__init__(name="financial_analyzer", settings=app_settings(ctx, self.workdir,
                                                                           self.site.url if self.site else None))

    async def analyse(self, question: str) -> str:
        """Run the orchestrator on ``question``; its synthesized answer."""
        async with self.run():
            orchestrator = build_orchestrator(self.tools_enabled, int(self.options["max_refinements"]),
                                              self.options["min_rating"])
            try:
                return await orchestrator.generate_str(question, request_params=self.request_params)
            finally:
                await close_connections(self)

    def close(self) -> None:
        """Stop the research site; remove the run's folder unless it is kept."""
        if self.site is not None:
            self.site.close()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


class FinancialAnalyzerInstance:
    """Financial Analyzer (mcp-agent orchestrator over four workers and three MCP servers)."""

    info: InstanceInfo = FINANCIAL_ANALYZER_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """One task per corpus company, or a user JSONL file (see ``tasks.load_tasks``)."""
        return load_tasks(n=n, source=source, seed=seed)

    def build(self, ctx: RunContext) -> FinancialAnalyzerApp:
        """The run's app (its folder and, tools on, its research site are made here)."""
        return FinancialAnalyzerApp(ctx, resolve_options(self.options, ctx.options))

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run the task; the answer is the orchestrator's synthesized report."""
        try:
            answer = asyncio.run(app.analyse(task.question))
        except RuntimeError as e:
            if "failed to complete" not in str(e):
                raise
            return TaskResult(answer=None, outcome="failure", reason=f"orchestrator: {e}")
        finally:
            app.close()
        return answer_result(answer, "the orchestrator returned no report")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Revenue, growth and share price against the corpus (see ``tasks.judge``)."""
        return judge_report(task, answer)

    def warm(self) -> None:
        """Load the corpus and build its pages once (the forkserver imports mcp-agent with this module)."""
        from .corpus import documents, pages

        documents()
        pages()
