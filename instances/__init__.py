"""Built-in MAS instances (installed as ``maestro.instances``).

Each instance module exposes ``INSTANCE`` (implementing ``maestro.contract.Instance``)
and a module-level ``register_sim_policies()``. Modules are imported lazily: importing an
instance imports its framework.
"""

from __future__ import annotations

import importlib
import importlib.util

from maestro.contract import Instance, InstanceOption

__all__ = ["INSTANCE_MODULES", "get_instance", "instance_module", "list_instances", "declared_options"]

INSTANCE_MODULES: dict[str, str] = {
    "crag": "maestro.instances.crag",
    "travel_planning": "maestro.instances.travel_planning",
    "marketing": "maestro.instances.marketing",
    "plan_execute": "maestro.instances.plan_execute",
    "lats": "maestro.instances.lats",
    "tot": "maestro.instances.tot",
    "stock_research": "maestro.instances.stock_research",
    "magentic_one": "maestro.instances.magentic_one",
    "content_creation": "maestro.instances.content_creation",
    "image_scoring": "maestro.instances.image_scoring",
    "brand_seo": "maestro.instances.brand_seo",
    "financial_analyzer": "maestro.instances.financial_analyzer",
}
"""Instance name -> module path."""


def instance_module(name: str) -> str:
    """Module path of instance ``name``: a built-in name, or a dotted module path of your own
    instance module (one that defines ``INSTANCE``). A ValueError lists the known names."""
    if name in INSTANCE_MODULES:
        return INSTANCE_MODULES[name]
    if importlib.util.find_spec(name.split(".")[0]) is not None:
        return name
    raise ValueError(
        f"unknown instance {name!r}; known: {', '.join(sorted(INSTANCE_MODULES))} (or an importable module "
        "defining INSTANCE)"
    )


def get_instance(name: str) -> Instance:
    """The instance object registered as ``name``."""
    return importlib.import_module(instance_module(name)).INSTANCE


def declared_options(name: str) -> tuple[InstanceOption, ...] | None:
    """The options instance ``name`` declares, or None when it declares none (its table is
    then passed through unchecked).

    A module-level ``OPTIONS`` wins: the built-ins define it framework-free, so reading it
    does not import LangChain, AutoGen or ADK. Otherwise ``INSTANCE.options`` (importing
    the instance, and so its framework)."""
    module = importlib.import_module(instance_module(name))
    declared = getattr(module, "OPTIONS", None)
    if declared is None:
        declared = getattr(getattr(module, "INSTANCE", None), "options", None)
    return None if declared is None else tuple(declared)


def list_instances() -> list[str]:
    return sorted(INSTANCE_MODULES)
