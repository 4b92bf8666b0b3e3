"""Shell completion fed garbage: whatever the words typed so far and whatever the manifest
files hold, the completion functions give a list of names starting with what was typed,
and never raise or print."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgo_cli.backend._names import intent_names, workflow_names
from agentgo_cli.cli.completion import complete_intent, complete_job, complete_workflow

PROJECT = {
    "agentgo.yaml": (
        "profile: p\nprofiles:\n  p: {store: 'sqlite:///state/a.db', manifests: [./m]}\n"
    ),
    "m/wf.yaml": (
        "apiVersion: agentgo/v1\nkind: Workflow\nmetadata: {name: digest}\n"
        "spec:\n  steps: [{id: s, tool: echo, with: {text: x}}]\n"
    ),
    "m/cap.yaml": (
        "apiVersion: agentgo/v1\nkind: Capability\nmetadata: {name: c}\n"
        "spec:\n  target: agent:a\n  intents: [{name: text.summarize, version: 1.0.0}]\n"
    ),
}

_YAMLISH = st.text(
    alphabet=st.sampled_from(
        list(
            "kind: Workflow Capability metadata name spec intents-[]{},'\"\n\t"
            "&*!|>#%@`\\\x00\x7f\u00e9\u2028"
        )
    ),
    max_size=200,
)


@contextlib.contextmanager
def _project(extra: str | None = None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in PROJECT.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        if extra is not None:
            (root / "m" / "garbage.yaml").write_text(extra, encoding="utf-8")
        old = Path.cwd()
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(old)


@pytest.mark.local_only(
    "a project per example would start 60 servers, and a server opens its store as it "
    "starts; remote completion is test_completion_cli's"
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incomplete=st.text(max_size=40))
def test_completion_of_any_typed_word_is_names_starting_with_it(incomplete: str) -> None:
    with _project() as root:
        ctx = click.Context(click.Command("agentgo"))
        ctx.params = {"profile": None}
        for complete, names in (
            (complete_workflow, ["digest"]),
            (complete_intent, ["text.summarize"]),
            (complete_job, []),
        ):
            got = complete(ctx, incomplete)  # type: ignore[arg-type]
            assert got == [n for n in names if n.startswith(incomplete)]
        assert not (root / "state").exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=_YAMLISH)
def test_names_are_read_from_garbage_manifests_without_error(garbage: str) -> None:
    with _project(garbage) as root:
        paths = [root / "m"]
        assert "digest" in workflow_names(paths)
        assert "text.summarize" in intent_names(paths)
        assert all(isinstance(n, str) for n in workflow_names(paths) + intent_names(paths))
