"""Tagged unions whose loc tokens are class names, chosen by a function of the raw data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Discriminator, Tag

__all__ = ["tagged_union"]


def tagged_union(members: list[type], choose: Callable[[Any], type | None]) -> Any:
    """Build ``Annotated[Union[...], Discriminator]`` tagged by class name.

    ``choose`` returns the member for a raw value or raises a PydanticCustomError that says
    what is wrong; it runs once as a before-validator (for the message) and again as the
    discriminator (which must not raise, so it falls back to None there).
    """

    def _check(value: Any) -> Any:
        if isinstance(value, dict):
            choose(value)
        return value

    def _tag(value: Any) -> str | None:
        if not isinstance(value, dict):
            return type(value).__name__ if type(value) in members else None
        try:
            chosen = choose(value)
        except ValueError:
            return None
        return chosen.__name__ if chosen is not None else None

    tagged = tuple(Annotated[m, Tag(m.__name__)] for m in members)
    return Annotated[
        Union[tagged],  # noqa: UP007
        Discriminator(
            _tag,
            custom_error_type="step_mapping",
            custom_error_message="expected a mapping",
        ),
        BeforeValidator(_check),
    ]
