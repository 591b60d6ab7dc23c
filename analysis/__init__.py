"""Analysis of stored traces (installed as ``maestro.analysis``). Reads the store only.

* ``frames``: ``runs_df``, ``spans_df``, ``llm_calls_df``, ``tool_calls_df``, ``edges_df``,
  ``resources_df`` (declarative column specs in ``columns``; ``describe(frame)`` lists
  them) and ``duckdb_connection`` for SQL over the parquet files;
* ``callgraph``: per-run call graphs, Jaccard / normalised LCS similarity (paper 4.3);
* ``failures`` and ``judges``: Table 3 taxonomy, layered attribution, LLM judges, kappa;
* ``cost``: run costs from LLM spans, Pareto frontier with bootstrap, tool on/off deltas;
* ``stats``: clustered bootstrap CIs, pass@k / pass^k, flip rates, paired tests;
* ``viewer`` and ``chrome_trace``: a static HTML page per run (``maestro view``) and the
  spans as Trace Event Format JSON for Perfetto / speedscope (``maestro export``);
* ``gate`` (imported on its own: ``maestro.analysis.gate.run_gate``): the release decision
  of ``maestro gate``.
"""

from maestro.analysis.callgraph import (
    call_graph,
    edge_sequence,
    edge_set,
    jaccard,
    lcs_similarity,
    pairwise_matrices,
    similarity_between,
    similarity_within,
)
from maestro.analysis.chrome_trace import chrome_trace, write_chrome_trace
from maestro.analysis.columns import ColumnSpec, describe
from maestro.analysis.cost import (
    config_summary,
    paired_tool_deltas,
    pareto_bootstrap,
    pareto_frontier,
    run_costs,
    tool_delta_summary,
)
from maestro.analysis.failures import (
    FailureCategory,
    classify_failures,
    failure_breakdown,
    failure_composition,
    failures_df,
)
from maestro.analysis.frames import (
    duckdb_connection,
    edges_df,
    llm_calls_df,
    resources_df,
    runs_df,
    spans_df,
    tool_calls_df,
)
from maestro.analysis.judges import (
    MAST_TAXONOMY,
    TABLE3_TAXONOMY,
    LLMJudge,
    cohen_kappa,
    judge_agreement,
    judge_failures,
    judge_runs,
)
from maestro.analysis.overview import cell_table, overview_figures
from maestro.analysis.report import FIGURES, ReportResult, write_report
from maestro.analysis.stats import bootstrap_ci, flip_rate, paired_test, pass_at_k, pass_hat_k, pass_k_table
from maestro.analysis.viewer import write_viewer

__all__ = [
    # overview
    "cell_table",
    "overview_figures",
    # frames
    "ColumnSpec",
    "describe",
    "runs_df",
    "spans_df",
    "llm_calls_df",
    "tool_calls_df",
    "edges_df",
    "resources_df",
    "duckdb_connection",
    # call graphs
    "call_graph",
    "edge_sequence",
    "edge_set",
    "jaccard",
    "lcs_similarity",
    "pairwise_matrices",
    "similarity_within",
    "similarity_between",
    # failures
    "FailureCategory",
    "classify_failures",
    "failures_df",
    "failure_breakdown",
    "failure_composition",
    # judges
    "LLMJudge",
    "TABLE3_TAXONOMY",
    "MAST_TAXONOMY",
    "judge_runs",
    "judge_failures",
    "cohen_kappa",
    "judge_agreement",
    # cost
    "run_costs",
    "config_summary",
    "pareto_frontier",
    "pareto_bootstrap",
    "paired_tool_deltas",
    "tool_delta_summary",
    # statistics
    "bootstrap_ci",
    "pass_at_k",
    "pass_hat_k",
    "pass_k_table",
    "flip_rate",
    "paired_test",
    # figures and report (figure functions: maestro.analysis.figures)
    "FIGURES",
    "ReportResult",
    "write_report",
    # one run at a time: viewer pages and chrome-trace export
    "write_viewer",
    "chrome_trace",
    "write_chrome_trace",
]
