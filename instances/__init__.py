"""Built-in MAS instances (installed as ``maestro.instances``).

Each instance module exposes ``INSTANCE`` (implementing ``maestro.instances.base.Instance``)
and a module-level ``register_sim_policies()``. Modules are imported lazily: importing an
instance imports its framework.
"""

from __future__ import annotations

import importlib
import importlib.util

from maestro.instances.base import Instance

__all__ = ["INSTANCE_MODULES", "get_instance", "instance_module", "list_instances"]

INSTANCE_MODULES: dict[str, str] = {
    "crag": "maestro.instances.crag",
    "travel_planning": "maestro.instances.travel_planning",
    "marketing": "maestro.instances.marketing",
    "plan_execute": "maestro.instances.plan_execute",
    "lats": "maestro.instances.lats",
    "tot": "maestro.instances.tot",
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


def list_instances() -> list[str]:
    return sorted(INSTANCE_MODULES)
