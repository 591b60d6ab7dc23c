"""CRAG end to end through real HTTP: ChatOpenAI -> the simulated service -> CRAG's policies."""

from __future__ import annotations

import pytest

from maestro.contract import ModelEndpoint, RunContext
from maestro.instances.crag import INSTANCE, register_sim_policies

sim_server = pytest.importorskip(
    "maestro.sim.server", reason="maestro.sim.server (the simulated LLM service) is not importable"
)
sim_urls = pytest.importorskip("maestro.sim.urls", reason="maestro.sim.urls is not importable")


@pytest.fixture(scope="module")
def server():
    srv = sim_server.SimServer(time_factor=0).start()
    try:
        yield srv
    finally:
        srv.stop()


def ctx(server, tools: bool, profile: str = "oracle", seed: int = 7) -> RunContext:
    ep = ModelEndpoint(spec=f"sim/{profile}", provider="maestro.sim", model=f"sim-{profile}",
                       base_url=sim_urls.openai_base_url(server.url, profile, seed), api_key="sim", simulated=True)
    return RunContext(endpoint=ep, tools_enabled=tools, seed=seed, timeout_s=30.0)


@pytest.mark.parametrize("tools", [pytest.param(True, id="tools-on"), pytest.param(False, id="tools-off")])
def test_crag_over_http_with_oracle_profile(server, tools):
    from maestro.sim.profiles import profile_names

    if "oracle" not in profile_names():
        pytest.skip("the simulated service has no 'oracle' profile")
    register_sim_policies()
    # A one-hop question whose evidence is in the local corpus: the oracle must get it.
    task = next(t for t in INSTANCE.tasks() if t.meta["hops"] == 1 and t.meta["local_complete"])
    c = ctx(server, tools)
    app = INSTANCE.build(c)
    before = server.request_count
    result = INSTANCE.run(app, task, c)
    assert result.outcome == "success", result
    assert INSTANCE.judge(task, result.answer).judgement == "correct", result
    assert server.request_count - before >= 2  # at least one grading call and the generation
