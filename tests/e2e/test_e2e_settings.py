"""Settings tab (issue 4): summary-task settings and field mapping, the field catalogue, Uku custom task fields and
topics, and the troubleshooting diagnostics."""

from __future__ import annotations

import datetime as dt

import pytest

from smartaccounts_sync.domain.import_day import ImportDay, next_import
from smartaccounts_sync.domain.months import tallinn_today
from tests.e2e.conftest import INTEGRATION, Api, Company, error_fields, problem

pytestmark = pytest.mark.e2e

SETTINGS = f"{INTEGRATION}/settings"


def _with_import_day(company: Company, import_day: dict) -> dict:
    return company.settings(importDay=import_day)


BAD_SETTINGS = {
    "day 0": (lambda c: _with_import_day(c, {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 0}), "importDay.day"),
    "day 29": (lambda c: _with_import_day(c, {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 29}), "importDay.day"),
    "day 30": (lambda c: _with_import_day(c, {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 30}), "importDay.day"),
    "day 31": (lambda c: _with_import_day(c, {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 31}), "importDay.day"),
    "day missing": (lambda c: _with_import_day(c, {"rule": "DAY_OF_FOLLOWING_MONTH"}), "importDay.day"),
    "day for last work day": (lambda c: _with_import_day(c, {"rule": "LAST_WORK_DAY", "day": 5}), "importDay.day"),
    "unknown rule": (lambda c: _with_import_day(c, {"rule": "FIRST_MONDAY"}), "importDay.rule"),
    "weekly": (lambda c: c.settings(recurrence="WEEKLY"), "recurrence"),
    "empty title": (lambda c: c.settings(taskTitle=""), "taskTitle"),
    "blank title": (lambda c: c.settings(taskTitle="   "), "taskTitle"),
    "too long title": (lambda c: c.settings(taskTitle="x" * 201), "taskTitle"),
    "unknown placeholder": (lambda c: c.settings(taskTitle="Bookkeeping {quarter}"), "taskTitle"),
    "bad topic": (lambda c: c.settings(topicId="topic-does-not-exist"), "topicId"),
    "duplicate mapping": (
        lambda c: c.settings(fieldMapping={"saleEntries": c.field_id, "purchaseEntries": c.field_id}),
        "fieldMapping.purchaseEntries",
    ),
    "non-numeric field": (
        lambda c: c.settings(fieldMapping={"saleEntries": c.extra["text_field"]}),
        "fieldMapping.saleEntries",
    ),
    "unknown custom field": (
        lambda c: c.settings(fieldMapping={"saleEntries": "field-nope"}),
        "fieldMapping.saleEntries",
    ),
    "unknown SmartAccounts field": (
        lambda c: c.settings(fieldMapping={"vatReturns": c.field_id}),
        "fieldMapping.vatReturns",
    ),
}


@pytest.fixture
def saved_settings(connected_company: Company) -> Company:
    """Connected, a text custom field besides the numeric one, and valid settings saved once."""
    api = connected_company.api
    text = api.ok("POST", "/v1/custom-task-fields", 201, json={"name": "Notes", "type": "text"})
    connected_company.extra["text_field"] = text["id"]
    api.ok("PUT", SETTINGS, json=connected_company.settings())
    return connected_company


def test_every_bad_value_is_refused_on_its_field_and_nothing_is_stored(saved_settings: Company) -> None:
    api = saved_settings.api
    stored, state = api.ok("GET", SETTINGS), api.state()
    for name, (build, field) in BAD_SETTINGS.items():
        # When settings with one bad value are saved
        response = api.put(SETTINGS, json=build(saved_settings))
        # Then 400 VALIDATION_FAILED names exactly that field with a message
        body = problem(response, 400, "VALIDATION_FAILED")
        assert field in error_fields(body), (name, body)
        assert all(e["message"] for e in body["errors"]), name
        # And nothing was stored
        assert api.ok("GET", SETTINGS) == stored, name
    assert api.state() == state


def test_import_day_messages_say_which_days_are_allowed(saved_settings: Company) -> None:
    for day in (0, 29, 30, 31, None):
        import_day = {"rule": "DAY_OF_FOLLOWING_MONTH"} | ({"day": day} if day is not None else {})
        body = problem(
            saved_settings.api.put(SETTINGS, json=_with_import_day(saved_settings, import_day)),
            400,
            "VALIDATION_FAILED",
        )
        message = next(e["message"] for e in body["errors"] if e["field"] == "importDay.day")
        assert "1" in message and "28" in message, message


def test_several_problems_are_reported_together(saved_settings: Company) -> None:
    body = problem(
        saved_settings.api.put(
            SETTINGS,
            json=saved_settings.settings(
                topicId="nope", fieldMapping={"saleEntries": saved_settings.extra["text_field"], "bogus": None}
            ),
        ),
        400,
        "VALIDATION_FAILED",
    )
    assert {"topicId", "fieldMapping.saleEntries", "fieldMapping.bogus"} <= error_fields(body)


def _expected_next(rule: dict) -> dict:
    month, on = next_import(tallinn_today(dt.datetime.now(dt.UTC)), ImportDay(**rule), None)
    return {"month": str(month), "date": on.isoformat(), "at": None}


def test_valid_settings_are_saved_and_recompute_the_next_import(connected_company: Company) -> None:
    api = connected_company.api
    for rule in (
        {"rule": "LAST_CALENDAR_DAY"},
        {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 5},
        {"rule": "LAST_WORK_DAY"},
        {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 28},
    ):
        # When settings with this import day are saved
        saved = api.ok("PUT", SETTINGS, json=connected_company.settings(importDay=rule))
        # Then they read back as saved and the state's next import follows the rule
        assert saved["importDay"] == {"rule": rule["rule"], "day": rule.get("day")}
        assert api.ok("GET", SETTINGS) == {**saved, "notice": None}
        assert api.state()["nextImport"] == _expected_next(rule), rule


def test_mapping_change_answers_with_the_reload_notice(connected_company: Company) -> None:
    api = connected_company.api
    # When the first mapping is saved, Then the answer points to Reload data for past months
    first = api.ok("PUT", SETTINGS, json=connected_company.settings())
    assert first["notice"] and "Reload data" in first["notice"]
    # When only the title changes, Then there is no notice
    assert (
        api.ok("PUT", SETTINGS, json=connected_company.settings(taskTitle="Month {monthName} {year}"))["notice"] is None
    )
    # When a field is unmapped (null means not imported), Then the notice comes back
    second = api.ok(
        "PUT",
        SETTINGS,
        json=connected_company.settings(fieldMapping={"saleEntries": None, "bankEntries": connected_company.field_id}),
    )
    assert "Reload data" in second["notice"]
    assert second["fieldMapping"] == {"saleEntries": None, "bankEntries": connected_company.field_id}


def test_stale_if_match_is_a_conflict_and_a_current_one_saves(connected_company: Company) -> None:
    api = connected_company.api
    # Given two editors who both read version v
    version = api.ok("PUT", SETTINGS, json=connected_company.settings())["version"]
    # When the first saves with If-Match v, Then it succeeds
    first = api.ok(
        "PUT", SETTINGS, json=connected_company.settings(taskTitle="A {month}"), headers={"If-Match": f'"{version}"'}
    )
    assert first["version"] > version
    # When the second saves with the stale If-Match v, Then CONFLICT, and the first editor's title stays
    problem(
        api.put(SETTINGS, json=connected_company.settings(taskTitle="B {month}"), headers={"If-Match": str(version)}),
        409,
        "CONFLICT",
    )
    assert api.ok("GET", SETTINGS)["taskTitle"] == "A {month}"


def test_settings_before_any_save_are_not_found(enabled: Api) -> None:
    problem(enabled.get(SETTINGS), 404, "NOT_FOUND")


# ---------------------------------------------------------------------------------------------- catalogue
def test_field_catalogue_has_the_four_main_fields_and_show_more_fields(api: Api) -> None:
    fields = api.ok("GET", f"{INTEGRATION}/fields")["fields"]
    by_key = {f["key"]: f for f in fields}
    main = [f["key"] for f in fields if f["main"]]
    assert main == ["saleEntries", "purchaseEntries", "bankEntries", "documents"]
    assert {"creditInvoices", "cashEntries", "salesTotal", "purchasesTotal"} <= {
        f["key"] for f in fields if not f["main"]
    }
    for f in fields:
        assert set(f) >= {"key", "label", "kind", "main", "source"}
        assert f["label"] and f["source"] and f["kind"] in ("count", "amount")
    assert by_key["saleEntries"]["label"] == "Sale entries" and by_key["saleEntries"]["kind"] == "count"
    assert by_key["salesTotal"]["kind"] == "amount" and by_key["bankEntries"]["source"] == "PAYMENTS"


# ---------------------------------------------------------------------------------------------- Uku store
@pytest.mark.parametrize(
    ("path", "body", "listed"),
    [
        ("/v1/custom-task-fields", {"name": "Sales count", "type": "number"}, "fields"),
        ("/v1/topics", {"name": "Bookkeeping"}, "topics"),
    ],
)
def test_custom_fields_and_topics_list_create_and_refuse_duplicates(api_as, path: str, body: dict, listed: str) -> None:
    api, other = api_as(), api_as()
    # When one is created
    created = api.ok("POST", path, 201, json=body)
    # Then it is listed for this company only
    assert created["id"] and created["name"] == body["name"]
    assert created in api.ok("GET", path)[listed]
    assert other.ok("GET", path)[listed] == []
    # And the same name again (any case) is a CONFLICT, while another company may use it
    problem(api.post(path, json={**body, "name": body["name"].upper()}), 409, "CONFLICT")
    assert len(api.ok("GET", path)[listed]) == 1
    other.ok("POST", path, 201, json=body)


def test_custom_field_type_and_name_are_validated(api: Api) -> None:
    body = problem(api.post("/v1/custom-task-fields", json={"name": "", "type": "colour"}), 400, "VALIDATION_FAILED")
    assert {"name", "type"} <= error_fields(body)


# ---------------------------------------------------------------------------------------------- diagnostics
def _checks(api: Api) -> tuple[bool, dict[str, dict]]:
    answer = api.ok("GET", f"{INTEGRATION}/diagnostics")
    checks = {c["id"]: c for c in answer["checks"]}
    for check in checks.values():
        assert check["title"] and check["detail"]
        assert (check["fix"] is not None) == (check["status"] == "FAIL"), check
    return answer["passed"], checks


def test_diagnostics_of_a_fresh_company(api: Api) -> None:
    passed, checks = _checks(api)
    assert passed is False
    assert {k: c["status"] for k, c in checks.items()} == {
        "integrationEnabled": "FAIL",
        "credentialsSaved": "FAIL",
        "connectionTest": "SKIPPED",
        "settingsComplete": "FAIL",
        "fieldsMapped": "FAIL",
        "clientsLinked": "FAIL",
        "linkedCompaniesVisible": "SKIPPED",
        "nextImportDate": "FAIL",
        "lastImport": "SKIPPED",
        "emptyMappedFields": "SKIPPED",
    }
    assert "Enable" in checks["integrationEnabled"]["fix"]


def test_diagnostics_of_a_fully_configured_company(configured_company: Company) -> None:
    passed, checks = _checks(configured_company.api)
    assert passed is True
    statuses = {k: c["status"] for k, c in checks.items()}
    assert statuses.pop("lastImport") == "SKIPPED"  # nothing imported yet
    assert statuses.pop("emptyMappedFields") == "SKIPPED"
    assert set(statuses.values()) == {"PASS"}, statuses
    assert "saleEntries" in checks["fieldsMapped"]["detail"]
    assert "Väike Raamatupidamine OÜ" in checks["connectionTest"]["detail"]
    assert configured_company.api.state()["nextImport"]["date"] in checks["nextImportDate"]["detail"]


def test_diagnostics_name_the_error_kind_when_the_connection_fails(configured_company: Company, sandbox) -> None:
    sandbox.revoke(configured_company.key["apiKey"])
    passed, checks = _checks(configured_company.api)
    assert passed is False
    assert checks["connectionTest"]["status"] == "FAIL"
    assert checks["connectionTest"]["errorKind"] == "CREDENTIALS_REVOKED"
    assert "fresh pair" in checks["connectionTest"]["fix"]
