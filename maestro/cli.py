"""The ``maestro`` command line: thin wrappers over the Python API.

    maestro study run FILE|MOD:ATTR   run, resume or extend a study (TOML file or a StudyConfig)
    maestro run INSTANCE [...]        run one instance without a study file
    maestro runs ls STUDY             list a study's runs
    maestro report STUDY... [--out DIR]  every analysis figure as PNG plus one HTML page
    maestro sim serve [...]           run the simulated LLM service standalone
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _console():
    from rich.console import Console

    # Piped output (CI logs, make) has no width: keep tables readable there.
    return Console() if sys.stdout.isatty() else Console(width=160)


def _print_summary(result, console) -> None:
    from rich.table import Table

    simulated = any(c["simulated"] for c in result.summary)
    title = f"study {result.path.name}" + (" (SIMULATED backends)" if simulated else "")
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
    console.print(f"summary: [bold]{result.path / 'summary.json'}[/]")


def _figures(result, console, enabled: bool) -> None:
    if not enabled:
        return
    try:
        from maestro.analysis import overview_figures
    except ImportError:  # the analysis extra is not installed
        console.print("figures skipped: install maestro-mas[analysis] for matplotlib")
        return
    paths = overview_figures(result.path)
    console.print(f"figures: [bold]{paths[0].parent}[/] ({', '.join(p.name for p in paths)})")


def _study_config(ref: str, **overrides):
    """A study from a TOML file, or from ``package.module:attribute`` naming a StudyConfig.
    ``module:attribute`` references (here and in the file) are imported as ``python -m``
    would: from the current folder first."""
    import dataclasses
    import os

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())

    from maestro.runner import ConfigError, StudyConfig, load_study_config
    from maestro.mas import resolve_system

    if ":" in ref and not Path(ref).exists():
        try:
            config = resolve_system(ref)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if not isinstance(config, StudyConfig):
            raise ConfigError(f"{ref} is a {type(config).__name__}, not a maestro.StudyConfig")
        return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    return load_study_config(ref, **overrides)


def _finish_study(result, console, figures: bool) -> int:
    """Print the summary; exit 1 when every run executed now raised (nothing measured)."""
    _print_summary(result, console)
    if result.all_raised:
        print(f"maestro: error: all {result.executed} run(s) ended in an exception; most common reason: "
              f"{result.common_error}", file=sys.stderr)
        return 1
    _figures(result, console, figures)
    return 0


def _cmd_study_run(args) -> int:
    from maestro.runner import run_study

    config = _study_config(args.file, workers=args.workers, out=args.out, repeats=args.repeats)
    console = _console()
    result = run_study(config, progress=not args.no_progress, console=console)
    return _finish_study(result, console, not args.no_figures)


def _cmd_run(args) -> int:
    from maestro.runner import run_study
    from maestro.runner.config import study_config_from_dict

    body = {
        "id": args.study_id or f"{args.instance}-adhoc",
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
    console = _console()
    result = run_study(config, progress=not args.no_progress, console=console)
    return _finish_study(result, console, not args.no_figures)


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
    if args.verbose:
        from maestro.store.reader import foreign_entries

        others = foreign_entries(study.path)
        console.print("not maestro's (ignored): " + (", ".join(p.name for p in others) if others else "none"))
    return 0


def _cmd_report(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from maestro.analysis.report import FIGURES, write_report

    console = _console()
    with Progress(TextColumn("[bold]report[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True, disable=args.no_progress) as progress:
        task = progress.add_task("loading study", total=len(FIGURES))

        def step(name: str, i: int, n: int) -> None:
            progress.update(task, completed=i, description=name)

        studies = args.study[0] if len(args.study) == 1 else args.study
        result = write_report(studies, args.out, judges=args.judge, on_figure=step)
    label = " (SIMULATED backends)" if result.simulated else ""
    console.print(f"report of {', '.join(result.study_ids)}{label}")
    console.print(f"figures: [bold]{result.out}[/] ({len(result.figures)} PNG files"
                  + (f"; {len(result.placeholders)} without data: {', '.join(result.placeholders)}"
                     if result.placeholders else "") + ")")
    console.print(f"page: [bold]{result.html}[/]")
    for p in result.problems:
        console.print(f"[yellow]warning:[/] {p}")
    return 0


def _cmd_sim_serve(rest: list[str]) -> int:
    from maestro.sim.cli import serve_main

    return serve_main(rest)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="maestro", description="Trace, run and analyse LLM multi-agent systems.")
    sub = p.add_subparsers(dest="command", required=True)

    study = sub.add_parser("study", help="run studies").add_subparsers(dest="study_command", required=True)
    sr = study.add_parser("run", help="run, resume or extend a study from a TOML file")
    sr.add_argument("file", help="study TOML file, or package.module:attribute naming a maestro.StudyConfig")
    sr.add_argument("--workers", type=int, help="parallel run processes (default: file, else cores)")
    sr.add_argument("--out", help="folder for study folders (default: file, else traces)")
    sr.add_argument("--repeats", type=int, help="override the file's repeats")
    sr.add_argument("--no-progress", action="store_true")
    sr.add_argument("--no-figures", action="store_true", help="skip the overview figures")
    sr.set_defaults(func=_cmd_study_run)

    run = sub.add_parser("run", help="run one instance without a study file")
    run.add_argument("instance")
    run.add_argument("--backend", action="append", help="backend spec, repeatable (default sim/strong)")
    run.add_argument("--tools", default="both", help="on, off or both (default both)")
    run.add_argument("--repeats", type=int, default=3)
    run.add_argument("--tasks", type=int, default=2)
    run.add_argument("--task-file", help="JSONL tasks instead of the bundled set")
    run.add_argument("--study-id")
    run.add_argument("--out", default="traces")
    run.add_argument("--timeout", type=float, default=600.0)
    run.add_argument("--time-factor", type=float, default=0.02)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--workers", type=int)
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--no-figures", action="store_true", help="skip the overview figures")
    run.set_defaults(func=_cmd_run)

    runs = sub.add_parser("runs", help="inspect recorded runs").add_subparsers(dest="runs_command", required=True)
    ls = runs.add_parser("ls", help="list a study's runs")
    ls.add_argument("study", type=Path, help="study folder, e.g. traces/demo")
    ls.add_argument("--status", help="only runs with this status")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--verbose", "-v", action="store_true", help="also list files in the study folder that are not "
                    "maestro's (readers ignore them)")
    ls.set_defaults(func=_cmd_runs_ls)

    rep = sub.add_parser("report", help="every analysis figure as PNG plus one self-contained HTML page")
    rep.add_argument("study", type=Path, nargs="+", help="study folder(s), e.g. traces/demo; several are compared "
                     "in one report")
    rep.add_argument("--out", type=Path, help="report folder (default: the first STUDY's report/)")
    rep.add_argument("--judge", action="append", help="backend spec of an LLM failure judge, repeatable "
                     "(two or more give the judge-agreement figure)")
    rep.add_argument("--no-progress", action="store_true")
    rep.set_defaults(func=_cmd_report)

    sim = sub.add_parser("sim", help="the simulated LLM service").add_subparsers(dest="sim_command", required=True)
    sim.add_parser("serve", help="serve on 127.0.0.1 (options: maestro sim serve --help)", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["sim", "serve"]:
        return _cmd_sim_serve(argv[2:])
    args = build_parser().parse_args(argv)
    from maestro.backends import BackendError
    from maestro.runner.config import ConfigError
    from maestro.store.reader import TraceFormatError

    try:
        return args.func(args)
    except (ConfigError, BackendError, TraceFormatError) as e:
        print(f"maestro: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("maestro: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
