"""``ImageScoringInstance``: the ADK Image Scoring loop behind maestro's ``Instance`` interface.

``build`` makes one ADK ``Gemini`` model per run pointed at the run's Gemini-REST endpoint
(the simulated service's ``gemini_base_url`` or Google's API: same code path), the two tools
bound to the same endpoint's image model (tools on only) and the agent tree
(:func:`.agents.build_loop`); the runner wraps it with ``maestro.adapters.adk.instrument``,
which records each image call as an LLM span under the ``generate_image`` tool span.

``run`` sends the brief through the wrapped app; the answer is the last image (a
``data:image/png;base64,...`` URI) with the prompt it came from and the scorer's last report,
read from the session state the run's events carried. The LLM-call cap ends the run as a
``failure`` naming it; a model error (after retries) or an unreachable endpoint propagates
and the runner records it.
"""

from __future__ import annotations

from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import adk_gemini_model, answer_result

from .agents import SCORE_REPORT, build_loop
from .options import OPTIONS
from .tasks import IMAGE_URI_PREFIX, load_tasks
from .tasks import judge as judge_image
from .tools import STATE_IMAGE, STATE_NAME, STATE_PROMPT, make_tools

__all__ = ["IMAGE_SCORING_INFO", "ImageScoringInstance", "final_answer", "final_state"]

IMAGE_SCORING_INFO = InstanceInfo(
    name="image_scoring",
    title="Image Scoring",
    app_field="Creativity",
    framework="adk",
    interaction="Debate",
    n_agents=4,
    n_tools=2,
    data_in="Artifacts",
    data_out="Closed-Form",
    suites="F",
    source="google/adk-samples, image-scoring (paper Table 2, 'Img. Scr. (adksamples)')",
)
"""Image Scoring's row of the paper's Table 2 (prompt writer, image generator, scorer and
checker; tools ``generate_image`` and ``score_image``)."""


def final_state(events: list[Any]) -> dict[str, Any]:
    """The session state a run's events built up (their ``state_delta``s, in order)."""
    state: dict[str, Any] = {}
    for e in events:
        delta = getattr(getattr(e, "actions", None), "state_delta", None)
        if delta:
            state.update(delta)
    return state


def final_answer(state: dict[str, Any]) -> str:
    """The run's answer: the last image's prompt, the scorer's last report and the image as a
    data URI ('' when there is neither an image nor a report)."""
    lines = []
    if state.get(STATE_PROMPT):
        lines.append(f"Prompt: {state[STATE_PROMPT]}")
    if state.get(SCORE_REPORT):
        lines.append(f"Scorer: {' '.join(str(state[SCORE_REPORT]).split())}")
    if state.get(STATE_IMAGE):
        lines.append(f"Image {state.get(STATE_NAME, '')}: {IMAGE_URI_PREFIX}{state[STATE_IMAGE]}")
    return "\n".join(lines)


class ImageScoringInstance:
    """Image Scoring (ADK loop of prompt writer, image generator, scorer and checker)."""

    info: InstanceInfo = IMAGE_SCORING_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled briefs, or a user JSONL file (see ``tasks.load_tasks``)."""
        return load_tasks(n=n, source=source, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """The loop agent for one run (the tools follow ``ctx.tools_enabled``)."""
        from maestro.instances.marketing.instance import _quiet_cache_advice

        opts = resolve_options(self.options, ctx.options)
        _quiet_cache_advice()
        model = adk_gemini_model(ctx, opts["http_attempts"], "image_scoring")
        ep = ctx.endpoint
        tools = make_tools(ep.gemini_base_url or "", ep.api_key, opts["image_model"], opts["http_attempts"]) \
            if ctx.tools_enabled else None
        return build_loop(model, tools, max_iterations=opts["max_iterations"], threshold=opts["score_threshold"],
                          max_tokens=ctx.max_tokens, temperature=opts["temperature"])

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run the brief through the loop; the answer carries the last image (module docstring)."""
        from google.adk.agents.invocation_context import LlmCallsLimitExceededError
        from google.adk.agents.run_config import RunConfig

        run_config = RunConfig(max_llm_calls=resolve_options(self.options, ctx.options)["max_llm_calls"])
        try:
            result = app.run(task.question, run_config=run_config)
        except LlmCallsLimitExceededError as e:
            return TaskResult(answer=None, outcome="failure", reason=f"LLM-call cap reached: {e}")
        return answer_result(final_answer(final_state(result.events)), "no image and no score report")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """The answer's image against the brief's requirements, by its pixels (see ``tasks.judge``)."""
        return judge_image(task, answer)

    def warm(self) -> None:
        """Preload (forkserver): import ADK's runner, google-genai and Pillow."""
        import google.adk.runners  # noqa: F401 - imported to be inherited by forked runs
        import PIL.PngImagePlugin  # noqa: F401
        from google import genai
        from google.genai import types

        genai.Client(api_key="warm-up", http_options=types.HttpOptions(base_url="http://127.0.0.1:9"))
