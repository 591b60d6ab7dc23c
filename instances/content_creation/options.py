"""Content creation's study-file options (``[instance_options.content_creation]``),
declared once. Framework-free, so a study checks its table without importing ADK."""

from __future__ import annotations

from maestro.contract import InstanceOption

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("temperature", float, 0.0, "sampling temperature of every model call"),
    InstanceOption("http_attempts", int, 4, "attempts per model call (google-genai retries 429/5xx)"),
    InstanceOption("max_llm_calls", int, 30, "ADK's cap on the coordinator's model calls per message"),
    InstanceOption("max_revisions", int, 2, "writer/editor revision rounds the coordinator may ask for"),
    InstanceOption("remote_timeout_s", float, 60.0, "seconds a hand-over to a remote agent may take, capped by the run's"),
    InstanceOption("start_timeout_s", float, 60.0, "seconds each remote agent's server may take to start"),
    InstanceOption("launch", str, None, "how remote agents' processes start: 'fork' (the run's process, "
                   "frameworks already imported; default on Linux) or 'spawn' (a fresh interpreter)"),
    InstanceOption("remote_urls", str, None, "unset: start the remote agents per run; else "
                   "'content_planner=URL,content_writer=URL,content_editor=URL' of servers already running"),
)
"""The instance's options."""
