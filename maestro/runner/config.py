"""Study configuration: what to run, from a TOML file or Python, validated up front.

A study is instances x backends x tool settings x tasks x repeats. Every run gets a
stable id and a seed derived from the study seed, the task and the repeat index (not the
backend or tool setting), so runs that differ only in backend or tools are paired.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from maestro.backends import BackendError, parse_backend
from maestro.settings import EXECUTORS
from maestro.store.layout import valid_id

__all__ = ["StudyConfig", "RunSpec", "ConfigError", "load_study_config", "expand_runs", "derive_seed", "tool_settings",
           "instance_tool_counts", "check_instance_options",
           "COMPARABLE_SETTINGS", "incomparable_settings"]


class ConfigError(ValueError):
    """The study configuration is invalid; the message (one line) names the file and key.

    ``key`` is the offending key when one value is to blame (``None`` otherwise) and
    ``detail`` what is wrong with it (``expected ..., got ...``)."""

    def __init__(self, message: str, *, key: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.key = key
        self.detail = detail


def _kind(value: Any) -> str:
    """How a value reads to the person who wrote it (TOML words)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else "not a finite number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _show(value: Any, limit: int | None = 80) -> str:
    text = repr(value)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _bad(key: str, expected: str, value: Any, kind: str | None = None, *, limit: int | None = 80) -> NoReturn:
    detail = f"expected {expected}, got {_show(value, limit)} ({kind or _kind(value)})"
    raise ConfigError(f"key {key!r}: {detail}", key=key, detail=detail)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_bool(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        _bad(key, "a boolean (true/false)", value)


def _check_int(key: str, value: Any, low: int | None = None, *, optional: str | None = None) -> None:
    if optional is not None and value is None:
        return
    expected = "an integer" + (f" >= {low}" if low is not None else "") + (f" (or {optional})" if optional else "")
    if not _is_int(value) or (low is not None and value < low):
        _bad(key, expected, value)


def _check_number(key: str, value: Any, low: float, *, strict: bool) -> None:
    expected = f"a finite number {'>' if strict else '>='} {low:g}"
    if not _is_number(value) or not math.isfinite(value) or value < low or (strict and value == low):
        _bad(key, expected, value)


def _check_path(key: str, value: Any) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        _bad(key, "a path (a non-empty string)", value)
    return value


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
    """Parallel worker processes (None: number of cores); on Ray, runs in flight at once
    (None: the cluster's CPUs)."""
    executor: str | None = None
    """Where runs execute: ``local`` (a process pool here) or ``ray`` (a Ray cluster); None:
    ``MAESTRO_EXECUTOR``, else ``local``. An argument of ``run_study`` wins over this."""
    address: str | None = None
    """The Ray cluster's address (``HOST:PORT`` of its head, or ``auto``); None: Ray's
    ``RAY_ADDRESS``, else a Ray instance started on this machine. Only for ``ray``."""
    time_factor: float = 0.02
    """Simulated service speed: real-time latencies x this factor."""
    capture_content: bool = False
    """Write prompts, responses and tool arguments (redacted)."""
    otlp_endpoint: str | None = None
    """Also stream every run's spans over OTLP/HTTP to this endpoint (a base URL as in
    ``OTEL_EXPORTER_OTLP_ENDPOINT``, e.g. ``http://127.0.0.1:6006``, or one ending in
    ``/v1/traces``); None: only when the ``OTEL_EXPORTER_OTLP_*`` variables say so."""
    store_answers: bool = False
    """Write each run's question and final answer (redacted) to runs.parquet. Off by default
    (privacy): scorers still judge every answer in the run's process; failure rules and LLM
    failure judges that read the text need it on."""
    out: str = "traces"
    """Folder that holds study folders, or object storage (``s3://bucket/prefix``; see
    :mod:`maestro.store.mirror`)."""
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    """Price overrides, backend -> {input, output} USD per 1M tokens."""
    instance_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-instance options passed to ``RunContext.options``."""

    def __post_init__(self) -> None:
        # Python callers may write what the TOML file says: lists, a single backend, tools="both".
        if isinstance(self.instances, (str, bytes)) or not isinstance(self.instances, (list, tuple)):
            object.__setattr__(self, "instances", (self.instances,))
        object.__setattr__(self, "instances", tuple(self.instances))
        if isinstance(self.backends, str) or not isinstance(self.backends, (list, tuple)):
            object.__setattr__(self, "backends", (self.backends,))
        object.__setattr__(self, "backends", tuple(self.backends))
        if not (isinstance(self.tools, tuple) and all(isinstance(t, bool) for t in self.tools)):
            object.__setattr__(self, "tools", _coerce_tools(list(self.tools) if isinstance(self.tools, tuple)
                                                            else self.tools, "tools"))
        try:
            valid_id(self.study_id, "study id")
        except ValueError as e:
            raise ConfigError(str(e), key="id", detail=str(e)) from None
        if not self.instances:
            raise ConfigError("study needs at least one instance")
        if not self.backends:
            raise ConfigError("study needs at least one backend")
        for b in self.backends:
            if not isinstance(b, str):
                _bad("backends", "a list of backend specs (strings)", b)
            try:
                parse_backend(b)
            except BackendError as e:
                raise ConfigError(str(e), key="backends") from None
        if not self.tools:
            raise ConfigError("tools must list at least one setting (true and/or false)")
        # Types and ranges: each value checked as written (ints stay ints: the recorded
        # config, and so a resumed study's comparison, keeps what the file said).
        _check_int("repeats", self.repeats, 1)
        _check_int("tasks", self.tasks, 1, optional="omit it for every task")
        _check_int("seed", self.seed)
        _check_number("timeout_s", self.timeout_s, 0, strict=True)
        _check_int("max_tokens", self.max_tokens, 1)
        _check_int("workers", self.workers, 1, optional="omit it for one per core")
        _check_number("time_factor", self.time_factor, 0, strict=False)
        if self.executor is not None and self.executor not in EXECUTORS:
            _bad("executor", f"one of {', '.join(map(repr, EXECUTORS))}", self.executor)
        if self.address is not None and (not isinstance(self.address, str) or not self.address.strip()):
            _bad("address", "a Ray cluster address (HOST:PORT or auto)", self.address)
        _check_bool("capture_content", self.capture_content)
        _check_bool("store_answers", self.store_answers)
        if self.otlp_endpoint is not None and (not isinstance(self.otlp_endpoint, str)
                                               or not self.otlp_endpoint.startswith(("http://", "https://"))):
            _bad("otlp_endpoint", "an http:// or https:// URL", self.otlp_endpoint)
        object.__setattr__(self, "out", _check_path("out", self.out))
        if "://" in self.out and not self.out.startswith("s3://"):
            _bad("out", "a folder or an s3://bucket/prefix URI", self.out)
        if Path(self.out).exists() and not Path(self.out).is_dir():
            _bad("out", "a folder", self.out, "a file", limit=None)
        if self.task_file is not None:
            object.__setattr__(self, "task_file", _check_path("task_file", self.task_file))
            if not Path(self.task_file).is_file():
                _bad("task_file", "an existing file", self.task_file,
                     "a folder" if Path(self.task_file).is_dir() else "does not exist", limit=None)
        self._check_prices()
        if not isinstance(self.instance_options, dict):
            _bad("instance_options", "a table of tables (instance name -> options)", self.instance_options)
        refs = self._checked_refs()
        for name, opts in self.instance_options.items():
            # A misspelt instance name would silently drop its options.
            if name not in refs:
                near = difflib.get_close_matches(str(name), list(refs), n=1)
                raise ConfigError(f"instance_options.{name}: no such system in this study"
                                  f"{f' (did you mean {near[0]!r}?)' if near else ''}; systems: {', '.join(refs)}",
                                  key=f"instance_options.{name}")
            if not isinstance(opts, dict):
                _bad(f"instance_options.{name}", "a table of options", opts)
            check_instance_options(name, opts, refs[name])

    def _check_prices(self) -> None:
        """``prices``: backend spec -> {input, output}, finite non-negative USD per 1M tokens."""
        if not isinstance(self.prices, dict):
            _bad("prices", "a table of backend -> {input, output}", self.prices)
        for spec, price in self.prices.items():
            key = f"prices.{spec}"
            try:
                parse_backend(spec)
            except BackendError as e:
                raise ConfigError(f"key {key!r}: {e}", key=key) from None
            if not isinstance(price, dict) or set(price) != {"input", "output"}:
                _bad(key, "a table {input = <USD per 1M tokens>, output = <USD per 1M tokens>}", price)
            for side in ("input", "output"):
                _check_number(f"{key}.{side}", price[side], 0, strict=False)

    def otlp_env(self) -> dict[str, str]:
        """The OTel variables that make each run export to ``otlp_endpoint`` (none when unset)."""
        if self.otlp_endpoint is None:
            return {}
        from maestro.collector.otlp import traces_url

        return {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": traces_url(self.otlp_endpoint)}

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def _checked_refs(self) -> dict[str, Any]:
        """Name -> the system as given, each checked without importing a framework: a
        built-in name or module must exist, a ``module:attribute`` reference must resolve,
        an object must be a system; names must be distinct."""
        from maestro.instances import instance_module
        from maestro.runner.systems import resolve_system, system_name

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
        from maestro.runner.systems import resolve_system

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
            old = f.default_factory() if callable(f.default_factory) else f.default
        if json.dumps(old, sort_keys=True) != json.dumps(value, sort_keys=True):
            out.append(f"{key}: {old!r} -> {value!r}")
    return out


def check_instance_options(name: str, opts: dict[str, Any], system: Any = None) -> None:
    """Check ``[instance_options.<name>]`` against the options system ``name`` declares
    (before any run starts): a ConfigError names the table, the bad key or value and the
    known options. Systems that declare no options are not checked."""
    from maestro.contract import resolve_options
    from maestro.instances import declared_options

    if isinstance(system, str) and ":" in system:
        from maestro.runner.systems import resolve_system

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


def _coerce_tools(value: Any, where: str = "tools") -> tuple[bool, ...]:
    """``tools`` as written (true, false, "on", "off", "both" or a list of them) -> the
    settings to run. ``where`` prefixes the error when it is not the key itself."""
    names = {"on": True, "off": False, "true": True, "false": False, "both": None}

    def bad() -> NoReturn:
        try:
            _bad("tools", "true, false, 'on', 'off', 'both' or a list of them", value)
        except ConfigError as e:
            if where in ("tools", ""):
                raise
            raise ConfigError(f"{where}: {e}", key=e.key, detail=e.detail) from None

    if isinstance(value, bool):
        return (value,)
    if isinstance(value, str):
        if value.lower() not in names:
            bad()
        v = names[value.lower()]
        return (True, False) if v is None else (v,)
    if isinstance(value, list) and value and all(isinstance(v, bool) or (isinstance(v, str) and v.lower() in names)
                                                 for v in value):
        out: list[bool] = []
        for v in value:
            out.extend(_coerce_tools(v, where))
        return tuple(dict.fromkeys(out))
    bad()


def study_config_from_dict(data: dict[str, Any], where: str = "study config") -> StudyConfig:
    """Build a StudyConfig from a dict shaped like the TOML file (``[study]`` table or flat).
    A ConfigError (one line) starts with ``where`` and names the key."""
    return _from_dict(data, where)


_TOP_LEVEL = {"study", "prices", "instance_options"}


def _from_dict(data: Any, where: str, overridden: frozenset[str] = frozenset()) -> StudyConfig:
    try:
        return _build(data, where)
    except ConfigError as e:
        if e.key is not None and e.key.partition(".")[0] in overridden and e.detail:
            raise ConfigError(f"{where}: key {e.key!r} (override): {e.detail}", key=e.key, detail=e.detail) from None
        raise ConfigError(f"{where}: {e}", key=e.key, detail=e.detail) from None
    except (ValueError, TypeError) as e:  # e.g. an instance's own check, an unknown keyword
        raise ConfigError(f"{where}: {e}") from None


def _build(data: Any, where: str) -> StudyConfig:
    if not isinstance(data, dict):
        _bad("study", "a table", data)
    if "study" in data:
        if not isinstance(data["study"], dict):
            _bad("study", "a table ([study])", data["study"])
        extra = set(data) - _TOP_LEVEL
        if extra:
            raise ConfigError(f"unknown table(s) or key(s) outside [study]: {', '.join(sorted(map(str, extra)))}; "
                              f"known: {', '.join(sorted(_TOP_LEVEL))}")
    body = dict(data.get("study", data))
    unknown = set(body) - _KEYS - {"id", "prices", "instance_options"}
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(_KEYS))}")
    if "id" in body:
        body["study_id"] = body.pop("id")
    if "study_id" not in body:
        raise ConfigError("missing 'id' (the study id)")
    if not isinstance(body["study_id"], str):
        _bad("id", "a string", body["study_id"])
    for key in ("instances", "backends"):
        if key in body:
            if isinstance(body[key], str):
                body[key] = [body[key]]
            if not isinstance(body[key], (list, tuple)) or not all(isinstance(v, str) for v in body[key]):
                _bad(key, "a list of strings", body[key])
            body[key] = tuple(body[key])
    if "tools" in body:
        body["tools"] = _coerce_tools(body["tools"], "tools")
    for key in ("prices", "instance_options"):
        body.setdefault(key, data.get(key, {}) if "study" in data else {})
    if not isinstance(body["instance_options"], dict):
        _bad("instance_options", "a table of tables (instance name -> options)", body["instance_options"])
    if not isinstance(body["prices"], dict):
        _bad("prices", "a table of backend -> {input, output}", body["prices"])
    missing = [k for k in ("instances", "backends") if k not in body]
    if missing:
        raise ConfigError(f"missing {' and '.join(repr(k) for k in missing)}")
    return StudyConfig(**body)


def load_study_config(path: str | os.PathLike[str], **overrides: Any) -> StudyConfig:
    """Read a study TOML file; keyword overrides (e.g. ``workers=1``) win over the file.
    Nothing is written: a ConfigError (one line, naming the file and key) comes first."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such study file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a study file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the study file ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{path}: not a UTF-8 text file (byte 0x{raw[e.start]:02x} on line {line}); "
                          "TOML files are UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e})") from None
    overrides = {("study_id" if k == "id" else k): v for k, v in overrides.items() if v is not None}
    if isinstance(data.get("study"), dict):
        data["study"].update(overrides)
        if "study_id" in overrides:
            data["study"].pop("id", None)
    elif "study" not in data:
        data.update(overrides)
        if "study_id" in overrides:
            data.pop("id", None)
    return _from_dict(data, str(path), frozenset(overrides) | ({"id"} if "study_id" in overrides else set()))


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
