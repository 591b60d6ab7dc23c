"""The small interface every MAS instance exposes to the runner.

An instance never imports the collector or an adapter: the runner builds the instance's
framework object, wraps it with the adapter for ``info.framework`` and hands the wrapped
object back to ``run``. Instances reach models only through the ``ModelEndpoint`` in the
``RunContext`` (a simulated service URL or a real provider's, same code path).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["InstanceInfo", "Task", "ModelEndpoint", "RunContext", "TaskResult", "JudgeResult", "Instance",
           "InstanceOption", "resolve_options", "coerce_option"]


@dataclass(frozen=True)
class InstanceInfo:
    """An instance's row of the paper's Table 2."""

    name: str
    """Registry name, e.g. ``crag``."""
    title: str
    """Human title, e.g. ``Corrective RAG``."""
    app_field: str
    """Application field (``Cross-domain``, ``Travel``, ...)."""
    framework: str
    """``langgraph``, ``autogen`` or ``adk``: picks the adapter."""
    interaction: str
    """Cooperation type: ``Planning``, ``Coordination``, ``Debate`` or ``Correction``."""
    n_agents: int
    """Number of agents."""
    n_tools: int | None
    """Number of tools; 0: tool settings do not apply (tools-off runs only); None: unknown."""
    data_in: str
    """Input kind: ``Artifacts`` or ``Datasets``."""
    data_out: str
    """``Open-End`` or ``Closed-Form``."""
    suites: str
    """Suite membership as in Table 2 (``F``, ``F,A``)."""
    source: str = ""
    """Where the original design comes from (paper citation)."""


@dataclass(frozen=True)
class Task:
    """One task input with its gold answer."""

    task_id: str
    """Stable id within the task set (used for resume and pairing)."""
    question: str
    """The input given to the MAS."""
    gold: str | None = None
    """Gold answer, if the task has one."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Extra facts (e.g. ``hops``) copied into the run record as JSON."""


@dataclass(frozen=True)
class ModelEndpoint:
    """A resolved backend: where and how to reach a model."""

    spec: str
    """Backend spec as written in the study, e.g. ``sim/strong``."""
    provider: str
    """``gen_ai.provider.name``: ``maestro.sim``, ``openai`` or ``gcp.gemini``."""
    model: str
    """Model name sent on the wire."""
    base_url: str
    """OpenAI-compatible base URL (ends in ``/v1``)."""
    api_key: str
    """Key to send (a dummy for the simulated service)."""
    simulated: bool
    """True for maestro's simulated service."""
    gemini_base_url: str | None = None
    """Base URL for Gemini-REST clients (``.../v1beta/models/...`` is appended)."""


@dataclass(frozen=True)
class RunContext:
    """What one run of an instance is allowed to know."""

    endpoint: ModelEndpoint
    tools_enabled: bool
    """Whether external tools (web search) are available in this run."""
    seed: int
    """The run's seed (the simulated service already keys on it through the URL)."""
    max_tokens: int = 8192
    """Cap on each LLM response."""
    timeout_s: float = 600.0
    """The run's time cap; instances may size inner timeouts by it."""
    options: dict[str, Any] = field(default_factory=dict)
    """Instance-specific options from the study file."""


@dataclass(frozen=True)
class TaskResult:
    """What a MAS produced for one task."""

    answer: str | None
    """Final answer text (None or '' when the MAS produced none)."""
    outcome: str = "success"
    """``success`` when the MAS terminated normally with an answer, else ``failure``."""
    reason: str | None = None
    """Why the outcome is a failure, if it is."""


@dataclass(frozen=True)
class JudgeResult:
    """Correctness of an answer against gold."""

    judgement: str
    """``correct``, ``wrong`` or ``unjudged`` (older instances may say ``unknown``: read as ``unjudged``)."""
    reason: str
    """How it was decided."""
    exact_match: float | None = None
    f1: float | None = None
    score: float | None = None
    """The scorer's number (1.0 correct, 0.0 wrong, partial credit between); None: derived
    from ``judgement``."""


@dataclass(frozen=True)
class InstanceOption:
    """One option an instance reads from its study file's ``[instance_options.<name>]`` table."""

    name: str
    """Key in the table, e.g. ``width``."""
    type: type
    """``int``, ``float``, ``bool`` or ``str``: given values are coerced to it (see ``coerce_option``)."""
    default: Any
    """Value when the table does not set it; ``None`` means "unset" (the doc says what that does)."""
    doc: str
    """One line: what the option controls."""


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce_option(option: InstanceOption, value: Any) -> Any:
    """``value`` as ``option.type``, or a ValueError naming the option, the value and the type.

    Safe coercions only: an int from an int, an integral float or a decimal string; a float
    from a number or a numeric string; a bool from a bool, 0/1 or true/false/yes/no/on/off;
    a str from a str. ``None`` stays ``None`` (the option's "unset")."""
    if value is None:
        return None
    t = option.type
    try:
        if t is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
        elif isinstance(value, bool):
            pass  # True is an int to Python, never a width or a temperature here
        elif t is int:
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
        elif t is float:
            if isinstance(value, (int, float)):
                return float(value)
            if isinstance(value, str):
                return float(value.strip())
        elif t is str:
            if isinstance(value, str):
                return value
        else:
            return t(value)
    except (TypeError, ValueError):
        pass
    raise ValueError(f"option {option.name!r}: expected {getattr(t, '__name__', t)}, got {value!r}")


def resolve_options(declared: Iterable[InstanceOption], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every declared option's value: ``given``'s, coerced to the option's type, else its default.

    Raises ValueError for a name not declared (listing the known names, with the nearest one
    when it looks misspelt) or a value of the wrong type (naming option, value and type)."""
    options = {o.name: o for o in declared}
    given = dict(given or {})
    unknown = sorted(set(given) - set(options))
    if unknown:
        near = [m for u in unknown for m in difflib.get_close_matches(u, list(options), n=1)]
        hint = f" (did you mean {', '.join(repr(m) for m in near)}?)" if near else ""
        raise ValueError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}"
                         f"{hint}; known: {', '.join(sorted(options)) or '(none)'}")
    return {name: o.default if given.get(name) is None else coerce_option(o, given[name])
            for name, o in options.items()}


@runtime_checkable
class Instance(Protocol):
    """What the runner needs from a MAS instance."""

    info: InstanceInfo
    # Optional (not part of the runtime check): ``options: tuple[InstanceOption, ...]``, the
    # options the instance reads. When present the study validates its
    # ``[instance_options.<name>]`` table against it before any run; without it the table
    # is passed through unchecked.

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The task set: the bundled one, or ``source`` (a JSONL file) when given."""
        ...

    def build(self, ctx: RunContext) -> Any:
        """Build the framework object (e.g. a compiled LangGraph graph) for one run."""
        ...

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run one task on ``app`` (the adapter-wrapped object from ``build``)."""
        ...

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Score ``answer`` against ``task.gold``."""
        ...
