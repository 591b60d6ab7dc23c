"""Magentic-One: the terminal's network guard, the scorer, the task set, the simulated
policies (the coder's scripts really compute from the data in their context) and a run
through the runner on the simulated service."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import maestro
from maestro.contract import ModelEndpoint, RunContext, Task
from maestro.instances import INSTANCE_MODULES
from maestro.instances.magentic_one import (
    AGENT_NAMES,
    CODER,
    FILE_SURFER,
    ORCHESTRATOR,
    TASK_MARKER,
    TERMINAL,
    Question,
    answer_number,
    compute,
    document_names,
    document_text,
    format_question,
    judge,
    list_files,
    load_tasks,
    network_violation,
    parse_question,
    read_file,
)
from maestro.instances.magentic_one.prompts import SYSTEM_PROMPTS
from maestro.instances.magentic_one.sim_policies import (
    CoderPolicy,
    FileSurferPolicy,
    FinalAnswerPolicy,
    ProgressLedgerPolicy,
    solution_code,
)
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, SimTool

# -- the network guard -----------------------------------------------------------------------


@pytest.mark.parametrize("code, language, culprit", [
    pytest.param("import socket\ns = socket.socket()", "python", "socket", id="import-socket"),
    pytest.param("from urllib.request import urlopen\nurlopen('http://x')", "python", "urllib", id="urllib"),
    pytest.param("import requests\nrequests.get('http://x')", "python", "requests", id="requests"),
    pytest.param("import httpx as h\n", "python", "httpx", id="httpx-alias"),
    pytest.param("import http.client\n", "python", "http", id="http-client"),
    pytest.param("def f():\n    import aiohttp\n", "python", "aiohttp", id="nested-import"),
    pytest.param("m = __import__('socket')", "python", "socket", id="dunder-import"),
    pytest.param("import importlib\nimportlib.import_module('urllib.request')", "python", "urllib",
                 id="import-module"),
    pytest.param("import subprocess\nsubprocess.run(['curl', 'http://x'])", "python", "curl", id="subprocess-curl"),
    pytest.param("import os\nos.system('wget -q http://x')", "python", "wget", id="os-system-wget"),
    pytest.param("import asyncio\nasyncio.run(asyncio.open_connection('x', 80))", "python", "open_connection",
                 id="asyncio-connection"),
    pytest.param("import socket print(", "python", "socket", id="unparsable"),
    pytest.param("curl -s http://example.com", "sh", "curl", id="shell-curl"),
    pytest.param("exec 3<>/dev/tcp/example.com/80", "bash", "/dev/tcp", id="shell-dev-tcp"),
    pytest.param("python -c 'import socket'", "bash", "socket", id="shell-inline-python"),
])
def test_guard_names_network_code(code, language, culprit):
    why = network_violation(code, language)
    assert why is not None and culprit in why


@pytest.mark.parametrize("code, language", [
    pytest.param("import csv, io\nrows = list(csv.DictReader(io.StringIO('a,b\\n1,2')))\nprint(len(rows))", "python",
                 id="csv"),
    pytest.param("DATA = 'socket wrench, curl of the wave'\nprint(DATA.count('socket'))", "python",
                 id="words-in-data"),
    pytest.param("import subprocess\nsubprocess.run(['ls', '-l'])", "python", id="subprocess-no-network"),
    pytest.param("import re, statistics\nprint(statistics.mean([1, 2]))", "python", id="stdlib"),
    pytest.param("ls -l && echo done", "sh", id="shell-safe"),
])
def test_guard_lets_safe_code_through(code, language):
    assert network_violation(code, language) is None


def _execute(executor, blocks):
    from autogen_core import CancellationToken
    from autogen_core.code_executor import CodeBlock

    async def go():
        try:
            return await executor.execute_code_blocks([CodeBlock(code, lang) for code, lang in blocks],
                                                      CancellationToken())
        finally:
            work_dir = Path(executor.inner.work_dir)
            await executor.stop()
            assert not work_dir.exists()  # the run's temporary directory is removed

    return asyncio.run(go())


def test_guarded_executor_refuses_network_code_and_runs_nothing(tmp_path):
    from maestro.instances.magentic_one.executor import REFUSED, make_terminal_executor

    marker = tmp_path / "ran.txt"
    ex = make_terminal_executor(True, 10)
    # the first block is harmless, the second opens a socket: the whole batch is refused
    res = _execute(ex, [(f"open({str(marker)!r}, 'w').write('x')", "python"),
                        ("import socket\nsocket.create_connection(('example.com', 80))", "python")])
    assert res.exit_code == 1 and res.output.startswith(REFUSED) and "socket" in res.output
    assert not marker.exists() and ex.executions == 0 and len(ex.refusals) == 1


def test_guarded_executor_runs_safe_code_in_its_own_directory():
    from maestro.instances.magentic_one.executor import make_terminal_executor

    ex = make_terminal_executor(True, 10)
    res = _execute(ex, [("import os\nprint(6 * 7, os.listdir('.') == [] or 'code-file-only')", "python")])
    assert res.exit_code == 0 and res.output.split()[0] == "42" and ex.executions == 1


def test_guarded_executor_with_tools_off_refuses_everything():
    from maestro.instances.magentic_one.executor import make_terminal_executor

    ex = make_terminal_executor(False, 10)
    res = _execute(ex, [("print(1)", "python")])
    assert res.exit_code == 1 and "tools off" in res.output and ex.executions == 0


def test_guarded_executor_applies_the_time_limit():
    from maestro.instances.magentic_one.executor import make_terminal_executor

    ex = make_terminal_executor(True, 1)
    res = _execute(ex, [("import time\ntime.sleep(5)\nprint('late')", "python")])
    assert res.exit_code == 124 and "late" not in res.output


# -- questions, truth and the scorer ---------------------------------------------------------


def test_truths_of_the_bundled_files_by_hand():
    assert compute(Question("sum", "sales.csv", column="units"), document_text("sales.csv")) == 1022
    assert compute(Question("count", "employees.csv", where_column="department", where_value="Engineering"),
                   document_text("employees.csv")) == 5  # Ada, Bram, Elif, Kasia, Mei
    assert compute(Question("lines", "incidents.log", word="ERROR"), document_text("incidents.log")) == 5
    assert compute(Question("mean", "employees.csv", column="salary", where_column="city", where_value="Berlin"),
                   document_text("employees.csv")) == 60250  # (72000 + 55000 + 39000 + 75000) / 4
    small = "a,b\n1,x\n2.5,y\n4,x\n"
    assert compute(Question("max", "t.csv", column="a", where_column="b", where_value="x"), small) == 4
    assert compute(Question("mean", "t.csv", column="a"), small) == 2.5
    with pytest.raises(ValueError, match="no column"):
        compute(Question("sum", "t.csv", column="zz"), small)


@pytest.mark.parametrize("text, number", [
    ("The answer is 1022.", 1022.0),
    ("The answer is 1,745.0 units", 1745.0),
    ("Q3 in db-2 from A-100: the average is 60250.00", 60250.0),
    ("We found -3.5 then 4.93.", 4.93),
    ("Q3 and db-2 only", None),
    ("", None),
    (None, None),
])
def test_answer_number_reads_the_last_free_standing_number(text, number):
    assert answer_number(text) == number


def test_judge_by_hand():
    task = Task("t", "q", gold="4.93", meta={"truth": 4.93})
    assert judge(task, "The answer is 4.93.").judgement == "correct"
    assert judge(task, "The answer is 4.935.").judgement == "correct"  # within 0.01
    res = judge(task, "The answer is 4.96.")
    assert res.judgement == "wrong" and "4.96" in res.reason and res.score == 0.0
    assert judge(task, "We could not compute it.").reason == "no number in the answer"
    assert judge(task, None).judgement == "wrong"
    assert judge(Task("t", "q", gold="1745"), "It is 1745.0").judgement == "correct"  # gold alone
    assert judge(Task("t", "q", gold="n/a"), "1").judgement == "unjudged"


def test_bundled_tasks_parse_back_and_sampling_is_seeded(tmp_path):
    tasks = load_tasks()
    assert len(tasks) == 12 and len({t.task_id for t in tasks}) == 12
    files = set(document_names())
    for t in tasks:
        q = parse_question(t.question)
        assert q is not None and q.file in files and t.question.endswith(TASK_MARKER)
        assert format_question(q) == t.question
        assert float(t.gold) == pytest.approx(t.meta["truth"]) == compute(q, document_text(q.file))
    assert load_tasks(n=3, seed=1) == load_tasks(n=3, seed=1) and len(load_tasks(n=3, seed=1)) == 3
    f = tmp_path / "t.jsonl"
    f.write_text(json.dumps({"id": "a", "question": "How many rows in sales.csv have region equal to East?"}) + "\n"
                 + json.dumps({"id": "b", "question": "How many staff are in Oslo?", "answer": 3}) + "\n")
    a, b = load_tasks(source=str(f))
    assert a.gold == "4" and a.question.endswith(TASK_MARKER) and b.gold == "3"
    f.write_text('{"id": "c", "question": "How many staff are in Oslo?"}\n')
    with pytest.raises(ValueError, match="t.jsonl:1"):
        load_tasks(source=str(f))


def test_file_tools_read_only_the_document_folder():
    assert all(n in list_files() for n in ("sales.csv", "employees.csv", "inventory.csv", "incidents.log"))
    assert read_file("sales.csv").startswith("Contents of sales.csv:\nregion,product")
    assert read_file("'sales.csv'").startswith("Contents of sales.csv:")
    assert read_file("../pyproject.toml").startswith("No file named")


# -- simulated policies ---------------------------------------------------------------------------


def _ctx(accuracy=1.0, seed=0, mix=None):
    return PolicyContext(rng=random.Random(seed), profile_name="test", accuracy=accuracy,
                         failure_mix=mix or FailureMix(), verbosity=1.0)


def _conversation(question, *turns):
    """The task ledger as the orchestrator broadcasts it, then (name, text) turns."""
    ledger = f"\nWe are working to address the following user request:\n\n{question}\n\nTo answer this request ..."
    return [SimMessage("user", ledger, name=ORCHESTRATOR)] + [SimMessage("user", text, name=n) for n, text in turns]


def _coder_request(question, *turns):
    return SimRequest("openai", "m", (SimMessage("system", SYSTEM_PROMPTS[CODER]), *_conversation(question, *turns)))


def _code_of(reply_text):
    assert reply_text.count("```python") == 1
    return reply_text.split("```python\n", 1)[1].split("```", 1)[0]


def _run_python(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout.strip()


def test_coder_scripts_compute_every_bundled_truth_from_the_shown_contents():
    for task in load_tasks():
        q = parse_question(task.question)
        req = _coder_request(task.question, (FILE_SURFER, read_file(q.file)))
        reply = CoderPolicy().respond(req, _ctx())
        rc, out = _run_python(_code_of(reply.text))
        assert rc == 0 and answer_number(out) == pytest.approx(task.meta["truth"]), (task.task_id, out)


def test_coder_computes_from_its_context_not_from_the_files():
    question = format_question(Question("sum", "sales.csv", column="units"))
    shown = "Contents of sales.csv:\nregion,product,quarter,units,revenue\nNorth,Widget,Q1,7,1.0\nSouth,Gizmo,Q1,5,2.0"
    reply = CoderPolicy().respond(_coder_request(question, (FILE_SURFER, shown)), _ctx())
    assert _run_python(_code_of(reply.text)) == (0, "12.0")  # not the file's 1022
    # without the contents in context it can only open the file by name
    blind = _code_of(CoderPolicy().respond(_coder_request(question), _ctx()).text)
    assert "open('sales.csv'" in blind and "DATA" not in blind


@pytest.mark.parametrize("mode", ["wrong", "underspecified", "empty"])
def test_coder_bugs_change_what_the_script_prints(mode):
    changed = 0
    for task in load_tasks():
        q = parse_question(task.question)
        data = document_text(q.file)
        rc, out = _run_python(solution_code(q, data, mode))
        assert rc == 0
        if mode == "empty":
            assert out == ""
        changed += answer_number(out) != task.meta["truth"]
    assert changed >= 6  # a planted bug does not always change the result (max of a column, say)


def test_coder_repeats_a_printed_result_and_gives_up_on_refusals():
    question = format_question(Question("count", "sales.csv", where_column="product", where_value="Gizmo"))
    code = "```python\nprint(4)\n```"
    req = _coder_request(question, (FILE_SURFER, read_file("sales.csv")))
    req = SimRequest("openai", "m", req.messages + (SimMessage("assistant", code), SimMessage("user", "4\n", name=TERMINAL)))
    assert "```" not in CoderPolicy().respond(req, _ctx()).text
    refused = "The script ran, then exited with an error (POSIX exit code: 1)\nIts output was:\nRefused: off"
    req = SimRequest("openai", "m", req.messages[:-1] + (SimMessage("user", refused, name=TERMINAL),))
    assert "refuses" in CoderPolicy().respond(req, _ctx()).text


def _surfer_request(question, tools=True, *extra):
    tools_ = (SimTool("list_files", "", {}), SimTool("read_file", "", {})) if tools else ()
    return SimRequest("openai", "m", (SimMessage("system", SYSTEM_PROMPTS[FILE_SURFER]),
                                      *_conversation(question), *extra), tools=tools_)


def test_file_surfer_reads_the_question_file_once():
    question = format_question(Question("lines", "incidents.log", word="ERROR"))
    reply = FileSurferPolicy().respond(_surfer_request(question), _ctx())
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("read_file", {"name": "incidents.log"})]
    done = FileSurferPolicy().respond(
        _surfer_request(question, True, SimMessage("tool", read_file("incidents.log"), name="read_file")), _ctx())
    assert not done.tool_calls and "shown above" in done.text
    off = FileSurferPolicy().respond(_surfer_request(question, False), _ctx())
    assert not off.tool_calls and "no file tools" in off.text
    unnamed = FileSurferPolicy().respond(_surfer_request(f"What do the files say? {TASK_MARKER}"), _ctx())
    assert [c.name for c in unnamed.tool_calls] == ["list_files"]


def _orchestrator_request(prompt, question, *turns):
    """The orchestrator's request: its thread (its own turns as assistant messages) and
    ``prompt`` as a user message named after it, as agentchat 0.7 sends them."""
    msgs = []
    for name, text in turns:
        msgs.append(SimMessage("assistant", text) if name == ORCHESTRATOR else SimMessage("user", text, name=name))
    ledger = SimMessage("assistant", f"\nWe are working to address the following user request:\n\n{question}\n")
    return SimRequest("openai", "m", (ledger, *msgs, SimMessage("user", prompt, name=ORCHESTRATOR)))


def _progress_prompt(question):
    from autogen_agentchat.teams._group_chat._magentic_one._prompts import ORCHESTRATOR_PROGRESS_LEDGER_PROMPT

    return ORCHESTRATOR_PROGRESS_LEDGER_PROMPT.format(task=question, team="...",
                                                      names=", ".join((CODER, TERMINAL, FILE_SURFER)))


def test_progress_ledger_plans_read_code_run_and_stops_on_a_result():
    question = format_question(Question("sum", "sales.csv", column="units"))
    prompt = _progress_prompt(question)
    policy = ProgressLedgerPolicy()
    script = "Here:\n```python\nprint(1022.0)\n```"
    steps = [
        ((), FILE_SURFER),
        (((FILE_SURFER, read_file("sales.csv")),), CODER),
        (((FILE_SURFER, read_file("sales.csv")), (CODER, script)), TERMINAL),
        (((FILE_SURFER, read_file("sales.csv")), (CODER, script),
          (TERMINAL, "The script ran, then exited with an error (POSIX exit code: 1)\nIts output was:\nKeyError")), CODER),
    ]
    for turns, speaker in steps:
        req = _orchestrator_request(prompt, question, *turns)
        assert policy.matches(req)
        ledger = json.loads(policy.respond(req, _ctx()).text)
        assert set(ledger) == {"is_request_satisfied", "is_in_loop", "is_progress_being_made", "next_speaker",
                               "instruction_or_question"}
        assert all(set(v) == {"reason", "answer"} for v in ledger.values())
        assert ledger["is_request_satisfied"]["answer"] is False and ledger["next_speaker"]["answer"] == speaker
    done = _orchestrator_request(prompt, question, (FILE_SURFER, read_file("sales.csv")), (CODER, script),
                                 (TERMINAL, "1022.0\n"))
    assert json.loads(policy.respond(done, _ctx()).text)["is_request_satisfied"]["answer"] is True
    # other teams' Magentic-One ledgers (no task marker) are left to the generic fallback
    assert not policy.matches(_orchestrator_request(_progress_prompt("Plan a party."), "Plan a party."))


def test_final_answer_repeats_the_last_printed_result():
    from autogen_agentchat.teams._group_chat._magentic_one._prompts import ORCHESTRATOR_FINAL_ANSWER_PROMPT

    question = format_question(Question("sum", "sales.csv", column="units"))
    prompt = ORCHESTRATOR_FINAL_ANSWER_PROMPT.format(task=question)
    policy = FinalAnswerPolicy()
    req = _orchestrator_request(prompt, question, (CODER, "```python\nprint(3)\n```"), (TERMINAL, "3\n"),
                                (CODER, "```python\nprint(1022.0)\n```"), (TERMINAL, "1022.0\n"))
    assert policy.matches(req)
    text = policy.respond(req, _ctx()).text
    assert answer_number(text) == 1022.0
    none = _orchestrator_request(prompt, question, (TERMINAL, "No code blocks found in the thread."))
    assert answer_number(policy.respond(none, _ctx()).text) is None  # accurate: no guess
    assert not policy.matches(_orchestrator_request(ORCHESTRATOR_FINAL_ANSWER_PROMPT.format(task="Plan a party."),
                                                    "Plan a party."))


# -- the instance ----------------------------------------------------------------------------


def _run_ctx(tools):
    ep = ModelEndpoint(spec="sim/strong", provider="maestro.sim", model="sim-strong",
                       base_url="http://127.0.0.1:9/sim/strong/0/v1", api_key="sim", simulated=True)
    return RunContext(ep, tools, 0, timeout_s=60, options={"code_timeout_s": 7, "max_turns": 5})


def test_info_row_and_team_shape():
    from maestro.instances.magentic_one.instance import EXECUTOR_ATTRIBUTE, MagenticOneInstance

    inst = maestro.instances.get_instance("magentic_one")
    assert INSTANCE_MODULES["magentic_one"] == "maestro.instances.magentic_one" and isinstance(inst, MagenticOneInstance)
    i = inst.info
    assert (i.name, i.app_field, i.framework, i.interaction, i.n_agents, i.n_tools, i.data_in, i.data_out, i.suites) == (
        "magentic_one", "Cross-domain", "autogen", "Planning", 4, 2, "Artifacts", "Closed-Form", "F")
    assert len(AGENT_NAMES) == i.n_agents
    on, off = inst.build(_run_ctx(True)), inst.build(_run_ctx(False))
    assert [p.name for p in on._participants] == [CODER, TERMINAL, FILE_SURFER]
    assert type(on).__name__ == "MagenticOneGroupChat" and on._max_turns == 5
    surfer_on, surfer_off = on._participants[2], off._participants[2]
    assert {t.name for t in surfer_on._tools} == {"list_files", "read_file"} and not surfer_off._tools
    ex_on, ex_off = getattr(on, EXECUTOR_ATTRIBUTE), getattr(off, EXECUTOR_ATTRIBUTE)
    assert ex_on.enabled and not ex_off.enabled and ex_on.inner.timeout == 7
    with pytest.raises(ValueError, match="code_timeout"):
        inst.build(RunContext(_run_ctx(True).endpoint, True, 0, options={"code_timeout": 3}))


# -- a study through the runner ----------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("magentic_one")
    result = maestro.run_study(maestro.StudyConfig(
        study_id="m1-t", instances=["magentic_one"], backends=["sim/strong"], tools=(True, False), repeats=2,
        tasks=2, out=str(out), store_answers=True))
    return result, maestro.load_study(result.path)


@pytest.mark.slow
def test_every_run_ends_with_a_judged_answer(study):
    result, st = study
    runs = st.runs
    assert result.executed == len(runs) == 8 and runs.clean.all()
    # every run ends: no timeout, crash or exception
    assert set(runs.status) <= {"success", "failure"}, runs[["run_id", "status", "outcome_reason"]]
    assert set(runs.judgement) <= {"correct", "wrong"} and (runs.cost_usd > 0).all()
    assert (runs.llm_calls >= 4).all() and (runs.input_tokens > 0).all()
    on, off = runs[runs.tools_enabled], runs[~runs.tools_enabled]
    assert len(on) == len(off) == 4
    assert (on.judgement == "correct").any()
    assert (off.judgement == "wrong").all() and (off.tool_calls == 0).all()


@pytest.mark.slow
def test_spans_show_orchestrator_edges_terminal_turns_and_file_tools(study):
    _, st = study
    spans, runs = st.spans, st.runs
    for r in runs.itertuples():
        s = spans[spans.run_id == r.run_id]
        assert s.trace_id.nunique() == 1 and s.parent_span_id.isna().sum() == 1
        m = s[s.span_type == "message"]
        edges = set(zip(m.message_source, m.message_target, strict=True))
        assert ("__start__", ORCHESTRATOR) in edges and (ORCHESTRATOR, "__end__") in edges
        workers = {t for src, t in edges if src == ORCHESTRATOR} - {"__end__"}
        assert workers and workers <= {CODER, TERMINAL, FILE_SURFER}
        assert all((w, ORCHESTRATOR) in edges for w in workers)  # every agent reports back
        agents = s[s.span_type == "agent"]
        assert set(agents.agent_name) <= set(AGENT_NAMES) and ORCHESTRATOR in set(agents.agent_name)
        llm = s[s.span_type == "llm"]
        assert len(llm) == r.llm_calls and (llm.provider == "maestro.sim").all()
        # the terminal makes no model calls: its executions are its agent turns
        assert TERMINAL not in set(llm.agent_name)
        tools = s[s.span_type == "tool"]
        assert set(tools.tool_name) <= {"list_files", "read_file"}
        if not r.tools_enabled:
            assert tools.empty
        if r.judgement == "correct":
            assert TERMINAL in set(agents.agent_name) and "read_file" in set(tools.tool_name)
            assert {(ORCHESTRATOR, TERMINAL), (TERMINAL, ORCHESTRATOR)} <= edges


def test_model_written_code_does_not_see_secrets(monkeypatch, tmp_path):
    import asyncio

    from autogen_core import CancellationToken
    from autogen_core.code_executor import CodeBlock

    from maestro.instances.magentic_one.executor import make_terminal_executor

    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak-123456")
    monkeypatch.setenv("DB_PASS", "hunter2hunter2")
    executor = make_terminal_executor(True, 20)
    code = "import os\nprint(os.environ.get('OPENAI_API_KEY'), os.environ.get('DB_PASS'), 'PATH' in os.environ)"

    async def go():
        try:
            return await executor.execute_code_blocks([CodeBlock(code=code, language="python")], CancellationToken())
        finally:
            await executor.stop()

    result = asyncio.run(go())
    assert result.exit_code == 0 and result.output.split() == ["None", "None", "True"]
    assert os.environ["OPENAI_API_KEY"] == "sk-should-not-leak-123456"  # restored for the run's own clients
