"""A bad line in a task file is named by file and line, never echoed (it may hold secrets)."""

from __future__ import annotations

import pytest

from maestro.instances import get_instance

SECRET = "sk-task-file-secret-0123456789"


@pytest.mark.parametrize("instance, line", [
    pytest.param("travel_planning", f'{{"id": "t", "question": "Plan a {SECRET} trip"}}', id="travel-unparseable"),
    pytest.param("travel_planning", f'["{SECRET}"]', id="travel-not-object"),
    pytest.param("tot", f'{{"numbers": [1, 2, 3, 4], "target": "{SECRET}"}}', id="tot-bad-target"),
    pytest.param("tot", f'{{"numbers": "{SECRET}"}}', id="tot-bad-numbers"),
    pytest.param("marketing", f'{{"id": "m", "question": "{SECRET}"}}', id="marketing-no-business"),
    pytest.param("marketing", f'["{SECRET}"]', id="marketing-not-object"),
    pytest.param("crag", f'{{"id": "q", "question": "{SECRET}"}}', id="qa-missing-answer"),
])
def test_bad_task_lines_are_named_not_echoed(tmp_path, instance, line):
    f = tmp_path / "tasks.jsonl"
    f.write_text('\n' + line + '\n')
    with pytest.raises(ValueError) as e:
        get_instance(instance).tasks(source=str(f))
    assert f"{f}:2" in str(e.value) and SECRET not in str(e.value)
