"""A study checks each ``[instance_options.<name>]`` table against the options instance
``name`` declares, before any run starts; instances that declare none are not checked."""

from __future__ import annotations

import pytest

from maestro.runner.config import ConfigError, load_study_config, study_config_from_dict


def _cfg(instance: str, options: dict):
    return study_config_from_dict({"id": "s", "instances": [instance], "backends": ["sim/strong"],
                                   "instance_options": {instance: options}})


def test_misspelt_option_in_a_study_file_names_file_table_key_and_known_options(tmp_path):
    f = tmp_path / "study.toml"
    f.write_text('[study]\nid = "x"\ninstances = ["lats"]\nbackends = ["sim/strong"]\n'
                 '[instance_options.lats]\nwidht = 3\n')
    with pytest.raises(ConfigError) as e:
        load_study_config(f)
    assert str(e.value) == (
        f"{f}: instance_options.lats: unknown option 'widht' (did you mean 'width'?); known: exploration, k, "
        "max_depth, max_iterations, max_retries, recursion_limit, request_timeout_s, temperature, web_k, width")


def test_wrong_type_names_option_expected_type_and_known_options(tmp_path):
    f = tmp_path / "study.toml"
    f.write_text('[study]\nid = "x"\ninstances = ["travel_planning"]\nbackends = ["sim/strong"]\n'
                 '[instance_options.travel_planning]\nmax_rounds = "two"\n')
    with pytest.raises(ConfigError) as e:
        load_study_config(f)
    assert str(e.value) == (
        f"{f}: instance_options.travel_planning: option 'max_rounds': expected int, got 'two'; known: "
        "max_rounds (int, default 2), temperature (float, default 0.0), max_retries (int, default 3), "
        "request_timeout_s (float, default 120.0)")


@pytest.mark.parametrize(
    "instance, options, words",
    [
        pytest.param("crag", {"recursion_limt": 10}, "instance_options.crag: unknown option 'recursion_limt'",
                     id="crag-misspelt"),
        pytest.param("tot", {"max_depth": 1.5}, "instance_options.tot: option 'max_depth': expected int, got 1.5",
                     id="tot-fraction"),
        pytest.param("marketing", {"max_llm_calls": True}, "expected int, got True", id="marketing-bool-for-int"),
        pytest.param("plan_execute", {"max_replans": "x"}, "max_replans (int, default unset)",
                     id="unset-default-listed"),
    ],
)
def test_each_builtin_is_checked(instance, options, words):
    with pytest.raises(ConfigError) as e:
        _cfg(instance, options)
    assert words in str(e.value)


def test_valid_options_pass_and_are_kept_as_written():
    c = _cfg("lats", {"width": 3, "exploration": 1, "temperature": "0.3"})
    # Coercion happens where the instance reads them; the config (and its fingerprint) keeps the table.
    assert c.instance_options == {"lats": {"width": 3, "exploration": 1, "temperature": "0.3"}}


def test_an_instance_without_declared_options_is_not_checked():
    # fake_mas (a user's own instance) declares no options: anything passes, as before.
    c = _cfg("fake_mas", {"anything": "goes", "width": "two"})
    assert c.instance_options["fake_mas"] == {"anything": "goes", "width": "two"}
