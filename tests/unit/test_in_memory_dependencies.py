"""The in-memory dependencies build without the environment the test tier's conftest sets: `make bench` runs
bench/bench_invoice_export.py and bench/bench_scale.py on them with no table names or queue URLs in its environment."""

from __future__ import annotations

import pytest

from smartaccounts_sync.settings import Settings
from tests.support.fakes import in_memory_dependencies

REQUIRED = [name for name, field in Settings.model_fields.items() if field.is_required()]


def test_in_memory_dependencies_need_no_resource_names_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REQUIRED  # table names and queue URLs have no default (settings.py)
    for name in REQUIRED:
        monkeypatch.delenv(name.upper(), raising=False)

    deps = in_memory_dependencies()

    assert all(getattr(deps.settings, name) for name in REQUIRED)
