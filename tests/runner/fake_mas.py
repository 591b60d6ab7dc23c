"""A test-only MAS whose behaviour is picked by the task id: answer, raise, hang, crash, freeze.

It records one agent span through the run's telemetry, as a user's own instance would.
"""

from __future__ import annotations

import os
import signal
import time

from maestro import semconv as sc
from maestro.collector.telemetry import current_telemetry
from maestro.contract import InstanceInfo, JudgeResult, Task, TaskResult


class FakeMas:
    info = InstanceInfo(name="fake_mas", title="Fake", app_field="Test", framework="custom", interaction="Coordination",
                        n_agents=1, n_tools=0, data_in="Artifacts", data_out="Closed-Form", suites="")

    def tasks(self, *, n=None, source=None, seed=0):
        kinds = ["ok", "raise", "hang", "crash", "freeze"]
        return [Task(task_id=k, question=k, gold="42") for k in kinds][: n or None]

    def build(self, ctx):
        return None

    def run(self, app, task, ctx):
        t = current_telemetry()
        h = t.start_span("invoke_agent solo", {sc.MAESTRO_SPAN_TYPE: "agent", sc.GEN_AI_AGENT_NAME: "solo"})
        if task.task_id == "raise":
            raise ValueError("the MAS gave up")
        if task.task_id == "hang":
            time.sleep(120)
        if task.task_id == "crash":
            os._exit(3)
        if task.task_id == "freeze":
            os.kill(os.getpid(), signal.SIGSTOP)  # even the watchdog thread stops
        t.end_span(h)
        return TaskResult(answer="42")

    def judge(self, task, answer):
        ok = answer == task.gold
        return JudgeResult("correct" if ok else "wrong", f"em={int(ok)}", float(ok), float(ok))

    def register_sim_policies(self):
        pass


INSTANCE = FakeMas()


def register_sim_policies():
    pass
