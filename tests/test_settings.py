"""Settings: the file, the ALU_* environment (short names and paths) and the command line,
in that order of precedence, with one-line errors."""

from __future__ import annotations

import pytest

from alu.errors import ConfigError
from alu.settings import load_settings

FILE = """model = "openai:from-file"
[backends.openai]
base_url = "http://file/v1"
[pipeline]
mode = "default"
[pipeline.default]
k = 3
[serve]
max_in_flight = 8
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("ALU_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ALU_HOME", str(tmp_path))
    path = tmp_path / "config.toml"
    path.write_text(FILE)
    return path


def test_the_file_is_read_in_its_shape(config):
    settings = load_settings(config)
    assert settings.model == "openai:from-file"
    assert settings.backends["openai"]["base_url"] == "http://file/v1"
    assert settings.pipeline.default.k == 3 and settings.serve.max_in_flight == 8


def test_the_environment_beats_the_file_and_the_command_line_beats_both(config, monkeypatch):
    monkeypatch.setenv("ALU_MODEL", "openai:from-env")
    monkeypatch.setenv("ALU_MODE", "paper")
    monkeypatch.setenv("ALU_BASE_URL", "http://short/v1")
    monkeypatch.setenv("ALU_PIPELINE__DEFAULT__K", "4")
    monkeypatch.setenv("ALU_MODELS__CRITIC", "openai:critic")
    monkeypatch.setenv("ALU_SERVE__MAX_IN_FLIGHT", "")  # empty: not given
    settings = load_settings(config)
    assert settings.model == "openai:from-env" and settings.pipeline.mode == "paper"
    assert settings.backends["openai"]["base_url"] == "http://short/v1"
    assert settings.pipeline.default.k == 4 and settings.models == {"critic": "openai:critic"}
    assert settings.serve.max_in_flight == 8
    given = load_settings(config, pipeline__mode="default", model=None, db=str(config.parent / "x.db"))
    assert given.pipeline.mode == "default" and given.model == "openai:from-env"
    assert given.db == str(config.parent / "x.db")


def test_a_settings_own_path_beats_its_short_name(config, monkeypatch):
    monkeypatch.setenv("ALU_MODE", "paper")
    monkeypatch.setenv("ALU_PIPELINE__MODE", "default")
    assert load_settings(config).pipeline.mode == "default"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("k = [\n", {}, "not valid TOML"),
        ("[pipeline.default]\nk = 'many'\n", {}, "bad setting 'pipeline.default.k'"),
        ("", {"ALU_PIPELINE__DEFAULT__K": "many"}, "bad setting 'pipeline.default.k'"),
        ("", {"ALU_SERVE__BOGUS": "1"}, "bad setting 'serve.bogus'"),
        ("", {"ALU_MODELS": "critic"}, "bad setting 'models': ALU_MODELS is not JSON"),
        ("", {"ALU_MODE": "nosuch"}, "bad setting 'pipeline.mode'"),
    ],
)
def test_bad_files_and_values_are_one_line_errors(config, monkeypatch, text, env, message):
    config.write_text(text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config)
    assert "\n" not in str(caught.value)


def test_a_named_file_that_is_missing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")
