"""Garbage into the call layer's parsers: traceparent headers and intent references. Each
gives a value or its one clear error, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.a2a.catalog import Catalog
from agentgo_cli.a2a.trace import parse_traceparent
from agentgo_cli.errors import CallError
from agentgo_cli.manifests.manifest_set import load_set

HEX = "0123456789abcdef"
CARD = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: writer}
spec: {model: "scripted:demo"}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: card}
spec:
  target: agent:writer
  intents:
    - {name: text.write, version: 1.2.0}
    - {name: text.write, version: 2.0.0-beta.1}
"""

headers = st.one_of(
    st.text(max_size=70),
    st.builds(
        lambda v, t, s, f: f"{v}-{t}-{s}-{f}",
        st.text(HEX, min_size=0, max_size=3),
        st.text(HEX, min_size=30, max_size=33),
        st.text(HEX, min_size=15, max_size=17),
        st.text(HEX, min_size=1, max_size=3),
    ),
)


@settings(max_examples=400, deadline=None)
@given(headers)
def test_a_traceparent_parses_or_is_a_value_error(header: str) -> None:
    try:
        trace = parse_traceparent(header)
    except ValueError as exc:
        assert str(exc)
    else:
        assert len(trace.trace_id) == 32 and len(trace.span_id) == 16
        assert trace.child().trace_id == trace.trace_id


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder: Path = tmp_path_factory.mktemp("card")
    (folder / "card.yaml").write_text(CARD, encoding="utf-8")
    mset = load_set([folder])
    assert mset.valid, mset.sorted_errors()
    return Catalog.from_set(mset)


refs = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda name, rng: f"{name}@{rng}",
        st.sampled_from(["text.write", "writer.run", "text.wrte", ""]),
        st.text(st.sampled_from(list("0123456789.^~<>=*xX -|!abc")), max_size=15),
    ),
)


@settings(max_examples=400, deadline=None)
@given(ref=refs)
def test_a_lookup_finds_an_intent_or_refuses_with_not_found(catalog: Catalog, ref: str) -> None:
    try:
        entry = catalog.lookup(ref)
    except CallError as exc:
        assert exc.code == "not_found" and str(exc)
    else:
        assert entry.name in ("text.write", "writer.run")
