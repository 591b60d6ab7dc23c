"""The trace store: on-disk layout, atomic writers, column specs, locations (local or
``s3://``), ``load_study`` over per-run and compacted files; compaction is
``maestro.store.compact.compact`` (not re-exported: the name is its module's)."""

from maestro.store.layout import StudyLayout, atomic_write_json, atomic_write_table
from maestro.store.location import Location
from maestro.store.reader import RunIndex, Study, TraceFormatError, load_study, read_runs, read_study_json
from maestro.store.schema import RESOURCE_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS, Column

__all__ = [
    "StudyLayout", "atomic_write_json", "atomic_write_table", "RunIndex", "Study", "TraceFormatError",
    "load_study", "read_study_json", "read_runs", "Column", "SPAN_COLUMNS", "RESOURCE_COLUMNS", "RUN_COLUMNS",
    "Location",
]
