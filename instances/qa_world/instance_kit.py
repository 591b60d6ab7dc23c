"""What every instance answering qa_world questions shares: its tasks and its judge."""

from __future__ import annotations

from maestro.contract import JudgeResult, Task

from . import scoring
from .tasks import load_tasks

__all__ = ["QAWorldTasks"]


class QAWorldTasks:
    """Mixin giving an instance qa_world's task set and judge (CRAG, Plan-and-Execute,
    LATS), so the three architectures answer exactly the same questions, judged the same."""

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled qa_world questions, or a user JSONL file; stratified by hops when ``n``."""
        return load_tasks(source=source, n=n, seed=seed)

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """qa_world's judge: exact match, or the gold as a span of a short answer."""
        return scoring.judge(task, answer)
