"""``BrandSeoInstance``: the ADK Brand SEO team behind maestro's ``Instance`` interface.

``build`` makes one ADK ``Gemini`` model per run pointed at the run's Gemini-REST endpoint
and the agent tree; with tools on it also writes the run's SQLite product table (a temporary
directory), chooses the browser backend (option ``browser``: Playwright with the system's
Chromium when available, else the fetch client) and builds the tools. ``run`` starts the
local shop on a free loopback port (the browser starts on the first browser tool call, inside
that tool's span, and falls back to the fetch client if Chromium will not launch; the
backend is recorded in the browser tools' descriptions, so on every browser
``execute_tool`` span), sends the brand's request through the wrapped app in
one event loop and, whatever happens, closes the browser, stops the shop and deletes the
temporary directory. The answer is the root's report.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import adk_gemini_model, answer_result

from .agents import build_team
from .browser import BrowserSession, choose_backend
from .catalog import write_database
from .options import OPTIONS
from .site import ShopSite
from .tasks import judge as judge_report
from .tasks import load_tasks
from .tools import label_browser_tools, make_browser_tools, make_product_tool

__all__ = ["BRAND_SEO_INFO", "BrandSeoInstance", "RunResources"]

BRAND_SEO_INFO = InstanceInfo(
    name="brand_seo",
    title="Brand SEO",
    app_field="Marketing",
    framework="adk",
    interaction="Coordination",
    n_agents=5,
    n_tools=7,
    data_in="Artifacts",
    data_out="Open-End",
    suites="F",
    source="google/adk-samples, brand-search-optimization (paper Table 2, 'Brand SEO (adksamples)')",
)
"""Brand SEO's row of the paper's Table 2 (Marketing, ADK, Coordination, Artifacts in,
Open-End out, suite F). Table 2 counts 4 agents and 10 tools; this port has 5 agents (the
comparison generator and critic are the root's sub-agents instead of a comparison root's)
and 7 tools (the product lookup and six browser tools; the sample's screenshot, artifact
and page-analysis tools are left out)."""


@dataclass
class RunResources:
    """What one run owns besides its agents: the product table's directory, the shop and
    the browser (None with tools off)."""

    tmpdir: Path | None = None
    site: ShopSite | None = None
    browser: BrowserSession | None = None
    browser_tools: list[Any] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close the browser, stop the shop, delete the directory (each step even when the one
        before failed)."""
        try:
            if self.browser is not None:
                await self.browser.aclose()
        finally:
            if self.site is not None:
                self.site.stop()
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)


class BrandSeoInstance:
    """Brand SEO (ADK root with keyword finder, search results, comparison generator and critic)."""

    info: InstanceInfo = BRAND_SEO_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def __init__(self) -> None:
        self._resources: dict[int, RunResources] = {}

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """One task per catalog brand, or a user JSONL file (see ``tasks.load_tasks``)."""
        return load_tasks(n=n, source=source, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """The root agent for one run; with tools on also its product table and browser."""
        from maestro.instances.marketing.instance import _quiet_cache_advice

        opts = resolve_options(self.options, ctx.options)
        _quiet_cache_advice()
        model = adk_gemini_model(ctx, opts["http_attempts"], "brand_seo")
        res = RunResources()
        product_tool = None
        if ctx.tools_enabled:
            backend = choose_backend(opts["browser"], opts["chromium"])
            res.tmpdir = Path(tempfile.mkdtemp(prefix="maestro-brand-seo-"))
            product_tool = make_product_tool(write_database(res.tmpdir / "products.sqlite"))
            res.site = ShopSite()
            res.browser = BrowserSession(backend, executable=opts["chromium"])
            res.browser_tools = make_browser_tools(res.browser)
            label_browser_tools(res.browser_tools, backend)
            tools = res.browser_tools
            res.browser.on_fallback = lambda kind: label_browser_tools(tools, kind)
        root = build_team(model, product_tool=product_tool, browser_tools=res.browser_tools if ctx.tools_enabled else None,
                          max_tokens=ctx.max_tokens, temperature=opts["temperature"])
        self._resources[id(root)] = res
        return root

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run the brand's request (module docstring); the answer is the root's report."""
        from google.adk.agents.invocation_context import LlmCallsLimitExceededError
        from google.adk.agents.run_config import RunConfig

        res = self._resources.pop(id(getattr(app, "target", app)), None) or RunResources()
        run_config = RunConfig(max_llm_calls=resolve_options(self.options, ctx.options)["max_llm_calls"])

        async def drive() -> Any:
            try:
                if res.site is not None and res.browser is not None:
                    res.site.start()
                    res.browser.proxy = res.site.proxy
                return await app.run_async(task.question, run_config=run_config)
            finally:
                await res.aclose()

        try:
            result = asyncio.run(drive())
        except LlmCallsLimitExceededError as e:
            return TaskResult(answer=None, outcome="failure", reason=f"LLM-call cap reached: {e}")
        return answer_result(result.text.strip(), "the coordinator wrote no report")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Keyword, top results and suggested titles against the data (see ``tasks.judge``)."""
        return judge_report(task, answer)

    def warm(self) -> None:
        """Preload (forkserver): import ADK's runner and build one google-genai client."""
        import google.adk.runners  # noqa: F401 - imported to be inherited by forked runs
        from google import genai
        from google.genai import types

        genai.Client(api_key="warm-up", http_options=types.HttpOptions(base_url="http://127.0.0.1:9"))
