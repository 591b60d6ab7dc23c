"""Finding the systems a study names, and shipping them to run processes.

A study names its systems as ``maestro.MAS`` objects, built-in instance names,
``package.module:attribute`` references or modules defining ``INSTANCE``;
:func:`resolve_system` turns each into the object the runner drives. Objects travel to the
forked run processes pickled (:func:`pickle_system`): by value when their code is not part
of the Python installation, so a script's or a test file's MAS needs no import path there.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import sysconfig
from typing import Any

from maestro.mas import MAS

__all__ = ["resolve_system", "system_name", "pickle_system", "unpickle_system"]


def system_name(system: Any) -> str:
    """The name a system is recorded under: a MAS's ``name``, a string reference as given."""
    if isinstance(system, str):
        return system
    name = getattr(system, "name", None) or getattr(getattr(system, "info", None), "name", None)
    if not isinstance(name, str):
        raise ValueError(f"{system!r} is neither a maestro.MAS, an instance object nor an instance name")
    return name


def resolve_system(ref: Any) -> Any:
    """The Instance behind ``ref``: a :class:`MAS` or instance object as is; a built-in
    instance name; ``package.module:attribute`` (a MAS or an instance object); or a module
    defining ``INSTANCE``. A ValueError names what could not be found."""
    if not isinstance(ref, str):
        system_name(ref)
        return ref
    if ":" in ref:
        module_name, _, attr = ref.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise ValueError(f"cannot import {module_name!r} for system {ref!r}: {e}") from None
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r} (system {ref!r})") from None
    from maestro.instances import get_instance

    return get_instance(ref)


_INSTALLED_ROOTS = None


def _installed(module: Any) -> bool:
    """Whether ``module`` comes from the Python installation (standard library or an
    installed package): then a run process imports it by name like this one."""
    global _INSTALLED_ROOTS
    if _INSTALLED_ROOTS is None:
        paths = sysconfig.get_paths()
        _INSTALLED_ROOTS = tuple({os.path.realpath(paths[k]) + os.sep for k in ("stdlib", "platstdlib", "purelib", "platlib")})
    file = getattr(module, "__file__", None)
    if file is None:  # built-in or frozen
        return module.__name__ != "__main__"
    return os.path.realpath(file).startswith(_INSTALLED_ROOTS)


def pickle_system(system: Any) -> bytes:
    """``system`` as bytes a run process can load. The code of modules that are not part
    of the Python installation (a script, a test file, a project folder) travels by value,
    so run processes need not find them on their import path; installed packages (the
    frameworks, their clients) are imported there by name."""
    import cloudpickle

    modules = {inspect.getmodule(f) for f in _callables(system)} | {inspect.getmodule(type(system))}
    by_value = [m for m in modules if m is not None and m.__name__ != "__main__" and not _installed(m)
                and not m.__name__.startswith("maestro.")]
    for m in by_value:
        cloudpickle.register_pickle_by_value(m)
    try:
        return cloudpickle.dumps(system)
    finally:
        for m in by_value:
            cloudpickle.unregister_pickle_by_value(m)


def _callables(system: Any) -> list[Any]:
    if isinstance(system, MAS):
        return [f for f in (system.build, system.invoke, system.answer, system.scorer) if f is not None]
    return []


def unpickle_system(data: bytes) -> Any:
    return pickle.loads(data)
