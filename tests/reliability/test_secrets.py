"""Secrets planted everywhere a study touches them (environment, request headers, task
text, model output, exceptions) never reach a byte maestro writes: parquet, JSON, the HTML
report, or what the command line prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

MAESTRO = str(Path(sys.executable).with_name("maestro"))
TOKEN = "tok-4f9a8b7c6d5e4f3a2b1c"         # a secret-named variable's value (DEPLOY_TOKEN)
PASSWORD = "Hunter2-Correct-Horse-77"      # DB_PASSWORD
KEY = "sk-live-9a8b7c6d5e4f3a2b1c0d9e8f"   # a key shape, in no variable at all

MAS_MODULE = f'''
import sys
import maestro
from openai import OpenAI


def invoke(app, sample, ctx):
    client = OpenAI(base_url=ctx.endpoint.base_url, api_key=ctx.endpoint.api_key, max_retries=0)
    # the prompt carries the secrets; the simulated model quotes words of it back
    reply = client.chat.completions.create(model=ctx.endpoint.model, max_tokens=64,
                                           messages=[{{"role": "user", "content": sample.input}}])
    if sample.id == "boom":
        raise RuntimeError("could not log in with {PASSWORD} (token {TOKEN})")
    return reply.choices[0].message.content + " / checked with {KEY}"


MAS = maestro.MAS(name="leaky", framework="custom", build=lambda ctx: None, invoke=invoke,
                  scorer=maestro.scorers.includes(),
                  dataset=[maestro.Sample("ok", "Use {KEY} and {TOKEN} to find {PASSWORD} Paris", target="Paris"),
                           maestro.Sample("boom", "Log in as admin with {PASSWORD}")])
'''


def _variants(secret: str) -> set[str]:
    """The secret and forms a model or a log may turn it into."""
    return {secret, secret.lower(), secret.upper(), secret.replace("-", ""), secret.replace("-", " "),
            secret.replace("-", "_")}


def test_no_planted_secret_reaches_any_artefact_or_output(tmp_path):
    (tmp_path / "leaky_mas.py").write_text(MAS_MODULE)
    (tmp_path / "s.toml").write_text('[study]\nid = "leaky"\ninstances = ["leaky_mas:MAS"]\nbackends = ["sim/strong"]\n'
                                     'tools = false\nrepeats = 2\ncapture_content = true\nstore_answers = true\n')
    env = dict(os.environ, DEPLOY_TOKEN=TOKEN, DB_PASSWORD=PASSWORD, MAESTRO_SIM_API_KEY=TOKEN)
    outputs = []
    for args in (["study", "run", "s.toml", "--no-progress"], ["report", "traces/leaky", "--no-progress"],
                 ["runs", "ls", "traces/leaky", "--verbose"]):
        proc = subprocess.run([MAESTRO, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
        outputs += [proc.stdout, proc.stderr]
    study = tmp_path / "traces" / "leaky"
    runs = json.loads(subprocess.run([sys.executable, "-c", "import maestro, sys; print(maestro.load_study(sys.argv[1])"
                                      ".runs[['status', 'answer', 'outcome_reason']].to_json(orient='records'))",
                                      str(study)], capture_output=True, text=True, check=True).stdout)
    # the runs happened, and their texts were stored: redacted, not dropped
    assert sorted(r["status"] for r in runs) == ["exception", "exception", "success", "success"]
    assert any("[REDACTED]" in (r["answer"] or "") for r in runs)
    assert any("[REDACTED]" in (r["outcome_reason"] or "") for r in runs)
    blobs = {str(p.relative_to(tmp_path)): p.read_bytes() for p in study.rglob("*") if p.is_file()}
    # parquet pages are compressed: scan their decoded values too
    blobs.update({f"{p.relative_to(tmp_path)} (decoded)": json.dumps(pq.read_table(p).to_pylist(), default=str).encode()
                  for p in study.rglob("*.parquet")})
    blobs.update({f"output {i}": o.encode() for i, o in enumerate(outputs)})
    assert any(name.endswith(".parquet") for name in blobs) and any(name.endswith(".html") for name in blobs)
    leaks = [(name, form) for secret in (TOKEN, PASSWORD, KEY) for form in _variants(secret)
             for name, data in blobs.items() if form.encode() in data]
    assert not leaks, f"secrets written: {leaks}"
