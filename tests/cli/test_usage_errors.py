"""Mistakes in arguments and surroundings are usage errors (exit 2, one message), never an
internal error; output into a closed pipe ends quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

AGENTGO = Path(sys.executable).with_name("agentgo")
runner = CliRunner()

NUMBERED = """
inputs:
  n: {type: integer, default: 1}
  tags: {type: array, default: []}
steps:
  - id: say
    tool: echo
    with: {text: "hi"}
outputs:
  n: ${{ inputs.n }}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, NUMBERED, name="numbered")
    return write


def test_an_input_file_that_is_not_utf8(project: Write, workdir: Path) -> None:
    (workdir / "in.yaml").write_bytes(b"n: \xff\xfe\n")
    code, out, err = invoke("run", "numbered", "-q", "--input-file", "in.yaml")
    assert (code, out) == (2, "")
    assert err == "error: cannot read --input-file in.yaml: not UTF-8 text (byte 3)\n"


def test_an_input_file_nested_too_deeply(project: Write, workdir: Path) -> None:
    (workdir / "in.json").write_text('{"tags": ' + "[" * 50_000 + "]" * 50_000 + "}")
    code, out, err = invoke("run", "numbered", "-q", "--input-file", "in.json")
    assert (code, out) == (2, "")
    assert err == "error: --input-file in.json is nested too deeply\n"


def test_an_integer_of_100000_digits(project: Write) -> None:
    code, out, err = invoke("run", "numbered", "-q", "-i", "n=" + "7" * 100_000)
    assert (code, out) == (2, "")
    assert err == "error: input 'n': a number with more than 4300 digits is too long\n"


def test_a_cli_value_nested_too_deeply(project: Write) -> None:
    code, out, err = invoke("run", "numbered", "-q", "-i", "tags=" + "[" * 50_000)
    assert (code, out) == (2, "")
    assert err == "error: input 'tags': nested too deeply\n"


def test_call_input_json_nested_too_deeply() -> None:
    code, out, err = invoke("call", "a.b", "--input", "[" * 50_000 + "]" * 50_000)
    assert (code, out) == (2, "")
    assert err == "error: --input: JSON nested too deeply\n"


def test_call_input_with_a_huge_number() -> None:
    code, out, err = invoke("call", "a.b", "--input", "9" * 100_000)
    assert (code, out) == (2, "")
    assert err == "error: --input: a number with more than 4300 digits is too long\n"


@pytest.mark.parametrize(
    "command",
    [
        ["catalog", "export", "--format", "a2a", "--out", "afile/sub"],
        ["schema", "export", "afile/sub"],
        ["init", "afile/sub"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_writing_where_nothing_can_be_written(
    project: Write, workdir: Path, command: list[str]
) -> None:
    (workdir / "afile").write_text("a regular file\n")
    code, out, err = invoke(*command)
    assert (code, out) == (2, "")
    assert err == "error: cannot write afile/sub: not a directory\n"


def _seed(n: int) -> list[str]:
    ids = []
    for _ in range(n):
        code, out, err = invoke("run", "numbered", "-q", "--output", "json")
        assert code == 0, err
        ids.append(json.loads(out)["job_id"])
    return ids


@pytest.mark.parametrize("command", [["jobs", "list"], ["jobs", "show"]], ids=" ".join)
def test_output_into_a_closed_pipe_ends_quietly(
    project: Write, workdir: Path, command: list[str]
) -> None:
    ids = _seed(3)
    args = [*command, ids[0]] if command[1] == "show" else command
    with subprocess.Popen(
        [str(AGENTGO), *args], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line is written
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 141
    assert err == b""


def test_head_reads_the_first_line_and_nothing_complains(project: Write, workdir: Path) -> None:
    ids = _seed(2)
    shell = f"'{AGENTGO}' jobs show {ids[0]} | head -1; '{AGENTGO}' jobs list | head -1"
    done = subprocess.run(["sh", "-c", shell], cwd=workdir, capture_output=True, timeout=60)
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith(f"job {ids[0]}  workflow numbered")
    assert lines[1].startswith("JOB ")
    assert done.stderr == b""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("jobs", "show", "j-\udcff"), (3, "error: no job 'j-\\udcff'\n")),
        (("jobs", "cancel", "j-\udcff"), (3, "error: no job 'j-\\udcff'\n")),
        (
            ("run", "numbered\udcff", "-q"),
            (
                3,
                "error: no workflow file or workflow named 'numbered\\udcff' (did you mean "
                "'numbered'?)\n",
            ),
        ),
        (("call", "x\udcff.run"), (3, "error: no intent 'x\\udcff.run' in the catalog\n")),
        (("catalog", "show", "a\udcff"), (3, "error: no intent 'a\\udcff' in the catalog\n")),
    ],
)
def test_a_name_with_a_non_utf8_byte_is_not_found(
    project: Write, args: tuple[str, ...], expected: tuple[int, str]
) -> None:
    """A non-UTF-8 byte typed in a name or id (a lone surrogate to Python) names nothing:
    not found, never a traceback (through a server too, where it crosses HTTP escaped)."""
    code, out, err = invoke(*args)
    assert (code, err) == expected
    assert out == ""


def test_a_trace_path_with_a_non_utf8_byte_is_a_usage_error(project: Write) -> None:
    _, out, _ = invoke("run", "numbered", "-q", "-o", "json")
    job_id = json.loads(out)["job_id"]
    code, out, err = invoke("jobs", "trace", job_id, "--step", "a\udcff")
    assert (code, out) == (2, "")
    assert err.startswith("error: --step: 'a\\udcff' is not a node path: ")
