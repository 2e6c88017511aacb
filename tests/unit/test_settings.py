"""The configuration is read from the environment at each `load_settings()`, checked, and never silently defaulted
for table names or queue URLs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from smartaccounts_sync.settings import Settings, load_settings


def test_each_field_comes_from_its_environment_variable_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_TABLE_NAME", "cfg-table")
    monkeypatch.setenv("SMARTACCOUNTS_MAX_RETRIES", "7")
    monkeypatch.setenv("SMARTACCOUNTS_READ_TIMEOUT", "12.5")
    monkeypatch.setenv("SMARTACCOUNTS_API_URL", "http://sandbox.test:8765/api/")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    settings = load_settings()
    assert settings.config_table_name == "cfg-table"
    assert settings.smartaccounts_max_retries == 7
    assert settings.smartaccounts_read_timeout == 12.5
    assert str(settings.smartaccounts_api_url) == "http://sandbox.test:8765/api/"
    assert settings.aws_region == "eu-west-1"


def test_the_environment_is_read_again_at_each_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBS_TABLE_NAME", "first")
    assert load_settings().jobs_table_name == "first"
    monkeypatch.setenv("JOBS_TABLE_NAME", "second")
    assert load_settings().jobs_table_name == "second"


def test_lower_case_names_count_too_and_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("stage", "dev")
    monkeypatch.setenv("SOMETHING_ELSE_ENTIRELY", "x")
    assert load_settings().stage == "dev"


def test_a_value_given_to_the_constructor_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTACCOUNTS_MAX_PAGES", "50")
    assert Settings(smartaccounts_max_pages=3).smartaccounts_max_pages == 3
    assert Settings().smartaccounts_max_pages == 50


def test_a_missing_table_name_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RATE_LIMIT_TABLE_NAME", raising=False)
    with pytest.raises(ValidationError, match="rate_limit_table_name"):
        load_settings()


def test_a_value_out_of_range_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTACCOUNTS_MAX_RETRIES", "11")
    with pytest.raises(ValidationError, match="smartaccounts_max_retries"):
        load_settings()
    monkeypatch.setenv("SMARTACCOUNTS_MAX_RETRIES", "many")
    with pytest.raises(ValidationError, match="smartaccounts_max_retries"):
        load_settings()
