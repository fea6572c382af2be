"""The ``alu`` command line: targets add, ls, rm, import and export; ask with the scripted
model; serve's admin token; eval's options; every bad input a one-line error."""

import json

import pytest
from typer.testing import CliRunner

from alu.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_targets_add_ls_rm(env):
    assert run("targets", "add", "Hermione Granger", "--alias", "Hermione", "--kind", "person").exit_code == 0
    result = run("targets", "ls", "--json")
    assert json.loads(result.stdout)[0]["aliases"] == ["Hermione"]
    assert run("targets", "add", "Hermione Granger").exit_code == 1
    assert run("targets", "rm", "hermione").exit_code == 0
    assert json.loads(run("targets", "ls", "--json").stdout) == []


def test_bad_kind_and_bad_import_are_one_line_errors(env):
    result = run("targets", "add", "X", "--kind", "planet")
    assert result.exit_code == 1 and "bad target" in result.stderr
    bad = env / "bad.json"
    bad.write_text("[{")
    result = run("targets", "import", str(bad))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "not valid json" in result.stderr


def test_import_export_round_trip(env):
    src = env / "in.yaml"
    src.write_text("- name: Ada Lovelace\n  kind: person\n- name: Smallpox synthesis\n  kind: hazard\n")
    assert run("targets", "import", str(src)).exit_code == 0
    assert run("targets", "export", str(env / "out.csv")).exit_code == 0
    assert "Smallpox synthesis" in (env / "out.csv").read_text()


def test_ask_with_the_scripted_model_and_json_trace(env):
    result = run("ask", "What is 2+2?", "--model", "scripted", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == "OK" and data["trace"]["llm_calls"] == 1


def test_unknown_model_bad_config_and_empty_query(env):
    result = run("ask", "hi", "--model", "nosuch:thing")
    assert result.exit_code == 1 and "unknown model 'nosuch:thing'" in result.stderr
    cfg = env / "c.toml"
    cfg.write_text("k = 'many'\n")
    result = runner.invoke(app, ["--config", str(cfg), "ask", "hi", "--model", "scripted"])
    assert result.exit_code == 1 and "bad setting 'k'" in result.stderr
    cfg.write_text("k = [\n")
    result = runner.invoke(app, ["--config", str(cfg), "ask", "hi"])
    assert result.exit_code == 1 and "not valid TOML" in result.stderr
    result = run("ask", "  ", "--model", "scripted")
    assert result.exit_code == 1 and "empty" in result.stderr


def test_missing_gguf_file_is_a_clear_error(env):
    result = run("ask", "hi", "--model", f"gguf:{env / 'missing.gguf'}")
    assert result.exit_code == 1 and "GGUF file not found" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["ask", "--help"],
        ["chat", "--help"],
        ["targets", "add", "--help"],
        ["targets", "import", "--help"],
        ["models", "--help"],
        ["demo", "--help"],
    ],
)
def test_help_on_every_command(args):
    assert run(*args).exit_code == 0


def test_a_target_added_by_another_process_applies_to_the_next_query(tmp_path):
    import subprocess
    import sys

    from conftest import scripted

    from alu import ALU, TargetStore

    db = tmp_path / "shared.db"
    alu = ALU(scripted(draft="Hermione Granger went to the Yule Ball."), TargetStore(db))
    assert alu.ask("Who went to the Yule Ball?").trace.verdict == "passed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "alu.cli",
            "--db",
            str(db),
            "targets",
            "add",
            "Hermione Granger",
            "--kind",
            "person",
        ],
        check=True,
        capture_output=True,
    )
    answer = alu.ask("Who went to the Yule Ball?")
    assert answer.trace.leaked == ["Hermione Granger"] and "Hermione" not in answer.text
    subprocess.run(
        [sys.executable, "-m", "alu.cli", "--db", str(db), "targets", "rm", "Hermione Granger"],
        check=True,
        capture_output=True,
    )
    assert alu.ask("Who went to the Yule Ball?").trace.verdict == "passed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "forget=x"], "bad --limit"),
        (["--systems", "nosuch"], "unknown system"),
        (["--profile", "huge"], "unknown profile"),
        (["--attacks", "rot13"], "unknown attack"),
    ],
)
def test_eval_rejects_bad_options_in_one_line(env, args, message):
    # a folder with no data: a bad option is named before the data is looked for
    missing = str(env / "no-data")
    result = run("eval", "--model", "scripted", "--out", str(env / "ev"), "--data-dir", missing, *args)
    assert result.exit_code == 1 and message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "name", ["AC/DC Band", "100% Pure Orange", "Zoë Ñandú", "[bold]Markup[/bold] Person"]
)
def test_names_with_slashes_percent_signs_and_unicode_are_removed_by_the_same_name(env, name):
    assert run("targets", "add", name).exit_code == 0
    result = run("targets", "rm", name)
    assert result.exit_code == 0, result.output
    assert json.loads(run("targets", "ls", "--json").stdout) == []


@pytest.mark.parametrize(("name", "message"), [("!!!", "no letter or digit"), ("Ba\x01sil", "U+0001")])
def test_unmatchable_names_and_control_characters_are_one_line_errors(env, name, message):
    result = run("targets", "add", name)
    assert result.exit_code == 1 and message in result.stderr and result.stderr.count("\n") == 1


def test_a_too_deeply_nested_import_is_a_one_line_error(env):
    deep = env / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    result = run("targets", "import", str(deep))
    assert result.exit_code == 1 and "nested too deeply" in result.stderr and result.stderr.count("\n") == 1


def test_ls_prints_names_escaped(env):
    import sqlite3

    assert run("targets", "add", "Plain Name").exit_code == 0
    # A name written by an older version, before control characters were refused.
    with sqlite3.connect(env / "t.db") as db:
        db.execute("UPDATE targets SET name=? WHERE name='Plain Name'", ("\x1b[31mRed\x1b[0m Name",))
    result = run("targets", "ls")
    assert result.exit_code == 0 and "\x1b" not in result.stdout and "\\x1b[31mRed" in result.stdout


def test_serve_takes_the_admin_token_from_the_environment_or_a_file_never_the_command_line(env):
    result = run("serve", "--model", "scripted", "--admin-token", "s3cret")
    assert result.exit_code == 1 and "ALU_ADMIN_TOKEN" in result.stderr
    from alu.settings import ServeSettings

    token_file = env / "token"
    token_file.write_text("from-a-file\n")
    assert ServeSettings(admin_token_file=token_file).admin_token() == "from-a-file"
    token_file.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        ServeSettings(admin_token_file=token_file).admin_token()


def test_admin_token_from_the_environment(env, monkeypatch):
    from alu.errors import ConfigError
    from alu.settings import ServeSettings

    assert ServeSettings().admin_token() is None
    monkeypatch.setenv("ALU_ADMIN_TOKEN", "from-env")
    assert ServeSettings().admin_token() == "from-env"
    (env / "token").write_text("x")
    with pytest.raises(ConfigError, match="given twice"):
        ServeSettings(admin_token_file=env / "token").admin_token()
