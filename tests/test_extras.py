"""What a plain ``pip install alu`` does without the extras: it serves and screens; ``alu eval``
says in one line which extra it needs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from alu.cli import EVAL_EXTRA_MODULES, app

ROOT = Path(__file__).resolve().parents[1]


def test_eval_without_its_extra_names_the_extra_in_one_line(env, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = CliRunner().invoke(app, ["eval", "--profile", "smoke", "--report-only", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "pip install 'alu[eval]'" in result.stderr and "matplotlib" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serving_and_screening_import_nothing_from_the_eval_or_dev_extras():
    # A fresh interpreter where the extras' modules cannot be imported: building the server's
    # app and screening a question must not need them.
    blocked = (*EVAL_EXTRA_MODULES, "httpx")
    script = textwrap.dedent(
        f"""
        import sys
        from importlib.abc import MetaPathFinder

        class Missing(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {blocked!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, Missing())
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from conftest import HERMIONE, scripted
        from alu import ALU
        from alu.server.app import create_app
        from alu.settings import ServeSettings
        import alu.cli

        alu = ALU(scripted(draft="Hermione Granger went to the ball."), [HERMIONE])
        create_app(alu, ServeSettings())
        answer = alu.ask("Who went to the Yule Ball with Viktor Krum?")
        assert "Hermione" not in answer.text, answer.text
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r})
        assert not loaded, loaded
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
