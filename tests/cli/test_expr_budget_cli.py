"""An expression over its budgets, as ``agentgo validate`` and ``agentgo run`` report it: at
its place in the file, in one line, with no traceback."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

DEEP = "(" * 3000 + "1" + ")" * 3000
DEEP_ERROR = (
    "m/wf.yaml:8:20: spec.steps[0].with.text: invalid expression "
    f"'${{{{ {'(' * 80} ... }}}}': nested too deeply (more than 32 levels)\n"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write, workdir: Path) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    return write


def echo(write: Write, expression: str) -> None:
    step = '- id: a\n  tool: echo\n  with: {text: "${{ ' + expression + ' }}"}'
    workflow(write, "steps:\n" + textwrap.indent(step, "  "))


def test_validate_reports_deep_nesting_at_the_expression(project: Write) -> None:
    echo(project, DEEP)
    code, out, err = invoke("validate", "m")
    assert (code, err) == (1, "")
    assert out.startswith(DEEP_ERROR)


def test_run_refuses_deep_nesting_the_same_way(project: Write) -> None:
    echo(project, DEEP)
    code, out, err = invoke("run", "wf")
    assert (code, out) == (1, "")
    assert err == DEEP_ERROR + "error: the manifest set has 1 error\n"


def test_validate_reports_a_constant_over_the_size_budget(project: Write) -> None:
    echo(project, "'a' | center(2000000000)")
    code, out, err = invoke("validate", "m")
    assert (code, err) == (1, "")
    assert out.startswith(
        "m/wf.yaml:8:20: spec.steps[0].with.text: invalid expression "
        "'${{ 'a' | center(2000000000) }}': exceeds the size budget "
        "('center' would make 2,000,000,000 characters > 1 MiB)\n"
    )


def test_run_fails_the_step_that_exceeds_the_size_budget(project: Write) -> None:
    workflow(
        project,
        "inputs: {n: {type: integer}}\n"
        "steps:\n  - id: a\n    tool: echo\n    with: {text: \"${{ 'a' | center(inputs.n) }}\"}",
    )
    assert invoke("validate", "m")[0] == 0
    code, out, err = invoke("run", "wf", "-i", "n=2000000000", "--quiet")
    assert (code, out) == (1, "")
    assert (
        "expression '${{ 'a' | center(inputs.n) }}' failed: exceeds the size budget "
        "('center' would make 2,000,000,000 characters > 1 MiB)"
    ) in err
    assert "Traceback" not in err
