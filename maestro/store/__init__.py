"""The trace store: on-disk layout, atomic writers, column specs and ``load_study``."""

from maestro.store.layout import StudyLayout, atomic_write_json, atomic_write_table
from maestro.store.reader import RunIndex, Study, TraceFormatError, load_study, read_study_json
from maestro.store.schema import RESOURCE_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS, Column

__all__ = [
    "StudyLayout", "atomic_write_json", "atomic_write_table", "RunIndex", "Study", "TraceFormatError",
    "load_study", "read_study_json", "Column", "SPAN_COLUMNS", "RESOURCE_COLUMNS", "RUN_COLUMNS",
]
