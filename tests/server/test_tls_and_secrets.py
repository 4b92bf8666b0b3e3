"""``serve.tls`` makes a real ``agentgo serve`` speak HTTPS (a self-signed certificate made
here), and a profile trusts it through ``ca_certs:``; a token never appears in the server's
log or in the job store, whatever requests it took."""

from __future__ import annotations

import datetime
import ipaddress
import json
import sqlite3
from pathlib import Path

import pytest

from tests.server.serving import (
    AGENTGO,
    TOKENS,
    ServeChild,
    agentgo,
    child_env,
    point_remote,
    write_project,
)

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")


def self_signed(folder: Path) -> None:
    """cert.pem and key.pem: a certificate for 127.0.0.1 that signs itself (its own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agentgo test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_tls_with_a_profile_that_trusts_its_ca(tmp_path: Path) -> None:
    pytest.importorskip("cryptography", reason="makes the test's certificate")
    self_signed(tmp_path)
    write_project(tmp_path, "tls: {certfile: cert.pem, keyfile: key.pem}")
    server = ServeChild(tmp_path, env=child_env())
    try:
        assert server.url is not None and server.url.startswith("https://127.0.0.1:")
        point_remote(tmp_path / "agentgo.yaml", server.url, ca_certs="cert.pem")
        trusted = agentgo(tmp_path, "-p", "remote", "run", "quick", "-o", "json")
        point_remote(tmp_path / "agentgo.yaml", server.url)
        untrusted = agentgo(tmp_path, "-p", "remote", "run", "quick")
        plain = server.url.replace("https://", "http://")
        point_remote(tmp_path / "agentgo.yaml", plain)
        cleartext = agentgo(tmp_path, "-p", "remote", "jobs", "list")
        point_remote(tmp_path / "agentgo.yaml", server.url, ca_certs="nope.pem")
        no_bundle = agentgo(tmp_path, "-p", "remote", "jobs", "list")
    finally:
        assert server.stop() == 0
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["outputs"] == {"said": "hello"}
    assert untrusted.returncode == 1
    assert untrusted.stderr.startswith(f"error: cannot reach the server {server.url}: ")
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    assert "name its CA in the profile's 'ca_certs:'" in untrusted.stderr
    assert cleartext.returncode == 1 and "Traceback" not in cleartext.stderr
    assert no_bundle.returncode == 2
    assert no_bundle.stderr.startswith(
        "error: profile 'remote': ca_certs nope.pem: cannot load it as PEM certificates: "
    )


def test_a_token_never_appears_in_the_log_or_the_store(tmp_path: Path) -> None:
    write_project(tmp_path, workers=1)
    server = ServeChild(tmp_path, "--log-level", "debug", "--workers", "1", env=child_env())
    try:
        assert server.url is not None
        point_remote(tmp_path / "agentgo.yaml", server.url)
        results = [
            agentgo(tmp_path, "-p", "remote", "run", "quick", "-o", "json"),
            agentgo(tmp_path, "-p", "as-bob", "run", "quick", "--detach"),
            agentgo(tmp_path, "-p", "remote", "call", "research.summarize", "-i", "topic=x"),
            agentgo(tmp_path, "-p", "as-bob", "call", "research.summarize", "-i", "topic=x"),
            agentgo(tmp_path, "-p", "remote", "run", "quick", "--as", "user:bob"),
            agentgo(tmp_path, "-p", "remote", "jobs", "list"),
            agentgo(tmp_path, "-p", "remote", "jobs", "show", "j-nosuchjob"),
        ]
        # A wrong token: alice's with a character more.
        (tmp_path / "tokens" / "alice").write_text(TOKENS["alice"] + "x")
        results.append(agentgo(tmp_path, "-p", "remote", "jobs", "list"))
    finally:
        assert server.stop() == 0
    assert [r.returncode for r in results] == [0, 0, 0, 4, 4, 0, 3, 4], [r.stderr for r in results]
    assert results[4].stderr == (
        "error: this token runs as user:alice; acting as user:bob (--as) needs the scope "
        "'agentgo:impersonate'\n"
    )
    assert results[7].stderr == "error: this token is not known to the server\n"
    seen = {"the server's stderr": server.stderr}
    seen.update({f"command {n}": r.stdout + r.stderr for n, r in enumerate(results)})
    with sqlite3.connect(tmp_path / "state" / "agentgo.db") as conn:
        seen["the store"] = "\n".join(conn.iterdump())
    assert "INSERT INTO" in seen["the store"]  # it holds jobs, events, steps, calls
    for token in TOKENS.values():
        for where, text in seen.items():
            assert token not in text, where
            assert token[:12] not in text, where  # nor a good part of it
