"""Framework adapters (installed as ``maestro.adapters``): one sub-package per framework."""
