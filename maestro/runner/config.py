"""Study configuration: what to run, from a TOML file or Python, validated up front.

A study is instances x backends x tool settings x tasks x repeats. Every run gets a
stable id and a seed derived from the study seed, the task and the repeat index (not the
backend or tool setting), so runs that differ only in backend or tools are paired.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro.backends import BackendError, parse_backend
from maestro.store.layout import valid_id

__all__ = ["StudyConfig", "RunSpec", "ConfigError", "load_study_config", "expand_runs", "derive_seed", "tool_settings",
           "instance_tool_counts", "check_instance_options",
           "COMPARABLE_SETTINGS", "incomparable_settings"]


class ConfigError(ValueError):
    """The study configuration is invalid; the message names the file and key."""


@dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a study."""

    study_id: str
    """Folder name under ``out``."""
    instances: tuple[Any, ...]
    """The systems under study: ``maestro.MAS`` objects, built-in instance names (see
    ``maestro.instances.list_instances``), ``package.module:attribute`` references to a
    MAS, or modules defining ``INSTANCE``."""
    backends: tuple[str, ...]
    """Backend specs (``sim/strong``, ``openai/gpt-4o-mini``, ...)."""
    tools: tuple[bool, ...] = (True, False)
    """Tool settings to run (web search on and/or off)."""
    repeats: int = 20
    """Repeats per (instance, backend, tools, task) cell (the paper uses at least 20)."""
    tasks: int | None = None
    """Tasks per system: None for every task of its dataset; N for the first N samples of a
    ``maestro.MAS``, or a stratified sample of N for a built-in instance."""
    task_file: str | None = None
    """A JSONL file of tasks instead of the bundled set."""
    seed: int = 0
    """Study seed: run seeds derive from it."""
    timeout_s: float = 600.0
    """Per-run time cap (the paper: 10 minutes)."""
    max_tokens: int = 8192
    """Cap on each LLM response (the paper: 8,192)."""
    workers: int | None = None
    """Parallel worker processes (None: number of cores)."""
    time_factor: float = 0.02
    """Simulated service speed: real-time latencies x this factor."""
    capture_content: bool = False
    """Write prompts, responses and tool arguments (redacted)."""
    store_answers: bool = True
    """Write each run's final answer (redacted) to runs.parquet."""
    out: str = "traces"
    """Folder that holds study folders."""
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    """Price overrides, backend -> {input, output} USD per 1M tokens."""
    instance_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-instance options passed to ``RunContext.options``."""

    def __post_init__(self) -> None:
        # Python callers may write what the TOML file says: lists, a single backend, tools="both".
        if isinstance(self.instances, (str, bytes)) or not isinstance(self.instances, (list, tuple)):
            object.__setattr__(self, "instances", (self.instances,))
        object.__setattr__(self, "instances", tuple(self.instances))
        object.__setattr__(self, "backends", (self.backends,) if isinstance(self.backends, str) else tuple(self.backends))
        if not (isinstance(self.tools, tuple) and all(isinstance(t, bool) for t in self.tools)):
            object.__setattr__(self, "tools", _coerce_tools(list(self.tools) if isinstance(self.tools, tuple)
                                                            else self.tools, "tools"))
        valid_id(self.study_id, "study id")
        if not self.instances:
            raise ConfigError("study needs at least one instance")
        if not self.backends:
            raise ConfigError("study needs at least one backend")
        for b in self.backends:
            try:
                parse_backend(b)
            except BackendError as e:
                raise ConfigError(str(e)) from None
        refs = self._checked_refs()
        for name, opts in self.instance_options.items():
            # A misspelt instance name would silently drop its options.
            if name not in refs:
                near = difflib.get_close_matches(name, list(refs), n=1)
                raise ConfigError(f"instance_options.{name}: no such system in this study"
                                  f"{f' (did you mean {near[0]!r}?)' if near else ''}; systems: {', '.join(refs)}")
            if not isinstance(opts, dict):
                raise ConfigError(f"instance_options.{name} must be a table of options, got {opts!r}")
            check_instance_options(name, opts, refs[name])
        if self.repeats < 1:
            raise ConfigError(f"repeats must be >= 1, got {self.repeats}")
        if self.tasks is not None and self.tasks < 1:
            raise ConfigError(f"tasks must be >= 1 (or omitted for all), got {self.tasks}")
        if not self.tools:
            raise ConfigError("tools must list at least one setting (true and/or false)")
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.time_factor < 0:
            raise ConfigError(f"time_factor must be >= 0, got {self.time_factor}")
        if self.task_file is not None and not Path(self.task_file).is_file():
            raise ConfigError(f"task_file {self.task_file!r} does not exist")

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def _checked_refs(self) -> dict[str, Any]:
        """Name -> the system as given, each checked without importing a framework: a
        built-in name or module must exist, a ``module:attribute`` reference must resolve,
        an object must be a system; names must be distinct."""
        from maestro.instances import instance_module
        from maestro.mas import resolve_system, system_name

        out: dict[str, Any] = {}
        for ref in self.instances:
            try:
                if isinstance(ref, str) and ":" not in ref:
                    instance_module(ref)
                    name = ref
                else:
                    name = system_name(resolve_system(ref))
            except ValueError as e:
                raise ConfigError(str(e)) from None
            if name in out:
                raise ConfigError(f"two systems are named {name!r}; give each a distinct name")
            out[name] = ref
        return out

    def systems(self) -> dict[str, Any]:
        """System name -> its Instance (a MAS object as given; names and references
        resolved, importing their modules). A ConfigError names one that cannot be found."""
        from maestro.mas import resolve_system

        try:
            return {name: resolve_system(ref) for name, ref in self._checked_refs().items()}
        except ValueError as e:
            raise ConfigError(str(e)) from None

    @property
    def names(self) -> tuple[str, ...]:
        """The systems' names, as recorded in the ``instance`` column (a reference's
        system is named by its own ``name``)."""
        return tuple(self._checked_refs())

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in _KEYS}
        d = json.loads(json.dumps({**d, "instances": list(self.names)}, default=list))
        return d

    def comparable_settings(self) -> dict[str, Any]:
        """The settings that change how every run behaves or is measured. Runs recorded
        under other values are not comparable: a study may grow its grid (systems,
        backends, tool settings, tasks, repeats) but not change these."""
        d = self.to_dict()
        return {k: d[k] for k in COMPARABLE_SETTINGS}

    def fingerprint(self) -> str:
        """Hash of :meth:`comparable_settings`."""
        return hashlib.sha256(json.dumps(self.comparable_settings(), sort_keys=True).encode()).hexdigest()[:16]


COMPARABLE_SETTINGS = ("seed", "timeout_s", "max_tokens", "time_factor", "task_file", "prices", "instance_options")
"""StudyConfig fields a study cannot change once it has runs (see ``comparable_settings``)."""


def incomparable_settings(recorded: dict[str, Any], config: StudyConfig) -> list[str]:
    """``setting: recorded -> new`` for each comparable setting ``config`` changes against
    the study's recorded config (study.json's ``config``)."""
    new = config.comparable_settings()
    default = StudyConfig.__dataclass_fields__
    out = []
    for key, value in new.items():
        if key in recorded:
            old = recorded[key]
        else:  # written before the setting existed: its default then
            f = default[key]
            old = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        if json.dumps(old, sort_keys=True) != json.dumps(value, sort_keys=True):
            out.append(f"{key}: {old!r} -> {value!r}")
    return out


def check_instance_options(name: str, opts: dict[str, Any], system: Any = None) -> None:
    """Check ``[instance_options.<name>]`` against the options system ``name`` declares
    (before any run starts): a ConfigError names the table, the bad key or value and the
    known options. Systems that declare no options are not checked."""
    from maestro.instances import declared_options
    from maestro.instances.base import resolve_options

    if isinstance(system, str) and ":" in system:
        from maestro.mas import resolve_system

        system = resolve_system(system)
    if system is None or isinstance(system, str):
        declared = declared_options(name if system is None else system)
    else:
        declared = tuple(getattr(system, "options", ()) or ()) or None
    if declared is None:
        return
    try:
        resolve_options(declared, opts)
    except ValueError as e:
        known = ", ".join(f"{o.name} ({o.type.__name__}, default {'unset' if o.default is None else repr(o.default)})"
                          for o in declared)
        msg = str(e) if "known:" in str(e) else f"{e}; known: {known}"
        raise ConfigError(f"instance_options.{name}: {msg}") from None


_KEYS = {f for f in StudyConfig.__dataclass_fields__}


def _coerce_tools(value: Any, where: str) -> tuple[bool, ...]:
    names = {"on": True, "off": False, "true": True, "false": False, "both": None}
    if isinstance(value, bool):
        return (value,)
    if isinstance(value, str):
        if value.lower() not in names:
            raise ConfigError(f"{where}: tools must be true/false/'on'/'off'/'both' or a list, got {value!r}")
        v = names[value.lower()]
        return (True, False) if v is None else (v,)
    if isinstance(value, list) and value and all(isinstance(v, (bool, str)) for v in value):
        out: list[bool] = []
        for v in value:
            out.extend(_coerce_tools(v, where))
        return tuple(dict.fromkeys(out))
    raise ConfigError(f"{where}: tools must be true/false/'on'/'off'/'both' or a list of them, got {value!r}")


def study_config_from_dict(data: dict[str, Any], where: str = "study config") -> StudyConfig:
    """Build a StudyConfig from a dict shaped like the TOML file (``[study]`` table or flat)."""
    body = dict(data.get("study", data))
    unknown = set(body) - _KEYS - {"id", "prices", "instance_options"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}")
    if "id" in body:
        body["study_id"] = body.pop("id")
    if "study_id" not in body:
        raise ConfigError(f"{where}: missing 'id' (the study id)")
    for key in ("instances", "backends"):
        if key in body:
            if isinstance(body[key], str):
                body[key] = [body[key]]
            if not isinstance(body[key], list) or not all(isinstance(v, str) for v in body[key]):
                raise ConfigError(f"{where}: {key} must be a list of strings")
            body[key] = tuple(body[key])
    if "tools" in body:
        body["tools"] = _coerce_tools(body["tools"], where)
    body.setdefault("prices", data.get("prices", {}))
    body.setdefault("instance_options", data.get("instance_options", {}))
    try:
        return StudyConfig(**body)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def load_study_config(path: str | os.PathLike[str], **overrides: Any) -> StudyConfig:
    """Read a study TOML file; keyword overrides (e.g. ``workers=1``) win over the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such study file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e})") from None
    body = data.setdefault("study", {}) if "study" in data else data
    for k, v in overrides.items():
        if v is not None:
            body[k] = v
    return study_config_from_dict(data, str(path))


def derive_seed(study_seed: int, task_id: str, repeat: int) -> int:
    """Run seed from the study seed, task and repeat (stable across processes and versions)."""
    h = hashlib.blake2b(f"{study_seed}|{task_id}|{repeat}".encode(), digest_size=4).digest()
    return int.from_bytes(h, "big")


@dataclass(frozen=True)
class RunSpec:
    """One run to execute."""

    run_id: str
    instance: str
    backend: str
    tools_enabled: bool
    task_id: str
    repeat: int
    seed: int


def instance_tool_counts(systems: dict[str, Any]) -> dict[str, int | None]:
    """``info.n_tools`` of each system (None when unknown)."""
    out: dict[str, int | None] = {}
    for name, system in systems.items():
        n = system.info.n_tools
        out[name] = None if n is None else int(n)
    return out


def tool_settings(config: StudyConfig, n_tools: int | None) -> tuple[bool, ...]:
    """The tool settings an instance runs under: the study's, except that an instance with
    no tools (``n_tools == 0``) runs once, with tools off (on and off would be the same run)."""
    return (False,) if n_tools == 0 else config.tools


def expand_runs(config: StudyConfig, tasks_by_instance: dict[str, list],
                tool_counts: dict[str, int | None] | None = None) -> list[RunSpec]:
    """All runs of the study, in a stable order (cell-major, so partial studies are balanced
    across repeats: repeat 0 of every cell runs before repeat 1 of any).

    ``tool_counts`` (system -> ``n_tools``) defaults to the systems' own counts; tool-less instances get only tools-off runs (see :func:`tool_settings`).
    """
    if tool_counts is None:
        tool_counts = instance_tool_counts(config.systems())
    runs = []
    names = config.names
    for repeat in range(config.repeats):
        for inst in names:
            for backend in config.backends:
                slug = parse_backend(backend).slug
                for tools in tool_settings(config, tool_counts.get(inst)):
                    for task in tasks_by_instance[inst]:
                        run_id = f"{inst}.{slug}.{'tools' if tools else 'notools'}.{task.task_id}.r{repeat:03d}"
                        runs.append(RunSpec(run_id, inst, backend, tools, task.task_id, repeat,
                                            derive_seed(config.seed, task.task_id, repeat)))
    return runs
