"""summary_task_settings: every check before anything is stored, next import date, reload notice, versions."""

from __future__ import annotations

import datetime as dt

import pytest

from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.integration import SummaryTaskSettings
from smartaccounts_sync.errors import Conflict, IntegrationDisabled, ValidationFailed
from smartaccounts_sync.service import connection, summary_task_settings

CO = "uku-co-1"


@pytest.fixture
def company(deps):
    connection.enable(deps, CO)
    topic = deps.uku.create_topic(CO, "Bookkeeping")
    number = deps.uku.create_custom_field(CO, "Sales", "number")
    money = deps.uku.create_custom_field(CO, "Turnover", "currency")
    text = deps.uku.create_custom_field(CO, "Notes", "text")
    return deps, topic.id, number.id, money.id, text.id


def _settings(topic: str, mapping: dict, rule: ImportDay | None = None) -> SummaryTaskSettings:
    return SummaryTaskSettings(
        task_title="Books {month}",
        topic_id=topic,
        import_day=rule or ImportDay.last_calendar_day(),
        field_mapping=mapping,
    )


def _fields(error: ValidationFailed) -> set[str]:
    return {p.field for p in error.problems}


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"saleEntries": "N", "purchaseEntries": "N"}, "fieldMapping.purchaseEntries"),
        ({"saleEntries": "T"}, "fieldMapping.saleEntries"),
        ({"saleEntries": "field-missing"}, "fieldMapping.saleEntries"),
        ({"notAField": "N"}, "fieldMapping.notAField"),
    ],
)
def test_bad_mappings_are_refused_and_nothing_is_stored(company, mapping, field) -> None:
    deps, topic, number, _, text = company
    resolved = {k: {"N": number, "T": text}.get(v, v) for k, v in mapping.items()}
    before = deps.integrations.get(CO)
    with pytest.raises(ValidationFailed) as raised:
        summary_task_settings.save_settings(deps, CO, _settings(topic, resolved))
    assert field in _fields(raised.value)
    assert deps.integrations.get(CO) == before


def test_unknown_topic_is_refused(company) -> None:
    deps, _, number, _, _ = company
    with pytest.raises(ValidationFailed) as raised:
        summary_task_settings.save_settings(deps, CO, _settings("topic-x", {"saleEntries": number}))
    assert _fields(raised.value) == {"topicId"}


def test_another_companys_topic_and_field_do_not_count(company) -> None:
    deps, _, _, _, _ = company
    foreign_topic = deps.uku.create_topic("other-co", "Theirs")
    foreign_field = deps.uku.create_custom_field("other-co", "Theirs", "number")
    with pytest.raises(ValidationFailed) as raised:
        summary_task_settings.save_settings(deps, CO, _settings(foreign_topic.id, {"saleEntries": foreign_field.id}))
    assert _fields(raised.value) == {"topicId", "fieldMapping.saleEntries"}


def test_number_and_currency_fields_fit_and_blank_means_not_imported(company, clock) -> None:
    deps, topic, number, money, _ = company
    saved = summary_task_settings.save_settings(
        deps, CO, _settings(topic, {"saleEntries": number, "salesTotal": money, "bankEntries": "", "documents": None})
    )
    assert saved.record.settings.field_mapping == {
        "saleEntries": number,
        "salesTotal": money,
        "bankEntries": None,
        "documents": None,
    }
    assert saved.notice and "Reload data" in saved.notice


def test_saving_recomputes_the_next_import(company, clock) -> None:
    deps, topic, number, _, _ = company
    clock.now = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    first = summary_task_settings.save_settings(deps, CO, _settings(topic, {"saleEntries": number}))
    assert (str(first.record.next_import_month), first.record.next_import_date) == ("2026-03", dt.date(2026, 3, 31))
    second = summary_task_settings.save_settings(
        deps, CO, _settings(topic, {"saleEntries": number}, ImportDay(rule="DAY_OF_FOLLOWING_MONTH", day=5))
    )
    assert (str(second.record.next_import_month), second.record.next_import_date) == ("2026-03", dt.date(2026, 4, 5))
    assert second.notice is None  # same mapping: nothing to reload


def test_stale_expected_version_is_a_conflict(company) -> None:
    deps, topic, number, _, _ = company
    version = summary_task_settings.save_settings(deps, CO, _settings(topic, {"saleEntries": number})).record.version
    summary_task_settings.save_settings(deps, CO, _settings(topic, {}), expected_version=version)
    with pytest.raises(Conflict):
        summary_task_settings.save_settings(
            deps, CO, _settings(topic, {"saleEntries": number}), expected_version=version
        )
    assert deps.integrations.get(CO).settings.field_mapping == {}


def test_disabled_integration_refuses_settings(deps) -> None:
    with pytest.raises(IntegrationDisabled):
        summary_task_settings.save_settings(deps, CO, _settings("t", {}))
