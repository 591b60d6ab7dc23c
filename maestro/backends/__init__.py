"""Backends: model naming, endpoint resolution and the dated price table.

A backend spec is ``<kind>/<model>``:

* ``sim/<profile>``: maestro's simulated service (always labelled simulated);
* ``openai/<model>``: any OpenAI-compatible endpoint; base URL from ``OPENAI_BASE_URL``
  (default the OpenAI API), key from ``OPENAI_API_KEY``;
* ``gemini/<model>``: Google's Gemini API; key from ``GOOGLE_API_KEY`` or
  ``GEMINI_API_KEY``; base URL from ``GOOGLE_GEMINI_BASE_URL``. OpenAI-compatible clients
  use Gemini's OpenAI-compatible path under it.

Every backend resolves to the same ``ModelEndpoint`` shape: instances use one code path
and only the URL and key differ.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from maestro import settings
from maestro.contract import ModelEndpoint
from maestro.semconv import SIM_PROVIDER

__all__ = ["BackendSpec", "BackendError", "parse_backend", "resolve_endpoint", "PriceTable", "load_prices", "SIM_PROVIDER", "price_key",
           "use_sim_service"]


_KINDS = ("sim", "openai", "gemini")
_SPEC_RE = re.compile(r"^(?P<kind>[a-z]+)/(?P<model>[A-Za-z0-9._:-]+)$")


class BackendError(ValueError):
    """A backend spec is malformed or cannot be resolved (e.g. a missing API key)."""


@dataclass(frozen=True)
class BackendSpec:
    """A parsed backend spec."""

    kind: str
    """``sim``, ``openai`` or ``gemini``."""
    model: str
    """Profile name (sim) or provider model name."""

    @property
    def spec(self) -> str:
        return f"{self.kind}/{self.model}"

    @property
    def simulated(self) -> bool:
        return self.kind == "sim"

    @property
    def slug(self) -> str:
        """File-name-safe form, used in run ids."""
        return f"{self.kind}-{self.model}".replace(":", "-").replace("/", "-")


def parse_backend(spec: str) -> BackendSpec:
    """Parse ``kind/model``; raises BackendError naming the spec."""
    m = _SPEC_RE.match(spec.strip()) if isinstance(spec, str) else None
    if not m or m["kind"] not in _KINDS:
        raise BackendError(f"invalid backend {spec!r}: expected one of sim/<profile>, openai/<model>, gemini/<model>")
    return BackendSpec(m["kind"], m["model"])


_SIM_URL: str | None = None


def use_sim_service(url: str | None) -> None:
    """The simulated service ``sim/...`` backends reach in this process when a call names
    none (a study's run processes are given the study's service this way)."""
    global _SIM_URL
    _SIM_URL = url


def resolve_endpoint(spec: str | BackendSpec, *, sim_url: str | None = None, seed: int = 0, nonce: str | None = None,
                     env: Mapping[str, str] | None = None) -> ModelEndpoint:
    """Where and how to reach ``spec`` for one run (``sim_url`` defaults to the service
    set with :func:`use_sim_service`)."""
    b = parse_backend(spec) if isinstance(spec, str) else spec
    sim_url = sim_url or _SIM_URL
    if env is None:
        env = os.environ
    if b.kind == "sim":
        from maestro.sim.profiles import get_profile
        from maestro.sim.urls import gemini_base_url, openai_base_url

        if sim_url is None:
            raise BackendError(f"backend {b.spec} needs a running simulated service (no sim_url given)")
        try:
            get_profile(b.model)
        except KeyError as e:
            raise BackendError(f"backend {b.spec}: {e.args[0] if e.args else 'unknown profile'}") from None
        return ModelEndpoint(
            spec=b.spec, provider=SIM_PROVIDER, model=f"sim-{b.model}",
            base_url=openai_base_url(sim_url, b.model, seed, nonce),
            api_key=env.get(settings.SIM_API_KEY.name) or settings.SIM_API_KEY.default,
            simulated=True, gemini_base_url=gemini_base_url(sim_url, b.model, seed, nonce),
        )
    if b.kind == "openai":
        key = env.get("OPENAI_API_KEY")
        if not key:
            raise BackendError(f"backend {b.spec} needs OPENAI_API_KEY in the environment")
        base = env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") or "https://api.openai.com/v1"
        return ModelEndpoint(spec=b.spec, provider="openai", model=b.model, base_url=base.rstrip("/"),
                             api_key=key, simulated=False)
    key = env.get("GOOGLE_API_KEY") or env.get("GEMINI_API_KEY")
    if not key:
        raise BackendError(f"backend {b.spec} needs GOOGLE_API_KEY (or GEMINI_API_KEY) in the environment")
    base = (env.get("GOOGLE_GEMINI_BASE_URL") or "https://generativelanguage.googleapis.com").rstrip("/")
    return ModelEndpoint(spec=b.spec, provider="gcp.gemini", model=b.model, base_url=f"{base}/v1beta/openai",
                         api_key=key, simulated=False, gemini_base_url=base)


_PROVIDER_KINDS = {"openai": "openai", "gcp.gemini": "gemini", "gcp.gen_ai": "gemini", "gcp.vertex_ai": "gemini"}


def price_key(provider: str | None, model: str | None) -> str | None:
    """The backend spec a provider's model is priced under (``openai/gpt-4o-mini``;
    ``sim/strong`` for the simulated service's ``sim-strong``), or None when the provider is
    unknown: a price is never guessed from a model name alone."""
    if not model:
        return None
    if provider == SIM_PROVIDER:
        return f"sim/{model[4:]}" if model.startswith("sim-") else None
    kind = _PROVIDER_KINDS.get(provider or "")
    return f"{kind}/{model}" if kind else None


@dataclass(frozen=True)
class PriceTable:
    """USD per 1M tokens by backend spec, with the date the prices were taken."""

    as_of: str
    models: dict[str, dict[str, Any]]

    def price(self, backend: str) -> tuple[float, float] | None:
        """(input, output) USD per 1M tokens, or None when unknown."""
        p = self.models.get(backend)
        if p is None:
            return None
        return float(p["input"]), float(p["output"])

    def cost(self, backend: str, input_tokens: int, output_tokens: int) -> float | None:
        """USD for the given tokens; None when the backend has no price."""
        p = self.price(backend)
        if p is None:
            return None
        return (input_tokens * p[0] + output_tokens * p[1]) / 1_000_000

    def snapshot(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "currency": "USD", "unit": "per 1M tokens", "models": self.models}


def load_prices(overrides: dict[str, dict[str, float]] | None = None) -> PriceTable:
    """The bundled price table with ``overrides`` (``{"openai/x": {"input": .., "output": ..}}``) applied."""
    data = json.loads(resources.files("maestro.backends").joinpath("prices.json").read_text())
    models = dict(data["models"])
    for spec, p in (overrides or {}).items():
        parse_backend(spec)
        if not isinstance(p, dict) or not {"input", "output"} <= set(p):
            raise BackendError(f"price override for {spec!r} needs numeric 'input' and 'output' (USD per 1M tokens)")
        models[spec] = {"input": float(p["input"]), "output": float(p["output"]), "override": True}
    return PriceTable(data["as_of"], models)
