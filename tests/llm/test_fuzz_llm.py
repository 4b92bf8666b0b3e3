"""Garbage into the LLM layer's parsers: headers, tool-call arguments, price overrides and
provider settings. Each either gives a value or its one clear error, never anything else.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.config import Secret
from agentgo_cli.errors import ProviderError
from agentgo_cli.llm.cost import PriceTable
from agentgo_cli.llm.providers import Endpoint
from agentgo_cli.llm.providers._common import Failures, parse_arguments, retry_after
from agentgo_cli.manifests.models.config import ProviderSettings

KEY = "sk-fuzz-SECRET-0123456789"
FAILURES = Failures(Endpoint("openai", Secret(KEY, "${env:K}"), None, 1.0), "gpt-x")

header_text = st.text(max_size=40) | st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{0,6})?", fullmatch=True)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["Retry-After", "retry-after", "retry-after-ms", "x-other"]), header_text
    )
)
def test_retry_after_is_a_finite_wait_or_none(headers: dict[str, str]) -> None:
    value = retry_after(headers)
    assert value is None or (value >= 0 and not math.isnan(value))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=60), json_like.map(repr)))
def test_tool_arguments_are_an_object_or_a_bad_response(text: str | None) -> None:
    try:
        value = parse_arguments(text, "tool", FAILURES)
    except ProviderError as exc:
        assert exc.kind == "bad_response"
        message = str(exc)
        assert message.startswith("openai:gpt-x: ") and "\n" not in message
        assert KEY not in message
    else:
        assert isinstance(value, dict)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_like, max_size=3))
def test_price_overrides_build_or_fail_with_a_value_error(overrides: dict[str, Any]) -> None:
    try:
        table = PriceTable(overrides)
    except ValueError as exc:
        assert str(exc)
    else:
        assert table.rows()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_like, max_size=5))
def test_provider_settings_validate_or_fail_with_a_validation_error(data: dict[str, Any]) -> None:
    from pydantic import ValidationError

    try:
        settings_ = ProviderSettings.model_validate(data)
    except ValidationError as exc:
        assert exc.errors()
    else:
        assert settings_.merged(settings_) == settings_
