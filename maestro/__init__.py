"""maestro: OpenTelemetry-based tracing and analysis of LLM multi-agent systems.

The package face is thin and lazy: ``import maestro`` imports no framework.

* ``maestro.MAS`` / ``maestro.Sample`` / ``maestro.scorers``: your own MAS as a study subject.
* ``maestro.run_study(config)`` / ``maestro.StudyConfig`` / ``maestro.load_study_config(file)``:
  run a study of it (and of the built-in instances) over backends x tools x tasks x repeats.
* ``maestro.trace_run(...)``: trace one run of your own MAS (with an adapter).
* ``maestro.load_study(path)``: a study's runs, spans and resources as DataFrames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_study", "run_study", "load_study_config", "StudyConfig", "trace_run",
           "TracedRun", "TraceFormatError", "Study", "MAS", "Sample", "RunContext", "scorers"]

_LAZY = {
    "load_study": ("maestro.store.reader", "load_study"),
    "Study": ("maestro.store.reader", "Study"),
    "TraceFormatError": ("maestro.store.reader", "TraceFormatError"),
    "run_study": ("maestro.runner.study", "run_study"),
    "load_study_config": ("maestro.runner.config", "load_study_config"),
    "StudyConfig": ("maestro.runner.config", "StudyConfig"),
    "trace_run": ("maestro.runner.adhoc", "trace_run"),
    "TracedRun": ("maestro.runner.adhoc", "TracedRun"),
    "MAS": ("maestro.mas", "MAS"),
    "Sample": ("maestro.mas", "Sample"),
    "RunContext": ("maestro.contract", "RunContext"),
    "scorers": ("maestro", "scorers"),
}

if TYPE_CHECKING:  # pragma: no cover
    from maestro import scorers
    from maestro.contract import RunContext
    from maestro.mas import MAS, Sample
    from maestro.runner.adhoc import TracedRun, trace_run
    from maestro.runner.config import StudyConfig, load_study_config
    from maestro.runner.study import run_study
    from maestro.store.reader import Study, TraceFormatError, load_study


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = importlib.import_module(f"maestro.{attr}") if module == "maestro" else \
            getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'maestro' has no attribute {name!r}")
