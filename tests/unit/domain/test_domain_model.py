"""The models build their validators at first use, once, even when threads use a model for the first time together."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from pydantic import ConfigDict, Field, create_model

from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.domain.model import DeferredModel


def _fresh_model() -> tuple[type[DeferredModel], list[str]]:
    builds: list[str] = []

    class Wide(DeferredModel):
        model_config = ConfigDict(frozen=True)

        @classmethod
        def __pydantic_on_complete__(cls) -> None:
            builds.append(cls.__name__)

    fields = {f"f{i}": (int, Field(default=i, ge=0)) for i in range(120)}
    return create_model("Wide", __base__=Wide, **fields), builds


def test_a_model_is_not_built_at_import_and_is_built_at_first_use() -> None:
    model, builds = _fresh_model()
    assert not model.__pydantic_complete__ and builds == []
    assert model.model_validate({"f3": 7}).f3 == 7
    assert model.__pydantic_complete__ and builds == ["Wide"]


def test_threads_using_a_model_first_together_build_it_once_and_all_validate() -> None:
    for _ in range(5):
        model, builds = _fresh_model()
        start = threading.Barrier(8)

        def use(n: int, model: type[DeferredModel] = model, start: threading.Barrier = start) -> int:
            start.wait()
            return model.model_validate({"f0": n}).f0

        with ThreadPoolExecutor(8) as pool:
            assert sorted(pool.map(use, range(8))) == list(range(8))
        assert len(builds) == 1, builds


def test_a_subclass_keeps_its_own_config_and_validates_as_before() -> None:
    record = CompanyIntegration.model_validate({"company_id": "c-1"})
    assert record.connection.status.value and record.version == 0
    assert CompanyIntegration.model_config["defer_build"] is True
