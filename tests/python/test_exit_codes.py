"""Exit codes: one list (ExitCode); the README's table and the help text show exactly it, and no
RunError is raised with a bare number."""
from __future__ import annotations

import ast
import re

import runner
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.runs import PROJECT_DIR


def test_readme_table_lists_exactly_the_exit_codes():
    text = (PROJECT_DIR / "README.md").read_text()
    section = text[text.index("\nExit codes"):]
    section = section[:section.index("\n\n", section.index("| code | meaning |"))]
    rows = dict(re.findall(r"^\| `(\d+)` \| (.+?) \|$", section, flags=re.M))
    assert {int(k): v for k, v in rows.items()} == {c.value: c.meaning for c in ExitCode}


def test_help_text_lists_every_exit_code():
    epilog = " ".join(runner.build_parser().epilog.split())
    for code in ExitCode:
        assert f"{code.value} {code.meaning}" in epilog


def test_run_errors_carry_an_exit_code_member():
    sources = [PROJECT_DIR / "runner.py", *sorted((PROJECT_DIR / "python_kernels" / "run").glob("*.py"))]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "RunError":
                code = node.args[1] if len(node.args) > 1 else None
                assert not isinstance(code, ast.Constant), f"{path.name}:{node.lineno}: use ExitCode, not {code.value}"
