"""Client links in DynamoDB (the moto server): background updates never undo a user's unlink or relink."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.client_link_repository import DynamoDbClientLinkRepository
from smartaccounts_sync.domain.client_link import ClientLink, LinkStatus

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def links(tables: dict[str, str], aws) -> DynamoDbClientLinkRepository:
    return DynamoDbClientLinkRepository(aws("dynamodb"), tables["ConfigTable"])


def _link(company: str, at: dt.datetime) -> ClientLink:
    return ClientLink(client_id="client-1", company_id=company, company_name=company, linked_at=at)


def test_update_applies_to_the_same_link_only(links: DynamoDbClientLinkRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    first = _link("co-a", T0)
    links.put(company, first)

    # A background update of the same link is written
    assert links.update(company, first.model_copy(update={"status": LinkStatus.FAILING, "reason": "NOT_FOUND"}))
    assert links.get(company, "client-1").reason == "NOT_FOUND"

    # After a relink, an update computed from the old link is refused and the relink stays
    links.put(company, _link("co-b", T0 + dt.timedelta(hours=1)))
    assert not links.update(company, first.model_copy(update={"status": LinkStatus.OK}))
    assert links.get(company, "client-1").company_id == "co-b"

    # After an unlink, it does not bring the link back
    links.delete(company, "client-1")
    assert not links.update(company, first)
    assert links.get(company, "client-1") is None


def test_import_bookkeeping_and_history_are_written_together_or_not_at_all(tables: dict[str, str], aws) -> None:
    # Given the link, history and import-progress tables as provisioned, a linked client, its finished import's
    # checkpoint, and the link as the import read it at its start
    from smartaccounts_sync.adapters.import_progress_repository import DynamoDbImportProgressRepository
    from smartaccounts_sync.adapters.sync_history_repository import DynamoDbSyncHistoryRepository
    from smartaccounts_sync.domain.import_checkpoint import DocumentCounts, ImportCheckpoint
    from smartaccounts_sync.domain.months import YearMonth
    from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry

    names = tables
    ddb = aws("dynamodb")
    links = DynamoDbClientLinkRepository(ddb, names["ConfigTable"])
    history = DynamoDbSyncHistoryRepository(ddb, names["SyncHistoryTable"])
    progress = DynamoDbImportProgressRepository(ddb, names["JobsTable"])
    company, month = f"uku-{uuid.uuid4().hex[:6]}", YearMonth(2026, 10)
    seen = _link("co-a", T0).model_copy(update={"status": LinkStatus.FAILING, "reason": "NOT_FOUND"})
    links.put(company, seen)
    checkpoint = ImportCheckpoint(
        company_id=company, client_id="client-1", work_key="SCHEDULE#2026-10#2026-10", months=[month],
        queries=[], calls_expected=0, started_at=T0, updated_at=T0,
    )
    progress.put_checkpoint(checkpoint)
    counts = DocumentCounts(per_month={})
    assert progress.acquire_lease(company, "client-1", "worker-1", T0 + dt.timedelta(hours=1), T0)

    def entry(n: int) -> SyncHistoryEntry:
        return SyncHistoryEntry(
            id=f"entry-{n}", company_id=company, client_id="client-1", at=T0 + dt.timedelta(minutes=n),
            reason="SCHEDULE", months=[month], outcome=ImportOutcome.SUCCEEDED,
        )

    def group(link: ClientLink) -> list:
        imported = link.model_copy(update={"status": LinkStatus.OK, "reason": None, "last_imported_month": month})
        done = progress.finished_writes(company, "client-1", checkpoint.work_key, counts, lease_owner="worker-1")
        return [links.update_write(company, imported, link), *done]

    # When the link changed after the import read it (a health check), the group is refused: nothing is written
    changed = seen.model_copy(update={"message": "checked again"})
    links.put(company, changed)
    assert history.add(entry(1), group(seen)) is False
    assert history.list(company, "client-1") == []
    assert links.get(company, "client-1") == changed
    assert progress.counts_and_checkpoint(company, "client-1", checkpoint.work_key) == (None, checkpoint)

    # When the link is as read, the entry, the link's bookkeeping, the counts, the checkpoint's end and the lease's
    # end go together
    assert history.add(entry(2), group(changed)) is True
    assert [e.id for e in history.list(company, "client-1")] == ["entry-2"]
    stored = links.get(company, "client-1")
    assert (stored.status, stored.last_imported_month, stored.message) == (LinkStatus.OK, month, "checked again")
    assert progress.counts_and_checkpoint(company, "client-1", checkpoint.work_key) == (counts, None)
    assert progress.acquire_lease(company, "client-1", "worker-2", T0 + dt.timedelta(hours=1), T0)

    # When the lease is no longer the worker's (it ran out and another worker took the client), nothing is written
    assert history.add(entry(3), group(stored)) is False
    assert [e.id for e in history.list(company, "client-1")] == ["entry-2"]


def test_a_link_stored_before_latest_imports_takes_its_first_outcome_with_the_history_entry(
    tables: dict[str, str], aws
) -> None:
    # Given a link item as the service stored it before links kept their latest import (no such field in its data),
    # and the history table
    from smartaccounts_sync.adapters.sync_history_repository import DynamoDbSyncHistoryRepository
    from smartaccounts_sync.domain.months import YearMonth
    from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry
    from tests.support.lost_answers import AnswerLost

    ddb = aws("dynamodb")
    links = DynamoDbClientLinkRepository(ddb, tables["ConfigTable"])
    company = f"uku-{uuid.uuid4().hex[:6]}"
    old = _link("co-a", T0)
    old_data = old.model_dump_json(exclude={"latest_import"})
    assert "latest_import" not in old_data
    ddb.put_item(
        TableName=tables["ConfigTable"],
        Item={
            "pk": {"S": f"COMPANY#{company}"},
            "sk": {"S": "LINK#client-1"},
            "data": {"S": old_data},
            "linkedAt": {"S": T0.isoformat()},
        },
    )
    seen = links.get(company, "client-1")
    assert seen == old and seen.latest_import is None

    # When a failed import's entry is written with its outcome on the link as read, the answer of that one write
    # lost (botocore sends the identical transaction again)
    lossy = AnswerLost(ddb, "transact_write_items")
    history = DynamoDbSyncHistoryRepository(lossy, tables["SyncHistoryTable"])
    entry = SyncHistoryEntry(
        id="entry-1", company_id=company, client_id="client-1", at=T0 + dt.timedelta(days=1), reason="SCHEDULE",
        months=[YearMonth(2026, 10)], outcome=ImportOutcome.FAILED, error_kind="UNAVAILABLE", message="Down.",
    )
    written = history.add(entry, [links.update_write(company, seen.with_latest_import(entry), seen)])

    # Then the first attempt wrote both (the group is refused only on the retry, whose condition the first changed):
    # the link holds the outcome, the history holds the entry once
    assert lossy.lost == 1 and written is False
    stored = links.get(company, "client-1")
    assert stored.latest_import is not None and stored.latest_import.outcome is ImportOutcome.FAILED
    assert (stored.latest_import.error_kind, stored.latest_import.message) == ("UNAVAILABLE", "Down.")
    assert [e.id for e in history.list(company, "client-1")] == ["entry-1"]

    # And a link with an outcome reads back and takes the next one the same way (its stored text compares equal)
    later = entry.model_copy(update={"id": "entry-2", "at": entry.at + dt.timedelta(hours=1)})
    later = later.model_copy(update={"outcome": ImportOutcome.SUCCEEDED, "error_kind": None, "message": None})
    plain = DynamoDbSyncHistoryRepository(ddb, tables["SyncHistoryTable"])
    assert plain.add(later, [links.update_write(company, stored.with_latest_import(later), stored)]) is True
    assert links.get(company, "client-1").latest_import.outcome is ImportOutcome.SUCCEEDED
