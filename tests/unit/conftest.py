"""The unit tier runs on in-memory fakes and in-process moto: no endpoint of a running server applies here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
