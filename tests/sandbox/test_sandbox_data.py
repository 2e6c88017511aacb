"""Endpoints, envelopes, paging, filters, generated data and invoice creation."""

from __future__ import annotations

import re

import requests

from sa_sandbox.server import SandboxServer
from tests.sandbox.sandbox_testkit import FIRM, MEDIUM, SMALL, TIMEOUT, SaClient, errors_of

SA_DATE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
CI = "purchasesales/clientinvoices:get"
INVOICE_FIELDS = {"id", "type", "baseForCreditInvoiceId", "date", "dueDate", "entryDate", "number", "invoiceNumber",
                  "referenceNumber", "currency", "exchangeRate", "amount", "roundAmount", "vatAmount", "totalAmount",
                  "outstandingAmount"}
ROW_FIELDS = {"code", "description", "price", "quantity", "unit", "discount", "vat", "vatPc", "sum", "order",
              "objectId"}


def test_company_and_companies(sa):
    r = sa.get("settings/company:get")
    assert r.json() == {"company": {"id": "co-small", "name": "Väike Raamatupidamine OÜ", "regCode": "16000002",
                                    "vatNumber": "EE102000002"}}
    r = sa.get("settings/companies:get", creds=FIRM)
    data = r.json()
    assert data["hasMoreEntries"] is False
    assert [c["id"] for c in data["companies"]] == ["co-firm", "co-empty", "co-small", "co-medium", "co-large"]
    assert set(data["companies"][0]) == {"id", "name", "regCode", "vatNumber"}
    r = sa.get("settings/companies:get", {"nameOrRegCode": "KAUBANDUS"}, creds=FIRM)
    assert [c["id"] for c in r.json()["companies"]] == ["co-medium"]
    r = sa.get("settings/companies:get", {"nameOrRegCode": "10000004"}, creds=FIRM)
    assert [c["id"] for c in r.json()["companies"]] == ["co-large"]


def test_company_selection_by_company_id(sa):
    r = sa.get("settings/company:get", {"companyId": "co-medium"}, creds=FIRM)
    assert r.json()["company"]["id"] == "co-medium"
    # the firm key answers as the demo accounting firm it belongs to
    assert sa.get("settings/company:get", creds=FIRM).json()["company"] == {
        "id": "co-firm", "name": "Näidis Raamatupidamisbüroo OÜ", "regCode": "16000000", "vatNumber": "EE102000000"}
    r = sa.get("settings/company:get", {"companyId": "co-medium"}, creds=SMALL)
    assert (r.status_code, errors_of(r)) == (404, ["Company not found"])
    r = sa.get(CI, {"companyId": "co-nope", "dateFrom": "01.01.2026"}, creds=FIRM)
    assert (r.status_code, errors_of(r)) == (404, ["Company not found"])
    # documents follow the selected company
    a = sa.get(CI, {"companyId": "co-small", "dateFrom": "01.03.2026", "dateTo": "31.03.2026"}, creds=FIRM).json()
    b = sa.get(CI, {"dateFrom": "01.03.2026", "dateTo": "31.03.2026"}, creds=SMALL).json()
    assert a == b and a["clientInvoices"]
    empty = sa.get(CI, {"companyId": "co-empty", "dateFrom": "01.01.2020", "dateTo": "31.12.2030"}, creds=FIRM)
    assert empty.json() == {"clientInvoices": [], "hasMoreEntries": False}


def test_client_invoice_envelope_fields_and_dates(sa):
    data = sa.get(CI, {"dateFrom": "01.03.2026", "dateTo": "31.03.2026"}).json()
    assert set(data) == {"clientInvoices", "hasMoreEntries"}
    inv = data["clientInvoices"][0]
    assert INVOICE_FIELDS | {"clientId", "client"} == set(inv)  # no rows without fetchRows
    assert set(inv["client"]) == {"id", "name", "regCode", "vatNumber"}
    for item in data["clientInvoices"]:
        assert all(SA_DATE.match(item[k]) for k in ("date", "dueDate", "entryDate"))
        assert item["date"].endswith(".03.2026")
        assert item["type"] in ("INV", "CRE") and item["currency"] == "EUR"
    rows = sa.get(CI, {"dateFrom": "01.03.2026", "dateTo": "31.03.2026", "fetchRows": "true"}).json()
    for item in rows["clientInvoices"]:
        assert item["rows"]
        assert {*ROW_FIELDS, "accountSales"} == set(item["rows"][0])
        assert round(sum(r["sum"] for r in item["rows"]), 2) == item["amount"]
        assert round(item["amount"] + item["vatAmount"] + item["roundAmount"], 2) == item["totalAmount"]


def test_number_and_string_quirks(sa):
    ci = sa.oracle("co-medium", "clientinvoices", "2026-03-01", "2026-03-31")
    assert {type(d["number"]) for d in ci} == {int, str}
    for d in ci:
        day = int(d["date"][:2])
        assert isinstance(d["number"], int) == (day % 2 == 0)
        assert isinstance(d["amount"], float)
    vi = sa.oracle("co-medium", "vendorinvoices", "2026-03-01", "2026-03-31")
    for d in vi:
        for k in ("amount", "vatAmount", "totalAmount", "roundAmount", "outstandingAmount"):
            assert isinstance(d[k], str) and re.match(r"^-?\d+\.\d{2}$", d[k])
        assert "accountPurchase" in d["rows"][0]


def test_date_from_rule_and_date_format(sa):
    r = sa.get(CI)
    assert (r.status_code, errors_of(r)) == (400, ["dateFrom only allowed to be null when paymentStatus or id is "
                                                   "provided"])
    r = sa.get(CI, {"dateFrom": "2026-03-01"})
    assert (r.status_code, errors_of(r)) == (400, ["Invalid date format, expected dd.MM.yyyy"])
    r = sa.get(CI, {"dateFrom": "31.02.2026"})
    assert r.status_code == 400
    assert sa.get(CI, {"paymentStatus": "unpaid"}).status_code == 200
    some_id = sa.get(CI, {"dateFrom": "01.03.2026", "dateTo": "31.03.2026"}).json()["clientInvoices"][0]["id"]
    r = sa.get(CI, {"id": some_id, "fetchRows": "true"})
    assert r.status_code == 200 and r.json()["clientInvoices"][0]["id"] == some_id
    assert r.json()["clientInvoices"][0]["rows"]
    r = sa.get(CI, {"id": some_id[:-1] + ("0" if some_id[-1] != "0" else "1")})
    assert (r.status_code, errors_of(r)) == (404, ["Invoice by id not found"])


def test_paging_medium_month(sa):
    params = {"dateFrom": "01.03.2026", "dateTo": "31.03.2026", "fetchRows": "true"}
    oracle = sa.oracle("co-medium", "clientinvoices", "2026-03-01", "2026-03-31")
    assert len(oracle) > 100
    pages = []
    page = 1
    while True:
        data = sa.get(CI, {**params, "pageNumber": page}, creds=MEDIUM).json()
        pages.append(data)
        if not data["hasMoreEntries"]:
            break
        page += 1
    assert all(len(p["clientInvoices"]) == 100 for p in pages[:-1])
    assert 1 <= len(pages[-1]["clientInvoices"]) <= 100
    assert len(pages) == (len(oracle) + 99) // 100
    assert [d for p in pages for d in p["clientInvoices"]] == oracle
    beyond = sa.get(CI, {**params, "pageNumber": page + 1}, creds=MEDIUM).json()
    assert beyond == {"clientInvoices": [], "hasMoreEntries": False}
    assert sa.get(CI, {**params, "pageNumber": "0"}, creds=MEDIUM).status_code == 400


def test_large_company_runs_many_pages(sa):
    oracle = sa.oracle("co-large", "entries", "2026-03-01", "2026-03-31")
    assert len(oracle) > 2000
    last_page = (len(oracle) + 99) // 100
    params = {"companyId": "co-large", "dateFrom": "01.03.2026", "dateTo": "31.03.2026"}
    first = sa.get("general/entries:get", {**params, "pageNumber": 1}, creds=FIRM).json()
    assert len(first["entries"]) == 100 and first["hasMoreEntries"] is True
    last = sa.get("general/entries:get", {**params, "pageNumber": last_page}, creds=FIRM).json()
    assert last["hasMoreEntries"] is False and len(last["entries"]) == len(oracle) - 100 * (last_page - 1)
    assert last["entries"][-1]["id"] == oracle[-1]["id"]


def test_oracle_matches_paged_api_for_every_kind(sa):
    for kind, endpoint, envelope in (("vendorinvoices", "purchasesales/vendorinvoices:get", "vendorInvoices"),
                                     ("payments", "purchasesales/payments:get", "payments"),
                                     ("entries", "general/entries:get", "entries")):
        oracle = sa.oracle("co-medium", kind, "2026-02-10", "2026-03-05")
        api = sa.all_pages(endpoint, envelope, {"dateFrom": "10.02.2026", "dateTo": "05.03.2026",
                                                "fetchRows": "true"}, creds=MEDIUM)
        assert api == oracle, kind
        assert len({d["id"] for d in api}) == len(api)


def test_month_edges_and_variety(sa):
    for company in ("co-small", "co-medium", "co-large"):
        for y, m, last in ((2020, 1, 31), (2028, 2, 29), (2030, 12, 31)):
            for kind in ("clientinvoices", "vendorinvoices", "payments", "entries"):
                docs = sa.oracle(company, kind, f"{y}-{m:02d}-01", f"{y}-{m:02d}-{last}")
                dates = {d["date"] for d in docs}
                assert f"01.{m:02d}.{y}" in dates and f"{last}.{m:02d}.{y}" in dates, (company, kind, y, m)
                if kind == "clientinvoices":
                    assert any(d["type"] == "CRE" for d in docs), (company, y, m)
    ci = sa.oracle("co-small", "clientinvoices", "2026-01-01", "2026-06-30")
    by_id = {d["id"]: d for d in ci}
    credits = [d for d in ci if d["type"] == "CRE"]
    assert credits
    for c in credits:
        base = by_id[c["baseForCreditInvoiceId"]]
        assert base["type"] == "INV" and c["amount"] > 0
    pays = sa.oracle("co-small", "payments", "2026-01-01", "2026-01-31")
    assert {p["accountType"] for p in pays} == {"BANK", "CASH"}
    entries = sa.oracle("co-medium", "entries", "2026-01-01", "2026-01-31")
    types = {e["docType"] for e in entries}
    assert {"CLIENT_INVOICE", "VENDOR_INVOICE", "PAYMENT", "LEDGER_ENTRY", "VAT_RETURN", "DEPRECIATION"} <= types
    n_docs = sum(len(sa.oracle("co-medium", k, "2026-01-01", "2026-01-31"))
                 for k in ("clientinvoices", "vendorinvoices", "payments"))
    assert sum(e["docType"] in ("CLIENT_INVOICE", "VENDOR_INVOICE", "PAYMENT") for e in entries) == n_docs
    for e in entries:
        assert round(sum(r["debitAmount"] for r in e["rows"]), 2) == round(sum(r["creditAmount"] for r in e["rows"]), 2)
    assert sa.oracle("co-empty", "entries", "2020-01-01", "2030-12-31") == []


def test_filters(sa):
    base = {"dateFrom": "01.01.2026", "dateTo": "31.03.2026"}
    pays = sa.all_pages("purchasesales/payments:get", "payments", {**base, "partnerType": "VENDOR",
                                                                    "accountType": "CASH"})
    assert pays and all(p["partnerType"] == "VENDOR" and p["accountType"] == "CASH" and "vendor" in p for p in pays)
    entries = sa.all_pages("general/entries:get", "entries", {**base, "docType": "VAT_RETURN"})
    assert [e["date"] for e in entries] == ["20.01.2026", "20.02.2026", "20.03.2026"]
    invoices = sa.all_pages(CI, "clientInvoices", base)
    client_id = invoices[0]["clientId"]
    mine = sa.all_pages(CI, "clientInvoices", {**base, "clientId": client_id})
    assert mine == [i for i in invoices if i["clientId"] == client_id]
    number = str(invoices[3]["invoiceNumber"])
    assert [i["id"] for i in sa.all_pages(CI, "clientInvoices", {**base, "invoiceNumber": number})] == \
        [invoices[3]["id"]]
    by_due = sa.all_pages(CI, "clientInvoices", {**base, "dateType": "duedate"})
    assert by_due and all(i["dueDate"][3:] in ("01.2026", "02.2026", "03.2026") for i in by_due)
    assert sa.get(CI, {**base, "dateType": "bogus"}).status_code == 400


def test_settings_vatpcs_not_paged(sa):
    data = sa.get("settings/vatpcs:get").json()
    assert set(data) == {"vatPcs"}
    vat24 = next(v for v in data["vatPcs"] if v["vatPc"] == "VAT24")
    assert vat24 == {"vatPc": "VAT24", "pc": 24, "descriptionEt": "Käibemaks 24%", "descriptionEn": "VAT 24%",
                     "activeSales": True, "activePurchase": True}


def test_clients_and_articles(sa):
    data = sa.get("purchasesales/clients:get", {"fetchAddresses": "true", "fetchContacts": "true"}).json()
    assert data["hasMoreEntries"] is False
    c = data["clients"][0]
    assert {"id", "name", "regCode", "vatNumber", "bankAccount", "referenceNumber", "invoiceDueDate", "address",
            "contacts"} == set(c)
    assert set(c["address"]) == {"country", "county", "city", "address1", "address2", "postalCode"}
    plain = sa.get("purchasesales/clients:get").json()["clients"][0]
    assert "address" not in plain and "contacts" not in plain
    big = sa.get("purchasesales/clients:get", {"companyId": "co-large", "pageNumber": 5}, creds=FIRM).json()
    assert big["hasMoreEntries"] is False and 0 < len(big["clients"]) <= 100
    arts = sa.get("purchasesales/articles:get").json()
    assert {"SERVICE", "CONSULT"} <= {a["code"] for a in arts["articles"]}
    r = sa.post("purchasesales/clients:add", body={"name": "Uus Klient OÜ", "regCode": "12345678",
                                                   "address": {"country": "EE", "address1": "Lai 1"}})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"clientId", "referenceNumber"}
    r2 = sa.get("purchasesales/clients:get", {"id": r.json()["clientId"]})
    assert r2.json()["clients"][0]["name"] == "Uus Klient OÜ"
    r = sa.post("purchasesales/clients:add", body={"name": "X", "address": {"address1": "x" * 65}})
    assert r.status_code == 400
    assert len(sa.admin("GET", "/companies/co-small/created-clients").json()["clients"]) == 1
    r = sa.post("purchasesales/articles:add", body={"code": "NEWART", "description": "Uus", "type": "SERVICE"})
    assert r.status_code == 200
    assert sa.get("purchasesales/articles:get", {"code": "NEWART"}).json()["articles"][0]["code"] == "NEWART"


def _client_id(sa) -> str:
    return sa.get("purchasesales/clients:get").json()["clients"][0]["id"]


def test_invoice_creation_and_credit(sa):
    client_id = _client_id(sa)
    body = {"clientId": client_id, "date": "10.03.2026", "rows": [
        {"code": "SERVICE", "description": "Raamatupidamine", "price": 100, "quantity": 2, "vatPc": "VAT24"},
        {"code": "CONSULT", "description": "Nõustamine", "price": "50.50", "quantity": "1", "vatPc": "VAT9"},
    ]}
    r = sa.post("purchasesales/clientinvoices:add", body=body)
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == {"invoiceId", "invoiceNumber", "clientId", "totalAmount", "number", "referenceNumber",
                            "amount", "vatAmount", "roundAmount", "dueDate"}
    assert created["amount"] == 250.5 and created["vatAmount"] == 52.55 and created["totalAmount"] == 303.05
    got = sa.get(CI, {"id": created["invoiceId"], "fetchRows": "true"}).json()["clientInvoices"][0]
    assert got["totalAmount"] == 303.05 and len(got["rows"]) == 2 and got["type"] == "INV"
    listed = sa.all_pages(CI, "clientInvoices", {"dateFrom": "10.03.2026", "dateTo": "10.03.2026"})
    assert created["invoiceId"] in {i["id"] for i in listed}
    admin = sa.admin("GET", "/companies/co-small/created-invoices").json()["invoices"]
    assert [i["id"] for i in admin] == [created["invoiceId"]]
    entries = sa.all_pages("general/entries:get", "entries", {"dateFrom": "10.03.2026", "dateTo": "10.03.2026"})
    assert created["number"] in {e["number"] for e in entries}

    credit = {"clientId": client_id, "date": "09.03.2026", "type": "CRE",
              "baseForCreditInvoiceId": created["invoiceId"],
              "rows": [{"code": "SERVICE", "price": 100, "quantity": 1, "vatPc": "VAT24"}]}
    r = sa.post("purchasesales/clientinvoices:add", body=credit)
    assert r.status_code == 400 and "CREDIT-INVOICE-EARLIER-THAN-BASE" in errors_of(r)
    r = sa.post("purchasesales/clientinvoices:add", body={**credit, "date": "12.03.2026"})
    assert r.status_code == 200, r.text
    cre = sa.get(CI, {"id": r.json()["invoiceId"]}).json()["clientInvoices"][0]
    assert cre["type"] == "CRE" and cre["baseForCreditInvoiceId"] == created["invoiceId"] and cre["amount"] == 100


def test_invoice_validation_errors(sa):
    client_id = _client_id(sa)
    ok_row = {"code": "SERVICE", "price": 10, "quantity": 1, "vatPc": "VAT24"}
    cases = [
        ({"clientId": client_id, "date": "10.03.2026", "rows": [{**ok_row, "code": "NOPE"}]},
         "Row code must be an existing article code"),
        ({"clientId": client_id, "date": "2026-03-10", "rows": [ok_row]}, "Invalid date format, expected dd.MM.yyyy"),
        ({"clientId": "missing", "date": "10.03.2026", "rows": [ok_row]}, "Client by id not found"),
        ({"clientId": client_id, "date": "10.03.2026", "rows": [{**ok_row, "vatPc": "VAT99"}]},
         "Row vatPc must be an existing VAT code"),
        ({"clientId": client_id, "date": "10.03.2026", "rows": [{**ok_row, "description": "Tore \U0001f600"}]},
         "4-byte UTF-8 characters are not allowed"),
        ({"clientId": client_id, "date": "10.03.2026", "rows": [ok_row], "totalAmount": 99},
         "totalAmount does not match the invoice rows"),
    ]
    for body, message in cases:
        r = sa.post("purchasesales/clientinvoices:add", body=body)
        assert r.status_code == 400, body
        assert message in errors_of(r), (body, r.text)
    r = sa.post("purchasesales/clientinvoices:add", body={"date": "bad", "rows": []})
    assert len(errors_of(r)) >= 3  # one message per problem
    assert sa.admin("GET", "/companies/co-small/created-invoices").json()["invoices"] == []


def test_determinism_across_reset_and_instances(sa):
    args = ("co-small", "clientinvoices", "2026-03-01", "2026-04-30")
    first = sa.oracle(*args)
    pays = sa.oracle("co-medium", "payments", "2025-12-01", "2025-12-31")
    sa.admin("POST", "/reset")
    assert sa.oracle(*args) == first
    for seed, same in ((42, True), (7, False)):
        other = SandboxServer(port=0, seed=seed).start()
        try:
            client = SaClient(other)
            assert (client.oracle(*args) == first) is same
            assert (client.oracle("co-medium", "payments", "2025-12-01", "2025-12-31") == pays) is same
        finally:
            other.stop()


def test_admin_created_company(sa):
    r = sa.admin("POST", "/companies", json={"id": "co-test", "name": "Test OÜ", "regCode": "1", "volume": "small",
                                             "seed": "abc", "apiKeys": ["demo-firm-key"]})
    assert r.status_code == 201, r.text
    docs = sa.oracle("co-test", "clientinvoices", "2026-01-01", "2026-01-31")
    assert 5 <= len(docs) <= 40
    r = sa.get(CI, {"companyId": "co-test", "dateFrom": "01.01.2026", "dateTo": "31.01.2026"}, creds=FIRM)
    assert r.json()["clientInvoices"] == [{k: v for k, v in d.items() if k != "rows"} for d in docs]
    assert requests.get(sa.server.admin_url + "/health", timeout=TIMEOUT).json() == {"status": "ok"}
