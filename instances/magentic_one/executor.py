"""``GuardedCodeExecutor``: the computer terminal's executor, a refusing wrapper around
AutoGen's ``LocalCommandLineCodeExecutor``.

Before running anything it scans every code block with :func:`.guard.network_violation`;
one offending block refuses the whole batch (nothing runs) with exit code 1 and an output
that says why. With ``enabled=False`` (a tools-off run) it refuses every batch. Otherwise
the inner executor runs the blocks in its own temporary directory (created on first use,
removed by ``stop``) under its time limit, with secret-named environment variables hidden
from the code (the executor would otherwise pass its whole environment to it).
"""

from __future__ import annotations

import os
import re
from typing import Any

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock, CodeExecutor, CodeResult
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

from maestro.semconv import SECRET_ENV_SUBSTRINGS, SECRET_ENV_WORDS

from .guard import network_violation

__all__ = ["GuardedCodeExecutor", "REFUSED", "make_terminal_executor"]


def _secret_named(name: str) -> bool:
    upper = name.upper()
    words = set(re.split(r"[^A-Z]+", upper))
    return any(s in upper for s in SECRET_ENV_SUBSTRINGS) or bool(words & set(SECRET_ENV_WORDS))

REFUSED = "Refused:"
"""How every refusal's output starts."""


class GuardedCodeExecutor(CodeExecutor):
    """Runs code blocks through ``inner`` unless one would use the network (or the terminal
    is off), in which case it returns a refusal ``CodeResult`` and runs nothing.

    Attributes:
        refusals: the refusal reasons given so far (for tests and inspection).
        executions: batches handed to ``inner``.
    """

    def __init__(self, inner: CodeExecutor, enabled: bool = True):
        self.inner = inner
        self.enabled = bool(enabled)
        self.refusals: list[str] = []
        self.executions = 0

    def check(self, code_blocks: list[CodeBlock]) -> str | None:
        """The refusal reason for ``code_blocks``, or None when they may run."""
        if not self.enabled:
            return "code execution is off in this run (tools off); nothing was run."
        for i, block in enumerate(code_blocks, start=1):
            why = network_violation(block.code, block.language)
            if why:
                return (f"code block {i} {why}; this terminal has no network access, so nothing was run. "
                        "Compute from data already shown in the conversation instead.")
        return None

    async def execute_code_blocks(self, code_blocks: list[CodeBlock],
                                  cancellation_token: CancellationToken) -> CodeResult:
        why = self.check(list(code_blocks))
        if why is not None:
            self.refusals.append(why)
            return CodeResult(exit_code=1, output=f"{REFUSED} {why}")
        self.executions += 1
        # AutoGen's executor hands its whole environment to the code: the model-written code
        # must not see provider keys or other secrets (this run's process is its own).
        hidden = {k: os.environ.pop(k) for k in list(os.environ) if _secret_named(k)}
        try:
            return await self.inner.execute_code_blocks(code_blocks, cancellation_token)
        finally:
            os.environ.update(hidden)

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def restart(self) -> None:
        await self.inner.restart()

    def __repr__(self) -> str:
        return f"GuardedCodeExecutor({self.inner!r}, enabled={self.enabled})"


def make_terminal_executor(enabled: bool, timeout_s: int, **kwargs: Any) -> GuardedCodeExecutor:
    """The terminal's executor: a ``LocalCommandLineCodeExecutor`` in a temporary directory
    of its own (``work_dir=None``: created on first use, removed by ``stop``), each block
    limited to ``timeout_s`` seconds (at least 1), behind the network guard."""
    import warnings

    with warnings.catch_warnings():  # "may execute code on the local machine": that is the point, guarded
        warnings.simplefilter("ignore", UserWarning)
        inner = LocalCommandLineCodeExecutor(timeout=max(1, int(timeout_s)), work_dir=None, **kwargs)
    return GuardedCodeExecutor(inner, enabled=enabled)
