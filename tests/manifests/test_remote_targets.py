"""A Capability whose target is a remote A2A agent (``target: a2a:https://…``): what validates,
what is refused and where, and that no text given as its URL breaks the loader.

Nothing here contacts the URLs: validation never calls a remote agent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgo_cli.a2a.catalog import Catalog
from agentgo_cli.manifests.models.capability import remote_url_problem
from agentgo_cli.manifests.types import TARGET_PATTERN
from tests.helpers import error_lines, validate_files
from tests.manifests.test_model_errors import manifest

TARGET_HELP = "write agent:<name>, team:<name> or a2a:https://host/path"


def card(target: str, auth: str = "") -> str:
    return manifest(
        "Capability",
        f"""
        target: {target}
        {auth}
        intents:
          - {{name: partner.echo, version: 1.0.0}}
        """,
        name="partner",
    )


@pytest.mark.parametrize(
    "target",
    [
        "a2a:https://agents.partner.invalid/a2a",
        "a2a:https://agents.partner.invalid",
        "a2a:http://127.0.0.1:8791",
        "a2a:http://[::1]:8080/card/agent-card.json",
    ],
)
def test_a_remote_target_validates_and_its_intents_are_catalog_entries(
    tmp_path: Path, target: str
) -> None:
    mset = validate_files(
        {"m.yaml": card(target, 'auth: {token: "${env:PARTNER_TOKEN}"}')}, tmp_path
    )
    assert error_lines(mset) == []
    entry = Catalog.from_set(mset).lookup("partner.echo")
    assert (entry.target, entry.target_kind, entry.target_name) == (target, "a2a", target[4:])
    assert entry.auth_token == "${env:PARTNER_TOKEN}"


@pytest.mark.parametrize(
    ("target", "auth", "error"),
    [
        (
            "a2a:ftp://host/x",
            "",
            f"6:11: spec.target: invalid value 'a2a:ftp://host/x': {TARGET_HELP}",
        ),
        ("a2a:https://", "", f"6:11: spec.target: invalid value 'a2a:https://': {TARGET_HELP}"),
        (
            "a2a:https://u:pw@host/x",
            "",
            "6:11: spec.target: invalid A2A URL 'https://u:pw@host/x': put no credentials in the "
            "URL; give the token in 'auth: {token: ${env:NAME}}'",
        ),
        (
            "a2a:https://host:99999/x",
            "",
            "6:11: spec.target: invalid A2A URL 'https://host:99999/x': port out of range 0-65535",
        ),
        (
            "a2a:https://ho_st/x",
            "",
            "6:11: spec.target: invalid A2A URL 'https://ho_st/x': 'ho_st' is not a host name",
        ),
        (
            "a2a:https://host/x",
            "auth: {token: plain-text-token}",
            "7:17: spec.auth.token: write the token as a secret reference such as "
            "${env:PARTNER_TOKEN} so that it stays out of the file",
        ),
        (
            "agent:partner",
            'auth: {token: "${env:T}"}',
            "6:3: spec: 'auth' is only for a remote target (a2a:https://…)",
        ),
    ],
)
def test_a_bad_remote_target_is_refused_where_it_is_written(
    tmp_path: Path, target: str, auth: str, error: str
) -> None:
    found = error_lines(validate_files({"m.yaml": card(target, auth)}, tmp_path))
    assert f"{tmp_path / 'm.yaml'}:{error}" in found, found


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.one_of(
        st.text(max_size=40),
        st.from_regex(r"https?://[a-z0-9.:\[\]@_-]{0,20}(/[a-z/.]*)?", fullmatch=True),
    )
)
def test_any_url_text_validates_or_is_refused_with_a_located_error(
    tmp_path: Path, url: str
) -> None:
    """Never a crash: the target validates exactly when the pattern and the URL check pass."""
    import json

    target = "a2a:" + url
    mset = validate_files({"m.yaml": card(json.dumps(target))}, tmp_path)
    errors = error_lines(mset)
    fine = re.match(TARGET_PATTERN, target) is not None and remote_url_problem(url) is None
    assert (errors == []) == fine, errors
    assert all(re.match(rf"{re.escape(str(tmp_path / 'm.yaml'))}:\d+:\d+: ", e) for e in errors)


def test_a_remote_agents_intents_are_not_exported_as_our_cards(tmp_path: Path) -> None:
    from agentgo_cli.a2a.a2a_card import agent_cards

    mset = validate_files({"m.yaml": card("a2a:https://agents.partner.invalid/a2a")}, tmp_path)
    catalog = Catalog.from_set(mset)
    assert agent_cards(catalog, base_url="http://127.0.0.1:1", agentgo_version="0") == []
