"""Simulated outcomes come from mechanism: no sim policy reads a task's gold answer or the
QA world's truth except through the documented knowledge model (docs/simulation.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

INSTANCES = Path(__file__).resolve().parents[2] / "instances"

FORBIDDEN = {
    r"\.gold\b": "a task's or question's gold answer",
    r"\bgolds\(": "gold answers and aliases",
    r"\banswer_in_context\b": "the gold looked up and searched in the context",
    r"\bsupport_ids\b|\bsupport_pools\b|\bweb_support_ids\b": "which passages support a question",
    r"\.path\[": "a question's entity path (its bridge entities and answer)",
    r"\.facts\b|\bfact_passages\b": "the world's facts, other than through knowledge.reads/fact_of",
    r"\bq\.answer\b|\bquestion\.answer\b": "a world question's answer",
}
"""What a policy may not touch, with why."""


def _policy_sources() -> list[Path]:
    files = sorted(INSTANCES.glob("*/sim_policies.py"))
    files += [INSTANCES / "qa_world" / "policy_kit.py", INSTANCES / "sim_kit.py"]
    return files


def test_there_are_policies_to_check():
    names = {p.parent.name for p in _policy_sources()}
    assert {"crag", "plan_execute", "lats", "tot", "stock_research", "magentic_one"} <= names


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in _policy_sources()])
def test_policy_reads_no_gold(path):
    code = path.read_text(encoding="utf-8")
    # docstrings and comments may talk about the gold; code may not touch it
    code = re.sub(r'"""(?:.|\n)*?"""', "", code)
    code = re.sub(r"#.*", "", code)
    hits = [f"{why} ({pat})" for pat, why in FORBIDDEN.items() if re.search(pat, code)]
    assert not hits, f"{path.relative_to(INSTANCES.parent)} touches: " + "; ".join(hits)


def test_the_knowledge_model_is_where_truth_is_consulted():
    code = (INSTANCES / "qa_world" / "knowledge.py").read_text(encoding="utf-8")
    assert "fact_passages" in code and "golds()" in code  # reading evidence, user-task facts
