"""Shared fixtures: one in-process simulated service per test module (time_factor=0)."""

from __future__ import annotations

import itertools

import pytest

from maestro.sim import SimServer, clear_policies, register_policy, registered_policies
from maestro.sim.urls import gemini_base_url, openai_base_url

_nonces = itertools.count()


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


@pytest.fixture
def fresh():
    """A fresh nonce per call, so occurrence counters restart without changing the seed."""
    return lambda: f"t{next(_nonces)}"


@pytest.fixture
def oai_url(sim):
    def make(profile: str = "strong", seed: int = 1, nonce: str | None = None) -> str:
        return openai_base_url(sim.url, profile, seed, nonce)

    return make


@pytest.fixture
def gem_url(sim):
    def make(profile: str = "strong", seed: int = 1, nonce: str | None = None) -> str:
        return gemini_base_url(sim.url, profile, seed, nonce)

    return make


@pytest.fixture
def policies():
    """Register policies for one test; the registry is restored afterwards."""
    saved = registered_policies()
    yield register_policy
    clear_policies()
    for p in saved:
        register_policy(p)
