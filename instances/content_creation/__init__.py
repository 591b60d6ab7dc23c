"""Content creation (paper Table 2: the distributed instance; ADK agents over A2A) as a
maestro instance.

A coordinator ``LlmAgent`` in the run's process sends a brief to a planner, a writer and an
editor, each an ADK agent served over A2A in its own process, and revises with the writer
while the editor asks for it; the planner looks up notes with a local tool when tools are on.

Importing this package registers the studio's simulated-model policies (cheap; no ADK
import). The ADK-dependent names load on first access.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .judge import judge
from .options import OPTIONS
from .prompts import COORDINATOR, EDITOR, PLANNER, REMOTE_AGENTS, WRITER, format_brief, parse_brief
from .sim_policies import register_sim_policies
from .tasks import BRIEFS, load_tasks

__all__ = [
    "INSTANCE", "OPTIONS", "ContentCreationInstance", "CONTENT_CREATION_INFO", "build_coordinator",
    "build_remote_agent", "RemoteServers", "RemoteAgentError", "register_sim_policies", "judge", "load_tasks",
    "BRIEFS", "format_brief", "parse_brief", "COORDINATOR", "PLANNER", "WRITER", "EDITOR", "REMOTE_AGENTS",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ContentCreationInstance": ".instance",
        "CONTENT_CREATION_INFO": ".instance",
        "build_coordinator": ".coordinator",
        "build_remote_agent": ".agents",
        "RemoteAgentError": ".coordinator",
        "RemoteServers": ".servers",
    },
    instance=(".instance", "ContentCreationInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
