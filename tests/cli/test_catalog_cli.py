"""agentgo catalog list | show | export as the user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app

Write = Callable[[str, str], Path]
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write) -> Write:
    write(
        "agentgo.yaml",
        """
        profile: p
        profiles:
          p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
        """,
    )
    write(
        "m/agents.yaml",
        """
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: researcher}
        spec: {model: "scripted:demo"}
        ---
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: reviewer}
        spec: {model: "scripted:demo"}
        ---
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: writer, description: Turns research notes into an article.}
        spec: {model: "scripted:demo"}
        """,
    )
    write(
        "m/cards.yaml",
        """
        apiVersion: agentgo/v1
        kind: Capability
        metadata: {name: research-card}
        spec:
          target: agent:researcher
          intents:
            - name: research.summarize
              version: 1.0.0
              description: Summarize a topic.
              input: {type: object, required: [topic], properties: {topic: {type: string}}}
            - name: research.summarize
              version: 1.2.0
              description: Summarize a topic from public sources, in five sentences or fewer.
              tags: [research, news]
              input: {type: object, required: [topic], properties: {topic: {type: string}}}
              output: {type: object, required: [summary], properties: {summary: {type: string}}}
              prompt: "Summarize ${{ input.topic }} in five sentences."
              acl:
                allow:
                  - principal: "team:research/*"
                  - principal: "user:*"
                    scopes: [research.read]
                deny:
                  - principal: "user:mallory"
              rate_limit: {requests: 60, per: 1m, burst: 10}
              idempotency_ttl: 24h
              timeout: 2m
              examples:
                - input: {topic: "solid-state batteries"}
                  description: a topical one
            - name: research.summarize
              version: 2.0.0
              description: Summarize a topic, with citations.
              input: {type: object, required: [topic], properties: {topic: {type: string}}}
        ---
        apiVersion: agentgo/v1
        kind: Capability
        metadata: {name: review-card}
        spec:
          target: agent:reviewer
          intents:
            - name: code.review
              version: 1.0.0
              description: Review a code change.
              classification: public
              acl: {deny: [{principal: "user:mallory"}]}
        """,
    )
    return write


def test_list_shows_the_newest_version_of_each_intent(
    project: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    code, out, err = invoke("catalog", "list")
    assert code == 0, err
    assert out.splitlines() == [
        "INTENT              VERSION  TARGET            CLASS     CARD           DESCRIPTION",
        "code.review         1.0.0    agent:reviewer    public    review-card    "
        "Review a code change.",
        "research.summarize  2.0.0    agent:researcher  internal  research-card  "
        "Summarize a topic, with citations.",
        "writer.run          1.0.0    agent:writer      internal  synthetic      "
        "Turns research notes into an article.",
    ]


def test_list_cuts_descriptions_to_the_terminal(
    project: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    code, out, _ = invoke("catalog", "list", "--all-versions")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) == 90
    assert lines[2].endswith("  research-card  Summarize a topic.")  # fits: left whole
    assert lines[3].endswith("  research-card  Summarize a topic…")


def test_list_all_versions(project: Write) -> None:
    code, out, _ = invoke("catalog", "list", "--all-versions")
    assert code == 0
    rows = [line.split()[:2] for line in out.splitlines()[1:]]
    assert rows == [
        ["code.review", "1.0.0"],
        ["research.summarize", "1.0.0"],
        ["research.summarize", "1.2.0"],
        ["research.summarize", "2.0.0"],
        ["writer.run", "1.0.0"],
    ]


def test_list_json(project: Write) -> None:
    code, out, _ = invoke("catalog", "list", "--all-versions", "-o", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["name"], r["version"]) for r in rows][2] == ("research.summarize", "1.2.0")
    assert rows[2] == {
        "name": "research.summarize",
        "version": "1.2.0",
        "target": "agent:researcher",
        "card": "research-card",
        "synthetic": False,
        "description": "Summarize a topic from public sources, in five sentences or fewer.",
        "tags": ["research", "news"],
        "classification": "internal",
        "rate_limit": {"requests": 60, "per": "1m", "burst": 10},
        "idempotency_ttl": "24h",
        "timeout": "2m",
        "input": {
            "type": "object",
            "required": ["topic"],
            "properties": {"topic": {"type": "string"}},
        },
        "output": {
            "type": "object",
            "required": ["summary"],
            "properties": {"summary": {"type": "string"}},
        },
        "acl": {
            "allow": [
                {"principal": "team:research/*", "scopes": []},
                {"principal": "user:*", "scopes": ["research.read"]},
            ],
            "deny": [{"principal": "user:mallory", "scopes": []}],
        },
        "examples": [{"input": {"topic": "solid-state batteries"}, "description": "a topical one"}],
    }
    writer = rows[-1]
    assert (writer["name"], writer["card"], writer["synthetic"]) == ("writer.run", None, True)
    assert writer["input"] == writer["output"] == {"type": "string"}


def test_list_named_paths_instead_of_the_profile(project: Write) -> None:
    project(
        "other/a.yaml",
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: solo}\n"
        "spec: {model: 'scripted:demo'}\n",
    )
    code, out, _ = invoke("catalog", "list", "other", "-o", "json")
    assert code == 0
    assert [r["name"] for r in json.loads(out)] == ["solo.run"]


def test_show_resolves_a_range(project: Write) -> None:
    code, out, err = invoke("catalog", "show", "research.summarize@^1")
    assert code == 0, err
    assert out == (
        "research.summarize@1.2.0\n"
        "  target          agent:researcher  (card research-card)\n"
        "  description     Summarize a topic from public sources, in five sentences or fewer.\n"
        "  tags            research, news\n"
        "  classification  internal\n"
        "  acl             allow team:research/*\n"
        "                  allow user:* (scopes: research.read)\n"
        "                  deny  user:mallory\n"
        "  rate limit      60 per 1m, burst 10, per caller\n"
        "  idempotency     24h\n"
        "  timeout         2m\n"
        "  input:\n"
        "    {\n"
        '      "type": "object",\n'
        '      "required": [\n'
        '        "topic"\n'
        "      ],\n"
        '      "properties": {\n'
        '        "topic": {\n'
        '          "type": "string"\n'
        "        }\n"
        "      }\n"
        "    }\n"
        "  output:\n"
        "    {\n"
        '      "type": "object",\n'
        '      "required": [\n'
        '        "summary"\n'
        "      ],\n"
        '      "properties": {\n'
        '        "summary": {\n'
        '          "type": "string"\n'
        "        }\n"
        "      }\n"
        "    }\n"
        "  prompt:\n"
        "    Summarize ${{ input.topic }} in five sentences.\n"
        "  examples:\n"
        '    {"topic": "solid-state batteries"}  (a topical one)\n'
        "  other versions  1.0.0, 2.0.0\n"
    )


def test_show_without_a_range_takes_the_newest(project: Write) -> None:
    code, out, _ = invoke("catalog", "show", "research.summarize", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["version"], data["prompt"], data["other_versions"]) == (
        "2.0.0",
        None,
        ["1.0.0", "1.2.0"],
    )


def test_show_a_synthetic_card_and_the_default_acl(project: Write) -> None:
    code, out, _ = invoke("catalog", "show", "writer.run")
    assert code == 0
    lines = out.splitlines()
    assert lines[:5] == [
        "writer.run@1.0.0",
        "  target          agent:writer  (card synthetic)",
        "  description     Turns research notes into an article.",
        "  tags            -",
        "  classification  internal",
    ]
    assert "  acl             default for 'internal': any authenticated principal" in lines
    assert "  rate limit      -" in lines
    assert lines[-5:] == [
        "  prompt:",
        "    - (the input is the task)",
        "  examples:",
        "    -",
        "  other versions  -",
    ]


def test_show_the_default_rule_of_a_public_intent_and_its_deny_rules(project: Write) -> None:
    code, out, _ = invoke("catalog", "show", "code.review")
    assert code == 0
    assert (
        "  classification  public\n"
        "  acl             default for 'public': any caller, anonymous ones too\n"
        "                  deny  user:mallory\n"
        "  rate limit      -\n"
    ) in out


def test_show_an_unknown_intent_is_not_found(project: Write) -> None:
    code, out, err = invoke("catalog", "show", "research.sumarize")
    assert (code, out) == (3, "")
    assert err == (
        "error: no intent 'research.sumarize' in the catalog (did you mean 'research.summarize'?)\n"
    )


def test_show_a_range_nothing_matches(project: Write) -> None:
    code, _, err = invoke("catalog", "show", "research.summarize@^3")
    assert code == 3
    assert err == (
        "error: no version of 'research.summarize' matches '^3' "
        "(the catalog has 1.0.0, 1.2.0, 2.0.0)\n"
    )


def test_export_prints_a_list_of_agent_cards(project: Write) -> None:
    code, out, err = invoke("catalog", "export", "--format", "a2a")
    assert code == 0, err
    cards = json.loads(out)
    assert [c["name"] for c in cards] == ["researcher", "reviewer", "writer"]
    researcher = cards[0]
    assert researcher["supportedInterfaces"] == [
        {
            "url": "http://localhost:8080/a2a/agent/researcher",
            "protocolBinding": "JSONRPC",
            "protocolVersion": "1.0",
        }
    ]
    assert researcher["version"] == "2.0.0"
    assert [s["id"] for s in researcher["skills"]] == ["research.summarize"]
    params = researcher["capabilities"]["extensions"][0]["params"]
    versions = params["skills"]["research.summarize"]["versions"]
    assert [v["version"] for v in versions] == ["1.0.0", "1.2.0", "2.0.0"]
    writer = cards[2]
    assert writer["skills"][0]["id"] == "writer.run"
    assert writer["capabilities"]["extensions"][0]["params"]["skills"]["writer.run"]["versions"][0][
        "synthetic"
    ]


def test_export_to_a_folder(project: Write, workdir: Path) -> None:
    code, out, err = invoke(
        "catalog",
        "export",
        "--format",
        "a2a",
        "--url",
        "https://agents.example.com/",
        "--out",
        "cards/a2a",
    )
    assert code == 0, err
    assert out.splitlines() == [
        str(Path("cards/a2a/agent-researcher.json")),
        str(Path("cards/a2a/agent-reviewer.json")),
        str(Path("cards/a2a/agent-writer.json")),
    ]
    written = sorted(p.name for p in (workdir / "cards" / "a2a").iterdir())
    assert written == ["agent-researcher.json", "agent-reviewer.json", "agent-writer.json"]
    text = (workdir / "cards/a2a/agent-reviewer.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    card = json.loads(text)
    assert card["supportedInterfaces"][0]["url"] == "https://agents.example.com/a2a/agent/reviewer"
    assert card["skills"][0]["id"] == "code.review"


def test_export_refuses_another_format(project: Write) -> None:
    code, out, err = invoke("catalog", "export", "--format", "openapi")
    assert (code, out) == (2, "")
    assert err == "error: --format takes a2a, got 'openapi'\n"


def test_export_needs_a_format(project: Write) -> None:
    code, _, err = invoke("catalog", "export")
    assert code == 2
    assert "Missing option '--format'" in err


def test_export_refuses_a_url_that_is_not_http(project: Write) -> None:
    code, _, err = invoke("catalog", "export", "--format", "a2a", "--url", "localhost:8080")
    assert code == 2
    assert err == "error: --url takes an http:// or https:// URL, got 'localhost:8080'\n"


def test_bad_output_is_a_usage_error(project: Write) -> None:
    code, _, err = invoke("catalog", "list", "-o", "yaml")
    assert code == 2
    assert err == "error: --output takes text or json, got 'yaml'\n"


def test_no_manifests_is_a_usage_error(workdir: Path) -> None:
    code, _, err = invoke("catalog", "list")
    assert code == 2
    assert err == (
        "error: no manifests to read: name files or folders, or set 'manifests:' in the "
        "profile of agentgo.yaml\n"
    )


def test_an_invalid_set_reports_its_errors(project: Write) -> None:
    project("m/broken.yaml", "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: Bad}\n")
    code, out, err = invoke("catalog", "list")
    assert (code, out) == (1, "")
    assert err.splitlines()[-1].startswith("error: the manifest set has ")


def test_every_catalog_command_has_help() -> None:
    for command in ("list", "show", "export"):
        code, out, _ = invoke("catalog", command, "--help")
        assert code == 0
        assert "Usage: agentgo catalog " + command in out
