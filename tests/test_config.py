"""Config discovery, profile choice and secret references."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.config import find_config_file, load_config, resolve_secret
from agentgo_cli.errors import ConfigError

CONFIG = "profile: a\nprofiles:\n  a: {manifests: [./m]}\n  b: {manifests: [/abs/m]}\n"


def test_working_folder_config_wins_over_xdg(write: Callable[[str, str], Path]) -> None:
    xdg = write("xdg/agentgo/config.yaml", "profiles: {}\n")
    assert find_config_file() is None or find_config_file() != xdg
    local = write("agentgo.yml", CONFIG)
    assert find_config_file() == local


def test_xdg_config_is_used_when_there_is_no_local_one(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    path = write("xdg/agentgo/config.yaml", CONFIG)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(workdir / "xdg"))
    assert find_config_file() == path


def test_profile_order_flag_then_env_then_file(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    write("agentgo.yaml", CONFIG)
    assert load_config().profile_name == "a"
    assert load_config().manifest_paths() == [workdir / "m"]
    monkeypatch.setenv("AGENTGO_PROFILE", "b")
    assert load_config().profile_name == "b"
    assert load_config().manifest_paths() == [Path("/abs/m")]
    assert load_config("a").profile_name == "a"


def test_profile_without_config_file_is_an_error(workdir: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config("prod")
    assert str(exc.value) == (
        f"profile 'prod' asked for, but there is no agentgo.yaml in {workdir} or any folder "
        "above it (run 'agentgo init' to create one)"
    )


def test_the_config_is_found_in_a_folder_above(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    config = write("agentgo.yaml", CONFIG)
    below = workdir / "jobs" / "deeper"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    assert find_config_file() == config
    loaded = load_config()
    assert (loaded.path, loaded.profile_name) == (config, "a")
    assert loaded.manifest_paths() == [workdir / "m"]  # anchored at the config, not the cwd


def test_the_nearest_config_above_wins(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    write("agentgo.yaml", CONFIG)
    inner = write("sub/agentgo.yml", CONFIG)
    write("xdg/agentgo/config.yaml", CONFIG)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(workdir / "xdg"))
    (workdir / "sub" / "deeper").mkdir()
    monkeypatch.chdir(workdir / "sub" / "deeper")
    assert find_config_file() == inner


def test_secrets_resolve_from_env_and_file(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    monkeypatch.setenv("TOKEN_A", "s3cret")
    (workdir / "key.txt").write_text("from-file\n")
    value = resolve_secret(f"Bearer ${{env:TOKEN_A}} ${{file:{workdir / 'key.txt'}}}")
    assert value == "Bearer s3cret from-file"


def test_missing_secret_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError) as exc:
        resolve_secret("${env:NOT_SET_ANYWHERE}")
    assert str(exc.value) == "environment variable NOT_SET_ANYWHERE is not set"
    assert exc.value.exit_code == 2


def test_a_broken_config_is_refused_by_check_with_every_error(
    write: Callable[[str, str], Path],
) -> None:
    from agentgo_cli.config import InvalidConfigError

    write("agentgo.yaml", "profiles:\n  a: {synchronous: bogus, stoor: x}\n")
    config = load_config()
    assert len(config.errors) == 2  # still there for validate's report
    with pytest.raises(InvalidConfigError) as exc:
        config.check()
    assert exc.value.exit_code == 2
    assert [e.path for e in exc.value.errors] == ["profiles.a.synchronous", "profiles.a.stoor"]
    assert str(exc.value) == "agentgo.yaml has 2 errors; fix them (see 'agentgo validate')"


def test_a_literal_key_is_a_located_warning_and_a_reference_is_not(
    write: Callable[[str, str], Path],
) -> None:
    write(
        "agentgo.yaml",
        "providers:\n  openai: {api_key: sk-1}\n  gemini: {api_key: '${env:GEMINI_API_KEY}'}\n",
    )
    config = load_config()
    assert config.check() is config
    assert config.warnings == [
        "agentgo.yaml:2:21: providers.openai.api_key is a literal key; use "
        "${env:OPENAI_API_KEY} so it stays out of the file"
    ]


def test_a_relative_secret_file_is_read_beside_the_config(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    from agentgo_cli.llm.hub import ModelHub

    write("agentgo.yaml", "providers:\n  openai: {api_key: '${file:secrets/openai.key}'}\n")
    write("secrets/openai.key", "sk-from-the-project\n")
    (workdir / "jobs").mkdir()
    monkeypatch.chdir(workdir / "jobs")
    key = ModelHub.from_config(load_config().check()).endpoint("openai").api_key
    assert key is not None and key.reveal() == "sk-from-the-project"
    assert resolve_secret("${file:secrets/openai.key}", workdir) == "sk-from-the-project"
