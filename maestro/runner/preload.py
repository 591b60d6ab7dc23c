"""Imported once by the forkserver before any run is forked.

Importing the frameworks (LangGraph, AutoGen, ADK) takes seconds; doing it in the
forkserver means each run's process starts with them loaded. The runner hands over what to
preload in a spec file keyed by its process id (``worker.preload_spec_path``; a file, not environment
variables), which the forkserver finds through its parent's id: the frameworks, the
systems named by reference, and a file of pickled systems, unpickled into the worker's
cache; each system is warmed when it has a ``warm()`` method (e.g. building the QA world
and its retrieval index). Without a spec (a forkserver someone else started) only the
process ties below apply.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pickle
from pathlib import Path

import maestro.collector.telemetry  # noqa: F401 - preload the OTel SDK and pyarrow
from maestro.procs import die_with_parent
from maestro.runner.worker import preload_spec_path  # and so the worker and all it imports

log = logging.getLogger(__name__)


def _warm_http_clients() -> None:
    # The first OpenAI/httpx client in a process builds an SSL context (~90 ms); do it once
    # here so every forked run starts with it cached.
    try:
        import openai

        openai.OpenAI(api_key="warm-up", base_url="http://127.0.0.1:9/v1")
    except Exception:
        log.debug("warming HTTP clients failed", exc_info=True)


_warm_http_clients()

FRAMEWORK_MODULES = {
    "langgraph": ("maestro.adapters.langgraph", "langgraph.graph", "langgraph.prebuilt", "langchain_openai",
                  "langchain_core.tools"),
    "autogen": ("maestro.adapters.autogen", "autogen_agentchat.agents", "autogen_agentchat.teams",
                "autogen_agentchat.conditions", "autogen_ext.models.openai"),
    "adk": ("maestro.adapters.adk", "google.adk.agents", "google.adk.runners", "google.adk.tools", "google.genai"),
    "mcp_agent": ("maestro.adapters.mcp_agent", "mcp_agent.app", "mcp_agent.agents.agent",
                  "mcp_agent.workflows.llm.augmented_llm_openai", "mcp_agent.workflows.orchestrator.orchestrator",
                  "mcp_agent.workflows.evaluator_optimizer.evaluator_optimizer"),
}
"""What a MAS on each framework usually imports: preloaded for the frameworks a study uses,
so a user's ``build`` finds them imported."""


def _warm_langgraph() -> None:
    # LangGraph and LangChain import parts of themselves on a graph's first invoke (~2-4 ms):
    # one traced invoke of a two-node graph here, so no run pays that inside its root span.
    from typing import TypedDict

    from langchain_core.callbacks import BaseCallbackHandler
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("a", lambda state: {"n": state["n"] + 1})
    graph.add_node("b", lambda state: {"n": state["n"] + 1})
    graph.add_edge(START, "a")
    graph.add_conditional_edges("a", lambda state: "b")
    graph.add_edge("b", END)
    graph.compile().invoke({"n": 0}, {"callbacks": [BaseCallbackHandler()]})


def _warm_adk() -> None:
    # google-genai builds its HTTP clients and SSL context on the first client (~0.3 s):
    # build one here so every forked run inherits it.
    from google import genai
    from google.genai import types

    genai.Client(api_key="warm-up", http_options=types.HttpOptions(base_url="http://127.0.0.1:9"))


def _warm_autogen() -> None:
    # The first OpenAIChatCompletionClient, and the adapter's first look at its SDK resources
    # (openai imports chat/beta resources lazily), cost ~0.5 s: pay them here, not per run.
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    from maestro.adapters.autogen import extract

    client = OpenAIChatCompletionClient(model="gpt-4o-mini", api_key="warm-up", base_url="http://127.0.0.1:9/v1")
    extract.openai_resources(client)


FRAMEWORK_WARMERS = {"langgraph": _warm_langgraph, "autogen": _warm_autogen, "adk": _warm_adk}
"""Framework -> a warm-up that exercises its first-call paths once in the forkserver."""


def _preload_frameworks(frameworks: list[str]) -> None:
    for framework in frameworks:
        for name in FRAMEWORK_MODULES.get(framework, ()):
            try:
                importlib.import_module(name)
            except Exception:  # an optional client library the user's MAS may not need
                log.debug("preloading %s failed", name, exc_info=True)
        try:
            FRAMEWORK_WARMERS.get(framework, lambda: None)()
        except Exception:
            log.debug("warming %s failed", framework, exc_info=True)


def _warm(system) -> None:
    warm = getattr(system, "warm", None)
    if callable(warm):
        warm()


def _preload_systems(names: list[str], shipped_file: str | None) -> None:
    from maestro.runner.systems import resolve_system, unpickle_system
    from maestro.runner.worker import SYSTEM_CACHE, system_digest

    for name in names:
        try:
            _warm(resolve_system(name))
        except Exception:  # the run itself will report the problem with context
            log.exception("preloading system %s failed", name)
    if not shipped_file:
        return
    try:
        with open(shipped_file, "rb") as f:
            shipped = pickle.load(f)
    except OSError:
        log.debug("no shipped systems to preload at %s", shipped_file)
        return
    for data in shipped:
        try:
            # Unpickling imports what the system's code uses (its framework, its clients),
            # and the cached object is inherited by every forked run.
            system = SYSTEM_CACHE.setdefault(system_digest(data), unpickle_system(data))
            _warm(system)
        except Exception:
            log.exception("preloading a shipped system failed")


def _import_main(main: dict[str, str]) -> None:
    """Import the runner's main script (or module) once, here, as multiprocessing would in
    every run's process: a run's process then finds it imported and skips that (a user's
    study script that imports pandas and matplotlib cost ~0.3 s of CPU per run). The
    forkserver's own ``"__main__"`` preload does not do this on Python 3.11 (it is never
    given the main path)."""
    from multiprocessing import process, spawn

    # as multiprocessing marks a child importing main: starting processes there is refused
    process.current_process()._inheriting = True  # type: ignore[attr-defined]
    try:
        if "init_main_from_name" in main:
            spawn._fixup_main_from_name(main["init_main_from_name"])  # type: ignore[attr-defined]
        elif "init_main_from_path" in main:
            spawn.import_main_path(main["init_main_from_path"])
    except BaseException:  # noqa: BLE001 - each run's process imports it again and reports
        log.warning("importing the main module in the forkserver failed", exc_info=True)
    finally:
        del process.current_process()._inheriting  # type: ignore[attr-defined]


def preload() -> None:
    """In the forkserver: tie it to the runner's life, then import and warm what the
    runner's spec names."""
    # The forkserver dies with the runner that started it, and its runs with it (their own
    # parent-death signal): a killed study leaves no process behind.
    die_with_parent()
    path = preload_spec_path(os.getppid())
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if spec.get("main"):
        _import_main(spec["main"])
    _preload_frameworks(spec.get("frameworks") or [])
    _preload_systems(spec.get("systems") or [], spec.get("shipped_file"))
    # Read once: nothing is left in the temporary folder even if the runner is killed later.
    for leftover in (path, spec.get("shipped_file")):
        if leftover:
            Path(leftover).unlink(missing_ok=True)


# Only the forkserver imports this module (it is the runner's preload list): importing it
# anywhere else would tie that process to its parent.
preload()
