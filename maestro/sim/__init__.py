"""maestro's simulated LLM service.

A seeded, stochastic, fast stand-in for real model endpoints that MAS code reaches over
real HTTP, through unmodified clients: OpenAI chat completions / embeddings and Gemini REST
``generateContent``. A run's base URL (``/sim/{profile}/{seed}[.{nonce}]``) fixes the model
profile and the seed; role-aware :mod:`policies <maestro.sim.policy>` registered by instances
write the replies, and a generic fallback answers everything else, following the
conventions the MAS itself sets up (:mod:`maestro.sim.conventions`) so any team comes to an
end. ``SimServer(request_log=FILE)`` (``maestro sim serve --log-requests FILE``) logs every
request as a policy sees it. See ``docs/simulator.md``.

Typical use::

    from maestro.sim import SimServer, openai_base_url
    with SimServer(time_factor=0) as sim:
        client = openai.OpenAI(base_url=openai_base_url(sim.url, "strong", seed=7), api_key="x")
"""

from __future__ import annotations

from maestro.sim.cli import serve_main
from maestro.sim.conventions import Conventions, read_conventions, stop_probability
from maestro.sim.engine import Engine, PolicyError, SimOutcome, completion_tokens, prompt_tokens
from maestro.sim.fallback import FALLBACK_POLICY, FallbackPolicy
from maestro.sim.policy import (
    FailureMix,
    Policy,
    PolicyContext,
    SimMessage,
    SimReply,
    SimRequest,
    SimTool,
    SimToolCall,
    clear_policies,
    register_policy,
    registered_policies,
    unregister_policy,
)
from maestro.sim.process import SimProcess, SimStartError, start_sim_subprocess
from maestro.sim.profiles import BUILTIN_PROFILES, Profile, get_profile, list_profiles, profile_names, register_profile
from maestro.sim.requestlog import RequestLog
from maestro.sim.server import DEFAULT_TIME_FACTOR, SimServer
from maestro.sim.urls import (
    SimRunKey,
    SimUrl,
    gemini_base_url,
    make_runkey,
    openai_base_url,
    parse_sim_path,
    parse_sim_url,
    sim_base_url,
)

__all__ = [
    # service
    "SimServer",
    "DEFAULT_TIME_FACTOR",
    "SimProcess",
    "SimStartError",
    "start_sim_subprocess",
    "serve_main",
    "Engine",
    "SimOutcome",
    "PolicyError",
    "prompt_tokens",
    "completion_tokens",
    # profiles
    "Profile",
    "BUILTIN_PROFILES",
    "get_profile",
    "list_profiles",
    "profile_names",
    "register_profile",
    # policies
    "Policy",
    "PolicyContext",
    "FailureMix",
    "SimMessage",
    "SimTool",
    "SimToolCall",
    "SimRequest",
    "SimReply",
    "register_policy",
    "registered_policies",
    "unregister_policy",
    "clear_policies",
    "FallbackPolicy",
    "FALLBACK_POLICY",
    "Conventions",
    "read_conventions",
    "stop_probability",
    "RequestLog",
    # urls
    "sim_base_url",
    "openai_base_url",
    "gemini_base_url",
    "make_runkey",
    "parse_sim_url",
    "parse_sim_path",
    "SimRunKey",
    "SimUrl",
]
