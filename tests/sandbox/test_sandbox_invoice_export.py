"""What the invoice export needs from the sandbox: look-up by invoice number, payments against created invoices
with `outstandingAmount` and the unpaid list, a write carried out whose answer is lost, 4-byte characters refused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.sandbox.sandbox_testkit import SMALL, errors_of

CI = "purchasesales/clientinvoices:get"
ADD = "purchasesales/clientinvoices:add"


def _invoice(sa, number: str) -> dict:
    client_id = sa.get("purchasesales/clients:get").json()["clients"][0]["id"]
    body = {"clientId": client_id, "date": "10.03.2026", "invoiceNumber": number,
            "rows": [{"code": "SERVICE", "price": 100, "quantity": 1, "vatPc": "VAT24"}]}
    r = sa.post(ADD, body=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_look_up_by_invoice_number(sa):
    created = _invoice(sa, "UKU-1")
    _invoice(sa, "UKU-2")
    found = sa.get(CI, {"dateFrom": "10.03.2026", "dateTo": "10.03.2026", "invoiceNumber": "UKU-1"}).json()
    assert [i["id"] for i in found["clientInvoices"]] == [created["invoiceId"]]
    none = sa.get(CI, {"dateFrom": "10.03.2026", "dateTo": "10.03.2026", "invoiceNumber": "UKU-3"}).json()
    assert none["clientInvoices"] == []


def test_a_payment_lowers_the_outstanding_amount_and_a_paid_invoice_leaves_the_unpaid_list(sa):
    created = _invoice(sa, "UKU-9")
    unpaid = {"dateFrom": "10.03.2026", "paymentStatus": "unpaid", "invoiceNumber": "UKU-9"}
    assert sa.get(CI, unpaid).json()["clientInvoices"][0]["outstandingAmount"] == 124

    r = sa.admin("POST", "/companies/co-small/payments", json={"invoiceId": created["invoiceId"], "amount": 24})
    assert r.status_code == 201 and r.json()["outstandingAmount"] == 100
    assert sa.get(CI, unpaid).json()["clientInvoices"][0]["outstandingAmount"] == 100
    too_much = sa.admin("POST", "/companies/co-small/payments", json={"invoiceId": created["invoiceId"], "amount": 101})
    assert too_much.status_code == 400
    assert errors_of(too_much) == ["payment amount larger than outstanding amount on row"]

    sa.admin("POST", "/companies/co-small/payments", json={"invoiceId": created["invoiceId"], "amount": 100})
    assert sa.get(CI, unpaid).json()["clientInvoices"] == []
    paid = sa.get(CI, {"id": created["invoiceId"]}).json()["clientInvoices"][0]
    assert paid["outstandingAmount"] == 0
    day = dt.datetime.now(ZoneInfo("Europe/Tallinn")).strftime("%d.%m.%Y")  # payments are dated today (Tallinn)
    payments = sa.all_pages("purchasesales/payments:get", "payments",
                            {"dateFrom": day, "dateTo": day, "partnerType": "CLIENT", "fetchRows": "true"})
    rows = [row for p in payments for row in p.get("rows", []) if row["id"] == created["invoiceId"]]
    assert [row["amount"] for row in rows] == [24, 100]


def test_crash_after_accept_books_the_invoice_but_answers_500(sa):
    sa.admin("POST", "/faults", json={"apiKey": SMALL[0], "crashAfterAccept": 1, "crashEndpoint": ADD})
    client_id = sa.get("purchasesales/clients:get").json()["clients"][0]["id"]
    body = {"clientId": client_id, "date": "10.03.2026", "invoiceNumber": "UKU-LOST",
            "rows": [{"code": "SERVICE", "price": 10, "quantity": 1, "vatPc": "VAT24"}]}

    r = sa.post(ADD, body=body)

    assert r.status_code == 500
    booked = sa.admin("GET", "/companies/co-small/created-invoices").json()["invoices"]
    assert [i["invoiceNumber"] for i in booked] == ["UKU-LOST"]
    assert sa.post(ADD, body={**body, "invoiceNumber": "UKU-NEXT"}).status_code == 200  # only once


def test_four_byte_characters_are_refused(sa):
    client_id = sa.get("purchasesales/clients:get").json()["clients"][0]["id"]
    body = {"clientId": client_id, "date": "10.03.2026",
            "rows": [{"code": "SERVICE", "description": "Tänan 🙂", "price": 10, "quantity": 1, "vatPc": "VAT24"}]}
    r = sa.post(ADD, body=body)
    assert r.status_code == 400 and errors_of(r) == ["4-byte UTF-8 characters are not allowed"]
