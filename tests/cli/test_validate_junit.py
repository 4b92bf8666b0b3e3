"""agentgo validate --output junit: a JUnit XML report for the CI systems that read one.

One testsuite "agentgo validate", one testcase per file read (and per file an error names,
such as a broken config file or a missing path), one failure element per error; the XML is
well-formed whatever the messages hold.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agentgo_cli.backend.views import ManifestErrorView, ValidationReport
from agentgo_cli.cli._junit import SUITE, junit_xml, xml_text
from agentgo_cli.cli.app import app
from tests.cli.test_validate_cli import AGENT, BAD_WORKFLOW

Write = Callable[[str, str], Path]
runner = CliRunner()

TWO_ERRORS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: editor}
spec:
  model: scripted:demo
  colour: red
  max_turns: 0
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def suite_of(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    (suite,) = root
    assert (suite.tag, suite.get("name")) == ("testsuite", SUITE)
    return suite


def counts(element: ET.Element) -> tuple[str | None, ...]:
    return tuple(element.get(a) for a in ("tests", "failures", "errors", "skipped"))


def test_one_testcase_per_file_and_one_failure_per_error(write: Write) -> None:
    write("m/agent.yaml", AGENT)
    write("m/wf.yaml", BAD_WORKFLOW)
    write("m/zz.yaml", TWO_ERRORS)
    code, out, err = invoke("validate", "m", "-o", "junit")
    assert code == 1
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    assert err == "invalid: 3 files, 2 Agent, 1 Workflow; 3 errors\n"
    root = ET.fromstring(out)
    assert counts(root) == ("3", "2", "0", None)
    suite = suite_of(out)
    assert counts(suite) == ("3", "2", "0", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["m/agent.yaml", "m/wf.yaml", "m/zz.yaml"]
    assert [c.get("classname") for c in cases.values()] == [SUITE] * 3
    assert [c.get("file") for c in cases.values()] == list(cases)
    assert list(cases["m/agent.yaml"]) == []
    (failure,) = cases["m/wf.yaml"]
    located = (
        "m/wf.yaml:7:14: spec.steps[0].agent: unknown agent 'writter' (did you mean 'writer'?)"
    )
    assert (failure.tag, failure.get("message"), failure.get("type"), failure.text) == (
        "failure",
        located,
        "unknown-ref",
        located,
    )
    failures = list(cases["m/zz.yaml"])
    assert [f.tag for f in failures] == ["failure", "failure"]
    assert all(str(f.get("message")).startswith("m/zz.yaml:") for f in failures)


def test_a_valid_set_is_passing_testcases(write: Write) -> None:
    write("m/agent.yaml", AGENT)
    code, out, err = invoke("validate", "m", "--output", "junit")
    assert code == 0
    assert err == "valid: 1 file, 1 Agent; 0 errors\n"
    suite = suite_of(out)
    assert counts(suite) == ("1", "0", "0", "0")
    assert [(c.get("name"), list(c)) for c in suite] == [("m/agent.yaml", [])]


def test_a_missing_path_is_a_failing_testcase(write: Write) -> None:
    write("m/agent.yaml", AGENT)
    code, out, _ = invoke("validate", "m", "nope", "-o", "junit")
    assert code == 1
    suite = suite_of(out)
    assert [c.get("name") for c in suite] == ["m/agent.yaml", "nope"]
    (failure,) = suite[1]
    assert failure.get("message") == "nope:1:1: no such file or folder"


def test_a_broken_config_file_is_a_failing_testcase_and_exits_2(write: Write) -> None:
    write("agentgo.yaml", "profile: p\nprofiles:\n  p: {manifests: [./m], stroe: x}\n")
    write("m/agent.yaml", AGENT)
    code, out, _ = invoke("validate", "-o", "junit")
    assert code == 2
    suite = suite_of(out)
    names = [c.get("name") for c in suite]
    assert "agentgo.yaml" in names
    config = suite[names.index("agentgo.yaml")]
    assert [f.tag for f in config] == ["failure"]
    assert counts(suite)[:2] == (str(len(names)), "1")


_ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
"""Any text Python holds from decoded input: control characters, NUL, astral planes."""


def _report(files: list[str], errors: list[tuple[int, str, str]]) -> ValidationReport:
    views = [
        ManifestErrorView(
            file=files[i % len(files)], line=1, col=1, path=path, message=message, code="x"
        )
        for i, path, message in errors
    ]
    return ValidationReport(
        valid=not views,
        files=len(files),
        file_names=files,
        documents=len(files),
        manifests={},
        errors=views,
    )


@settings(max_examples=150, deadline=None)
@given(
    files=st.lists(_ANY_TEXT.filter(bool), min_size=1, max_size=4, unique=True),
    errors=st.lists(st.tuples(st.integers(0, 10), _ANY_TEXT, _ANY_TEXT), max_size=6),
)
def test_any_message_gives_well_formed_xml(
    files: list[str], errors: list[tuple[int, str, str]]
) -> None:
    report = _report(files, errors)
    suite = suite_of(junit_xml(report))
    cases = list(suite)
    assert [c.get("name") for c in cases] == [xml_text(f) for f in files]
    failing = {e.file for e in report.errors}
    assert counts(suite) == (str(len(files)), str(len(failing)), "0", "0")
    assert sum(len(c) for c in cases) == len(errors)
    for case in cases:
        for failure in case:
            message = str(failure.get("message"))
            assert message.startswith(f"{case.get('name')}:1:1: ")
            assert message == xml_text(message)


def test_xml_text_keeps_what_xml_can_hold_and_shows_the_rest() -> None:
    assert xml_text("tab\tline\ncr\r é 😀 <&>") == "tab\tline\ncr\r é 😀 <&>"
    assert xml_text("nul\x00 bell\x07 esc\x1b \ufffe") == "nul\\x00 bell\\x07 esc\\x1b \\ufffe"
    assert xml_text("lone \udcff") == "lone \\udcff"
