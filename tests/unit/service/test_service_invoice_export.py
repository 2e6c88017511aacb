"""Invoice export on fakes: exactly once across a crash after SmartAccounts accepted, duplicates, refusals, waits."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from smartaccounts_sync.adapters.dead_letters import InMemoryDeadLetters
from smartaccounts_sync.domain.integration import (
    CompanyIntegration,
    Connection,
    ConnectionStatus,
    StoredCredentials,
)
from smartaccounts_sync.domain.invoice_export import ExportStatus, PaymentStatus
from smartaccounts_sync.domain.invoice_issued import parse_invoice_issued
from smartaccounts_sync.service import invoice_export, payment_status
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import (
    ApiCredentials,
    Article,
    Buyer,
    ClientInvoice,
    CreatedBuyer,
    CreatedClientInvoice,
    NewBuyer,
    NewClientInvoice,
    VatPercentage,
)
from tests.support.fakes import in_memory_dependencies

NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
SAMPLE = Path(__file__).resolve().parents[3] / "events" / "invoice_export" / "eventbridge-invoice-issued.json"
COMPANY = "demo-company"


class FakeSmartAccounts:
    """The firm's SmartAccounts company: buyers, articles, VAT codes and the invoices booked in it."""

    def __init__(self) -> None:
        self.invoices: list[ClientInvoice] = []
        self.buyer_list: list[Buyer] = []
        self.adds = 0
        self.calls_made = 0
        self.fail_add: SmartAccountsError | None = None
        #: what the next posts meet: "500" (refused before booking) or "booked-500" (booked, the answer lost)
        self.add_answers: list[str] = []
        self.add_buyer_answers: list[str] = []  # the same for new buyers
        self.calls: list[str] = []

    def vat_percentages(self) -> list[VatPercentage]:
        self.calls_made += 1
        return [VatPercentage(vat_pc="VAT24", pc=Decimal(24), active_sales=True)]

    def client_invoice_by_number(self, number: str, issued_on: dt.date) -> ClientInvoice | None:
        self.calls_made += 1
        self.calls.append("by_number")
        return next((i for i in self.invoices if i.invoice_number == number and i.date == issued_on), None)

    def articles(self, code: str | None = None) -> list[Article]:
        self.calls_made += 1
        self.calls.append("articles")
        return [Article(code="SERVICE")]

    def buyers(self, search: str | None = None) -> list[Buyer]:
        self.calls_made += 1
        self.calls.append("buyers")
        return [b for b in self.buyer_list if not search or search in b.name or search == b.reg_code]

    def add_buyer(self, buyer: NewBuyer) -> CreatedBuyer:
        self.calls_made += 1
        self.calls.append("add_buyer")
        answer = self.add_buyer_answers.pop(0) if self.add_buyer_answers else "ok"
        if answer == "500":
            raise SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).", status=500)
        created = Buyer(id=f"b{len(self.buyer_list) + 1}", name=buyer.name, reg_code=buyer.reg_code)
        self.buyer_list.append(created)
        if answer == "booked-500":
            raise SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).", status=500)
        return CreatedBuyer(client_id=created.id)

    def add_client_invoice(self, invoice: NewClientInvoice) -> CreatedClientInvoice:
        self.calls_made += 1
        self.calls.append("add")
        if self.fail_add is not None:
            raise self.fail_add
        answer = self.add_answers.pop(0) if self.add_answers else "ok"
        if answer == "500":
            raise SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).", status=500)
        self.adds += 1
        net = sum((r.price * r.quantity * (100 - (r.discount or 0)) / 100 for r in invoice.rows), Decimal(0))
        vat = (net * Decimal("0.24")).quantize(Decimal("0.01"))
        booked = ClientInvoice(
            id=f"sa-{self.adds}",
            date=invoice.date,
            invoice_number=invoice.invoice_number,
            client_id=invoice.client_id,
            amount=net,
            vat_amount=vat,
            total_amount=net + vat,
            outstanding_amount=net + vat,
            type=invoice.type or "INV",
            base_for_credit_invoice_id=invoice.base_for_credit_invoice_id,
        )
        self.invoices.append(booked)
        if answer == "booked-500":
            raise SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).", status=500)
        if answer == "booked-unreadable":
            raise SmartAccountsError(ErrorKind.SCHEMA_MISMATCH, "SmartAccounts answered in an unexpected format.")
        return CreatedClientInvoice(
            invoice_id=booked.id,
            invoice_number=booked.invoice_number,
            client_id=booked.client_id,
            amount=net,
            vat_amount=vat,
            total_amount=net + vat,
        )

    def unpaid_client_invoices(self, date_from: dt.date) -> list[ClientInvoice]:
        self.calls_made += 1
        return [i for i in self.invoices if (i.outstanding_amount or 0) > 0 and i.date >= date_from]


@pytest.fixture(autouse=True)
def sleeps(monkeypatch) -> list[float]:
    """The export's waits, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(invoice_export, "_sleep", slept.append)
    return slept


@pytest.fixture
def sa() -> FakeSmartAccounts:
    return FakeSmartAccounts()


@pytest.fixture
def deps(sa: FakeSmartAccounts):
    deps = in_memory_dependencies(smartaccounts=lambda credentials, company=None: sa, now=lambda: NOW)
    secret = deps.secret_name(COMPANY)
    deps.credentials.save(secret, ApiCredentials(api_key="firm-key", api_secret="firm-secret"))
    deps.integrations.save(
        CompanyIntegration(
            company_id=COMPANY,
            enabled=True,
            credentials=StoredCredentials(secret_name=secret, masked_key="firm…key", saved_at=NOW),
            connection=Connection(status=ConnectionStatus.CONNECTED, company_name="Firm"),
        )
    )
    return deps


def detail(**changes) -> dict:
    body = json.loads(SAMPLE.read_text(encoding="utf-8"))["detail"]
    body["lines"][1]["articleCode"] = "SERVICE"
    return body | changes


def fail_one_save(deps, when, error: str = "ProvisionedThroughputExceededException") -> None:
    """The first export-record write for which `when(record)` holds fails (a crash, or DynamoDB throttling)."""
    original_save = deps.exports.save
    failed: list[bool] = []

    def save(record):
        if not failed and when(record):
            failed.append(True)
            raise RuntimeError(error)
        return original_save(record)

    deps.exports.save = save


def message(body: dict, event_id: str = "e1") -> str:
    return json.dumps({"id": event_id, "source": "uku.billing", "detail-type": "InvoiceIssued", "detail": body})


def test_a_crash_after_smartaccounts_accepted_is_reconciled_by_reading_not_posted_again(deps, sa) -> None:
    # Given the worker dies after SmartAccounts booked the invoice, before the record says so
    fail_one_save(deps, lambda record: record.status is ExportStatus.EXPORTED and sa.adds == 1, "worker crashed")
    with pytest.raises(RuntimeError):
        invoice_export.export_message(deps, message(detail()), final_attempt=False)
    stuck = deps.exports.get(COMPANY, "inv-1")
    assert stuck.status is ExportStatus.PENDING and stuck.posting_started_at is not None

    # When the message comes back after the lease ran out
    later = NOW + invoice_export.LEASE + dt.timedelta(seconds=1)
    deps.now = lambda: later
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False)

    # Then the invoice was found by its number: still one invoice, and the record is true
    assert sa.adds == 1
    assert record.status is ExportStatus.EXPORTED and record.reconciled and record.attempts == 2
    assert record.smartaccounts.invoice_id == "sa-1" and record.totals.matches


def test_while_the_lease_is_held_a_second_delivery_waits_and_posts_nothing(deps, sa) -> None:
    invoice = parse_invoice_issued(detail())
    claimed, ok = invoice_export._claim(deps, invoice)
    assert ok and claimed.leased(NOW)
    with pytest.raises(invoice_export.ExportBusy):
        invoice_export.export_message(deps, message(detail(), "e2"), final_attempt=False)
    assert sa.adds == 0


def test_a_lease_left_behind_by_an_earlier_delivery_is_taken_over_by_the_same_message_only(deps, sa) -> None:
    # Given a delivery of message m1 claimed the invoice and then failed without releasing it (the release itself
    # was throttled): the lease still runs for minutes
    sa.fail_add = SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).")
    original_save = deps.exports.save

    def release_throttled(record):
        if record.lease_until is None and record.status is ExportStatus.PENDING:
            raise RuntimeError("ProvisionedThroughputExceededException")
        return original_save(record)

    deps.exports.save = release_throttled
    with pytest.raises(RuntimeError):
        invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    deps.exports.save = original_save
    sa.fail_add = None
    left = deps.exports.get(COMPANY, "inv-1")
    assert left.leased(NOW) and left.lease_owner == "m1"

    # When another message (a second copy of the event) comes: it waits, even on its last delivery, posting nothing
    with pytest.raises(invoice_export.ExportBusy):
        invoice_export.export_message(deps, message(detail(), "e2"), final_attempt=False, delivery_id="m2")
    last = invoice_export.export_message(deps, message(detail(), "e2"), final_attempt=True, delivery_id="m2")
    assert last.status is ExportStatus.PENDING and sa.adds == 0

    # Then m1 coming back takes its own lease over, reads SmartAccounts first and posts the invoice once
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.EXPORTED and sa.adds == 1 and record.attempts == 2
    assert len(sa.invoices) == 1


def test_a_post_answered_500_is_read_by_its_number_then_posted_again_in_the_same_delivery(deps, sa) -> None:
    # Given SmartAccounts answers 500 to the first post, having booked nothing
    sa.add_answers = ["500"]
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    # Then it was read by its number before the second post, in the same delivery; one invoice, no look-up twice
    assert record.status is ExportStatus.EXPORTED and not record.reconciled and record.attempts == 1
    assert len(sa.invoices) == 1
    assert sa.calls == ["by_number", "articles", "buyers", "buyers", "add_buyer", "add", "by_number", "add"]


def test_a_post_booked_but_answered_500_is_reconciled_in_the_same_delivery_not_posted_again(deps, sa) -> None:
    sa.add_answers = ["booked-500"]
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.EXPORTED and record.reconciled and record.smartaccounts.invoice_id == "sa-1"
    assert len(sa.invoices) == 1 and sa.calls.count("add") == 1 and sa.calls[-1] == "by_number"


def test_a_post_booked_but_answered_unreadably_is_read_by_its_number_and_recorded_exported(deps, sa) -> None:
    # Given SmartAccounts books the invoice and answers 200 with a body the client cannot read
    sa.add_answers = ["booked-unreadable"]
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    # Then the invoice is read by its number at once: EXPORTED (reconciled), not FAILED with a format error while it is
    # booked, and no failure is announced
    assert record.status is ExportStatus.EXPORTED and record.reconciled and record.smartaccounts.invoice_id == "sa-1"
    assert len(sa.invoices) == 1 and sa.calls.count("add") == 1 and sa.calls[-1] == "by_number"
    assert deps.events.of_type("InvoiceExportFailed") == []


def test_a_post_answered_unreadably_and_not_booked_fails_with_the_format_error(deps, sa) -> None:
    sa.fail_add = SmartAccountsError(ErrorKind.SCHEMA_MISMATCH, "SmartAccounts answered in an unexpected format.")
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.FAILED and not sa.invoices and sa.calls[-1] == "by_number"


def test_posts_answered_500_stop_after_the_delivery_s_share_and_the_next_delivery_reads_first(deps, sa) -> None:
    sa.add_answers = ["500"] * invoice_export.POSTS_PER_DELIVERY
    with pytest.raises(invoice_export.ExportInterrupted):
        invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert sa.calls.count("add") == invoice_export.POSTS_PER_DELIVERY and not sa.invoices
    sa.calls.clear()
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.EXPORTED and len(sa.invoices) == 1
    assert sa.calls == ["by_number", "add"]  # the buyer and the articles are known from the earlier post


def test_after_a_post_that_timed_out_the_next_delivery_reads_first_and_reuses_the_look_ups(deps, sa, sleeps):
    # Given the post timed out (no answer: it may still be running), so this delivery does not post again
    sa.fail_add = SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts did not answer in time.")
    with pytest.raises(invoice_export.ExportInterrupted):
        invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert sa.calls == ["by_number", "articles", "buyers", "buyers", "add_buyer", "add"]
    pending = deps.exports.get(COMPANY, "inv-1")
    assert pending.posting_started_at is not None and pending.prepared is not None

    # When the message comes back at once (the local stack's fast redelivery) and the invoice is not in SmartAccounts
    sa.fail_add, sa.calls = None, []
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")

    # Then it waited until the unanswered post could no longer land, read first and posted once, without looking the
    # buyer and the articles up again
    assert sleeps == [deps.settings.smartaccounts_write_settle_seconds]
    assert record.status is ExportStatus.EXPORTED and len(sa.invoices) == 1
    assert sa.calls == ["by_number", "add"]


def test_a_delivery_long_after_an_unanswered_post_reads_at_once(deps, sa, sleeps) -> None:
    sa.fail_add = SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts did not answer in time.")
    with pytest.raises(invoice_export.ExportInterrupted):
        invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert deps.exports.get(COMPANY, "inv-1").post_unanswered_at == NOW
    sa.fail_add = None
    later = NOW + dt.timedelta(seconds=deps.settings.smartaccounts_write_settle_seconds)
    deps.now = lambda: later
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert sleeps == [] and record.status is ExportStatus.EXPORTED and len(sa.invoices) == 1


@pytest.mark.parametrize("answer", ["500", "booked-500"])
def test_a_new_buyer_answered_500_is_searched_then_created_only_if_absent_in_the_same_delivery(deps, sa, answer):
    sa.add_buyer_answers = [answer]
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.EXPORTED and len(sa.invoices) == 1
    assert len(sa.buyer_list) == 1 and sa.invoices[0].client_id == sa.buyer_list[0].id
    assert sa.calls.count("add_buyer") == (2 if answer == "500" else 1)
    # after the failed creation one search by the registry code it was created with, not by name as well
    assert sa.calls.count("buyers") == 3


def test_a_buyer_link_that_cannot_be_saved_does_not_stop_the_export(deps, sa) -> None:
    def throttled(*_args):
        raise RuntimeError("ProvisionedThroughputExceededException")

    deps.buyer_links.put = throttled
    record = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.EXPORTED and len(sa.invoices) == 1 and sa.calls.count("add") == 1


def test_a_delivery_without_a_message_id_never_takes_over_a_lease(deps, sa) -> None:
    invoice = parse_invoice_issued(detail())
    invoice_export._claim(deps, invoice)  # held, owner unknown
    with pytest.raises(invoice_export.ExportBusy):
        invoice_export.export_message(deps, message(detail()), final_attempt=False)
    assert sa.adds == 0


def test_two_invoices_of_one_new_uku_client_exported_at_once_create_one_buyer(deps, sa) -> None:
    # Given invoice inv-1's export is creating the buyer in SmartAccounts when invoice inv-2 of the same Uku client
    # is exported by another worker
    second = detail(invoiceId="inv-2", number="A-2")
    seen: dict[str, object] = {}
    create = sa.add_buyer

    def add_buyer_while_another_export_runs(buyer):
        with pytest.raises(invoice_export.ExportBusy) as waiting:
            invoice_export.export_message(deps, message(second, "e2"), final_attempt=False, delivery_id="m2")
        seen["waiting"] = waiting.value
        seen["record"] = deps.exports.get(COMPANY, "inv-2")
        return create(buyer)

    sa.add_buyer = add_buyer_while_another_export_runs
    first = invoice_export.export_message(deps, message(detail()), final_attempt=False, delivery_id="m1")

    # Then inv-2 waited without creating a buyer or posting, saying why, and released its claim
    assert isinstance(seen["waiting"], invoice_export.BuyerBeingCreated)
    waiting_record = seen["record"]
    assert waiting_record.status is ExportStatus.PENDING and not waiting_record.leased(NOW)
    assert "being created in SmartAccounts by the export of invoice 'inv-1'" in waiting_record.message
    assert first.status is ExportStatus.EXPORTED and len(sa.buyer_list) == 1

    # And when inv-2's message comes back it books to the buyer inv-1 created
    again = invoice_export.export_message(deps, message(second, "e2"), final_attempt=False, delivery_id="m2")
    assert again.status is ExportStatus.EXPORTED and len(sa.buyer_list) == 1
    assert {i.client_id for i in sa.invoices} == {sa.buyer_list[0].id} and sa.adds == 2


def test_on_its_last_delivery_an_invoice_still_waiting_for_its_buyer_fails_with_the_reason(deps, sa) -> None:
    deps.buyer_links.claim_creation(COMPANY, detail()["clientId"], "inv-9", NOW + invoice_export.LEASE, NOW)
    record = invoice_export.export_message(deps, message(detail()), final_attempt=True, delivery_id="m1")
    assert record.status is ExportStatus.FAILED and record.reason == "BUYER_BEING_CREATED"
    assert "inv-9" in record.message and "Retry the export" in record.message
    assert sa.buyer_list == [] and sa.adds == 0


def test_duplicates_after_export_change_nothing(deps, sa) -> None:
    first = invoice_export.export_message(deps, message(detail()), final_attempt=False)
    again = invoice_export.export_message(deps, message(detail(), "e2"), final_attempt=False)
    assert sa.adds == 1 and first.status is again.status is ExportStatus.EXPORTED and again.attempts == 1
    assert [t for t, _ in deps.events.events] == ["InvoiceExported"]


def test_an_unknown_outcome_leaves_the_record_pending_then_fails_only_on_the_last_delivery(deps, sa) -> None:
    sa.fail_add = SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).")
    with pytest.raises(invoice_export.ExportInterrupted):
        invoice_export.export_message(deps, message(detail()), final_attempt=False)
    assert deps.exports.get(COMPANY, "inv-1").status is ExportStatus.PENDING

    record = invoice_export.export_message(deps, message(detail()), final_attempt=True)
    assert record.status is ExportStatus.FAILED and record.reason == "SA_UNAVAILABLE"
    assert "looks it up by its number" in record.message
    assert deps.notifications.list(COMPANY)[0].kind.value == "EXPORT_FAILED"
    assert [t for t, _ in deps.events.events] == ["InvoiceExportFailed"]


def test_failing_company_credentials_skip_with_the_reason(deps, sa) -> None:
    record = deps.integrations.get(COMPANY)
    deps.integrations.save(
        record.model_copy(
            update={
                "connection": Connection(
                    status=ConnectionStatus.FAILING, reason="CREDENTIALS_REVOKED", message="revoked"
                )
            }
        )
    )
    skipped = invoice_export.export_message(deps, message(detail()), final_attempt=False)
    assert skipped.status is ExportStatus.SKIPPED and skipped.reason == "CREDENTIALS_FAILING"
    assert sa.calls_made == 0


def _credit() -> dict:
    lines = [{"description": "Refund", "quantity": 1, "unitPrice": "10.00", "vatTypeCode": "VAT24",
              "articleCode": "SERVICE"}]
    totals = {"net": "10.00", "vat": "2.40", "gross": "12.40"}
    return detail(invoiceId="cre-1", number="2026-0043", kind="credit", originalInvoiceId="inv-1", lines=lines,
                  totals=totals)


def test_a_credit_invoice_arriving_before_its_original_waits_for_it_then_is_linked(deps, sa) -> None:
    # Given the credit invoice's event arrives before its original's (events come in any order)
    with pytest.raises(invoice_export.WaitingForOriginal):
        invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=False)
    waiting = deps.exports.get(COMPANY, "cre-1")
    assert waiting.status is ExportStatus.PENDING and not waiting.leased(NOW) and "inv-1" in waiting.message
    assert sa.calls_made == 1 and sa.adds == 0  # the VAT register's first import only: no invoice call spent

    # When the original is exported and the credit comes back
    invoice_export.export_message(deps, message(detail()), final_attempt=False)
    credit = invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=False)

    # Then the credit is booked once, linked to the original's SmartAccounts invoice
    assert credit.status is ExportStatus.EXPORTED and sa.adds == 2
    assert sa.invoices[1].type == "CRE" and sa.invoices[1].base_for_credit_invoice_id == "sa-1"


def test_a_credit_invoice_whose_original_is_being_exported_keeps_waiting_past_its_last_delivery(deps, sa) -> None:
    # Given the credit invoice's own deliveries are used up while its original is being exported (claimed, PENDING)
    invoice_export._claim(deps, parse_invoice_issued(detail()), "m0")
    with pytest.raises(invoice_export.WaitingForOriginal):
        invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=False, delivery_id="m1")
    record = invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=True, delivery_id="m1")

    # Then this message is acknowledged, the record waits (no lease) and the wait goes on in a delayed retry message
    assert record.status is ExportStatus.PENDING and not record.leased(NOW) and "Waiting for the original" in (
        record.message or ""
    )
    assert [json.loads(b) for b in deps.export_queue.sent] == [
        {"retry": {"companyId": COMPANY, "invoiceId": record.invoice_id}}
    ]
    assert deps.export_queue.delays == [deps.settings.export_wait_requeue_seconds] and sa.adds == 0


def test_a_credit_invoice_whose_original_never_came_fails_on_the_last_delivery(deps, sa) -> None:
    with pytest.raises(invoice_export.WaitingForOriginal):
        invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=False, delivery_id="m1")
    record = invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=True, delivery_id="m1")
    assert record.status is ExportStatus.FAILED and record.reason == "ORIGINAL_NOT_EXPORTED"
    assert sa.adds == 0 and deps.export_queue.sent == []


def test_a_credit_invoice_whose_original_stays_pending_fails_once_the_wait_is_over(deps, sa) -> None:
    invoice_export._claim(deps, parse_invoice_issued(detail()), "m0")
    with pytest.raises(invoice_export.WaitingForOriginal):
        invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=False, delivery_id="m1")
    later = NOW + invoice_export.ORIGINAL_WAIT
    deps.now = lambda: later
    record = invoice_export.export_message(deps, message(_credit(), "e2"), final_attempt=False, delivery_id="m1")
    assert record.status is ExportStatus.FAILED and record.reason == "ORIGINAL_NOT_EXPORTED"
    assert sa.adds == 0 and deps.export_queue.sent == []


def test_an_internal_error_after_the_claim_releases_the_lease_and_the_next_delivery_reconciles(deps, sa) -> None:
    # Given DynamoDB refuses the write of the outcome after SmartAccounts booked the invoice
    fail_one_save(deps, lambda record: record.status is ExportStatus.EXPORTED)
    with pytest.raises(RuntimeError):
        invoice_export.export_message(deps, message(detail()), final_attempt=False)

    # Then the record is PENDING without a lease, saying why, so the next delivery need not wait for the lease
    pending = deps.exports.get(COMPANY, "inv-1")
    assert pending.status is ExportStatus.PENDING and not pending.leased(NOW) and "internal error" in pending.message
    record = invoice_export.export_message(deps, message(detail(), "e2"), final_attempt=False)
    assert record.status is ExportStatus.EXPORTED and record.reconciled and sa.adds == 1


def test_an_internal_error_on_the_last_delivery_is_raised_so_the_message_is_dead_lettered(deps, sa) -> None:
    """docs/operations.md (ExportDeadLetterAlarm): not only a message naming no invoice reaches the export DLQ; an
    unexpected error on the last delivery is raised too (not recorded FAILED), the record left PENDING to redrive."""
    fail_one_save(deps, lambda record: record.status is ExportStatus.EXPORTED)
    with pytest.raises(RuntimeError):
        invoice_export.export_message(deps, message(detail()), final_attempt=True)

    pending = deps.exports.get(COMPANY, "inv-1")
    assert pending.status is ExportStatus.PENDING and "internal error" in pending.message


def test_a_write_refused_while_recording_a_passing_failure_still_releases_the_lease(deps, sa) -> None:
    # Given SmartAccounts answers 5xx to the post and DynamoDB refuses the "waiting to try again" write once
    sa.fail_add = SmartAccountsError(ErrorKind.UNAVAILABLE, "SmartAccounts is unavailable (HTTP 500).")
    fail_one_save(deps, lambda record: bool(record.message and record.message.startswith("Waiting")))
    with pytest.raises(RuntimeError):
        invoice_export.export_message(deps, message(detail()), final_attempt=False)

    # Then the lease is released all the same, and the next delivery reads first and posts once
    assert not deps.exports.get(COMPANY, "inv-1").leased(NOW)
    sa.fail_add = None
    record = invoice_export.export_message(deps, message(detail(), "e2"), final_attempt=False)
    assert record.status is ExportStatus.EXPORTED and sa.adds == 1


def test_a_message_without_company_or_invoice_is_unreadable(deps) -> None:
    with pytest.raises(invoice_export.UnreadableEvent):
        invoice_export.export_message(deps, message({"number": "1"}), final_attempt=False)


def test_a_message_without_company_or_invoice_is_dead_lettered_at_once_with_its_reason(deps) -> None:
    dead = InMemoryDeadLetters()
    body = message({"number": "1"})
    assert invoice_export.export_message(deps, body, final_attempt=False, delivery_id="m1", dead_letters=dead) is None
    [sent] = dead.sent
    assert sent["body"] == body and sent["source"] == "export-queue" and sent["message_id"] == "m1"
    assert "without companyId or invoiceId" in sent["reason"]


@pytest.mark.parametrize("invoice_id", ["INV/2026/7", "INV#7", "inv 7", "../inv-7", "x" * 65])
def test_an_invoice_whose_id_is_not_an_identifier_is_refused_visibly_and_never_exported(
    deps, sa, invoice_id: str
) -> None:
    # Given Uku's InvoiceIssued for an invoice whose id has a '/', '#', a space, a path trick or is too long
    dead = InMemoryDeadLetters()
    body = message(detail(invoiceId=invoice_id))

    # When the export worker takes it
    refused = invoice_export.export_message(deps, body, final_attempt=False, delivery_id="m1", dead_letters=dead)

    # Then nothing reaches SmartAccounts and no export record is kept under that id (the API could never read it)
    assert sa.calls_made == 0 and sa.adds == 0
    assert deps.exports.get(COMPANY, invoice_id) is None
    assert refused is not None and refused.status is ExportStatus.FAILED and refused.reason == "INVALID_EVENT"
    # And the failure is published and notified in plain words, naming the field, never the other ids
    [event] = deps.events.of_type(invoice_export.INVOICE_EXPORT_FAILED)
    assert event["companyId"] == COMPANY and event["invoiceId"] == invoice_id and event["errorKind"] == "INVALID_EVENT"
    assert event["message"].startswith("Uku's InvoiceIssued event is not valid: invoiceId: not an identifier")
    assert "Nothing was exported" in event["message"] and "publish the invoice again" in event["message"]
    [note] = deps.notifications.list(COMPANY)
    assert note.title == "Invoice not exported to SmartAccounts" and "not an identifier" in note.message
    # And the message is dead-lettered at once with the reason
    [sent] = dead.sent
    assert sent["body"] == body and sent["message_id"] == "m1" and "invoiceId: not an identifier" in sent["reason"]


def test_a_credit_whose_original_invoice_id_is_not_an_identifier_is_a_failed_record(deps, sa) -> None:
    # Given a credit invoice naming its original by an id with a '/'
    credit = detail(invoiceId="cred-1", kind="credit", originalInvoiceId="INV/2026/7")
    # When it is exported
    dead = InMemoryDeadLetters()
    record = invoice_export.export_message(deps, message(credit), final_attempt=False, dead_letters=dead)
    # Then it is recorded FAILED under its own (valid) id with the reason, readable and announced; nothing is posted
    assert sa.adds == 0
    assert record.status is ExportStatus.FAILED and record.reason == "INVALID_EVENT"
    assert "originalInvoiceId: not an identifier" in record.message
    assert deps.exports.get(COMPANY, "cred-1").status is ExportStatus.FAILED
    assert [e["invoiceId"] for e in deps.events.of_type(invoice_export.INVOICE_EXPORT_FAILED)] == ["cred-1"]
    assert dead.sent == []


def test_an_invoice_exported_under_such_an_id_before_ids_were_checked_stays_as_it_is(deps, sa) -> None:
    # Given an invoice id outside the pattern exported before the check (the stored invoice still loads)
    old = parse_invoice_issued(detail()).model_copy(update={"invoice_id": "INV/7"})
    exported = invoice_export.export_invoice(deps, old)
    assert exported.status is ExportStatus.EXPORTED and deps.exports.get(COMPANY, "INV/7") is not None
    # When Uku publishes it again
    dead = InMemoryDeadLetters()
    body = message(detail(invoiceId="INV/7"))
    again = invoice_export.export_message(deps, body, final_attempt=False, dead_letters=dead)
    # Then it stays exported: no failure is announced, nothing posted, nothing dead-lettered
    assert again.status is ExportStatus.EXPORTED and sa.adds == 1
    assert deps.events.of_type(invoice_export.INVOICE_EXPORT_FAILED) == [] and dead.sent == []


def test_paid_status_run_uses_one_query_and_publishes_changes(deps, sa) -> None:
    invoice_export.export_message(deps, message(detail()), final_attempt=False)
    booked = sa.invoices[0]
    sa.invoices[0] = booked.model_copy(update={"outstanding_amount": Decimal(0)})
    calls = sa.calls_made

    run = payment_status.refresh_company(deps, COMPANY)

    assert sa.calls_made - calls == 1 and run.changed == ["inv-1"]
    record = deps.exports.get(COMPANY, "inv-1")
    assert record.payment.status is PaymentStatus.PAID and record.payment.outstanding == 0
    (changed,) = deps.events.of_type("InvoicePaymentStatusChanged")
    assert (changed["status"], changed["previousStatus"], changed["outstandingAmount"]) == ("PAID", "UNPAID", 0.0)
    # And a paid invoice is not asked about again
    assert payment_status.refresh_company(deps, COMPANY).checked == 0


def test_a_copy_is_known_to_be_held_elsewhere_only_when_another_message_claimed_the_invoice(deps) -> None:
    body = message(detail())
    assert not invoice_export.held_by_another_message(deps, body, "m2")  # nobody claimed it yet: it comes back
    invoice_export._claim(deps, parse_invoice_issued(detail()), "m1")
    assert invoice_export.held_by_another_message(deps, body, "m2")  # another message holds it: acknowledged
    assert not invoice_export.held_by_another_message(deps, body, "m1")  # the same message twice: it comes back
    assert not invoice_export.held_by_another_message(deps, "not json", "m2")


def test_a_copy_is_not_acknowledged_for_a_claim_that_ended(deps) -> None:
    # Given an export of message m1 that ended (failed: its lease given back), the record still naming m1
    body = message(detail())
    claimed, _ = invoice_export._claim(deps, parse_invoice_issued(detail()), "m1")
    deps.exports.save(claimed.model_copy(update={"status": ExportStatus.FAILED, "lease_until": None}))
    # When the event's copy m2 finds its idempotency record in progress (a copy of it in another worker that has not
    # claimed the invoice yet, or its own first write applied with the answer lost), nobody holds the invoice: m2 must
    # come back rather than be acknowledged (it may be the only message left to export the invoice)
    assert not invoice_export.held_by_another_message(deps, body, "m2")
    # And with the lease run out as well
    deps.exports.save(
        deps.exports.get(COMPANY, "inv-1").model_copy(
            update={"status": ExportStatus.PENDING, "lease_until": deps.now() - dt.timedelta(seconds=1)}
        )
    )
    assert not invoice_export.held_by_another_message(deps, body, "m2")
