"""``agentgo serve`` refuses what it cannot serve with one clear message (exit 2, no
traceback): no tokens, a token secret it cannot read, a port in use, a profile that sends
commands to a server, TLS files it cannot load; ``--hash-token`` and ``--new-token`` make
the ``sha256:`` an operator puts in agentgo.yaml instead of the token."""

from __future__ import annotations

import functools
import hashlib
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from agentgo_cli.config import load_config
from agentgo_cli.server.auth import TokenTable
from tests.server.serving import TOKENS, write_project

Write = Callable[[str, str], Path]
runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_says_what_it_serves_and_how_it_stops() -> None:
    code, out, _ = invoke("serve", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for said in (
        "'serve.tokens' of agentgo.yaml",
        "/.well-known/agent-card.json",
        "'listening on URL'",
        "On SIGTERM or Ctrl-C it stops taking requests",
        "--hash-token",
        "--new-token",
        "--workers",
    ):
        assert said in flat, said


def test_no_tokens_is_refused(write: Write) -> None:
    write("agentgo.yaml", "serve: {port: 0}\n")
    assert invoke("serve") == (
        2,
        "",
        "error: agentgo serve needs at least one token under 'serve.tokens' of agentgo.yaml "
        "(see docs/serve.md): without one, nobody could use its API\n",
    )


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (
            "${file:missing.token}",
            "cannot read secret file missing.token: No such file or directory",
        ),
        ("${env:AG_TEST_UNSET_TOKEN}", "environment variable AG_TEST_UNSET_TOKEN is not set"),
        ("short", "a token must be at least 16 characters ('agentgo serve --new-token' makes one)"),
    ],
)
def test_a_token_that_cannot_be_read_names_its_entry(
    write: Write, token: str, problem: str
) -> None:
    write(
        "agentgo.yaml",
        f"serve:\n  tokens:\n    - {{token: '{token}', principal: 'user:alice'}}\n",
    )
    assert invoke("serve") == (2, "", f"error: serve.tokens[0] (user:alice): {problem}\n")


def test_the_same_token_twice_is_refused(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AG_TEST_TOKEN", TOKENS["alice"])
    digest = hashlib.sha256(TOKENS["alice"].encode()).hexdigest()
    write(
        "agentgo.yaml",
        "serve:\n  tokens:\n"
        "    - {token: '${env:AG_TEST_TOKEN}', principal: 'user:alice'}\n"
        f"    - {{sha256: {digest}, principal: 'user:bob'}}\n",
    )
    assert invoke("serve") == (
        2,
        "",
        "error: serve.tokens[1] (user:bob): the same token as serve.tokens[0]; give each "
        "principal a token of its own\n",
    )


def test_a_port_in_use_is_a_clear_error(workdir: Path) -> None:
    write_project(workdir)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = invoke("serve", "--port", str(port))
    assert (code, out) == (2, "")
    assert err == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another agentgo "
        "serve?); stop that process or pick another port: --port N, or --port 0 for any "
        "free one\n"
    )


def test_an_address_it_cannot_have_is_a_clear_error(workdir: Path) -> None:
    write_project(workdir)
    code, _, err = invoke("serve", "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1
    assert code == 2
    assert err.startswith("error: cannot listen on 192.0.2.1:0: ")
    assert err.endswith("; check --host and --port (serve.host, serve.port)\n")


def test_a_profile_with_server_is_refused(write: Write) -> None:
    write(
        "agentgo.yaml",
        "profile: remote\nprofiles:\n  remote: {server: 'http://127.0.0.1:1'}\n"
        "serve:\n  tokens: [{sha256: " + "a" * 64 + ", principal: 'user:a'}]\n",
    )
    assert invoke("serve") == (
        2,
        "",
        "error: profile 'remote' sends commands to http://127.0.0.1:1; serve a profile with "
        "'store:' (or none)\n",
    )


def test_tls_files_that_cannot_be_loaded(workdir: Path) -> None:
    write_project(workdir, "tls: {certfile: nope.pem, keyfile: nope.key}")
    code, _, err = invoke("serve")
    assert code == 2
    assert err.startswith("error: serve.tls: cannot load the certificate or its key: ")


# -- the token tools ------------------------------------------------------------------------


def test_hash_token_prints_the_sha256_line_of_stdin() -> None:
    code, out, err = invoke("serve", "--hash-token", stdin=TOKENS["bob"] + "\n")
    assert (code, err) == (0, "")
    assert out == f"sha256: '{hashlib.sha256(TOKENS['bob'].encode()).hexdigest()}'\n"


def test_hash_token_refuses_a_short_token() -> None:
    code, _, err = invoke("serve", "--hash-token", stdin="tiny\n")
    assert code == 2
    assert err.startswith("error: --hash-token reads a token of at least 16 characters")


def test_new_token_prints_a_token_and_its_digest() -> None:
    code, out, err = invoke("serve", "--new-token")
    assert code == 0
    token = out.strip()
    assert len(token) >= 40
    assert err.startswith(f"sha256: '{hashlib.sha256(token.encode()).hexdigest()}'")
    _, again, _ = invoke("serve", "--new-token")
    assert again.strip() != token


def test_a_hashed_token_printed_is_one_the_server_knows(workdir: Path) -> None:
    _, line, _ = invoke("serve", "--hash-token", stdin=TOKENS["alice"])
    (workdir / "agentgo.yaml").write_text(
        "serve:\n  tokens:\n    - {" + line.strip() + ", principal: 'user:alice'}\n"
    )
    config = load_config(path=workdir / "agentgo.yaml").check()
    assert config.data is not None and config.data.serve is not None
    table = TokenTable.from_config(config.data.serve.tokens, workdir)
    who = table.caller(f"Bearer {TOKENS['alice']}")
    assert who.principal == "user:alice"
    assert table.lookup(TOKENS["alice"] + "x") is None


# -- the token table ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(header=st.one_of(st.none(), st.text(max_size=80)))
def test_any_authorization_header_is_a_caller_or_unauthenticated(header: str | None) -> None:
    from agentgo_cli.server.auth import Unauthenticated

    table = _table()
    try:
        who = table.caller(header, anonymous_ok=True)
    except Unauthenticated as exc:
        assert str(exc) in (
            "the Authorization header must be 'Bearer <token>'",
            "this token is not known to the server",
        )
        return
    # Only no header is anonymous: any other is refused, none of the tokens being in it.
    assert not header
    assert who.principal == "anonymous"


def test_the_bearer_scheme_is_case_insensitive_and_spaces_around_are_fine() -> None:
    table = _table()
    for header in (f"bearer {TOKENS['alice']}", f"BEARER   {TOKENS['alice']}  "):
        assert table.caller(header).principal == "user:alice"


def test_scopes_and_api_rights_of_a_token() -> None:
    table = _table()
    gate = table.caller(f"Bearer {TOKENS['gate']}")
    root = table.caller(f"Bearer {TOKENS['root']}")
    alice = table.caller(f"Bearer {TOKENS['alice']}")
    assert (gate.impersonate, gate.admin, root.admin, root.impersonate) == (
        True,
        False,
        True,
        False,
    )
    assert alice.acl_scopes() == ["research.read"]
    assert alice.bind(None, []) == ("user:alice", ["research.read"])
    assert gate.bind("user:carol", ["any.scope"]) == ("user:carol", ["any.scope"])
    assert not alice.may_see("user:bob") and root.may_see("user:bob") and gate.may_see("user:b")


@functools.cache
def _table() -> TokenTable:
    """The test project's tokens, as a server reads them."""
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(path=write_project(Path(tmp))).check()
        assert config.data is not None and config.data.serve is not None
        return TokenTable.from_config(config.data.serve.tokens, Path(tmp))


def test_a_store_it_cannot_open_is_one_line_not_a_traceback(workdir: Path) -> None:
    write_project(workdir)
    (workdir / "state").write_text("a file where the store's folder should be")
    code, out, err = invoke("serve", "--port", "0")
    assert (code, out) == (1, "")
    assert err.endswith(
        f"error: cannot open job store {workdir / 'state' / 'agentgo.db'}: File exists "
        f"({workdir / 'state'})\n"
    )
    assert "Traceback" not in err
    assert "listening on" not in err
