"""The ADK "Marketing agency" (paper Table 2: Marketing, ADK, Coordination, 4 agents,
1 tool, Artifacts in, Open-End out, suite F) as a maestro instance.

A coordinator ``LlmAgent`` hands a business brief to four specialists (domain names,
website, marketing strategy, logo) with ``transfer_to_agent`` and assembles their sections
into a launch kit; the logo designer renders the logo with a local tool.

Importing this package registers the agency's simulated-model policies (cheap; no ADK
import). The ADK-dependent names (``INSTANCE``, ``MarketingInstance``, ``build_agency``)
load on first access.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .judge import deliverables_present, judge
from .options import OPTIONS
from .prompts import (
    COORDINATOR,
    COORDINATOR_MARKER,
    DOMAIN,
    LOGO,
    SECTION_HEADINGS,
    SPECIALISTS,
    STRATEGY,
    WEBSITE,
    format_brief,
    parse_brief,
)
from .sim_policies import register_sim_policies
from .tasks import BRIEFS, load_tasks
from .tools import render_logo

__all__ = [
    "INSTANCE",
    "OPTIONS", "MarketingInstance", "MARKETING_INFO", "build_agency", "make_model", "register_sim_policies",
    "judge", "deliverables_present", "load_tasks", "BRIEFS", "render_logo", "format_brief", "parse_brief",
    "COORDINATOR", "DOMAIN", "WEBSITE", "STRATEGY", "LOGO", "SPECIALISTS", "SECTION_HEADINGS", "COORDINATOR_MARKER",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "MarketingInstance": ".instance",
        "MARKETING_INFO": ".instance",
        "make_model": ".instance",
        "build_agency": ".agents",
    },
    instance=(".instance", "MarketingInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
