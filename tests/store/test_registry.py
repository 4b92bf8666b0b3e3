"""Opening a store by URL: the scheme table, and no import of a dialect until it is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentgo_cli.errors import ConfigError
from agentgo_cli.store import base, open_store, register_store, registry

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemes registered by a test are forgotten after it."""
    monkeypatch.setattr(registry, "_SCHEMES", dict(registry._SCHEMES))


def fake_store(url: str, *, synchronous: str = "normal") -> tuple[str, str]:
    """A factory for the tests: what it was called with."""
    return url, synchronous


def test_open_store_is_one_function_everywhere() -> None:
    assert base.open_store is open_store


def test_an_unknown_scheme_names_the_supported_ones() -> None:
    with pytest.raises(ConfigError) as info:
        open_store("postgresql://db/jobs")
    assert str(info.value) == (
        "unsupported store 'postgresql://db/jobs': this version supports sqlite:///path"
    )
    with pytest.raises(ConfigError, match="^unsupported store 'jobs.db': this version supports"):
        open_store("jobs.db")


def test_a_sqlite_url_needs_three_slashes() -> None:
    with pytest.raises(ConfigError) as info:
        open_store("sqlite://jobs.db")
    assert (
        str(info.value) == "unsupported store 'sqlite://jobs.db': a SQLite store is sqlite:///path"
    )


def test_a_registered_scheme_opens_with_its_factory() -> None:
    register_store("fake", f"{__name__}:fake_store", form="fake://name")
    assert registry.schemes() == ["sqlite", "fake"]
    assert open_store("fake://x", synchronous="full") == ("fake://x", "full")  # type: ignore[comparison-overlap]
    with pytest.raises(ConfigError, match="supports sqlite:///path, fake://name$"):
        open_store("other://x")


def test_a_factory_path_names_module_and_function() -> None:
    with pytest.raises(ValueError, match="'package.module:function', not 'tests.fake'"):
        register_store("fake", "tests.fake")


def test_the_protocol_and_the_table_import_no_dialect() -> None:
    code = (
        "import sys\n"
        "from agentgo_cli.store import open_store, JobStore\n"
        "assert 'agentgo_cli.store.sqlite' not in sys.modules, 'imported early'\n"
        "open_store('sqlite:///unused.db')\n"
        "assert 'agentgo_cli.store.sqlite' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
