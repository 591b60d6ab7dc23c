"""Magentic-One (AutoGen ``MagenticOneGroupChat``) as an AutoGen MAS instance.

Paper Table 2: Cross-domain, AutoGen, Planning, 4 agents (the orchestrator, which keeps
the task and progress ledgers and picks the next speaker, plus ``coder``,
``computer_terminal`` and ``file_surfer``), Artifacts in, suite F. This port answers data
questions over a bundled document folder (Closed-Form: a number checked against the
files); its two file tools (``list_files``, ``read_file``) and the terminal's code execution
are what a run's tool setting switches (Table 2 counts 0 tools).

Importing this package registers the simulated-model policies (cheap, idempotent). The
AutoGen-dependent names (``INSTANCE``, ``MagenticOneInstance``, ``build_team``,
``make_model_client``, ``GuardedCodeExecutor``) load on first access, so the simulated
service can import the policies without importing AutoGen.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .documents import document_names, document_text, list_files, read_file
from .guard import network_violation
from .options import OPTIONS
from .prompts import AGENT_NAMES, CODER, FILE_SURFER, ORCHESTRATOR, PARTICIPANTS, TASK_MARKER, TERMINAL
from .questions import Question, answer_number, compute, format_question, parse_question
from .sim_policies import register_sim_policies
from .tasks import judge, load_tasks

__all__ = [
    "INSTANCE",
    "OPTIONS",
    "MagenticOneInstance",
    "MAGENTIC_ONE_INFO",
    "build_team",
    "make_model_client",
    "GuardedCodeExecutor",
    "register_sim_policies",
    "load_tasks",
    "judge",
    "network_violation",
    "list_files",
    "read_file",
    "document_names",
    "document_text",
    "Question",
    "format_question",
    "parse_question",
    "compute",
    "answer_number",
    "AGENT_NAMES",
    "PARTICIPANTS",
    "ORCHESTRATOR",
    "CODER",
    "TERMINAL",
    "FILE_SURFER",
    "TASK_MARKER",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "MagenticOneInstance": ".instance",
        "MAGENTIC_ONE_INFO": ".instance",
        "build_team": ".instance",
        "make_model_client": ".instance",
        "GuardedCodeExecutor": ".executor",
    },
    instance=(".instance", "MagenticOneInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
