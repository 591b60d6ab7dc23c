"""The study runner: the only part that brings instance, adapter, collector, backend and
store together."""

from maestro.runner.config import ConfigError, RunSpec, StudyConfig, expand_runs, load_study_config
from maestro.runner.study import StudyResult, run_study

__all__ = ["ConfigError", "RunSpec", "StudyConfig", "expand_runs", "load_study_config", "StudyResult", "run_study"]
