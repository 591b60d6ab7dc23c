"""The ``maestro`` command line: thin wrappers over the Python API.

    maestro study run FILE|MOD:ATTR   run, resume or extend a study (TOML file or a StudyConfig)
    maestro run INSTANCE [...]        run one instance without a study file
    maestro runs ls STUDY             list a study's runs
    maestro report STUDY... [--out DIR]  every analysis figure as PNG plus one HTML page
    maestro view STUDY [RUN_ID]       a static HTML page per run (span tree, timeline, messages)
    maestro export STUDY --format chrome-trace  trace-event JSON for Perfetto / speedscope
    maestro gate BASELINE CANDIDATE   release decision: exit 0 pass, 1 regression, 2 invalid input
    maestro ingest --study DIR        an OTLP/HTTP receiver (loopback) writing the spans it gets as a study
    maestro import FILE... --study DIR  OTLP JSON files (OpenInference, GenAI, ADK, AutoGen spans) as a study
    maestro sim serve [...]           run the simulated LLM service standalone

Errors are one line on stderr: a bad study file, option or backend exits 2, a file-system
error (full disk, read-only or missing folder) or an unexpected error exits 1; the global
``--debug`` flag (``maestro --debug ...`` or after the command) adds the traceback.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import NoReturn

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and point at ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(low: int):
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    convert.__name__ = "integer"
    return convert


def _finite_number(low: float, *, strict: bool):
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"expected a finite number {'>' if strict else '>='} {low:g}, got {text!r}")
        return value

    convert.__name__ = "number"
    return convert


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _console():
    from rich.console import Console

    # Piped output (CI logs, make) has no width: keep tables readable there.
    return Console() if sys.stdout.isatty() else Console(width=160)


def _print_summary(result, console) -> None:
    from rich.table import Table

    simulated = any(c["simulated"] for c in result.summary)
    name = result.path.name if isinstance(result.path, Path) else str(result.path)
    title = f"study {name}" + (" (SIMULATED backends)" if simulated else "")
    table = Table(title=title)
    for col in ("instance", "backend", "tools", "runs", "success", "correct", "timeouts", "exceptions",
                "median s", "mean tokens", "mean cost $", "dropped"):
        table.add_column(col, justify="right" if col not in ("instance", "backend") else "left")
    for c in result.summary:
        backend = c["backend"] + (" (sim)" if c["simulated"] else "")
        table.add_row(
            c["instance"], backend, {True: "on", False: "off"}.get(c["tools"], "-"), str(c["runs"]), f"{c['success']:.0%}",
            "-" if c["correct"] is None else f"{c['correct']:.0%}", str(c["timeouts"]), str(c["exceptions"]),
            f"{c['median_s']:.2f}", f"{c['mean_tokens']:.0f}", f"{c['mean_cost_usd']:.5f}", str(c["dropped_spans"]),
        )
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v)
    console.print(
        f"{result.executed} run(s) executed, {result.skipped} already recorded ({counts}); "
        f"{result.wall_s:.1f} s, {result.runs_per_s:.2f} runs/s"
    )
    console.print(f"traces: [bold]{result.path}[/]  (runs.parquet, spans/, resources/, study.json)")
    console.print(f"summary: [bold]{result.path}/summary.json[/]")


def _figures(result, console, enabled: bool) -> None:
    if not enabled:
        return
    try:
        from maestro.analysis import overview_figures
    except ImportError:  # the analysis extra is not installed
        console.print("figures skipped: install maestro-mas[analysis] for matplotlib")
        return
    if not isinstance(result.path, Path):
        console.print(f"figures: not drawn into object storage; maestro report {result.path} --out DIR draws them")
        return
    paths = overview_figures(result.path)
    console.print(f"figures: [bold]{paths[0].parent}[/] ({', '.join(p.name for p in paths)})")


def _cwd_on_path() -> None:
    """``module:attribute`` references import as ``python -m`` would: from the current folder first."""
    import os

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _study_config(ref: str, **overrides):
    """A study from a TOML file, or from ``package.module:attribute`` naming a StudyConfig.
    ``module:attribute`` references (here and in the file) are imported as ``python -m``
    would: from the current folder first."""
    import dataclasses

    _cwd_on_path()

    from maestro.runner import ConfigError, StudyConfig, load_study_config
    from maestro.runner.systems import resolve_system

    if ":" in ref and not Path(ref).exists():
        try:
            config = resolve_system(ref)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if not isinstance(config, StudyConfig):
            raise ConfigError(f"{ref} is a {type(config).__name__}, not a maestro.StudyConfig")
        try:
            return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
        except ConfigError as e:
            raise ConfigError(f"{ref}: {e}", key=e.key, detail=e.detail) from None
    return load_study_config(ref, **overrides)


def _check_task_file(config) -> None:
    """Read the study's task file once before the study starts, so that a bad line is a
    ConfigError (naming the file and line, never echoing the line: it may hold secrets)
    before anything is written."""
    if config.task_file is None:
        return
    from maestro.runner import ConfigError

    for system in config.systems().values():
        try:
            system.tasks(n=config.tasks, source=config.task_file, seed=config.seed)
        except ValueError as e:  # the task readers' contract (UnicodeDecodeError included)
            msg = _one_line(e)
            if config.task_file not in msg:
                msg = f"{config.task_file}: {msg}"
            raise ConfigError(f"task file {msg}") from None


def _finish_study(result, console, figures: bool) -> int:
    """Print the summary. Exit 1 when every run executed now raised (nothing measured),
    when a run's files could not be written, or when a backend was stopped as down."""
    _print_summary(result, console)
    problems = [f"backend {b} stopped: {why}; its runs are left to a resume" for b, why in result.stopped_backends.items()]
    if result.executed_counts.get("write_failed"):
        problems.append(f"{result.executed_counts['write_failed']} run(s) could not write their files (status "
                        "write_failed, rerun on resume); see outcome_reason")
    if result.all_raised:
        problems.append(f"all {result.executed} run(s) ended in an exception; most common reason: {result.common_error}")
    for problem in problems:
        print(f"maestro: error: {problem}", file=sys.stderr)
    if problems:
        return 1
    _figures(result, console, figures)
    return 0


def _cmd_study_run(args) -> int:
    from maestro.runner import run_study

    config = _study_config(args.file, workers=args.workers, out=args.out, repeats=args.repeats)
    _check_task_file(config)
    console = _console()
    result = run_study(config, progress=not args.no_progress, console=console, retry=args.retry,
                       max_connection_failures=args.max_connection_failures, executor=args.executor,
                       address=args.address)
    return _finish_study(result, console, not args.no_figures)


def _cmd_run(args) -> int:
    from maestro.runner import run_study
    from maestro.runner.config import study_config_from_dict

    _cwd_on_path()
    body = {
        # a module:attribute reference is no file name: its ':' (and any other such character) becomes '-'
        "id": args.study_id or re.sub(r"[^A-Za-z0-9._-]", "-", args.instance).lstrip("._-") + "-adhoc",
        "instances": [args.instance],
        "backends": args.backend or ["sim/strong"],
        "tools": args.tools,
        "repeats": args.repeats,
        "tasks": args.tasks,
        "timeout_s": args.timeout,
        "out": args.out,
        "time_factor": args.time_factor,
        "seed": args.seed,
    }
    if args.workers:
        body["workers"] = args.workers
    if args.task_file:
        body["task_file"] = args.task_file
    config = study_config_from_dict(body, "maestro run")
    _check_task_file(config)
    console = _console()
    result = run_study(config, progress=not args.no_progress, console=console)
    return _finish_study(result, console, not args.no_figures)


def _study_arg(value: str) -> Path | str:
    """A study argument: a folder, or an object-storage URI kept as given (``Path`` would
    fold ``s3://`` into ``s3:/``)."""
    from maestro.store.location import is_uri

    return value if is_uri(value) else Path(value)


def _in_object_storage(studies) -> str | None:
    """The first of ``studies`` given as a URI, else None."""
    return next((s for s in studies if isinstance(s, str)), None)


def _usage_error(message: str) -> int:
    print(f"maestro: error: {message}", file=sys.stderr)
    return 2


def _cmd_runs_ls(args) -> int:
    from rich.table import Table

    from maestro.store.reader import load_study

    study = load_study(args.study, spans=False, resources=False)
    runs = study.runs
    if args.status:
        runs = runs[runs["status"] == args.status]
    console = _console()
    table = Table(title=f"{study.study_id}: {len(runs)} run(s)" + (" (SIMULATED)" if study.info.get("simulated") else ""))
    cols = ["run_id", "status", "judgement", "duration_s", "total_tokens", "llm_calls", "cost_usd", "spans_dropped"]
    for c in cols:
        table.add_column(c)
    for _, r in runs.sort_values("run_id").head(args.limit).iterrows():
        table.add_row(*[("-" if r[c] is None or r[c] != r[c] else (f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c])))
                        for c in cols])
    console.print(table)
    for w in study.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    if args.verbose and not isinstance(study.path, Path):
        console.print("quarantine/, history/ and foreign files: listed for local study folders only")
    elif args.verbose:
        from maestro.store.layout import StudyLayout
        from maestro.store.reader import RunHistory, foreign_entries

        layout = StudyLayout(study.path)
        others = foreign_entries(study.path)
        console.print("not maestro's (ignored): " + (", ".join(p.name for p in others) if others else "none"))
        kept = sorted(p.name for p in layout.quarantine_dir.iterdir()) if layout.quarantine_dir.is_dir() else []
        console.print(f"quarantine/ ({len(kept)}): " + (", ".join(kept) if kept else "empty"))
        console.print(f"history/: {len(RunHistory(layout).rows())} superseded attempt(s)")
    return 0


def _cmd_compact(args) -> int:
    from maestro.store.compact import compact

    r = compact(args.study, force=True, endpoint=args.endpoint)
    what = (f"merged {r.merged_files} per-run file(s) into generation {r.generation}" if r.compacted
            else f"nothing compacted ({r.reason}); generation {r.generation}")
    _console().print(f"{args.study}: {what}: {r.runs} runs, {r.rows.get('spans', 0)} spans in {r.wall_s:.2f} s")
    return 0


def _cmd_report(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from maestro.analysis.report import FIGURES, write_report
    from maestro.runner.judges import open_judges

    if args.out is None and _in_object_storage(args.study):
        return _usage_error(f"{_in_object_storage(args.study)} is in object storage: give the report a local folder "
                            "with --out DIR")
    console = _console()
    with Progress(TextColumn("[bold]report[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True, disable=args.no_progress) as progress:
        task = progress.add_task("loading study", total=len(FIGURES))

        def step(name: str, i: int, n: int) -> None:
            progress.update(task, completed=i, description=name)

        studies = args.study[0] if len(args.study) == 1 else args.study
        with open_judges(args.judge or []) as judges:
            result = write_report(studies, args.out, judges=judges, on_figure=step)
    label = " (SIMULATED backends)" if result.simulated else ""
    console.print(f"report of {', '.join(result.study_ids)}{label}")
    console.print(f"figures: [bold]{result.out}[/] ({len(result.figures)} PNG files"
                  + (f"; {len(result.placeholders)} without data: {', '.join(result.placeholders)}"
                     if result.placeholders else "") + ")")
    console.print(f"page: [bold]{result.html}[/]")
    for p in result.problems:
        console.print(f"[yellow]warning:[/] {p}")
    return 0


def _import_options(args):
    from maestro.interop import ImportOptions

    if args.backend:
        from maestro.backends import parse_backend

        parse_backend(args.backend)
    return ImportOptions(group_by=args.group_by, capture_content=args.capture_content, instance=args.instance,
                         framework=args.framework, backend=args.backend)


def _cmd_ingest(args) -> int:
    from maestro.interop import serve
    from maestro.runner.importer import open_receiver

    console = _console()
    try:
        receiver = open_receiver(str(args.study), _import_options(args), port=args.port, idle_s=args.idle_s,
                                 on_run=lambda run_id: console.print(f"run [bold]{run_id}[/] written"))
    except ValueError as e:  # a bad study folder name
        print(f"maestro: error: {_one_line(e)}", file=sys.stderr)
        return 2
    console.print(f"receiving OTLP/HTTP traces at [bold]{receiver.url}[/] (protobuf or JSON) into "
                  f"[bold]{args.study}[/]; Ctrl-C to stop", highlight=False)
    serve(receiver, until_idle_s=args.until_idle)
    console.print(f"{receiver.spans_received} span(s) received, {len(receiver.runs_written)} run(s) written"
                  + (f", {receiver.late_spans} late span(s) not written (raise --idle-s)" if receiver.late_spans else ""))
    return 0


def _cmd_import(args) -> int:
    from maestro.runner.importer import import_files

    try:
        run_ids = import_files([str(f) for f in args.files], str(args.study), _import_options(args))
    except ValueError as e:  # not OTLP JSON (OtlpError), no spans, a bad study folder name
        print(f"maestro: error: {_one_line(e)}", file=sys.stderr)
        return 2
    _console().print(f"{len(run_ids)} run(s) written to [bold]{args.study}[/]")
    return 0


def _cmd_view(args) -> int:
    from maestro.analysis.viewer import write_viewer

    if args.out is None and _in_object_storage([args.study]):
        return _usage_error(f"{args.study} is in object storage: give the pages a local folder with --out DIR")
    try:
        result = write_viewer(args.study, args.out, [args.run_id] if args.run_id else None)
    except ValueError as e:  # an unknown run id, or a malformed study (TraceFormatError)
        print(f"maestro: error: {_one_line(e)}", file=sys.stderr)
        return 2
    console = _console()
    if args.run_id:
        console.print(f"page: [bold]{result.pages[args.run_id]}[/]")
    else:
        console.print(f"{len(result.pages)} run page(s) in [bold]{result.out}[/]")
    console.print(f"index: [bold]{result.index}[/]")
    return 0


def _cmd_export(args) -> int:
    from maestro.analysis.chrome_trace import write_chrome_trace

    if args.out is None and _in_object_storage([args.study]):
        return _usage_error(f"{args.study} is in object storage: give the trace a local file with --out FILE")
    out = args.out or args.study / "report" / "chrome_trace.json"
    try:
        path = write_chrome_trace(args.study, out, args.run)
    except ValueError as e:  # an unknown run id, or a malformed study (TraceFormatError)
        print(f"maestro: error: {_one_line(e)}", file=sys.stderr)
        return 2
    console = _console()
    console.print(f"chrome trace: [bold]{path}[/] (open in Perfetto or speedscope)")
    return 0


def _cmd_gate(args) -> int:
    """Exit 0 pass, 1 regression, 2 when the gate cannot decide (invalid input or an error)."""
    from maestro.analysis.gate import run_gate, to_json_text

    try:
        result = run_gate(args.baseline, args.candidate, args.policy)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(to_json_text(result), encoding="utf-8")
    except Exception as e:  # noqa: BLE001 - exit 1 means "regression": any failure to decide is 2
        _fail(e, _os_message(e) if isinstance(e, OSError) else _one_line(e), args.debug)
        return 2
    print(result.markdown())  # plain print: rich would read [CI] brackets as markup
    return result.exit_code


def _cmd_sim_serve(rest: list[str]) -> int:
    from maestro.sim.cli import serve_main

    return serve_main(rest)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="maestro", description="Trace, run and analyse LLM multi-agent systems.")
    p.add_argument("--debug", action="store_true", help="on an error, print the full traceback")
    # --debug after the command too (SUPPRESS: a subcommand without it keeps the global value)
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True)

    study = sub.add_parser("study", help="run studies").add_subparsers(dest="study_command", required=True)
    sr = study.add_parser("run", help="run, resume or extend a study from a TOML file", parents=[common])
    sr.add_argument("file", help="study TOML file, or package.module:attribute naming a maestro.StudyConfig")
    sr.add_argument("--workers", type=_int_at_least(1), help="parallel run processes (default: file, else cores)")
    sr.add_argument("--out", help="folder for study folders, or s3://bucket/prefix (default: file, else traces)")
    sr.add_argument("--repeats", type=_int_at_least(1), help="override the file's repeats")
    sr.add_argument("--retry", type=_statuses, default=[], metavar="STATUS[,STATUS]",
                    help="run recorded runs of these statuses again (exception, timeout, crashed, failure); "
                         "the old attempts are kept in history/")
    sr.add_argument("--max-connection-failures", type=_int_at_least(1), default=5, metavar="N",
                    help="stop a backend after N runs in a row could not reach it (default 5); its runs are "
                         "left to a resume")
    sr.add_argument("--executor", choices=["local", "ray"],
                    help="where runs execute (default: file, else MAESTRO_EXECUTOR, else local)")
    sr.add_argument("--address", help="Ray cluster address HOST:PORT (default: file, else RAY_ADDRESS)")
    sr.add_argument("--no-progress", action="store_true")
    sr.add_argument("--no-figures", action="store_true", help="skip the overview figures")
    sr.set_defaults(func=_cmd_study_run)

    run = sub.add_parser("run", help="run one instance without a study file", parents=[common])
    run.add_argument("instance")
    run.add_argument("--backend", action="append", help="backend spec, repeatable (default sim/strong)")
    run.add_argument("--tools", default="both", help="on, off or both (default both)")
    run.add_argument("--repeats", type=_int_at_least(1), default=3)
    run.add_argument("--tasks", type=_int_at_least(1), default=2)
    run.add_argument("--task-file", help="JSONL tasks instead of the bundled set")
    run.add_argument("--study-id")
    run.add_argument("--out", default="traces")
    run.add_argument("--timeout", type=_finite_number(0, strict=True), default=600.0, help="per-run cap in seconds")
    run.add_argument("--time-factor", type=_finite_number(0, strict=False), default=0.02)
    run.add_argument("--seed", type=_integer, default=0)
    run.add_argument("--workers", type=_int_at_least(1))
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--no-figures", action="store_true", help="skip the overview figures")
    run.set_defaults(func=_cmd_run)

    runs = sub.add_parser("runs", help="inspect recorded runs").add_subparsers(dest="runs_command", required=True)
    ls = runs.add_parser("ls", help="list a study's runs", parents=[common])
    ls.add_argument("study", type=_study_arg, help="study folder (e.g. traces/demo) or s3://bucket/prefix/study")
    ls.add_argument("--status", help="only runs with this status")
    ls.add_argument("--limit", type=_int_at_least(0), default=50)
    ls.add_argument("--verbose", "-v", action="store_true", help="also list files in the study folder that are not "
                    "maestro's (readers ignore them)")
    ls.set_defaults(func=_cmd_runs_ls)

    cmp = sub.add_parser("compact", help="merge a study's per-run files into a few large files (atomic; "
                         "readers read both forms)", parents=[common])
    cmp.add_argument("study", help="study folder or s3://bucket/prefix/study")
    cmp.add_argument("--endpoint", help="S3 endpoint for an s3:// study (default: MAESTRO_S3_ENDPOINT)")
    cmp.set_defaults(func=_cmd_compact)

    rep = sub.add_parser("report", help="every analysis figure as PNG plus one self-contained HTML page",
                         parents=[common])
    rep.add_argument("study", type=_study_arg, nargs="+", help="study folder(s), e.g. traces/demo; several are compared "
                     "in one report")
    rep.add_argument("--out", type=Path, help="report folder (default: the first STUDY's report/)")
    rep.add_argument("--judge", action="append", help="backend spec of an LLM failure judge, repeatable "
                     "(two or more give the judge-agreement figure)")
    rep.add_argument("--no-progress", action="store_true")
    rep.set_defaults(func=_cmd_report)

    view = sub.add_parser("view", help="a static HTML page per run: span tree with timeline, messages, call graph, "
                          "attributes, failure evidence", parents=[common])
    view.add_argument("study", type=_study_arg, help="study folder (e.g. traces/demo) or s3://bucket/prefix/study")
    view.add_argument("run_id", nargs="?", help="only this run's page (default: every run)")
    view.add_argument("--out", type=Path, help="folder of the pages (default: STUDY/report/runs/<study_id>, where "
                      "the report links to)")
    view.set_defaults(func=_cmd_view)

    exp = sub.add_parser("export", help="export a study's spans for other tools", parents=[common])
    exp.add_argument("study", type=_study_arg, help="study folder (e.g. traces/demo) or s3://bucket/prefix/study")
    exp.add_argument("--format", required=True, choices=["chrome-trace"],
                     help="chrome-trace: Trace Event Format JSON (Perfetto, speedscope, chrome://tracing)")
    exp.add_argument("--out", type=Path, help="output file (default: STUDY/report/chrome_trace.json)")
    exp.add_argument("--run", action="append", metavar="RUN_ID", help="only this run, repeatable (default: all)")
    exp.set_defaults(func=_cmd_export)

    gate = sub.add_parser("gate", help="release decision: compare a candidate study with a baseline (exit 0 "
                          "pass, 1 regression, 2 invalid input)", parents=[common])
    gate.add_argument("baseline", type=_study_arg, help="baseline study folder (or s3:// URI)")
    gate.add_argument("candidate", type=_study_arg, help="candidate study folder (or s3:// URI)")
    gate.add_argument("--policy", type=Path, help="policy TOML laid over the default thresholds "
                      "(docs/analysis.md, Release gate)")
    gate.add_argument("--json", type=Path, metavar="FILE", help="also write the decision and every number as JSON")
    gate.set_defaults(func=_cmd_gate)

    interop = _Parser(add_help=False)
    interop.add_argument("--study", type=Path, required=True, help="study folder to write (created; its name is "
                         "the study id), e.g. traces/imported")
    interop.add_argument("--group-by", metavar="ATTRIBUTE", help="span or resource attribute whose value names a "
                         "run (default: one run per trace id)")
    interop.add_argument("--capture-content", action="store_true", help="keep prompts, outputs and tool arguments "
                         "(redacted); dropped by default")
    interop.add_argument("--instance", help="instance name of every run (default: maestro.instance, else "
                         "service.name)")
    interop.add_argument("--framework", help="framework of every run (default: maestro.framework, else detected)")
    interop.add_argument("--backend", help="backend spec of every run, e.g. openai/gpt-4o (default: maestro.backend, "
                         "else from the model calls)")
    ing = sub.add_parser("ingest", help="receive OTLP/HTTP traces (protobuf or JSON) on loopback and write them "
                         "as a study", parents=[common, interop])
    ing.add_argument("--port", type=_int_at_least(0), default=4318, help="port on 127.0.0.1 (default 4318; 0: any)")
    ing.add_argument("--idle-s", type=_finite_number(0, strict=True), default=2.0, help="write a run once its root "
                     "span arrived and nothing of it came for this long (default 2)")
    ing.add_argument("--until-idle", type=_finite_number(0, strict=True), metavar="S", help="exit after S seconds "
                     "without spans (after the first); default: run until Ctrl-C / SIGTERM")
    ing.set_defaults(func=_cmd_ingest)
    imp = sub.add_parser("import", help="import OTLP JSON files as a study", parents=[common, interop])
    imp.add_argument("files", nargs="+", type=Path, help="OTLP JSON files (a request, a list, or JSON lines)")
    imp.set_defaults(func=_cmd_import)

    sim = sub.add_parser("sim", help="the simulated LLM service").add_subparsers(dest="sim_command", required=True)
    sim.add_parser("serve", help="serve on 127.0.0.1 (options: maestro sim serve --help)", add_help=False)
    return p


def _one_line(e: BaseException) -> str:
    return "; ".join(line.strip() for line in str(e).splitlines() if line.strip())


def _os_message(e: OSError) -> str:
    """``<what> (<path>)`` for a file-system error: no space left, read-only, not a folder..."""
    what = e.strerror or _one_line(e) or type(e).__name__
    paths = [str(p) for p in (e.filename, e.filename2) if p is not None]
    return f"{what} ({' -> '.join(paths)})" if paths else what


def _fail(e: BaseException, message: str, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exception(e, file=sys.stderr)
    print(f"maestro: error: {message}", file=sys.stderr)


def _statuses(text: str) -> list[str]:
    from maestro.runner.study import RETRYABLE

    out = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in out if t not in RETRYABLE]
    if bad or not out:
        raise argparse.ArgumentTypeError(f"expected statuses from {', '.join(RETRYABLE)}, got {text!r}")
    return out


def _guarded(call, debug: bool, interrupted: str) -> int:
    """Run a command: its errors become one line on stderr (plus the traceback with --debug)."""
    from maestro.backends import BackendError
    from maestro.runner.config import ConfigError
    from maestro.store.lock import StudyLockedError
    from maestro.store.reader import TraceFormatError

    try:
        return call()
    except (ConfigError, BackendError, TraceFormatError, StudyLockedError) as e:
        _fail(e, str(e), debug)
        return 2
    except KeyboardInterrupt:
        print(f"maestro: {interrupted}", file=sys.stderr)
        return 130
    except OSError as e:
        _fail(e, _os_message(e), debug)
        return 1
    except Exception as e:  # noqa: BLE001 - the last resort: one line, not a traceback
        hint = "" if debug else " (rerun with --debug for the traceback)"
        _fail(e, f"unexpected {type(e).__name__}: {_one_line(e)}{hint}", debug)
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    skip = 1 if argv[:1] == ["--debug"] else 0
    if argv[skip:skip + 2] == ["sim", "serve"]:
        rest = argv[skip + 2:]
        return _guarded(lambda: _cmd_sim_serve(rest), bool(skip), "interrupted")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already reported on one line
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return _guarded(lambda: args.func(args), args.debug, "interrupted; rerun the same command to resume")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
