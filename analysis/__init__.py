"""Analysis of stored traces (installed as ``maestro.analysis``). Reads the store only."""

from maestro.analysis.overview import cell_table, overview_figures

__all__ = ["cell_table", "overview_figures"]
