"""Which store implementation a ``store:`` URL names: a table of URL schemes.

Each scheme maps to a factory named by its dotted path (``"package.module:function"``),
imported only when a URL of that scheme is opened. So this module imports no store
implementation, the protocol module (``base``) imports none either, and an implementation
imports only ``base``: there is no import cycle, and a new dialect joins with
``register_store`` without touching the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

from agentgo_cli.errors import ConfigError

__all__ = ["StoreFactory", "factory_for", "register_store", "schemes"]

StoreFactory = Callable[..., Any]
"""Called as ``factory(url, synchronous=...)``; returns a new, unstarted JobStore."""


class _Entry(NamedTuple):
    path: str
    form: str


_SCHEMES: dict[str, _Entry] = {
    "sqlite": _Entry("agentgo_cli.store.sqlite:from_url", "sqlite:///path"),
}


def register_store(scheme: str, factory_path: str, *, form: str | None = None) -> None:
    """Let ``open_store`` open URLs of ``scheme`` with the factory at ``factory_path``
    (``"package.module:function"``). ``form`` shows users what such a URL looks like."""
    module, sep, name = factory_path.partition(":")
    if not (sep and module and name):
        raise ValueError(f"a store factory is 'package.module:function', not '{factory_path}'")
    _SCHEMES[scheme] = _Entry(factory_path, form or f"{scheme}://...")


def schemes() -> list[str]:
    """The URL schemes a store can be opened with, in the order they were registered."""
    return list(_SCHEMES)


def factory_for(url: str) -> StoreFactory:
    """The factory of the scheme of ``url``, imported now; a ConfigError names the
    supported URL forms when the scheme is unknown."""
    scheme, sep, _ = url.partition("://")
    entry = _SCHEMES.get(scheme) if sep else None
    if entry is None:
        forms = ", ".join(entry.form for entry in _SCHEMES.values())
        raise ConfigError(f"unsupported store '{url}': this version supports {forms}")
    module, _, name = entry.path.partition(":")
    factory: StoreFactory = getattr(importlib.import_module(module), name)
    return factory
