"""Invoice export on the local stack: `InvoiceIssued` put with boto3 on Uku's bus, exported by the real worker through
the template's rule and queue, read back from the sandbox over HTTP. Each time exactly one invoice exists in the
firm's SmartAccounts company and the export record says what happened."""

from __future__ import annotations

import json
import threading
import time
import uuid
from decimal import Decimal

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from local_stack.front import LambdaContext
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from tests.support.events import EVENTS, shape
from tests.support.invoices import Firm, credit_detail, firm_factory, invoice_detail
from tests.support.local_company import INTEGRATION

pytestmark = pytest.mark.integration


@pytest.fixture
def make_firm(stack, admin):
    return firm_factory(stack, admin)


@pytest.fixture
def firm(make_firm) -> Firm:
    return make_firm()


def sa_client(stack, firm: Firm) -> SmartAccountsClient:
    credentials = ApiCredentials(api_key=firm.company.api_key, api_secret=firm.company.api_secret)
    return SmartAccountsClient(credentials, base_url=stack.sandbox.api_url, connect_timeout=3, read_timeout=10)


def exported_once(firm: Firm, detail: dict) -> tuple[dict, dict]:
    """Asserts one booked invoice that matches the event and an EXPORTED record naming it; returns both."""
    record = firm.export(detail["invoiceId"])
    booked = firm.booked()
    assert len(booked) == 1, booked
    invoice = booked[0]
    assert record["status"] == "EXPORTED", record
    assert record["smartAccounts"]["invoiceId"] == invoice["id"]
    assert invoice["invoiceNumber"] == detail["number"]
    assert invoice["date"] == ".".join(reversed(detail["issueDate"].split("-")))
    assert record["totals"]["matches"] is True
    assert Decimal(str(invoice["totalAmount"])) == Decimal(detail["totals"]["gross"])
    return record, invoice


def test_invoice_to_a_new_buyer_books_rows_vat_article_and_totals(stack, firm: Firm) -> None:
    # Given a buyer SmartAccounts does not know, with a long street address
    detail = invoice_detail(firm.id)
    street = "Väga pika nimega tööstuspargi tänav 123, korpus B, sissepääs hoovist, teine korrus, kabinet 7"
    detail["buyer"]["address"]["address1"] = street
    calls_before = firm.calls()

    # When Uku issues the invoice
    firm.issue(detail)
    stack.wait_until_idle()

    # Then one invoice is booked with the lines, VAT codes, articles and totals of the event
    record, invoice = exported_once(firm, detail)
    assert [(r["code"], r["vatPc"], r["quantity"], r["price"], r["sum"]) for r in invoice["rows"]] == [
        ("SERVICE", "VAT24", 1, 250, 250),
        ("SERVICE", "VAT24", 2.5, 60, 135),  # no article code on the line: the company's default article
    ]
    assert (invoice["amount"], invoice["vatAmount"], invoice["totalAmount"]) == (385, 92.4, 477.4)
    assert record["payment"]["status"] == "UNPAID" and record["payment"]["outstandingAmount"] == 477.4
    # And the buyer was created with its address split into lines of at most 64 characters
    (buyer,) = firm.created_buyers()
    assert buyer["id"] == invoice["clientId"] and buyer["regCode"] == detail["buyer"]["registryCode"]
    lines = [buyer["address"]["address1"], buyer["address"]["address2"]]
    assert all(line and len(line) <= 64 for line in lines) and " ".join(lines) == street
    assert buyer["contacts"] == [{"type": "EMAIL", "value": "arved@example.ee", "description": None}]
    assert firm.calls().get("purchasesales/clients:add", 0) - calls_before.get("purchasesales/clients:add", 0) == 1

    # When the next invoice of the same Uku client is issued
    searches = firm.calls().get("purchasesales/clients:get", 0)
    second = invoice_detail(firm.id, clientId=detail["clientId"], buyer=detail["buyer"])
    firm.issue(second)
    stack.wait_until_idle()

    # Then it goes to the same SmartAccounts client without any look-up
    assert firm.export(second["invoiceId"])["smartAccounts"]["clientId"] == buyer["id"]
    assert firm.calls().get("purchasesales/clients:get", 0) == searches
    assert len(firm.created_buyers()) == 1


def test_buyer_found_by_registry_code(stack, firm: Firm) -> None:
    # Given a buyer SmartAccounts knows, named differently in Uku
    known = sa_client(stack, firm).buyers()[0]
    detail = invoice_detail(firm.id)
    detail["buyer"].update(name="Another spelling OÜ", registryCode=known.reg_code)

    firm.issue(detail)
    stack.wait_until_idle()

    _, invoice = exported_once(firm, detail)
    assert invoice["clientId"] == known.id
    assert firm.created_buyers() == []


def test_buyer_found_by_exact_name(stack, firm: Firm) -> None:
    known = sa_client(stack, firm).buyers()[1]
    detail = invoice_detail(firm.id)
    detail["buyer"].update(name=known.name, registryCode=None)

    firm.issue(detail)
    stack.wait_until_idle()

    _, invoice = exported_once(firm, detail)
    assert invoice["clientId"] == known.id
    assert firm.created_buyers() == []


def test_credit_invoice_is_linked_to_its_exported_original(stack, firm: Firm) -> None:
    original = invoice_detail(firm.id)
    firm.issue(original)
    stack.wait_until_idle()
    credit = credit_detail(original)

    firm.issue(credit)
    stack.wait_until_idle()

    record = firm.export(credit["invoiceId"])
    booked = {b["invoiceNumber"]: b for b in firm.booked()}
    assert len(booked) == 2
    assert record["status"] == "EXPORTED" and record["kind"] == "credit" and record["totals"]["matches"] is True
    assert booked[credit["number"]]["type"] == "CRE"
    assert booked[credit["number"]]["baseForCreditInvoiceId"] == booked[original["number"]]["id"]
    assert record["payment"] is None


def test_credit_invoice_of_an_original_never_exported_fails_with_that_reason(stack, firm: Firm) -> None:
    credit = credit_detail(invoice_detail(firm.id))

    firm.issue(credit)
    stack.wait_until_idle()

    record = firm.export(credit["invoiceId"])
    assert record["status"] == "FAILED" and record["reason"] == "ORIGINAL_NOT_EXPORTED"
    assert credit["originalInvoiceId"] in record["message"]
    assert firm.booked() == []


def test_unknown_vat_type_fails_naming_the_line_and_code_and_notifies(stack, firm: Firm) -> None:
    detail = invoice_detail(firm.id)
    detail["lines"][1]["vatTypeCode"] = "VAT99"

    firm.issue(detail)
    stack.wait_until_idle()

    record = firm.export(detail["invoiceId"])
    assert record["status"] == "FAILED" and record["reason"] == "UNKNOWN_VAT_TYPE"
    assert "Line 2" in record["message"] and "VAT99" in record["message"]
    assert firm.booked() == []
    notes = firm.company.call("GET", "/v1/notifications")["notifications"]
    assert [n["kind"] for n in notes] == ["EXPORT_FAILED"] and detail["number"] in notes[0]["message"]


def test_smartaccounts_rejecting_the_invoice_is_failed_with_its_own_messages(stack, make_firm) -> None:
    # Given a firm whose SmartAccounts period is locked up to today
    from smartaccounts_sync.domain.months import tallinn_today

    firm = make_firm(locked_until=tallinn_today().isoformat())
    detail = invoice_detail(firm.id)

    firm.issue(detail)
    stack.wait_until_idle()

    record = firm.export(detail["invoiceId"])
    assert record["status"] == "FAILED" and record["reason"] == "SA_VALIDATION_REJECTED"
    assert record["smartAccountsMessages"] == ["Period is locked"]
    assert record["attempts"] == 1  # refused, not retried
    assert firm.booked() == []


def test_disabled_integration_skips_then_retry_after_enabling_exports_once(stack, firm: Firm) -> None:
    firm.company.call("POST", f"{INTEGRATION}/disable")
    detail = invoice_detail(firm.id)

    firm.issue(detail)
    stack.wait_until_idle()

    skipped = firm.export(detail["invoiceId"])
    assert skipped["status"] == "SKIPPED" and skipped["reason"] == "INTEGRATION_DISABLED"
    assert firm.booked() == []

    # When the integration is enabled and the export retried
    firm.company.call("POST", f"{INTEGRATION}/enable")
    accepted = firm.company.call("POST", f"/v1/invoices/{detail['invoiceId']}/export/retry", expect=202)
    assert accepted["status"] == "SKIPPED"
    stack.wait_until_idle()

    record, _ = exported_once(firm, detail)
    assert record["attempts"] == 2
    # And an exported invoice is not retried again
    again = firm.company.call("POST", f"/v1/invoices/{detail['invoiceId']}/export/retry", expect=409)
    assert again["code"] == "CONFLICT"


def test_the_same_event_delivered_three_times_books_one_invoice(stack, firm: Firm) -> None:
    detail = invoice_detail(firm.id)

    firm.issue(detail, times=3)
    stack.wait_until_idle()

    record, _ = exported_once(firm, detail)
    assert record["attempts"] == 1 and record["reconciled"] is False
    assert firm.calls().get("purchasesales/clientinvoices:add", 0) == 1


def test_crash_right_after_smartaccounts_accepted_is_reconciled_by_reading(stack, firm: Firm) -> None:
    # Given SmartAccounts books the next invoice but its answer never arrives
    firm.admin.post(
        "faults",
        {"apiKey": firm.company.api_key, "crashAfterAccept": 1, "crashEndpoint": "purchasesales/clientinvoices:add"},
    )
    detail = invoice_detail(firm.id)

    firm.issue(detail)
    stack.wait_until_idle()

    # Then the worker read it by its number (the 500 came after SmartAccounts had finished) and did not post it again
    record, _ = exported_once(firm, detail)
    assert record["reconciled"] is True and record["attempts"] == 1
    assert firm.calls().get("purchasesales/clientinvoices:add", 0) == 1


def test_crash_right_after_smartaccounts_created_the_buyer_creates_no_second_buyer(stack, firm: Firm) -> None:
    firm.admin.post(
        "faults",
        {"apiKey": firm.company.api_key, "crashAfterAccept": 1, "crashEndpoint": "purchasesales/clients:add"},
    )
    detail = invoice_detail(firm.id)

    firm.issue(detail)
    stack.wait_until_idle()

    _, invoice = exported_once(firm, detail)
    (buyer,) = firm.created_buyers()  # found again by its registry code, not created twice
    assert invoice["clientId"] == buyer["id"]


def _sqs_event(detail: dict, n: int, event: int | None = None) -> dict:
    """Message `n` of the export queue carrying event `event` (its own event unless given: two copies of one
    event are two messages with the same event id)."""
    body = {
        "id": f"evt-{n if event is None else event}-{detail['invoiceId']}",
        "source": "uku.billing",
        "detail-type": "InvoiceIssued",
        "detail": detail,
    }
    record = {
        "messageId": f"m-{n}-{detail['invoiceId']}",
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-north-1:123456789012:ExportQueue",
        "awsRegion": "eu-north-1",
    }
    return {"Records": [record]}


def at_once(handler, events: list[dict]) -> list[str]:
    """Each SQS event handed to its own worker at the same moment: "done", or "comes back" when its only record
    failed (SQS would deliver it again later)."""
    outcomes = ["" for _ in events]

    def worker(i: int) -> None:
        try:
            handler(events[i], LambdaContext("InvoiceExportFunction", 120))
            outcomes[i] = "done"
        except BatchProcessingError:
            outcomes[i] = "comes back"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_workers_handling_the_same_invoice_at_once_book_it_once(stack, firm: Firm) -> None:
    # Given two deliveries of the same invoice (two events), handed to two workers at the same moment,
    # with SmartAccounts slow enough for them to overlap
    firm.admin.post("faults", {"apiKey": firm.company.api_key, "latencyMs": 300})
    detail = invoice_detail(firm.id)
    handler = stack.handlers["InvoiceExportFunction"]
    outcomes = dict(enumerate(at_once(handler, [_sqs_event(detail, 1), _sqs_event(detail, 2)]), start=1))
    firm.admin.post("faults", {"apiKey": firm.company.api_key})

    # Then one worker exported it; the other saw it claimed (its message comes back) or already exported
    assert sorted(outcomes.values()) in (["comes back", "done"], ["done", "done"])
    record, _ = exported_once(firm, detail)
    assert record["attempts"] == 1

    # And the message that came back finds it exported and books nothing
    for n, outcome in outcomes.items():
        if outcome == "comes back":
            handler(_sqs_event(detail, n), LambdaContext("InvoiceExportFunction", 120))
    exported_once(firm, detail)
    assert firm.calls().get("purchasesales/clientinvoices:add", 0) == 1


def test_a_second_copy_of_an_event_being_exported_is_acknowledged_and_the_invoice_booked_once(
    stack, firm: Firm
) -> None:
    # Given worker 1 is exporting an invoice (it has claimed it; SmartAccounts answers slowly)
    firm.admin.post("faults", {"apiKey": firm.company.api_key, "latencyMs": 1500})
    detail = invoice_detail(firm.id)
    handler = stack.handlers["InvoiceExportFunction"]
    first: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: first.update(result=handler(_sqs_event(detail, 1), LambdaContext("InvoiceExportFunction", 120)))
    )
    worker.start()
    deadline = time.monotonic() + 20
    while firm.export(detail["invoiceId"], expect=None).get("status") != "PENDING":
        assert time.monotonic() < deadline, "worker 1 never claimed the invoice"
        time.sleep(0.05)

    # When a second copy of the same event (another SQS message, same event id) reaches another worker
    second = handler(_sqs_event(detail, 2, event=1), LambdaContext("InvoiceExportFunction", 120))

    # Then that copy is acknowledged at once (not failed back onto the queue), while worker 1 is still at work
    assert second == {"batchItemFailures": []}
    assert firm.export(detail["invoiceId"])["status"] == "PENDING"
    worker.join()
    firm.admin.post("faults", {"apiKey": firm.company.api_key})

    # And worker 1 booked the invoice once
    assert first["result"] == {"batchItemFailures": []}
    record, _ = exported_once(firm, detail)
    assert record["attempts"] == 1
    assert firm.calls().get("purchasesales/clientinvoices:add", 0) == 1


def test_two_invoices_of_one_new_uku_client_exported_by_two_workers_at_once_create_one_buyer(
    stack, firm: Firm
) -> None:
    # Given two invoices of an Uku client SmartAccounts does not know, handed to two workers at the same moment,
    # with SmartAccounts slow enough for both to find no buyer before either creates it
    firm.admin.post("faults", {"apiKey": firm.company.api_key, "latencyMs": 300})
    first = invoice_detail(firm.id)
    second = invoice_detail(firm.id, clientId=first["clientId"], buyer=first["buyer"])
    handler = stack.handlers["InvoiceExportFunction"]
    outcomes = at_once(handler, [_sqs_event(first, 1), _sqs_event(second, 1)])  # one may wait for the buyer
    firm.admin.post("faults", {"apiKey": firm.company.api_key})
    for detail, outcome in zip((first, second), outcomes, strict=True):  # what came back is delivered again
        if outcome == "comes back":
            handler(_sqs_event(detail, 2), LambdaContext("InvoiceExportFunction", 120))

    # Then both invoices are booked, to one buyer created once
    (buyer,) = firm.created_buyers()
    booked = firm.booked()
    assert sorted(i["invoiceNumber"] for i in booked) == sorted([first["number"], second["number"]])
    assert {i["clientId"] for i in booked} == {buyer["id"]}
    assert all(firm.export(d["invoiceId"])["status"] == "EXPORTED" for d in (first, second))


def test_an_invalid_event_is_recorded_failed_with_the_reason_not_retried(stack, firm: Firm) -> None:
    detail = invoice_detail(firm.id, dueDate="2000-01-01", lines=[])

    firm.issue(detail)
    stack.wait_until_idle()

    record = firm.export(detail["invoiceId"])
    assert record["status"] == "FAILED" and record["reason"] == "INVALID_EVENT"
    assert "lines" in record["message"] and record["attempts"] == 1
    assert firm.booked() == []
    refused = firm.company.call("POST", f"/v1/invoices/{detail['invoiceId']}/export/retry", expect=409)
    assert "not valid" in refused["detail"]


def test_a_payment_recorded_in_smartaccounts_shows_as_paid_after_the_next_status_run(stack, firm: Firm) -> None:
    # Given two exported invoices
    first, second = invoice_detail(firm.id), invoice_detail(firm.id)
    firm.issue(first)
    firm.issue(second)
    stack.wait_until_idle()
    ids = {b["invoiceNumber"]: b["id"] for b in firm.booked()}

    # When the buyer pays the first in full and the second in part, in SmartAccounts
    firm.admin.post(f"companies/{firm.sa_company}/payments", {"invoiceId": ids[first["number"]], "amount": 477.4})
    firm.admin.post(f"companies/{firm.sa_company}/payments", {"invoiceId": ids[second["number"]], "amount": 100})
    before = firm.calls().get("purchasesales/clientinvoices:get", 0)
    fired = requests.post(f"{stack.api_url}/local/daily-refresh", timeout=120)
    assert fired.status_code == 200 and fired.json()["paymentCallsUsed"][firm.id] == 1

    # Then the status run used one paged query for the company, and each record shows its state
    assert firm.calls().get("purchasesales/clientinvoices:get", 0) - before == 1
    paid, partly = firm.export(first["invoiceId"])["payment"], firm.export(second["invoiceId"])["payment"]
    assert paid["status"] == "PAID" and paid["outstandingAmount"] == 0
    assert partly["status"] == "PARTLY_PAID" and partly["outstandingAmount"] == 377.4

    # And on demand through the export route, after the rest is paid, with one query again
    firm.admin.post(f"companies/{firm.sa_company}/payments", {"invoiceId": ids[second["number"]], "amount": 377.4})
    before = firm.calls().get("purchasesales/clientinvoices:get", 0)
    record = firm.export(second["invoiceId"], refreshPayment="true")
    assert record["payment"]["status"] == "PAID"
    assert firm.calls().get("purchasesales/clientinvoices:get", 0) - before == 1


def test_vat_types_imported_on_credentials_saved_listed_and_refreshed(stack, firm: Firm) -> None:
    listed = firm.company.call("GET", f"{INTEGRATION}/vat-types")
    codes = {t["code"]: t for t in listed["vatTypes"]}
    assert {"VAT24", "VAT22", "VAT9", "VAT0"} <= set(codes) and listed["fetchedAt"]
    assert codes["VAT24"]["percentage"] == 24 and codes["VAT20"]["activeForSales"] is False

    refreshed = firm.company.call("POST", f"{INTEGRATION}/vat-types/refresh")
    assert refreshed["fetchedAt"] > listed["fetchedAt"]
    assert {t["code"] for t in refreshed["vatTypes"]} == set(codes)


@pytest.fixture
def subscriber(stack):
    """A queue subscribed to everything the service publishes (source uku.smartaccounts) on its bus."""
    events = boto3.client("events", endpoint_url=stack.moto_url, region_name="eu-north-1")
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="eu-north-1")
    name = f"subscriber-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.provisioned.names["ServiceBus"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["uku.smartaccounts"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[str]:
        bodies = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if not batch:
                return bodies
            bodies += [m["Body"] for m in batch]

    yield received
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=name, EventBusName=bus)


def test_export_events_are_shaped_as_documented_and_carry_no_key(stack, firm: Firm, subscriber) -> None:
    # Given an exported invoice, a failed one and a payment
    good, bad = invoice_detail(firm.id), invoice_detail(firm.id)
    bad["lines"][0]["vatTypeCode"] = "VAT99"
    firm.issue(good)
    firm.issue(bad)
    stack.wait_until_idle()
    (booked,) = firm.booked()
    firm.admin.post(f"companies/{firm.sa_company}/payments", {"invoiceId": booked["id"], "amount": 100})
    firm.export(good["invoiceId"], refreshPayment="true")

    # Then the subscriber got one event of each kind, shaped as the samples in events/published/ say
    bodies = subscriber()
    ours = [json.loads(b) for b in bodies if json.loads(b)["detail"].get("companyId") == firm.id]
    assert sorted(e["detail-type"] for e in ours) == [
        "InvoiceExportFailed",
        "InvoiceExported",
        "InvoicePaymentStatusChanged",
    ]
    samples = {
        json.loads(p.read_text())["detail-type"]: json.loads(p.read_text())
        for p in (EVENTS / "published").glob("*.json")
    }
    for event in ours:
        assert shape(event["detail"]).keys() == shape(samples[event["detail-type"]]["detail"]).keys()
    by_kind = {e["detail-type"]: e["detail"] for e in ours}
    assert by_kind["InvoiceExported"]["smartAccountsInvoiceId"] == booked["id"]
    assert by_kind["InvoiceExportFailed"]["errorKind"] == "UNKNOWN_VAT_TYPE"
    assert by_kind["InvoicePaymentStatusChanged"]["status"] == "PARTLY_PAID"
    text = "\n".join(bodies)
    assert firm.company.api_key not in text and firm.company.api_secret not in text


def test_a_vat_type_that_disappears_is_kept_inactive_and_refused_on_new_invoices(stack, firm: Firm) -> None:
    # Given SmartAccounts drops VAT13 from the firm's register
    listed = firm.company.call("GET", f"{INTEGRATION}/vat-types")["vatTypes"]
    kept = [
        {
            "vatPc": t["code"],
            "pc": t["percentage"],
            "descriptionEt": t["descriptionEt"],
            "descriptionEn": t["descriptionEn"],
            "activeSales": t["activeForSales"],
        }
        for t in listed
        if t["code"] != "VAT13"
    ]
    response = requests.put(f"{firm.admin.url}/companies/{firm.sa_company}/vat-pcs", json={"vatPcs": kept}, timeout=30)
    assert response.status_code == 200

    # When the VAT types are refreshed
    refreshed = {t["code"]: t for t in firm.company.call("POST", f"{INTEGRATION}/vat-types/refresh")["vatTypes"]}

    # Then VAT13 is kept, marked as no longer in SmartAccounts, and an invoice using it is refused naming it
    assert refreshed["VAT13"]["inSmartAccounts"] is False and refreshed["VAT13"]["activeForSales"] is False
    assert refreshed["VAT24"]["inSmartAccounts"] is True
    detail = invoice_detail(firm.id)
    detail["lines"][0]["vatTypeCode"] = "VAT13"
    firm.issue(detail)
    stack.wait_until_idle()
    record = firm.export(detail["invoiceId"])
    assert (
        record["reason"] == "UNKNOWN_VAT_TYPE"
        and "VAT13" in record["message"]
        and "no longer lists" in record["message"]
    )
    assert firm.booked() == []


def test_members_read_the_export_and_vat_types_but_only_managers_retry_or_refresh(stack, firm: Firm) -> None:
    detail = invoice_detail(firm.id)
    firm.issue(detail)
    stack.wait_until_idle()
    member = {"Authorization": f"Bearer {stack.token(firm.id, 'member', 'team')}"}
    base = stack.api_url

    assert requests.get(f"{base}/v1/invoices/{detail['invoiceId']}/export", headers=member, timeout=30).ok
    assert requests.get(f"{base}{INTEGRATION}/vat-types", headers=member, timeout=30).ok
    for path in (f"/v1/invoices/{detail['invoiceId']}/export/retry", f"{INTEGRATION}/vat-types/refresh"):
        refused = requests.post(base + path, headers=member, timeout=30)
        assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_ALLOWED"
    # And another company never sees this company's export
    other = {"Authorization": f"Bearer {stack.token('co-someone-else', 'owner', 'team')}"}
    hidden = requests.get(f"{base}/v1/invoices/{detail['invoiceId']}/export", headers=other, timeout=30)
    assert hidden.status_code == 404 and hidden.json()["code"] == "NOT_FOUND"


def test_only_a_message_that_names_no_company_or_invoice_reaches_the_dead_letter_queue(stack, firm: Firm) -> None:
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="eu-north-1")
    dlq = stack.provisioned.queue_urls["ExportDeadLetterQueue"]
    unreadable = invoice_detail(firm.id)
    del unreadable["companyId"], unreadable["invoiceId"]

    firm.issue(unreadable)
    stack.wait_until_idle(timeout=120)

    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["number"] for m in dead] == [unreadable["number"]]
    for message in dead:
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    assert firm.booked() == []


def test_an_invoice_whose_id_is_not_an_identifier_is_refused_visibly_and_dead_lettered_with_its_reason(
    stack, firm: Firm, subscriber
) -> None:
    # Given Uku's InvoiceIssued for an invoice whose id has a '/', a '#' and a space (no API path could name it)
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="eu-north-1")
    dlq = stack.provisioned.queue_urls["ExportDeadLetterQueue"]
    detail = invoice_detail(firm.id, invoiceId="INV/2026 #7")

    # When Uku publishes it on its bus and the export worker takes it from the queue
    firm.issue(detail)
    stack.wait_until_idle()

    # Then nothing is booked in SmartAccounts (no call is made for it at all)
    assert firm.booked() == [] and firm.created_buyers() == []
    # And the failure is published as InvoiceExportFailed, shaped as documented, in plain words
    ours = [json.loads(b) for b in subscriber() if json.loads(b)["detail"].get("companyId") == firm.id]
    assert [e["detail-type"] for e in ours] == ["InvoiceExportFailed"]
    failed = ours[0]["detail"]
    sample = json.loads((EVENTS / "published" / "invoice-export-failed.json").read_text())
    assert shape(failed).keys() == shape(sample["detail"]).keys()
    assert (failed["invoiceId"], failed["number"], failed["errorKind"]) == (
        "INV/2026 #7",
        detail["number"],
        "INVALID_EVENT",
    )
    assert "invoiceId: not an identifier" in failed["message"] and "Nothing was exported" in failed["message"]
    # And the firm's users see it among their notifications
    notes = firm.company.call("GET", "/v1/notifications")["notifications"]
    assert [n["kind"] for n in notes] == ["EXPORT_FAILED"] and "not an identifier" in notes[0]["message"]
    # And the message went to the dead-letter queue, with the reason on it
    dead = sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"], AttributeNames=["All"]
    ).get("Messages", [])
    mine = [m for m in dead if json.loads(m["Body"])["detail"].get("invoiceId") == "INV/2026 #7"]
    assert len(mine) == 1
    reason = mine[0]["MessageAttributes"]["deadLetterReason"]["StringValue"]
    assert reason.startswith("invalid InvoiceIssued: invoiceId: not an identifier")
    assert mine[0]["MessageAttributes"]["deadLetterSource"]["StringValue"] == "export-queue"
    for message in dead:
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
