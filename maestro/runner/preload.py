"""Imported once by the forkserver before any run is forked.

Importing the frameworks (LangGraph, AutoGen, ADK) takes seconds; doing it here means
each run's process starts with them loaded. Instances named in ``MAESTRO_PRELOAD_INSTANCES``
(comma-separated; the runner sets it) are imported and, if they have a ``warm()`` method,
warmed (e.g. building the QA world and its retrieval index).
"""

from __future__ import annotations

import logging
import os

import maestro.collector.telemetry  # noqa: F401 - preload the OTel SDK and pyarrow
import maestro.runner.worker  # noqa: F401

log = logging.getLogger(__name__)


def _warm_http_clients() -> None:
    # The first OpenAI/httpx client in a process builds an SSL context (~90 ms); do it once
    # here so every forked run starts with it cached.
    try:
        import openai

        openai.OpenAI(api_key="warm-up", base_url="http://127.0.0.1:9/v1")
    except Exception:
        log.debug("warming HTTP clients failed", exc_info=True)


_warm_http_clients()

for _name in filter(None, os.environ.get("MAESTRO_PRELOAD_INSTANCES", "").split(",")):
    try:
        from maestro.instances import get_instance

        _inst = get_instance(_name)
        _warm = getattr(_inst, "warm", None)
        if callable(_warm):
            _warm()
    except Exception:  # the run itself will report the problem with context
        log.exception("preloading instance %s failed", _name)
