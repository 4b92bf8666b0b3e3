"""Every --output json validates against its view's schema in schemas/api/, and the
checked-in schemas match the models; a profile with server: is refused, not ignored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from agentgo_cli.backend.api_schema import api_schema_names, api_schema_text
from agentgo_cli.cli.app import app
from agentgo_cli.server.openapi import OPENAPI_FILE, server_document_text
from tests.a2a.test_lifecycle import CONFIG, MANIFESTS
from tests.conftest import REPO
from tests.engine import engine_tools

Write = Callable[[str, str], Path]
runner = CliRunner()
API = REPO / "schemas" / "api"
ALICE = ("--as", "user:alice", "--scope", "research.read")

WORKFLOW = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: wf}
spec:
  inputs: {topic: {type: string, default: chips}}
  steps:
    - id: note
      tool: echo
      with: {text: "${{ inputs.topic }}"}
    - id: broken
      if: ${{ inputs.topic == 'boom' }}
      tool: boom
      with: {reason: "asked to"}
  outputs:
    words: ${{ steps.note.output.words }}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: echo}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:echo"}
  input:
    type: object
    required: [text]
    properties: {text: {type: string}}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: boom}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:boom"}
  input:
    type: object
    required: [reason]
    properties: {reason: {type: string}}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def conforms(view: str, data: Any) -> None:
    schema = json.loads((API / f"{view}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/all.yaml", MANIFESTS)
    write("m/wf.yaml", WORKFLOW)
    return write


@pytest.mark.parametrize("name", api_schema_names())
def test_checked_in_api_schema_matches_the_views(name: str) -> None:
    path = API / f"{name}.schema.json"
    assert path.is_file(), f"{path} is missing: run 'agentgo schema export schemas/'"
    assert path.read_text(encoding="utf-8") == api_schema_text(name), (
        f"{path} is out of date: run 'agentgo schema export schemas/'"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_no_stray_api_schema() -> None:
    assert sorted(p.name for p in API.glob("*.json")) == sorted(
        [OPENAPI_FILE, *(f"{n}.schema.json" for n in api_schema_names())]
    )


def test_checked_in_openapi_document_matches_the_routes() -> None:
    path = API / OPENAPI_FILE
    assert path.is_file(), f"{path} is missing: run 'agentgo schema export schemas/'"
    assert path.read_text(encoding="utf-8") == server_document_text(), (
        f"{path} is out of date: run 'agentgo schema export schemas/'"
    )


def test_export_check_detects_a_stale_openapi_document(tmp_path: Path) -> None:
    assert invoke("schema", "export", str(tmp_path))[0] == 0
    (tmp_path / "api" / OPENAPI_FILE).write_text("{}\n", encoding="utf-8")
    code, out, _ = invoke("schema", "export", str(tmp_path), "--check")
    assert (code, out) == (1, f"{tmp_path / 'api' / OPENAPI_FILE}: out of date\n")


def test_every_json_output_conforms_to_its_view(project: Write) -> None:
    code, out, err = invoke("validate", "-o", "json")
    assert code == 0, err
    conforms("validation-report", json.loads(out))

    code, out, err = invoke("run", "wf", "-o", "json")
    assert code == 0, err
    job = json.loads(out)
    conforms("job", job)
    assert job["outputs"] == {"words": 1}

    code, out, _ = invoke("run", "wf", "-i", "topic=boom", "-o", "json")
    assert code == 1
    failed = json.loads(out)
    conforms("job", failed)
    assert failed["status"] == "failed"

    code, out, err = invoke("run", "wf", "--detach", "-o", "json")
    assert code == 0, err
    queued = json.loads(out)
    conforms("job", queued)

    code, out, err = invoke("jobs", "list", "-o", "json")
    assert code == 0, err
    listed = json.loads(out)
    assert [j["job_id"] for j in listed] == [queued["job_id"], failed["job_id"], job["job_id"]]
    for item in listed:
        conforms("job", item)

    code, out, err = invoke("jobs", "show", job["job_id"], "-o", "json")
    assert code == 0, err
    detail = json.loads(out)
    conforms("job-detail", detail)
    assert [s["key"] for s in detail["steps"]] == ["note", "broken"]

    code, out, err = invoke("jobs", "logs", failed["job_id"], "-o", "json")
    assert code == 0, err
    events = json.loads(out)
    assert events, "a failed job logs its failure"
    for event in events:
        conforms("event", event)

    code, out, err = invoke("jobs", "logs", failed["job_id"], "--follow", "-o", "json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    for event in lines:
        conforms("event", event)
    assert lines[-1]["kind"] == "end"
    assert lines[-1]["data"] == {"status": "failed", "error": failed["error"]}

    code, out, err = invoke("jobs", "cancel", queued["job_id"], "-o", "json")
    assert code == 0, err
    conforms("job", json.loads(out))

    code, out, err = invoke("resume", failed["job_id"], "-o", "json")
    assert code == 1
    conforms("job", json.loads(out))

    code, out, err = invoke("catalog", "list", "-o", "json")
    assert code == 0, err
    for entry in json.loads(out):
        conforms("catalog-entry", entry)

    code, out, err = invoke("catalog", "show", "research.summarize", "-o", "json")
    assert code == 0, err
    conforms("intent", json.loads(out))

    code, out, err = invoke("call", "research.summarize", "-i", "topic=x", *ALICE, "-o", "json")
    assert code == 0, err
    conforms("call-result", json.loads(out))

    code, out, err = invoke("models", "list", "-o", "json")
    assert code == 0, err
    for row in json.loads(out):
        conforms("model", row)


def test_a_profile_whose_server_cannot_be_reached_says_so(write: Write) -> None:
    # Port 1 of loopback: nothing listens there, and no packet leaves the machine.
    write(
        "agentgo.yaml",
        """
        profile: remote
        profiles:
          remote: {server: "http://127.0.0.1:1"}
        """,
    )
    for args in (("jobs", "list"), ("run", "wf"), ("catalog", "list")):
        code, out, err = invoke(*args)
        assert (code, out) == (1, ""), args
        assert err.startswith("error: cannot reach the server http://127.0.0.1:1: "), err
        assert "Traceback" not in err
    assert not (Path.cwd() / ".agentgo").exists()
