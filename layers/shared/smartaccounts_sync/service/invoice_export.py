"""Invoice export Uku -> SmartAccounts, exactly once.

How an invoice is never created twice, whatever happens:

1. **Claim.** A worker first claims the invoice's export record with a conditional write (PENDING with a lease).
   Of two workers at once only one claim succeeds; the other sees a live lease and its message comes back later
   (`ExportBusy`), or sees EXPORTED and stops.
2. **Read before writing.** The claimed worker looks the invoice up in SmartAccounts by its number before
   creating anything, so a crash after SmartAccounts accepted an earlier attempt (and before the record was
   written) is reconciled by reading: the record becomes EXPORTED with `reconciled: true`, nothing is posted.
3. **Never re-post blindly.** `posting_started_at` is written before the post. A post answered 500 (SmartAccounts
   has finished with it) is followed at once by the read of 2, and posted again only when the invoice is not there;
   a post answered 2xx with a body that cannot be read is read at once too (booked: EXPORTED, reconciled). A post
   whose outcome is otherwise unknown (time-out, lost connection, a gateway's 502/504: it may still be running)
   leaves the record PENDING and the message is delivered again, which starts at 2.
4. Powertools idempotency (in the handler) makes a redelivery of the same message a no-op on top.

What waits for the customer (integration disabled, no working credentials, unknown VAT type, no article,
SmartAccounts refusing the invoice) is a SKIPPED or FAILED record with the reason, not a message bouncing on the
queue; `retry` sends it again once the cause is fixed.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from smartaccounts_sync.domain.identifiers import is_identifier
from smartaccounts_sync.domain.invoice_export import (
    ExportRecord,
    ExportRefused,
    ExportStatus,
    FailureKind,
    PaymentStatus,
    PreparedPost,
    SkipReason,
    SmartAccountsInvoice,
    check_totals,
    check_vat_codes,
    next_payment_state,
    plan_rows,
    split_address,
)
from smartaccounts_sync.domain.invoice_issued import InvalidEvent, InvoiceIssued, parse_invoice_issued
from smartaccounts_sync.domain.sync_records import NotificationKind
from smartaccounts_sync.errors import Conflict, NotFound
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service import vat_types
from smartaccounts_sync.service.connection import CREDENTIAL_FAILURES, connection_failed, credentials_failing
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.notifications import notify, publish
from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models.buyers import Address, Contact, NewBuyer
from smartaccounts_sync.smartaccounts.models.invoices import ClientInvoice
from smartaccounts_sync.smartaccounts.models.posting import CreatedClientInvoice, NewClientInvoice, NewClientInvoiceRow
from smartaccounts_sync.troubleshooting import explain

if TYPE_CHECKING:
    from smartaccounts_sync.adapters.dead_letters import DeadLetters
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: only where a client is made

INVOICE_EXPORTED = "InvoiceExported"
INVOICE_EXPORT_FAILED = "InvoiceExportFailed"
INVOICE_PAYMENT_STATUS_CHANGED = "InvoicePaymentStatusChanged"

#: How long a claim holds an invoice: longer than the export function's timeout (120 s).
LEASE = dt.timedelta(seconds=180)
_CLAIM_TRIES = 3
#: Posts of one invoice in one delivery. SmartAccounts answering 500 to a post has finished with it (it may have
#: booked the invoice before failing): the invoice is read by its number at once and, when absent, posted again.
#: Any other unknown outcome (a time-out, a lost connection, a gateway's 502/504: the post may still be running)
#: waits for the next delivery, which reads first.
POSTS_PER_DELIVERY = 3
#: How long a credit invoice waits for its original to be exported (Uku's events may arrive in any order): counted
#: from its first attempt, not in deliveries, so how fast messages come back does not decide the outcome.
ORIGINAL_WAIT = dt.timedelta(hours=1)
_sleep = time.sleep  # replaced in unit tests


class ExportBusy(Exception):
    """Another worker holds the invoice's lease right now: handle this message again later."""


class WaitingForOriginal(ExportBusy):
    """A credit invoice whose original is not exported yet (events may arrive out of order): handle it later.
    `requeued`: the wait goes on in a new message (this one's deliveries are used up), so this one is acknowledged."""

    def __init__(self, invoice_id: str, *, requeued: bool = False) -> None:
        super().__init__(invoice_id)
        self.requeued = requeued


class BuyerBeingCreated(ExportBusy):
    """Another invoice of the same new Uku client is creating its buyer in SmartAccounts right now: handle it later
    (the buyer is then linked, and this invoice uses it)."""

    def __init__(self, invoice_id: str, creator: str) -> None:
        super().__init__(invoice_id)
        self.creator = creator


class ExportInterrupted(Exception):
    """SmartAccounts could not be reached, or may have the invoice: the next delivery reconciles by reading."""


class UnreadableEvent(Exception):
    """A message that names no company or invoice: nowhere to record it, so it goes to the dead-letter queue (raised
    when no dead-letter queue is configured to take it at once: SQS's own redrive takes it after its receives)."""


# --- entry points -------------------------------------------------------------------------------------------------


def export_message(
    deps: Dependencies,
    body: str,
    *,
    final_attempt: bool,
    delivery_id: str | None = None,
    dead_letters: DeadLetters | None = None,
) -> ExportRecord | None:
    """One message of the export queue: an `InvoiceIssued` event (through the EventBridge rule) or a retry.

    `delivery_id` is the SQS message id: the claim is made in its name, so a later delivery of the same message
    takes over a lease that an earlier delivery left behind (`ExportRecord.leased_to_another`). A message that can
    never be exported goes to `dead_letters` at once with its reason (`UnreadableEvent` without them): one that names
    no company or invoice, and an invoice whose ids are not identifiers (announced first: `refuse_unkeyed`)."""
    try:
        message = json.loads(body)
    except ValueError:
        return _dead_letter(body, "invalid body: not JSON", delivery_id, dead_letters)
    if isinstance(message, dict) and isinstance(message.get("retry"), dict):
        retry = message["retry"]
        return export_stored(
            deps, str(retry.get("companyId")), str(retry.get("invoiceId")), final_attempt, delivery_id
        )
    detail = message.get("detail") if isinstance(message, dict) else None
    try:
        invoice = parse_invoice_issued(detail)
    except InvalidEvent as invalid:
        if not invalid.company_id or not invalid.invoice_id:
            reason = f"invalid InvoiceIssued without companyId or invoiceId: {invalid.reason}"
            return _dead_letter(body, reason, delivery_id, dead_letters)
        if not invalid.keyed:
            return refuse_unkeyed(deps, invalid, body, delivery_id, dead_letters)
        return record_invalid(deps, invalid, delivery_id)
    return export_invoice(deps, invoice, final_attempt=final_attempt, delivery_id=delivery_id)


def _dead_letter(body: str, reason: str, delivery_id: str | None, dead_letters: DeadLetters | None) -> None:
    """A message that can never be exported: dead-lettered at once with its reason (`service/intake.py` `rejected`:
    the `MessagesRejected` metric, an error log with the message id, the reason on the message), so it does not wait
    out the queue's receives; without a dead-letter queue it fails, and SQS's redrive dead-letters it."""
    if dead_letters is None:
        raise UnreadableEvent(reason)
    from smartaccounts_sync.service import intake  # the rare path: not loaded by every cold start

    intake.rejected(dead_letters, body, source="export-queue", reason=reason, message_id=delivery_id)


def refuse_unkeyed(
    deps: Dependencies,
    invalid: InvalidEvent,
    body: str,
    delivery_id: str | None = None,
    dead_letters: DeadLetters | None = None,
) -> ExportRecord | None:
    """An `InvoiceIssued` whose `invoiceId` (or `companyId`) is not an identifier: nothing of it is exported and no
    export record is kept under that id (it could never be read or retried through the API, whose path check refuses
    it). The failure is announced as any other (`InvoiceExportFailed` and the company's notification, when the
    company id is one), then the message is dead-lettered with the reason. An invoice already exported under that id
    (before ids were checked) stays as it is and nothing is announced."""
    assert invalid.company_id and invalid.invoice_id  # noqa: S101 - checked by the caller
    reason = f"invalid InvoiceIssued: {invalid.reason}"
    if not is_identifier(invalid.company_id):
        return _dead_letter(body, reason, delivery_id, dead_letters)
    current = deps.exports.get(invalid.company_id, invalid.invoice_id)
    if current is not None and current.status is ExportStatus.EXPORTED:
        logger.warning("InvoiceIssued whose invoice id is not an identifier, exported before: kept as it is")
        return current
    now = deps.now()
    refused = ExportRecord(  # announced, never saved
        company_id=invalid.company_id,
        invoice_id=invalid.invoice_id,
        number=invalid.number,
        status=ExportStatus.FAILED,
        reason=FailureKind.INVALID_EVENT.value,
        message=(
            f"Uku's InvoiceIssued event is not valid: {invalid.reason}. Nothing was exported to SmartAccounts and no "
            "export record was kept: the service could never read or retry an export under this invoice id. Uku has "
            "to publish the invoice again with a valid invoiceId."
        ),
        attempts=1,
        created_at=now,
        updated_at=now,
    )
    _announce_failure(deps, refused)
    _dead_letter(body, reason, delivery_id, dead_letters)
    return refused


def held_by_another_message(deps: Dependencies, body: str, message_id: str) -> bool:
    """True when the invoice of an `InvoiceIssued` message is claimed, with a lease still running, in the name of
    another SQS message: that message stays on the queue until its worker finishes (and comes back if it fails), so
    this copy may be acknowledged. False when unknown, claimed by this same message (SQS may hand one message to two
    workers), or when the claim ended (exported, failed, or its lease run out): the record then names a message
    nobody is working on, and this copy may be the only one left (its idempotency record found in progress by a copy
    that has not claimed the invoice yet, or by its own first write, applied with the answer lost)."""
    try:
        detail = json.loads(body).get("detail") or {}
        record = deps.exports.get(str(detail["companyId"]), str(detail["invoiceId"]))
    except (ValueError, AttributeError, KeyError, TypeError):
        return False
    return record is not None and record.lease_owner is not None and record.leased_to_another(deps.now(), message_id)


def export_stored(
    deps: Dependencies, company_id: str, invoice_id: str, final_attempt: bool, delivery_id: str | None = None
) -> ExportRecord | None:
    record = deps.exports.get(company_id, invoice_id)
    if record is None or record.invoice is None:
        logger.warning("retry of an export without a stored invoice ignored", extra={"invoice_id": invoice_id})
        return record
    return export_invoice(deps, record.invoice, final_attempt=final_attempt, delivery_id=delivery_id)


def record_invalid(deps: Dependencies, invalid: InvalidEvent, delivery_id: str | None = None) -> ExportRecord:
    """An event that does not validate: a FAILED record with the reason (unless the invoice is already exported)."""
    assert invalid.company_id and invalid.invoice_id  # noqa: S101 - checked by the caller
    now = deps.now()
    for _ in range(_CLAIM_TRIES):
        current = deps.exports.get(invalid.company_id, invalid.invoice_id)
        if current is not None and (
            current.status is ExportStatus.EXPORTED or current.leased_to_another(now, delivery_id)
        ):
            return current
        base = current or ExportRecord(
            company_id=invalid.company_id, invoice_id=invalid.invoice_id, created_at=now, updated_at=now
        )
        failed = base.model_copy(
            update={
                "number": invalid.number or base.number,
                "status": ExportStatus.FAILED,
                "reason": FailureKind.INVALID_EVENT.value,
                "message": f"Uku's InvoiceIssued event is not valid: {invalid.reason}",
                "smartaccounts_messages": [],
                "attempts": base.attempts + 1,
                "updated_at": now,
                "lease_until": None,
                "invoice": None,  # Uku's latest word on this invoice is invalid: nothing stale is sent on a retry
            }
        )
        try:
            saved = deps.exports.save(failed)
        except Conflict:
            continue
        _announce_failure(deps, saved)
        return saved
    raise ExportBusy(invalid.invoice_id)


def retry(deps: Dependencies, company_id: str, invoice_id: str) -> ExportRecord:
    """`POST /invoices/{id}/export/retry`: queues the stored invoice again (the worker reads before it writes)."""
    record = get_record(deps, company_id, invoice_id)
    if record.status is ExportStatus.EXPORTED:
        raise Conflict(f"Invoice {record.number or invoice_id} is already in SmartAccounts; it is not sent again.")
    if record.leased(deps.now()):
        raise Conflict(f"Invoice {record.number or invoice_id} is being exported right now.")
    if record.invoice is None:
        raise Conflict(
            "Uku's InvoiceIssued event for this invoice was not valid, so there is nothing to send again; "
            "Uku has to publish the invoice again."
        )
    deps.export_queue.send(json.dumps({"retry": {"companyId": company_id, "invoiceId": invoice_id}}))
    return record


def get_record(deps: Dependencies, company_id: str, invoice_id: str) -> ExportRecord:
    record = deps.exports.get(company_id, invoice_id)
    if record is None:
        raise NotFound(f"Invoice {invoice_id!r} has not been sent for export (no InvoiceIssued event received).")
    return record


# --- the export -------------------------------------------------------------------------------------------------


def export_invoice(
    deps: Dependencies, invoice: InvoiceIssued, *, final_attempt: bool = False, delivery_id: str | None = None
) -> ExportRecord:
    record, claimed = _claim(deps, invoice, delivery_id)
    if not claimed:
        if record.status is ExportStatus.EXPORTED or final_attempt:
            # on the last delivery: the worker holding the lease is another message's, which stays on the queue
            # until that worker finishes (or comes back, and takes its own lease over)
            return record
        raise ExportBusy(invoice.invoice_id)
    try:
        try:
            with deps.serve(invoice.company_id):  # the firm's own company credentials, reachable for it only
                return _export_claimed(deps, record, invoice, final_attempt)
        except ExportRefused as refused:
            return _finish_failed(deps, _latest(deps, record), refused.kind, refused.message)
        except SmartAccountsError as error:
            return _on_smartaccounts_error(deps, _latest(deps, record), error, final_attempt)
    except WaitingForOriginal as waiting:
        if waiting.requeued:
            return _latest(deps, record)
        raise
    except (ExportBusy, ExportInterrupted):  # waiting for the buyer, or for SmartAccounts; the lease was released
        raise
    except Exception:
        # e.g. DynamoDB throttled a write: nobody works on the invoice any more, so the lease is released (the next
        # delivery reads SmartAccounts before it writes) and the record says why it waits
        _release_after_error(deps, record)
        raise


def _release_after_error(deps: Dependencies, record: ExportRecord) -> None:
    try:
        current = _latest(deps, record)
        if current.status is ExportStatus.PENDING and current.lease_until == record.lease_until:
            deps.exports.save(
                current.model_copy(
                    update={
                        "message": "Interrupted by an internal error; the next attempt checks SmartAccounts first.",
                        "updated_at": deps.now(),
                        "lease_until": None,
                    }
                )
            )
    except Exception:  # noqa: BLE001 - best effort: the lease then runs out by itself (LEASE)
        logger.exception("export lease not released after an error")


def _claim(deps: Dependencies, invoice: InvoiceIssued, delivery_id: str | None = None) -> tuple[ExportRecord, bool]:
    now = deps.now()
    for _ in range(_CLAIM_TRIES):
        current = deps.exports.get(invoice.company_id, invoice.invoice_id)
        if current is not None and (
            current.status is ExportStatus.EXPORTED or current.leased_to_another(now, delivery_id)
        ):
            return current, False
        if current is not None and current.leased(now):
            logger.warning(
                "an earlier delivery of this message left the invoice's lease behind; it is taken over",
                extra={"invoice_id": invoice.invoice_id},
            )
        base = current or ExportRecord(
            company_id=invoice.company_id, invoice_id=invoice.invoice_id, created_at=now, updated_at=now
        )
        claim = base.model_copy(
            update={
                "number": invoice.number,
                "kind": invoice.kind,
                "status": ExportStatus.PENDING,
                "reason": None,
                "message": None,
                "smartaccounts_messages": [],
                "attempts": base.attempts + 1,
                "updated_at": now,
                "lease_until": now + LEASE,
                "lease_owner": delivery_id,
                "invoice": invoice,
            }
        )
        try:
            return deps.exports.save(claim), True
        except Conflict:
            continue
    current = deps.exports.get(invoice.company_id, invoice.invoice_id)
    assert current is not None  # noqa: S101 - a conflict means someone wrote it
    return current, False


def _latest(deps: Dependencies, record: ExportRecord) -> ExportRecord:
    return deps.exports.get(record.company_id, record.invoice_id) or record


def _export_claimed(
    deps: Dependencies, record: ExportRecord, invoice: InvoiceIssued, final_attempt: bool
) -> ExportRecord:
    integration = deps.integrations.get(invoice.company_id)
    if not integration.enabled:
        return _finish_skipped(
            deps, record, SkipReason.INTEGRATION_DISABLED, "The SmartAccounts integration is disabled for this company."
        )
    if integration.credentials is None:
        return _finish_skipped(
            deps, record, SkipReason.NOT_CONNECTED, "No SmartAccounts credentials are saved for this company."
        )
    if credentials_failing(integration.connection):
        return _finish_skipped(
            deps,
            record,
            SkipReason.CREDENTIALS_FAILING,
            f"The company's SmartAccounts credentials are failing: {integration.connection.message}",
        )
    stored = integration.credentials
    client = deps.smartaccounts(deps.credentials.load(stored.secret_name, stored.saved_at), None)
    register = deps.vat_types.get(invoice.company_id) or vat_types.import_register(deps, invoice.company_id, client)
    if record.posting_started_at is None:
        check_vat_codes(invoice, register)  # nothing was ever posted: refuse without spending a call
    base_id = _credited_original(deps, record, invoice, final_attempt)  # before any call: a credit waits for it

    _settle(deps, record)
    existing = client.client_invoice_by_number(invoice.number, invoice.issue_date)
    if existing is not None:
        logger.info(
            "invoice found already booked in SmartAccounts; reconciled", extra={"invoice_id": record.invoice_id}
        )
        return _finish_exported(deps, record, invoice, _booked(existing), reconciled=True)
    check_vat_codes(invoice, register)

    # an earlier post of this invoice that is not in SmartAccounts: its look-ups are not made again
    prepared = record.prepared if record.posting_started_at is not None else None
    default_article = integration.settings.default_article_code if integration.settings else None
    articles = set(prepared.article_codes) if prepared else {article.code for article in client.articles()}
    rows = plan_rows(invoice, register, articles, default_article)
    buyer_id = prepared.buyer_id if prepared else _buyer_or_wait(deps, client, record, invoice, final_attempt)
    address = split_address(invoice.buyer.address)
    warnings = (
        ["The buyer's address was shortened to SmartAccounts' two lines of 64 characters."]
        if (address and address.shortened)
        else []
    )

    now = deps.now()
    posting = deps.exports.save(
        record.model_copy(
            update={
                "posting_started_at": now,
                "updated_at": now,
                "prepared": PreparedPost(buyer_id=buyer_id, article_codes=sorted(articles)),
            }
        )
    )
    new_invoice = _new_invoice(invoice, rows, buyer_id, base_id)
    for post in range(1, POSTS_PER_DELIVERY + 1):
        try:
            created = client.add_client_invoice(new_invoice)
        except SmartAccountsError as error:
            if error.kind is ErrorKind.SCHEMA_MISMATCH:
                # answered 2xx with a body that cannot be read: it was booked or refused, so it is read now
                existing = client.client_invoice_by_number(invoice.number, invoice.issue_date)
                if existing is not None:
                    logger.warning(
                        "SmartAccounts' answer to the post could not be read; the invoice was found booked",
                        extra={"invoice_id": record.invoice_id},
                    )
                    return _finish_exported(deps, posting, invoice, _booked(existing), reconciled=True)
                raise
            if error.status != 500 or post == POSTS_PER_DELIVERY:
                raise
            logger.warning(
                "SmartAccounts answered 500 to the post; it is read before anything is posted again",
                extra={"invoice_id": record.invoice_id, "post": post},
            )
            existing = client.client_invoice_by_number(invoice.number, invoice.issue_date)
            if existing is not None:
                return _finish_exported(deps, posting, invoice, _booked(existing), reconciled=True)
            continue
        return _finish_exported(
            deps, posting, invoice, _created(created, buyer_id), reconciled=False, warnings=warnings
        )
    raise AssertionError("unreachable")  # pragma: no cover - the last post returns or raises


def _settle(deps: Dependencies, record: ExportRecord) -> None:
    """After a post given up on without an answer (a time-out, a lost connection: SmartAccounts may still be carrying
    it out), the invoice is not read back before `smartaccounts_write_settle_seconds` have passed since: a read that
    came first could miss it, and the invoice would be posted twice."""
    if record.posting_started_at is None:
        return
    settle = deps.settings.smartaccounts_write_settle_seconds
    since = record.post_unanswered_at or record.posting_started_at
    wait = (since + dt.timedelta(seconds=settle) - deps.now()).total_seconds()
    if wait > 0:
        logger.info(
            "an unanswered post may still be carried out: waiting before reading",
            extra={"invoice_id": record.invoice_id, "wait_seconds": round(wait, 1)},
        )
        _sleep(min(wait, settle))


def _credited_original(
    deps: Dependencies, record: ExportRecord, invoice: InvoiceIssued, final_attempt: bool
) -> str | None:
    """The SmartAccounts id of the credited original. An original not received yet is waited for (Uku's events may
    arrive in any order) while the message comes back, until its last delivery. One received and still being
    exported is waited for `ORIGINAL_WAIT` from the credit invoice's first attempt: when the credit's last delivery
    comes first, the wait goes on in a new message, so how fast messages come back does not decide the outcome. An
    original that failed or was skipped is a refusal at once."""
    if not invoice.is_credit:
        return None
    original = deps.exports.get(invoice.company_id, invoice.original_invoice_id or "")
    being_exported = original is not None and original.status is ExportStatus.PENDING
    waiting = (original is None and not final_attempt) or (
        being_exported and deps.now() - record.created_at < ORIGINAL_WAIT
    )
    if waiting:
        _save_outcome(
            deps,
            record.model_copy(
                update={
                    "message": f"Waiting for the original invoice {invoice.original_invoice_id!r} to be exported "
                    "first.",
                    "updated_at": deps.now(),
                    "lease_until": None,
                }
            ),
        )
        if final_attempt:  # the original is being exported: the wait goes on in a new message
            retry_message = {"retry": {"companyId": invoice.company_id, "invoiceId": invoice.invoice_id}}
            deps.export_queue.send(json.dumps(retry_message), deps.settings.export_wait_requeue_seconds)
            raise WaitingForOriginal(invoice.invoice_id, requeued=True)
        raise WaitingForOriginal(invoice.invoice_id)
    if original is None or original.status is not ExportStatus.EXPORTED or original.smartaccounts is None:
        raise ExportRefused(
            FailureKind.ORIGINAL_NOT_EXPORTED,
            f"This credit invoice corrects invoice {invoice.original_invoice_id!r}, which was not exported to "
            "SmartAccounts. Export the original first, then retry this credit invoice.",
        )
    return original.smartaccounts.invoice_id


def _buyer_or_wait(
    deps: Dependencies, client: SmartAccountsClient, record: ExportRecord, invoice: InvoiceIssued, final_attempt: bool
) -> str:
    try:
        return _buyer(deps, client, invoice)
    except BuyerBeingCreated as busy:
        message = (
            f"The buyer {invoice.buyer.name!r} is being created in SmartAccounts by the export of invoice "
            f"{busy.creator!r} at this moment."
        )
        if final_attempt:
            retry_it = f"{message} Retry the export of this invoice."
            raise ExportRefused(FailureKind.BUYER_BEING_CREATED, retry_it) from None
        _save_outcome(
            deps,
            record.model_copy(
                update={"message": f"{message} Waiting for it.", "updated_at": deps.now(), "lease_until": None}
            ),
        )
        raise


def _buyer(deps: Dependencies, client: SmartAccountsClient, invoice: InvoiceIssued) -> str:
    """The SmartAccounts client: remembered for the Uku client, else by registry code, else exact name, else new.

    A new buyer is created under a claim on the Uku client's buyer link, so two invoices of one new Uku client
    exported at the same moment create it once: the second waits (`BuyerBeingCreated`) and then uses the link.
    A creation answered 500 (SmartAccounts has finished with it, and may have created the buyer) is followed by the
    same search and, when the buyer is not there, created again (at most `POSTS_PER_DELIVERY` creations)."""
    remembered = deps.buyer_links.get(invoice.company_id, invoice.client_id)
    if remembered:
        return remembered
    found = _find_buyer(client, invoice)
    if found is None:
        now = deps.now()
        claim = deps.buyer_links.claim_creation(
            invoice.company_id, invoice.client_id, invoice.invoice_id, now + LEASE, now
        )
        if claim.linked:
            return claim.linked
        if not claim.granted:
            raise BuyerBeingCreated(invoice.invoice_id, claim.holder or "another invoice")
    for creation in range(1, POSTS_PER_DELIVERY + 1):
        if found is not None:
            break
        try:
            found = client.add_buyer(_new_buyer(invoice)).client_id
        except SmartAccountsError as error:
            if error.status != 500 or creation == POSTS_PER_DELIVERY:
                raise
            logger.warning("SmartAccounts answered 500 to a new buyer; it is searched before it is created again")
            found = _find_buyer(client, invoice, as_created=True)
    assert found is not None  # noqa: S101 - the loop returns a buyer or raises
    try:
        deps.buyer_links.put(invoice.company_id, invoice.client_id, found)
    except Exception:  # noqa: BLE001 - the link only saves the next invoice's search; this one has its buyer
        logger.warning("buyer link not saved; the next invoice of this client searches SmartAccounts again")
    return found


def _find_buyer(client: SmartAccountsClient, invoice: InvoiceIssued, *, as_created: bool = False) -> str | None:
    """By registry code, else by exact name. `as_created`: looking for the buyer this service just tried to create,
    which carries the registry code when there is one, so that search alone says whether it exists."""
    buyer = invoice.buyer
    found: str | None = None
    if buyer.registry_code:
        found = next((b.id for b in client.buyers(buyer.registry_code) if b.reg_code == buyer.registry_code), None)
        if as_created:
            return found
    if found is None:
        name = _text(buyer.name) or buyer.name  # as SmartAccounts has it when the service created it
        found = next((b.id for b in client.buyers(name) if b.name.strip() == name), None)
    return found


# --- wire conversions ---------------------------------------------------------------------------------------------


def _text(value: str | None) -> str | None:
    return protocol.without_4byte_characters(value) if value else value


def _new_buyer(invoice: InvoiceIssued) -> NewBuyer:
    buyer = invoice.buyer
    address = split_address(buyer.address)
    return NewBuyer(
        name=_text(buyer.name) or buyer.name,
        reg_code=buyer.registry_code,
        vat_number=buyer.vat_number,
        address=Address(
            country=address.country,
            county=_text(address.county),
            city=_text(address.city),
            address1=_text(address.address1),
            address2=_text(address.address2),
            postal_code=address.postal_code,
        )
        if address
        else None,
        contacts=[Contact(type="EMAIL", value=buyer.email)] if buyer.email else None,
    )


def _new_invoice(invoice: InvoiceIssued, rows: list, buyer_id: str, base_id: str | None) -> NewClientInvoice:
    return NewClientInvoice(
        client_id=buyer_id,
        date=invoice.issue_date,
        due_date=invoice.due_date,
        invoice_number=invoice.number,
        currency=invoice.currency,
        type="CRE" if base_id else "INV",
        base_for_credit_invoice_id=base_id,
        rows=[
            NewClientInvoiceRow(
                code=row.article_code,
                description=_text(row.description),
                price=row.unit_price,
                quantity=row.quantity,
                vat_pc=row.vat_code,
                unit=_text(row.unit),
                discount=row.discount_percent or None,
            )
            for row in rows
        ],
    )


def _booked(found: ClientInvoice) -> dict[str, Any]:
    gross = found.total_amount
    return {
        "ref": SmartAccountsInvoice(
            invoice_id=found.id, invoice_number=found.invoice_number, number=found.number, client_id=found.client_id
        ),
        "net": found.amount,
        "vat": found.vat_amount,
        "gross": gross,
        "outstanding": found.outstanding_amount,
    }


def _created(created: CreatedClientInvoice, buyer_id: str) -> dict[str, Any]:
    return {
        "ref": SmartAccountsInvoice(
            invoice_id=created.invoice_id,
            invoice_number=created.invoice_number,
            number=created.number,
            client_id=created.client_id or buyer_id,
        ),
        "net": created.amount,
        "vat": created.vat_amount,
        "gross": created.total_amount,
        "outstanding": None,
    }


# --- outcomes -------------------------------------------------------------------------------------------------------


def _finish_exported(
    deps: Dependencies,
    record: ExportRecord,
    invoice: InvoiceIssued,
    booked: dict[str, Any],
    *,
    reconciled: bool,
    warnings: list[str] | None = None,
) -> ExportRecord:
    now = deps.now()
    totals = check_totals(invoice, booked["net"], booked["vat"], booked["gross"])
    payment = None
    if not invoice.is_credit:
        gross: Decimal | None = booked["gross"]
        outstanding = booked["outstanding"] if booked["outstanding"] is not None else (gross or Decimal(0))
        status = PaymentStatus.PAID if outstanding <= 0 else PaymentStatus.UNPAID
        if gross is not None and 0 < outstanding < gross:
            status = PaymentStatus.PARTLY_PAID
        payment, _ = next_payment_state(None, status, outstanding, now)
    exported = record.model_copy(
        update={
            "status": ExportStatus.EXPORTED,
            "reason": None,
            "message": None if totals.matches else "SmartAccounts' totals differ from Uku's; check the invoice.",
            "smartaccounts_messages": [],
            "smartaccounts": booked["ref"],
            "reconciled": reconciled,
            "totals": totals,
            "payment": payment,
            "warnings": warnings or [],
            "updated_at": now,
            "exported_at": now,
            "lease_until": None,
        }
    )
    saved = _save_outcome(deps, exported)
    publish(deps, INVOICE_EXPORTED, exported_detail(saved))
    return saved


def _finish_skipped(deps: Dependencies, record: ExportRecord, reason: SkipReason, message: str) -> ExportRecord:
    skipped = record.model_copy(
        update={
            "status": ExportStatus.SKIPPED,
            "reason": reason.value,
            "message": f"{message} The invoice was not sent; retry the export once this is fixed.",
            "updated_at": deps.now(),
            "lease_until": None,
        }
    )
    logger.info("invoice export skipped", extra={"reason": reason.value})
    return _save_outcome(deps, skipped)


def _finish_failed(
    deps: Dependencies, record: ExportRecord, kind: str, message: str, messages: tuple[str, ...] = ()
) -> ExportRecord:
    failed = record.model_copy(
        update={
            "status": ExportStatus.FAILED,
            "reason": kind,
            "message": message,
            "smartaccounts_messages": list(messages),
            "updated_at": deps.now(),
            "lease_until": None,
        }
    )
    saved = _save_outcome(deps, failed)
    logger.info("invoice export failed", extra={"reason": kind})
    _announce_failure(deps, saved)
    return saved


def _on_smartaccounts_error(
    deps: Dependencies, record: ExportRecord, error: SmartAccountsError, final_attempt: bool
) -> ExportRecord:
    if error.kind in CREDENTIAL_FAILURES:
        connection_failed(deps, record.company_id, error)
    if record.posting_started_at is not None:  # the next attempt reads only once the post can no longer land
        record = record.model_copy(update={"post_unanswered_at": deps.now()})
    if error.kind.retryable and not final_attempt:
        # not recorded as an outcome: the record stays PENDING (lease released) and the next delivery reads first
        _save_outcome(
            deps,
            record.model_copy(
                update={
                    "message": f"Waiting to try again: {explain(error)}",
                    "updated_at": deps.now(),
                    "lease_until": None,
                }
            ),
        )
        raise ExportInterrupted(error.kind.value)
    message = explain(error)
    if record.posting_started_at is not None and error.kind.retryable:
        message += " SmartAccounts may have booked it anyway: a retry looks it up by its number before sending."
    return _finish_failed(deps, record, error.api_code, message, error.messages)


def _save_outcome(deps: Dependencies, record: ExportRecord) -> ExportRecord:
    try:
        return deps.exports.save(record)
    except Conflict:
        # the lease ran out and another worker took over; its outcome stands
        current = deps.exports.get(record.company_id, record.invoice_id)
        logger.warning("export record changed by another worker; its outcome kept")
        return current or record


def _announce_failure(deps: Dependencies, record: ExportRecord) -> None:
    detail = failed_detail(record)
    publish(deps, INVOICE_EXPORT_FAILED, detail)
    notify(
        deps,
        record.company_id,
        NotificationKind.EXPORT_FAILED,
        title="Invoice not exported to SmartAccounts",
        message=f"Invoice {record.number or record.invoice_id}: {record.message}",
        data={k: v for k, v in detail.items() if v not in (None, [])},
    )


# --- event details (docs/events.md) ---------------------------------------------------------------------------------


def _amounts(amounts: Any) -> dict[str, float | None]:
    return {k: (float(v) if v is not None else None) for k, v in amounts.model_dump().items()}


def exported_detail(record: ExportRecord) -> dict[str, Any]:
    sa = record.smartaccounts
    return {
        "companyId": record.company_id,
        "invoiceId": record.invoice_id,
        "number": record.number,
        "kind": record.kind.value if record.kind else None,
        "smartAccountsInvoiceId": sa.invoice_id if sa else None,
        "smartAccountsNumber": (sa.number or sa.invoice_number) if sa else None,
        "smartAccountsClientId": sa.client_id if sa else None,
        "reconciled": record.reconciled,
        "totalsMatch": record.totals.matches if record.totals else None,
        "ukuTotals": _amounts(record.totals.uku) if record.totals else None,
        "smartAccountsTotals": _amounts(record.totals.smartaccounts) if record.totals else None,
        "exportedAt": record.exported_at.isoformat() if record.exported_at else None,
    }


def failed_detail(record: ExportRecord) -> dict[str, Any]:
    return {
        "companyId": record.company_id,
        "invoiceId": record.invoice_id,
        "number": record.number,
        "errorKind": record.reason,
        "message": record.message,
        "smartAccountsMessages": list(record.smartaccounts_messages),
        "attempts": record.attempts,
        "failedAt": record.updated_at.isoformat(),
    }


def payment_detail(record: ExportRecord, previous: PaymentStatus | None) -> dict[str, Any]:
    payment = record.payment
    assert payment is not None  # noqa: S101
    return {
        "companyId": record.company_id,
        "invoiceId": record.invoice_id,
        "number": record.number,
        "smartAccountsInvoiceId": record.smartaccounts.invoice_id if record.smartaccounts else None,
        "status": payment.status.value,
        "previousStatus": previous.value if previous else None,
        "outstandingAmount": float(payment.outstanding),
        "changedAt": payment.changed_at.isoformat(),
    }


__all__ = [
    "INVOICE_EXPORTED",
    "INVOICE_EXPORT_FAILED",
    "INVOICE_PAYMENT_STATUS_CHANGED",
    "BuyerBeingCreated",
    "ErrorKind",
    "ExportBusy",
    "ExportInterrupted",
    "UnreadableEvent",
    "WaitingForOriginal",
    "export_invoice",
    "export_message",
    "get_record",
    "retry",
]
