"""Image Scoring (ADK samples "image-scoring") as an ADK MAS instance.

Paper Table 2: Creativity, ADK, Debate, 4 agents (prompt writer, image generator, image
scorer, score checker), 2 tools (``generate_image``: the image model over Vertex
``:predict``; ``score_image``: a pixel inspection), Artifacts in, Closed-Form out, suite F.
A ``LoopAgent`` repeats a ``SequentialAgent`` round (write a prompt, render it, score it)
until the checker escalates on a passing score or ``max_iterations`` rounds ran.

Importing this package registers the simulated-model policies (cheap; no ADK import). The
ADK-dependent names (``INSTANCE``, ``ImageScoringInstance``, ``build_loop``, ``make_tools``)
load on first access.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .options import OPTIONS
from .pixels import PALETTE, Scene, check_requirements, inspect_png
from .prompts import AGENT_NAMES, Requirement, format_brief, parse_requirements, read_score
from .sim_policies import register_sim_policies
from .tasks import BRIEFS, image_from_answer, judge, load_tasks

__all__ = [
    "INSTANCE", "OPTIONS", "ImageScoringInstance", "IMAGE_SCORING_INFO", "build_loop", "make_tools",
    "final_answer", "final_state", "register_sim_policies", "load_tasks", "judge", "image_from_answer", "BRIEFS",
    "AGENT_NAMES", "Requirement", "format_brief", "parse_requirements", "read_score", "PALETTE", "Scene",
    "inspect_png", "check_requirements",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ImageScoringInstance": ".instance",
        "IMAGE_SCORING_INFO": ".instance",
        "final_answer": ".instance",
        "final_state": ".instance",
        "build_loop": ".agents",
        "make_tools": ".tools",
    },
    instance=(".instance", "ImageScoringInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
