"""Declared instance options: ``resolve_options`` (defaults, safe coercion, errors naming the
culprit), every built-in's declaration (today's defaults, framework-free), and instances
reading their values through it."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

from maestro.contract import InstanceOption, ModelEndpoint, RunContext, coerce_option, resolve_options
from maestro.instances import INSTANCE_MODULES, declared_options
from maestro.instances._common import client_settings

DECLARED = (
    InstanceOption("width", int, 2, "candidates"),
    InstanceOption("exploration", float, 0.2, "UCT constant"),
    InstanceOption("strict", bool, False, "strictness"),
    InstanceOption("mode", str, "fast", "mode"),
    InstanceOption("depth", int, None, "unset: derived"),
)


def test_defaults_fill_every_declared_option():
    assert resolve_options(DECLARED, {}) == {"width": 2, "exploration": 0.2, "strict": False, "mode": "fast",
                                             "depth": None}
    assert resolve_options(DECLARED, None)["width"] == 2
    # An explicit None means "unset": the default.
    assert resolve_options(DECLARED, {"width": None})["width"] == 2


@pytest.mark.parametrize(
    "name, value, expected",
    [
        pytest.param("width", 3, 3, id="int"),
        pytest.param("width", "3", 3, id="int-from-str"),
        pytest.param("width", 4.0, 4, id="int-from-integral-float"),
        pytest.param("exploration", 1, 1.0, id="float-from-int"),
        pytest.param("exploration", " 0.5 ", 0.5, id="float-from-str"),
        pytest.param("strict", True, True, id="bool"),
        pytest.param("strict", "false", False, id="bool-from-false-str"),
        pytest.param("strict", "Yes", True, id="bool-from-yes"),
        pytest.param("strict", 0, False, id="bool-from-0"),
        pytest.param("mode", "slow", "slow", id="str"),
        pytest.param("depth", "2", 2, id="unset-default-int"),
    ],
)
def test_valid_values_are_coerced(name, value, expected):
    got = resolve_options(DECLARED, {name: value})[name]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "name, value, words",
    [
        pytest.param("width", "two", "option 'width': expected int, got 'two'", id="int-from-word"),
        pytest.param("width", 2.5, "option 'width': expected int, got 2.5", id="int-from-fraction"),
        pytest.param("width", True, "option 'width': expected int, got True", id="int-from-bool"),
        pytest.param("exploration", "lots", "option 'exploration': expected float, got 'lots'", id="float-from-word"),
        pytest.param("exploration", [1], "expected float, got [1]", id="float-from-list"),
        # bool("false") would be True: only explicit spellings are accepted.
        pytest.param("strict", "maybe", "option 'strict': expected bool, got 'maybe'", id="bool-from-word"),
        pytest.param("strict", 2, "option 'strict': expected bool, got 2", id="bool-from-2"),
        pytest.param("mode", 3, "option 'mode': expected str, got 3", id="str-from-int"),
    ],
)
def test_wrong_types_name_option_value_and_type(name, value, words):
    with pytest.raises(ValueError) as e:
        resolve_options(DECLARED, {name: value})
    assert words in str(e.value)


def test_unknown_names_are_listed_with_the_known_ones():
    with pytest.raises(ValueError) as e:
        resolve_options(DECLARED, {"widht": 3, "width": 2})
    assert str(e.value) == ("unknown option 'widht' (did you mean 'width'?); "
                            "known: depth, exploration, mode, strict, width")
    with pytest.raises(ValueError, match=r"unknown options 'colour', 'zzz'; known: depth,"):
        resolve_options(DECLARED, {"zzz": 1, "colour": "red"})


def test_coerce_option_keeps_none():
    assert coerce_option(DECLARED[0], None) is None


# Today's defaults, written out by hand from the code before the options were declared:
# the declarations must not change behaviour.
CLIENT = {"temperature": 0.0, "max_retries": 3, "request_timeout_s": 120.0}
EXPECTED_DEFAULTS = {
    "crag": {"k": 4, "web_k": 3, "max_rewrites": 2, "min_relevant": 2, "recursion_limit": 40, **CLIENT},
    "lats": {"width": 2, "max_depth": 4, "max_iterations": 6, "exploration": 0.2, "k": 4, "web_k": 3,
             "recursion_limit": None, **CLIENT},
    "plan_execute": {"k": 4, "web_k": 3, "max_tool_rounds": 3, "max_replans": None, "strict_replanner": False,
                     "recursion_limit": 100_000, **CLIENT},
    "tot": {"beam_width": 3, "n_propose": 5, "max_depth": None, "max_retries": 1, "recursion_limit": 60,
            "temperature": 0.0, "max_retries_http": 3, "request_timeout_s": 120.0},
    "travel_planning": {"max_rounds": 2, **CLIENT},
    "marketing": {"temperature": 0.0, "http_attempts": 4, "max_llm_calls": 30},
    "stock_research": {"max_messages": 40, **CLIENT},
    "magentic_one": {"max_turns": 20, "max_stalls": 3, "code_timeout_s": 30, **CLIENT},
    "image_scoring": {"temperature": 0.0, "http_attempts": 4, "max_llm_calls": 40, "max_iterations": 4,
                      "score_threshold": 1.0, "image_model": "imagen-3.0-generate-002"},
    "brand_seo": {"temperature": 0.0, "http_attempts": 4, "max_llm_calls": 60, "browser": "auto",
                  "chromium": "/usr/bin/chromium"},
    "content_creation": {"temperature": 0.0, "http_attempts": 4, "max_llm_calls": 30, "max_revisions": 2,
                         "remote_timeout_s": 60.0, "start_timeout_s": 60.0, "launch": None, "remote_urls": None},
    "financial_analyzer": {"max_plan_iterations": 8, "max_refinements": 2, "min_rating": "EXCELLENT", "workdir": ""},
}


@pytest.mark.parametrize("name", sorted(INSTANCE_MODULES))
def test_builtin_declarations_keep_todays_defaults(name):
    declared = declared_options(name)
    assert declared is not None
    names = [o.name for o in declared]
    assert len(names) == len(set(names)), f"{name} declares an option twice"
    assert resolve_options(declared, {}) == EXPECTED_DEFAULTS[name]
    for o in declared:
        assert o.type in (int, float, bool, str) and o.doc, o
        assert o.default is None or type(o.default) is o.type, o
    # The instance object reads the very same declaration.
    assert import_module(INSTANCE_MODULES[name]).INSTANCE.options == declared


def test_reading_builtin_declarations_imports_no_framework():
    code = ("import sys\nfrom maestro.instances import INSTANCE_MODULES, declared_options\n"
            "for n in INSTANCE_MODULES: assert declared_options(n)\n"
            "print(sorted(m for m in ('langchain_openai', 'langgraph', 'autogen_agentchat', 'google.adk', "
            "'google.genai', 'mcp_agent') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


EP = ModelEndpoint(spec="sim/strong", provider="maestro.sim", model="sim-strong",
                   base_url="http://127.0.0.1:9/sim/strong/0/v1", api_key="sim", simulated=True)


def test_client_settings_coerce_and_skip_instance_options():
    ctx = RunContext(EP, False, 0, timeout_s=30.0,
                     options={"temperature": "0.5", "max_retries": 1.0, "request_timeout_s": 60, "width": 9})
    s = client_settings(ctx)
    assert (s["temperature"], s["max_retries"], s["timeout"]) == (0.5, 1, 30.0)
    assert type(s["max_retries"]) is int
    assert client_settings(RunContext(EP, False, 0, options={"max_retries_http": 5}),
                           retries_option="max_retries_http")["max_retries"] == 5
    with pytest.raises(ValueError, match="option 'temperature': expected float, got 'hot'"):
        client_settings(RunContext(EP, False, 0, options={"temperature": "hot"}))


@pytest.mark.parametrize(
    "name, options, words",
    [
        pytest.param("crag", {"kk": 2}, "unknown option 'kk' (did you mean 'k'?)", id="crag-misspelt"),
        pytest.param("lats", {"width": "two"}, "option 'width': expected int, got 'two'", id="lats-wrong-type"),
        pytest.param("tot", {"beam_widht": 2}, "did you mean 'beam_width'?", id="tot-misspelt"),
        pytest.param("plan_execute", {"strict_replanner": "sure"}, "expected bool, got 'sure'", id="pe-bool"),
    ],
)
def test_build_rejects_bad_options_naming_them(name, options, words):
    inst = import_module(INSTANCE_MODULES[name]).INSTANCE
    with pytest.raises(ValueError) as e:
        inst.build(RunContext(EP, True, 0, options=options))
    assert words in str(e.value)
