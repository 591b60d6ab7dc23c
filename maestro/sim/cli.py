"""``python -m maestro.sim serve``: run the simulated service as its own process.

On start it prints exactly one line of JSON to stdout, ``{"url": ..., "pid": ..., "profiles":
[...]}``, so a parent can read where it listens, then serves until SIGTERM or SIGINT and
exits 0. ``--import MODULE`` (repeatable) imports modules first so they can register
policies or profiles; a module with a top-level ``register_sim_policies()`` gets it called.
``--log-requests FILE`` appends each request as a policy sees it, with its reply, to FILE
(JSONL, redacted; see :mod:`maestro.sim.requestlog`): the quickest way to learn what a
framework sends before writing a policy for it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading

from maestro.sim.profiles import profile_names
from maestro.sim.server import DEFAULT_TIME_FACTOR, SimServer

__all__ = ["serve_main", "build_parser", "import_policy_modules"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m maestro.sim serve", description="Serve maestro's simulated LLM service.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0 = an ephemeral one)")
    p.add_argument("--time-factor", type=float, default=DEFAULT_TIME_FACTOR, help="real seconds per simulated second (0 = no sleeping)")
    p.add_argument("--max-stall", type=float, default=10.0, help="cap on one stall's real sleep, seconds")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE", help="module to import before serving (repeatable)")
    p.add_argument("--ready-file", default=None, metavar="PATH", help="also write the JSON ready line to this file")
    p.add_argument("--log-level", default="WARNING", help="logging level for stderr (default WARNING)")
    p.add_argument(
        "--log-requests",
        default=None,
        metavar="FILE",
        help="append every request (normalised, as a policy sees it) and its reply to FILE as JSONL, secrets redacted",
    )
    return p


def import_policy_modules(modules: list[str]) -> None:
    """Import each module; call its top-level ``register_sim_policies()`` when it has one."""
    for name in modules:
        mod = importlib.import_module(name)
        hook = getattr(mod, "register_sim_policies", None)
        if callable(hook):
            hook()


def serve_main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT. Returns the exit code (0 on a clean stop)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING), stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        import_policy_modules(args.imports)
    except Exception as exc:  # noqa: BLE001 - report and fail; the parent shows stderr
        print(f"maestro-sim: failed to import policy modules: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    # Handlers first, so a SIGTERM right after the ready line still exits cleanly.
    if threading.current_thread() is threading.main_thread():  # signals only work there
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    server = SimServer(
        host=args.host, port=args.port, time_factor=args.time_factor, max_stall_s=args.max_stall, request_log=args.log_requests
    )
    try:
        server.start()
    except OSError as exc:
        print(f"maestro-sim: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr, flush=True)
        return 2
    line = json.dumps({"url": server.url, "pid": os.getpid(), "profiles": profile_names()})
    if args.ready_file:
        tmp = f"{args.ready_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(line + "\n")
        os.replace(tmp, args.ready_file)  # atomic: a watcher never reads half a line
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):  # short waits keep the main thread responsive to signals
            pass
    finally:
        server.stop()
    return 0
