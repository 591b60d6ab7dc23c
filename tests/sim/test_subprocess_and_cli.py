"""The service as a child process (``python -m maestro.sim serve``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from maestro.sim import SimServer, SimStartError, openai_base_url, start_sim_subprocess

HERE = Path(__file__).resolve().parent


def _env() -> dict[str, str]:
    # The policy module lives next to this file; the child finds it through PYTHONPATH.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_subprocess_with_imported_policy(fresh):
    with start_sim_subprocess(["sim_policies_fixture"], time_factor=0, env=_env()) as proc:
        assert proc.url.startswith("http://127.0.0.1:") and proc.pid != os.getpid()
        assert "strong" in proc.profiles
        c = openai.OpenAI(base_url=openai_base_url(proc.url, "strong", 3, fresh()), api_key="x")
        r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": "ECHO: hello there"}])
        assert r.choices[0].message.content == "hello there"
        assert r.system_fingerprint == "maestro-sim/strong/echo-test"
        # Replies are a function of the seed, not of the process.
        msgs = [{"role": "user", "content": "What is the tallest mountain in Europe?"}]
        child = c.chat.completions.create(model="m", messages=msgs).choices[0].message.content
        with SimServer(time_factor=0) as local:
            c2 = openai.OpenAI(base_url=openai_base_url(local.url, "strong", 3, "other"), api_key="x")
            assert c2.chat.completions.create(model="m", messages=msgs).choices[0].message.content == child
    assert proc.proc.returncode == 0  # SIGTERM is a clean exit
    assert not proc.running


def test_subprocess_bad_import_reports_stderr():
    with pytest.raises(SimStartError) as ei:
        start_sim_subprocess(["no_such_module_for_maestro_sim"], time_factor=0, timeout_s=20)
    assert "no_such_module_for_maestro_sim" in str(ei.value)


def test_cli_ready_line_and_ready_file(tmp_path):
    ready = tmp_path / "ready.json"
    p = subprocess.Popen(
        [sys.executable, "-m", "maestro.sim", "serve", "--time-factor", "0", "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = p.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"url", "pid", "profiles"} and info["pid"] == p.pid
        assert json.loads(ready.read_text()) == info
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
        assert p.stdout.read() == ""  # exactly one line on stdout
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_module_usage_message():
    r = subprocess.run([sys.executable, "-m", "maestro.sim"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "serve" in r.stderr
