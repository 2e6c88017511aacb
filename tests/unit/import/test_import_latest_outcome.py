"""The latest import's outcome on the client's link (the client list's status without reading each client's sync
history): written with the history entry in the same write, for every outcome, never replaced by an older one."""

from __future__ import annotations

import datetime as dt

import pytest

from smartaccounts_sync.api.presenters import client_integration_out
from smartaccounts_sync.domain.client_link import ClientLink, LatestImport, LinkStatus
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.integration import StoredCredentials
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry
from smartaccounts_sync.service.monthly_import import RetryLater, import_client
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials

COMPANY = "uku-1"
NOV = YearMonth(2026, 11)


def nov_work() -> ImportWork:
    return ImportWork(company_id=COMPANY, client_id="client-1", months=[NOV], reason=ImportReason.SCHEDULE)


@pytest.fixture
def writes(world, monkeypatch) -> list[ImportOutcome]:
    """The history writes made (each one write, with what goes along), and no link write made apart from them."""
    counted: list[ImportOutcome] = []
    add = world.deps.history.add

    def counting(entry, also=()):
        counted.append(entry.outcome)
        return add(entry, also)

    def apart(*_args, **_kwargs):
        raise AssertionError("the link was written apart from the history entry")

    monkeypatch.setattr(world.deps.history, "add", counting)
    monkeypatch.setattr(world.links, "update", apart)
    return counted


def _latest(world) -> LatestImport | None:
    return world.links.get(COMPANY, "client-1").latest_import


def _as_entry_says(entry: SyncHistoryEntry) -> LatestImport:
    return LatestImport(
        at=entry.at, outcome=entry.outcome, months=entry.months, error_kind=entry.error_kind, message=entry.message
    )


def test_a_successful_import_puts_its_outcome_on_the_link_in_the_same_write(loaded, writes) -> None:
    entry = import_client(loaded.deps, nov_work())

    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert _latest(loaded) == _as_entry_says(entry)
    assert loaded.links.get(COMPANY, "client-1").last_imported_month == NOV
    assert writes == [ImportOutcome.SUCCEEDED]  # one write: the entry with the link's bookkeeping and the rest


def test_a_company_not_visible_fails_and_the_link_says_so(world) -> None:
    world.sa.error = SmartAccountsError(ErrorKind.NOT_FOUND, "Company not found", status=404)

    entry = import_client(world.deps, nov_work())

    # the link is marked failing (its own write, as before) and the failure is its latest import
    link = world.links.get(COMPANY, "client-1")
    assert entry.outcome is ImportOutcome.FAILED and link.status is LinkStatus.FAILING
    assert link.latest_import == _as_entry_says(entry)
    assert link.latest_import.error_kind == "NOT_FOUND" and link.latest_import.message


def test_a_passing_failure_retried_by_sqs_is_the_latest_import(world, writes) -> None:
    world.sa.error = SmartAccountsError(ErrorKind.UNAVAILABLE, "down")

    with pytest.raises(RetryLater):
        import_client(world.deps, nov_work())

    entry = world.deps.history.entries[-1]
    assert _latest(world) == _as_entry_says(entry)
    assert _latest(world).outcome is ImportOutcome.FAILED and _latest(world).error_kind == "UNAVAILABLE"
    assert writes == [ImportOutcome.FAILED]


def test_waiting_for_the_quota_is_the_latest_import_until_the_import_goes_on(loaded, writes) -> None:
    loaded.sa.fail_after_pages = 1
    loaded.sa.fail_with = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "Daily limit exceeded", retry_after=14400)

    deferred = import_client(loaded.deps, nov_work())

    assert deferred is not None and deferred.outcome is ImportOutcome.DEFERRED
    assert _latest(loaded) == _as_entry_says(deferred)
    assert _latest(loaded).error_kind == "DAILY_QUOTA_SPENT" and "midnight" in _latest(loaded).message

    # When the quota renews and the parked import finishes, its success replaces the wait
    loaded.sa.fail_after_pages = None
    finished = import_client(loaded.deps, nov_work())
    assert finished is not None and finished.outcome is ImportOutcome.SUCCEEDED
    assert _latest(loaded) == _as_entry_says(finished)
    assert writes == [ImportOutcome.DEFERRED, ImportOutcome.SUCCEEDED]


def test_a_skipped_import_is_the_latest_import(world, writes) -> None:
    record = world.integrations.get(COMPANY)
    world.integrations.save(record.model_copy(update={"enabled": False}))

    entry = import_client(world.deps, nov_work())

    assert entry.outcome is ImportOutcome.SKIPPED and _latest(world) == _as_entry_says(entry)
    assert writes == [ImportOutcome.SKIPPED]


def test_a_refused_own_key_marks_the_link_and_its_failure_is_the_latest_import(world) -> None:
    secret = "tenant/uku-1/client-1"
    world.credentials.save(secret, ApiCredentials(api_key="own-key", api_secret="own-secret"))
    link = world.links.get(COMPANY, "client-1")
    own = StoredCredentials(secret_name=secret, masked_key="own…-key", saved_at=link.linked_at)
    world.links.put(COMPANY, link.model_copy(update={"credentials": own}))
    world.sa.error = SmartAccountsError(ErrorKind.CREDENTIALS_REVOKED, "revoked", status=401)

    entry = import_client(world.deps, nov_work())

    link = world.links.get(COMPANY, "client-1")
    assert entry.outcome is ImportOutcome.FAILED
    assert link.status is LinkStatus.FAILING and link.reason == "CREDENTIALS_REVOKED"
    assert link.latest_import == _as_entry_says(entry)


def test_a_link_changed_during_a_failed_import_keeps_the_change_and_gets_the_outcome(world, monkeypatch) -> None:
    # Given a link that a health check changes after the import read it
    def change_the_link(*args, **kwargs):
        current = world.links.get(COMPANY, "client-1")
        world.links.update(COMPANY, current.model_copy(update={"message": "checked meanwhile"}))
        raise SmartAccountsError(ErrorKind.PAGING_STALLED, "SmartAccounts paging stopped advancing.")

    monkeypatch.setattr(world.sa, "list_page", change_the_link)

    entry = import_client(world.deps, nov_work())

    # Then the entry's outcome is on the link as it is now, the change kept, one history entry
    link = world.links.get(COMPANY, "client-1")
    assert entry.outcome is ImportOutcome.FAILED
    assert link.message == "checked meanwhile" and link.latest_import == _as_entry_says(entry)
    assert [e.id for e in world.deps.history.list(COMPANY, "client-1")] == [entry.id]


def test_an_older_entry_written_again_never_replaces_a_newer_outcome() -> None:
    at = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
    link = ClientLink(client_id="client-1", company_id="co-small", company_name="Väike", linked_at=at)

    def entry(minutes: int, outcome: ImportOutcome) -> SyncHistoryEntry:
        return SyncHistoryEntry(
            id=f"e{minutes}", company_id=COMPANY, client_id="client-1", at=at + dt.timedelta(minutes=minutes),
            reason="SCHEDULE", months=[NOV], outcome=outcome,
        )

    newer = link.with_latest_import(entry(5, ImportOutcome.SUCCEEDED))
    assert newer.with_latest_import(entry(1, ImportOutcome.FAILED)) == newer
    assert newer.with_latest_import(entry(6, ImportOutcome.FAILED)).latest_import.outcome is ImportOutcome.FAILED


def test_a_link_stored_before_the_outcome_was_recorded_reads_and_shows_none() -> None:
    # the link as stored before the field existed (its JSON has no latestImport)
    stored = (
        '{"client_id":"client-1","integration":"smartaccounts","company_id":"co-small","company_name":"Väike",'
        '"company_reg_code":null,"credentials":null,"status":"OK","reason":null,"message":null,"since":null,'
        '"linked_at":"2026-11-24T10:00:00Z","last_imported_month":"2026-10","last_import_at":"2026-10-30T18:00:00Z"}'
    )
    link = ClientLink.model_validate_json(stored)

    out = client_integration_out("client-1", link).model_dump(mode="json", by_alias=True)
    assert link.latest_import is None
    assert out["latestImport"] is None and out["lastImport"]["month"] == "2026-10"


def test_a_client_linked_to_another_company_during_the_import_gets_no_outcome_of_the_old_one(world, monkeypatch):
    # Given the client linked to another SmartAccounts company while its import reads the old one's documents
    def relink(*args, **kwargs):
        current = world.links.get(COMPANY, "client-1")
        world.links.put(
            COMPANY,
            current.model_copy(update={"company_id": "co-other", "linked_at": current.linked_at + dt.timedelta(1)}),
        )
        raise SmartAccountsError(ErrorKind.PAGING_STALLED, "SmartAccounts paging stopped advancing.")

    monkeypatch.setattr(world.sa, "list_page", relink)

    entry = import_client(world.deps, nov_work())

    # Then the import's entry is written, and the new link says nothing of the old company's import
    assert entry.outcome is ImportOutcome.FAILED
    assert [e.id for e in world.deps.history.list(COMPANY, "client-1")] == [entry.id]
    link = world.links.get(COMPANY, "client-1")
    assert link.company_id == "co-other" and link.latest_import is None


def test_a_client_linked_to_another_company_before_a_success_is_written_keeps_that_company_untouched(
    loaded, monkeypatch
) -> None:
    # Given the client linked to another SmartAccounts company just before the import's last write
    put_all = loaded.deps.summary_tasks.put_all

    def relink(writes):
        current = loaded.links.get(COMPANY, "client-1")
        loaded.links.put(
            COMPANY,
            current.model_copy(update={"company_id": "co-other", "linked_at": current.linked_at + dt.timedelta(1)}),
        )
        return put_all(writes)

    monkeypatch.setattr(loaded.deps.summary_tasks, "put_all", relink)

    entry = import_client(loaded.deps, nov_work())

    # Then the entry is written, and the new company's link has neither the old company's month nor its outcome
    # (its first month would otherwise never be imported)
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    link = loaded.links.get(COMPANY, "client-1")
    assert (link.company_id, link.last_imported_month, link.latest_import) == ("co-other", None, None)
    assert [e.id for e in loaded.deps.history.list(COMPANY, "client-1")] == [entry.id]
