"""Your own MAS as a study subject: samples, a factory, a scorer.

A :class:`MAS` bundles what the study runner needs to run a multi-agent system that maestro
did not write, in the shape Inspect AI users know (dataset, solver, scorer)::

    import maestro

    def build(ctx: maestro.RunContext):
        # ctx.endpoint: where the run's model lives (base_url, api_key, model);
        # ctx.tools_enabled: the run's tool setting
        return make_my_graph(ctx.endpoint, tools=ctx.tools_enabled)

    my_mas = maestro.MAS(
        name="my-mas", framework="langgraph", build=build,
        dataset=[maestro.Sample("q1", "What is 6 x 7?", target="42")],
        scorer=maestro.scorers.includes(),
    )
    maestro.run_study(maestro.StudyConfig(study_id="mine", instances=[my_mas], backends=["sim/strong"]))

The runner builds the system once per run in the run's own process, wraps it with the
adapter for ``framework``, sends the sample's input through the framework's usual entry
point (``invoke`` for LangGraph, ``run(task=...)`` for AutoGen, ``run`` for ADK; or your
``invoke``, which mcp-agent and custom systems must give), takes the answer from the result
(or your ``answer``) and scores it.

The built-in instances meet the runner through the same :class:`Instance` protocol
(``maestro.contract``); a :class:`MAS` is one implementation of it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult
from maestro.scorers import Score, Scorer, as_scorer

__all__ = ["Sample", "MAS", "load_samples", "FRAMEWORKS", "default_answer", "default_invoke"]

FRAMEWORKS = ("langgraph", "autogen", "adk", "custom", "mcp_agent")
"""Frameworks a MAS may name: ``langgraph``, ``autogen``, ``adk`` and ``mcp_agent`` get their
maestro adapter (``maestro.adapters.<framework>``); ``custom`` records through
``maestro.collector.current_telemetry()`` itself. ``mcp_agent`` and ``custom`` need your
``invoke`` (see :func:`default_invoke`)."""


@dataclass(frozen=True)
class Sample:
    """One task of a study: an input, optionally the answer it should produce."""

    id: str
    """Stable id within the dataset (run ids, resume and pairing use it)."""
    input: Any
    """What the MAS is given: text, or a mapping for a framework that takes structured
    input (a LangGraph state)."""
    target: str | None = None
    """The answer a scorer compares against; None when there is none."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Extra facts, copied into the run record (``task_meta_json``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"sample id must be a non-empty string, got {self.id!r}")

    @property
    def text(self) -> str:
        """The input as text (mappings as JSON): the run record's ``question``."""
        return self.input if isinstance(self.input, str) else json.dumps(self.input, sort_keys=True, default=str)


def load_samples(path: str | os.PathLike[str]) -> list[Sample]:
    """Samples from a JSONL file, one object a line: ``id``, ``input`` (or ``question``),
    optional ``target`` (or ``answer``/``gold``) and ``metadata``. A ValueError names the
    file and line of a bad record."""
    path = Path(path)
    out: list[Sample] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            text = rec["input"] if "input" in rec else rec["question"]
            target = next((rec[k] for k in ("target", "answer", "gold") if rec.get(k) is not None), None)
            out.append(Sample(str(rec["id"]), text, None if target is None else str(target),
                              dict(rec.get("metadata") or {})))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}:{n}: not a sample ({type(e).__name__}: {e}); "
                             "expected {\"id\": ..., \"input\": ..., \"target\": ...}") from None
    return out


def _last_text(messages: Sequence[Any]) -> str | None:
    for m in reversed(list(messages)):
        content = m.get("content") if isinstance(m, Mapping) else getattr(m, "content", None)
        if isinstance(content, str) and content.strip():
            return content
    return None


def default_answer(framework: str, result: Any) -> str | None:
    """The answer in a framework's usual result: a LangGraph state's ``answer`` /
    ``final_answer`` / ``output`` key or its last message; an AutoGen ``TaskResult``'s last
    text message (``TERMINATE`` stripped); an ADK result's final text."""
    if result is None or isinstance(result, str):
        return result
    if framework == "langgraph" and isinstance(result, Mapping):
        for key in ("answer", "final_answer", "output", "response", "result"):
            if isinstance(result.get(key), str):
                return result[key]
        if "messages" in result:
            return _last_text(result["messages"])
        return None
    if framework == "autogen" and hasattr(result, "messages"):
        text = _last_text([m for m in result.messages if getattr(m, "source", None) != "user"])
        return None if text is None else text.replace("TERMINATE", "").strip()
    if framework == "adk" and hasattr(result, "text"):
        return result.text
    return str(result)


def default_invoke(framework: str, app: Any, sample: Sample, ctx: RunContext) -> Any:
    """Send ``sample.input`` through the framework's usual entry point of the wrapped app.

    mcp-agent has no such entry point (an ``MCPApp`` runs whatever your code does inside
    ``async with app.run():``: agents with attached LLMs, an Orchestrator, your own
    workflow), so ``mcp_agent`` and ``custom`` systems give ``invoke``; here they raise
    ValueError."""
    if framework == "langgraph":
        state = sample.input if isinstance(sample.input, Mapping) else \
            {"messages": [{"role": "user", "content": sample.input}]}
        return app.invoke(state)
    if framework == "autogen":
        return asyncio.run(app.run(task=sample.text))
    if framework == "adk":
        return app.run(sample.text)
    raise ValueError(f"a MAS with framework {framework!r} needs invoke=(app, sample, ctx) -> result")


@dataclass(eq=False)
class MAS:
    """A multi-agent system under study (implements ``maestro.contract.Instance``)."""

    name: str
    """Its name in run ids and the run record's ``instance`` column (letters, digits, ``._-``)."""
    framework: str
    """``langgraph``, ``autogen``, ``adk``, ``mcp_agent`` (the runner applies that adapter) or
    ``custom``. For ``mcp_agent``, ``build`` returns your ``MCPApp`` (the adapter traces what
    runs inside ``async with app.run():``, so ``invoke`` enters it) or an ``AugmentedLLM``
    workflow (each ``generate*`` call traced)."""
    build: Callable[[RunContext], Any]
    """``build(ctx) -> app``: your graph, team or agent for one run, reaching its model at
    ``ctx.endpoint`` and using tools only if ``ctx.tools_enabled``. Called in the run's own
    process; its time is the run's ``setup_s``, not part of the traced work."""
    dataset: Sequence[Sample] | str | os.PathLike[str]
    """The samples, or a JSONL file of them (see :func:`load_samples`)."""
    scorer: Scorer | Callable[..., Any] | None = None
    """Judges each answer: a built-in from ``maestro.scorers`` or ``f(sample, answer)``
    returning a bool, a number in [0, 1], a :class:`~maestro.scorers.Score` or
    ``(value, explanation)``. None leaves every run ``unjudged``."""
    invoke: Callable[[Any, Sample, RunContext], Any] | None = None
    """``invoke(app, sample, ctx) -> result``: how to run one sample on the wrapped app,
    when the framework's usual entry point is not it (see :func:`default_invoke`)."""
    answer: Callable[[Any], str | None] | None = None
    """``answer(result) -> str | None``: the answer in the result, when
    :func:`default_answer` does not find it."""
    n_tools: int | None = None
    """How many tools the system has; 0 means tool settings do not apply (only tools-off
    runs). None: unknown (every tool setting of the study runs)."""
    n_agents: int | None = None
    """How many agents it has (documentation; figures use what the traces show)."""
    options: tuple[InstanceOption, ...] = ()
    """Options it reads from ``ctx.options`` (``[instance_options.<name>]``), checked early."""

    def __post_init__(self) -> None:
        from maestro.store.layout import valid_id

        valid_id(self.name, "MAS name")
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"MAS {self.name!r}: framework must be one of {', '.join(FRAMEWORKS)}, "
                             f"got {self.framework!r}")
        if not callable(self.build):
            raise ValueError(f"MAS {self.name!r}: build must be callable (ctx) -> app")
        if self.framework in ("custom", "mcp_agent") and self.invoke is None:
            raise ValueError(f"MAS {self.name!r}: framework {self.framework!r} needs invoke=(app, sample, ctx) -> result")
        self.scorer = as_scorer(self.scorer)
        self._samples: dict[str, Sample] | None = None

    # -- the Instance protocol ----------------------------------------------------------
    @property
    def info(self) -> InstanceInfo:
        return InstanceInfo(name=self.name, title=self.name, app_field="", framework=self.framework,
                            interaction="", n_agents=self.n_agents or 0, n_tools=self.n_tools,
                            data_in="", data_out="", suites="")

    def samples(self) -> dict[str, Sample]:
        """Sample id -> sample (the dataset read once; duplicate ids are an error)."""
        if self._samples is None:
            items = load_samples(self.dataset) if isinstance(self.dataset, (str, os.PathLike)) else list(self.dataset)
            by_id: dict[str, Sample] = {}
            for s in items:
                if not isinstance(s, Sample):
                    raise ValueError(f"MAS {self.name!r}: dataset items must be maestro.Sample, got {type(s).__name__}")
                if s.id in by_id:
                    raise ValueError(f"MAS {self.name!r}: duplicate sample id {s.id!r}")
                by_id[s.id] = s
            if not by_id:
                raise ValueError(f"MAS {self.name!r}: the dataset is empty")
            self._samples = by_id
        return self._samples

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        samples = load_samples(source) if source else list(self.samples().values())
        if source:
            self._samples = {s.id: s for s in samples}
        return [Task(s.id, s.text, s.target, dict(s.metadata)) for s in samples[:n]]

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        sample = self.samples()[task.task_id]
        call = self.invoke or (lambda a, s, c: default_invoke(self.framework, a, s, c))
        result = call(app, sample, ctx)
        answer = self.answer(result) if self.answer else default_answer(self.framework, result)
        if answer is not None and not isinstance(answer, str):
            answer = str(answer)
        if not answer:
            return TaskResult(answer=answer, outcome="failure", reason="the MAS returned no answer")
        return TaskResult(answer=answer)

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        if self.scorer is None:
            return JudgeResult("unjudged", "no scorer")
        score: Score = self.scorer(self.samples()[task.task_id], answer)
        return score.judgement_result()
