"""The signed SmartAccounts-like API: authentication, quotas, faults and endpoint handlers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from .data import Company, invoice_entry_rows, partner_summary, vat_code_for
from .state import KeyRecord, SandboxState
from .util import (
    INVALID_DATE,
    TALLINN,
    ApiError,
    add_months,
    fmt_sa_date,
    iter_months,
    money,
    month_end,
    num,
    parse_sa_date,
    reference_number,
    tallinn_today,
)

PAGE_SIZE = 100
TIMESTAMP_WINDOW = dt.timedelta(minutes=15)
MSG_REQUIRED = "apikey, timestamp and signature are required"
MSG_DATEFROM = "dateFrom only allowed to be null when paymentStatus or id is provided"
MSG_DATEFROM_ID = "dateFrom only allowed to be null when id is provided"
MSG_4BYTE = "4-byte UTF-8 characters are not allowed"
PROXY_429_BODY = (b"<html><head><title>429 Too Many Requests</title></head>"
                  b"<body><h1>429 Too Many Requests</h1></body></html>")
CONTACT_TYPES = {"EMAIL", "PHONE", "FAX", "WWW", "SKYPE", "OTHER", "PERSON", "POST_ADDRESS"}


@dataclass
class Result:
    status: int
    payload: dict
    headers: dict[str, str] = field(default_factory=dict)
    api_key: str | None = None
    raw: bytes | None = None  # a non-JSON body (a proxy's answer), sent as text/html


@dataclass
class Ctx:
    state: SandboxState
    key: KeyRecord
    params: dict[str, str]
    method: str
    body_raw: bytes
    _company: Company | None = None

    def company(self) -> Company:
        if self._company is None:
            self._company = select_company(self.state, self.key, self.params.get("companyId"))
        return self._company

    def json_body(self) -> Any:
        if not self.body_raw.strip():
            return None
        try:
            return json.loads(self.body_raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "POST body read error") from exc


# ----- authentication ---------------------------------------------------------------------------------------------


def parse_timestamp(value: str) -> dt.datetime:
    if len(value) != 14 or not value.isdigit():
        raise ValueError("bad timestamp")
    naive = dt.datetime.strptime(value, "%d%m%Y%H%M%S")
    return naive.replace(tzinfo=TALLINN)


def authenticate(state: SandboxState, raw_query: bytes, body: bytes) -> tuple[KeyRecord, dict[str, str]]:
    text = raw_query.decode("latin-1")
    parts = text.split("&") if text else []
    params: dict[str, str] = {}
    for k, v in parse_qsl(raw_query.decode("utf-8", "replace"), keep_blank_values=True):
        params.setdefault(k, v)
    sig_parts = [i for i, p in enumerate(parts) if p.startswith("signature=")]
    if (not params.get("apikey") or not params.get("timestamp") or len(sig_parts) != 1
            or sig_parts[0] != len(parts) - 1 or sig_parts[0] == 0 or not params.get("signature")):
        raise ApiError(401, MSG_REQUIRED)
    with state.lock:
        key = state.keys.get(params["apikey"])
        if key is None:
            raise ApiError(401, "Invalid apikey")
        if key.revoked:
            raise ApiError(401, "Apikey is revoked")
        secret = key.secret
    try:
        ts = parse_timestamp(params["timestamp"])
    except ValueError as exc:
        raise ApiError(401, "Request timestamp is not within 15 minutes of Estonian time") from exc
    if abs(dt.datetime.now(dt.UTC) - ts) > TIMESTAMP_WINDOW:
        raise ApiError(401, "Request timestamp is not within 15 minutes of Estonian time")
    cut = raw_query.rfind(b"&signature=")
    message = raw_query[:cut] + body
    expected = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), params["signature"].encode("utf-8", "replace")):
        raise ApiError(401, "Invalid signature")
    return key, params


# ----- request pipeline -------------------------------------------------------------------------------------------


def handle_api(state: SandboxState, method: str, endpoint: str, raw_query: bytes, body: bytes) -> Result:
    api_key: str | None = None
    try:
        try:
            key, params = authenticate(state, raw_query, body)
        except ApiError:
            for k, v in parse_qsl(raw_query.decode("utf-8", "replace"), keep_blank_values=True):
                if k == "apikey":
                    api_key = v
                    break
            raise
        api_key = key.api_key
        sleep_for = 0.0
        error_status = None
        with state.lock:
            over = state.check_quota(api_key)
            if over is not None:
                raise ApiError(503, over[0], {"Retry-After": str(over[1])})
            fault = state.fault_for(api_key)
            if fault is not None and fault.rate_limit_burst > 0:
                fault.rate_limit_burst -= 1
                raise ApiError(503, "Too many requests", {"Retry-After": "1"})
            if fault is not None and fault.proxy_rate_limit_burst > 0:
                # the rate-limit answer of a proxy in front of SmartAccounts: 429, its own body, not SmartAccounts'
                fault.proxy_rate_limit_burst -= 1
                return Result(429, {}, {"Retry-After": "1"}, api_key=api_key, raw=PROXY_429_BODY)
            state.record_quota(api_key)
            if fault is not None:
                sleep_for += fault.latency_ms / 1000.0
                if fault.timeout_rate and state.fault_rng.random() < fault.timeout_rate:
                    sleep_for += fault.timeout_seconds
                if fault.error_rate and state.fault_rng.random() < fault.error_rate:
                    error_status = fault.error_status
        if sleep_for > 0:
            time.sleep(sleep_for)
        if error_status is not None:
            raise ApiError(error_status, "Internal server error")
        spec = ENDPOINTS.get(endpoint)
        if spec is None:
            raise ApiError(404, "Unknown endpoint")
        kind, handler = spec
        if (kind == "write" and method != "POST") or method not in ("GET", "POST"):
            raise ApiError(405, "Method not allowed")
        ctx = Ctx(state=state, key=key, params=params, method=method, body_raw=body)
        if kind == "read" and method == "POST":
            ctx.json_body()  # a read may carry a JSON body (commonly {}); malformed JSON is still an error
        payload = handler(ctx)
        if kind == "write":
            with state.lock:
                fault = state.fault_for(api_key)
                if (fault is not None and fault.crash_after_accept > 0
                        and fault.crash_endpoint in (None, endpoint)):
                    fault.crash_after_accept -= 1  # carried out, but the caller never hears so
                    raise ApiError(500, "Internal server error")
        return Result(200, payload, api_key=api_key)
    except ApiError as err:
        return Result(err.status, err.body(), dict(err.headers), api_key=api_key)


# ----- helpers ----------------------------------------------------------------------------------------------------


def select_company(state: SandboxState, key: KeyRecord, company_id: str | None) -> Company:
    with state.lock:
        ids = list(key.company_ids)
        if company_id:
            if company_id not in ids or company_id not in state.companies:
                raise ApiError(404, "Company not found")
            return state.companies[company_id]
        for cid in ids:
            if cid in state.companies:
                return state.companies[cid]
    raise ApiError(404, "Company not found")


def page_number(params: dict[str, str]) -> int:
    value = params.get("pageNumber", "")
    if value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ApiError(400, "pageNumber must be a positive integer")
    return int(value)


def paged(items: list, page: int) -> tuple[list, bool]:
    start = (page - 1) * PAGE_SIZE
    chunk = items[start:start + PAGE_SIZE]
    return chunk, len(items) > start + PAGE_SIZE


def public(doc: dict, fetch_rows: bool = True) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_") and (fetch_rows or k != "rows")}


def flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "").lower() == "true"


def has_4byte(value: Any) -> bool:
    if isinstance(value, str):
        return any(ord(c) > 0xFFFF for c in value)
    if isinstance(value, dict):
        return any(has_4byte(k) or has_4byte(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_4byte(v) for v in value)
    return False


def write_body(ctx: Ctx) -> dict:
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "POST body read error")
    if has_4byte(body):
        raise ApiError(400, MSG_4BYTE)
    return body


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


# ----- settings ---------------------------------------------------------------------------------------------------


def h_company(ctx: Ctx) -> dict:
    return {"company": ctx.company().summary()}


def h_companies(ctx: Ctx) -> dict:
    needle = ctx.params.get("nameOrRegCode", "").lower()
    page = page_number(ctx.params)
    with ctx.state.lock:
        companies = [ctx.state.companies[c] for c in ctx.key.company_ids if c in ctx.state.companies]
    items = [c.summary() for c in companies
             if not needle or needle in c.name.lower() or needle in (c.reg_code or "").lower()]
    chunk, more = paged(items, page)
    return {"companies": chunk, "hasMoreEntries": more}


def h_vatpcs(ctx: Ctx) -> dict:
    return {"vatPcs": [dict(v) for v in ctx.company().vat_register()]}


# ----- documents --------------------------------------------------------------------------------------------------

DATE_FIELDS = {"": "_date", "date": "_date", "modifydate": "_date", "entrydate": "_entry", "duedate": "_due"}
NOT_FOUND = {"clientinvoices": "Invoice by id not found", "vendorinvoices": "Invoice by id not found",
             "payments": "Payment by id not found", "entries": "Entry by id not found"}


def created_docs(state: SandboxState, company: Company, kind: str) -> list[dict]:
    with state.lock:
        if kind == "clientinvoices":
            return list(state.created_invoices.get(company.id, []))
        if kind == "entries":
            return list(state.created_entries.get(company.id, []))
        if kind == "payments":
            return list(state.created_payments.get(company.id, []))
    return []


def find_document(state: SandboxState, company: Company, kind: str, doc_id: str) -> dict | None:
    for doc in created_docs(state, company, kind):
        if doc["id"] == doc_id:
            return doc
    with state.store.lock:
        return state.store.find(company, kind, doc_id)


def collect(state: SandboxState, company: Company, kind: str, date_from: dt.date, date_to: dt.date,
            field_name: str = "_date", predicate: Callable[[dict], bool] | None = None,
            filter_key: tuple = ()) -> list[dict]:
    """All documents of a kind whose date field lies in [date_from, date_to], sorted as the API pages them."""
    cache_key = (company.id, company.seed_str, company.version, kind, date_from, date_to, field_name, filter_key)
    store = state.store
    created = created_docs(state, company, kind)
    with store.lock:
        hit = store.query_cache.get(cache_key)
        if hit is not None:
            store.query_cache.move_to_end(cache_key)
            return hit
        back = {"_date": 0, "_entry": 1, "_due": 2}[field_name]
        start = add_months(date_from.year, date_from.month, -back)
        out = []
        for y, m in iter_months(start, (date_to.year, date_to.month)):
            for doc in state.store.month(company, kind, y, m):
                if date_from <= doc[field_name] <= date_to and (predicate is None or predicate(doc)):
                    out.append(doc)
        for doc in created:
            if date_from <= doc[field_name] <= date_to and (predicate is None or predicate(doc)):
                out.append(doc)
        out.sort(key=lambda d: (d[field_name], d["_date"], d["_ord"]))
        store.query_cache[cache_key] = out
        while len(store.query_cache) > 8:
            store.query_cache.popitem(last=False)
        return out


def parse_range(params: dict[str, str], errors: list[str], allow_missing_from: bool, missing_msg: str,
                from_default: dt.date | None = None) -> tuple[dt.date | None, dt.date | None]:
    date_from = date_to = None
    raw_from, raw_to = params.get("dateFrom", ""), params.get("dateTo", "")
    if raw_from:
        try:
            date_from = parse_sa_date(raw_from)
        except ValueError:
            errors.append(INVALID_DATE)
    elif not allow_missing_from:
        errors.append(missing_msg)
    else:
        date_from = from_default
    if raw_to:
        try:
            date_to = parse_sa_date(raw_to)
        except ValueError:
            if INVALID_DATE not in errors:
                errors.append(INVALID_DATE)
    if not errors and date_from is not None and date_to is None:
        today = tallinn_today()
        date_to = max(month_end(today.year, today.month), month_end(date_from.year, date_from.month))
    return date_from, date_to


def list_documents(ctx: Ctx, kind: str, envelope: str) -> dict:
    p = ctx.params
    company = ctx.company()
    fetch_rows = flag(p, "fetchRows")
    page = page_number(p)
    if p.get("id"):
        doc = find_document(ctx.state, company, kind, p["id"])
        if doc is None:
            raise ApiError(404, NOT_FOUND[kind])
        return {envelope: [public(doc, fetch_rows)] if page == 1 else [], "hasMoreEntries": False}
    errors: list[str] = []
    date_type = p.get("dateType", "").lower()
    if date_type not in DATE_FIELDS:
        errors.append("Invalid dateType")
    preds: list[Callable[[dict], bool]] = []
    filter_key: list = []
    today = tallinn_today()
    from_default = None
    allow_missing = False
    missing_msg = MSG_DATEFROM_ID
    if kind in ("clientinvoices", "vendorinvoices"):
        missing_msg = MSG_DATEFROM
        partner_field = "clientId" if kind == "clientinvoices" else "vendorId"
        if p.get(partner_field):
            pid = p[partner_field]
            preds.append(lambda d: d[partner_field] == pid)
            filter_key.append((partner_field, pid))
        if p.get("invoiceNumber"):
            inv_no = p["invoiceNumber"]
            preds.append(lambda d: str(d["invoiceNumber"]) == inv_no)
            filter_key.append(("invoiceNumber", inv_no))
        status = p.get("paymentStatus", "").lower()
        if status:
            if status not in ("unpaid", "overdue"):
                errors.append("Invalid paymentStatus")
            else:
                allow_missing = True
                y, m = add_months(today.year, today.month, -12)
                from_default = dt.date(y, m, 1)
                if status == "unpaid":
                    preds.append(lambda d: float(d["outstandingAmount"]) > 0)
                else:
                    preds.append(lambda d: float(d["outstandingAmount"]) > 0 and d["_due"] < today)
                filter_key.append(("paymentStatus", status, today))
    elif kind == "payments":
        for name, values in (("partnerType", ("CLIENT", "VENDOR")), ("accountType", ("BANK", "CASH"))):
            value = p.get(name, "").upper()
            if value:
                if value not in values:
                    errors.append(f"Invalid {name}")
                preds.append(lambda d, n=name, v=value: d[n] == v)
                filter_key.append((name, value))
        if p.get("partnerId"):
            pid = p["partnerId"]
            preds.append(lambda d: d.get("clientId", d.get("vendorId")) == pid)
            filter_key.append(("partnerId", pid))
    elif kind == "entries" and p.get("docType"):
        doc_type = p["docType"].upper()
        if doc_type not in ("CLIENT_INVOICE", "VENDOR_INVOICE", "PAYMENT", "LEDGER_ENTRY", "VAT_RETURN",
                            "DEPRECIATION", "SALARY"):
            errors.append("Invalid docType")
        preds.append(lambda d: d["docType"] == doc_type)
        filter_key.append(("docType", doc_type))
    date_from, date_to = parse_range(p, errors, allow_missing, missing_msg, from_default)
    if errors:
        raise ApiError(400, errors)
    if date_to is None:  # paymentStatus without dates
        date_to = month_end(today.year, today.month)
    assert date_from is not None  # noqa: S101 - parse_range guarantees it once errors are empty

    def predicate(d: dict) -> bool:
        return all(f(d) for f in preds)

    items = collect(ctx.state, company, kind, date_from, date_to, DATE_FIELDS[date_type],
                    predicate if preds else None, tuple(filter_key))
    chunk, more = paged(items, page)
    return {envelope: [public(d, fetch_rows) for d in chunk], "hasMoreEntries": more}


def h_client_invoices(ctx: Ctx) -> dict:
    return list_documents(ctx, "clientinvoices", "clientInvoices")


def h_vendor_invoices(ctx: Ctx) -> dict:
    return list_documents(ctx, "vendorinvoices", "vendorInvoices")


def h_payments(ctx: Ctx) -> dict:
    return list_documents(ctx, "payments", "payments")


def h_entries(ctx: Ctx) -> dict:
    return list_documents(ctx, "entries", "entries")


# ----- invoice creation -------------------------------------------------------------------------------------------


def all_clients(state: SandboxState, company: Company) -> list[dict]:
    with state.lock:
        return company.clients + state.created_clients.get(company.id, [])


def all_articles(state: SandboxState, company: Company) -> list[dict]:
    with state.lock:
        return company.articles + state.created_articles.get(company.id, [])


def _opt_date(body: dict, name: str, errors: list[str]) -> dt.date | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_sa_date(str(value))
    except ValueError:
        if INVALID_DATE not in errors:
            errors.append(INVALID_DATE)
        return None


def h_add_client_invoice(ctx: Ctx) -> dict:
    state = ctx.state
    company = ctx.company()
    body = write_body(ctx)
    errors: list[str] = []
    client_id = body.get("clientId")
    client = next((c for c in all_clients(state, company) if c["id"] == client_id), None) if client_id else None
    if not client_id:
        errors.append("clientId is required")
    elif client is None:
        errors.append("Client by id not found")
    date = _opt_date(body, "date", errors)
    if body.get("date") in (None, ""):
        errors.append("date is required")
    entry_date = _opt_date(body, "entryDate", errors)
    due_date = _opt_date(body, "dueDate", errors)
    inv_type = body.get("type") or "INV"
    if inv_type not in ("INV", "CRE"):
        errors.append("type must be INV or CRE")
    codes = {a["code"]: a for a in all_articles(state, company)}
    vat_by_code = {v["vatPc"]: v for v in company.vat_register()}
    rows_in = body.get("rows")
    rows_out: list[dict] = []
    amount = vat_total = Decimal(0)
    if not isinstance(rows_in, list) or not rows_in:
        errors.append("rows are required")
        rows_in = []
    for order, row in enumerate(rows_in, start=1):
        if not isinstance(row, dict):
            errors.append("Row must be an object")
            continue
        art = codes.get(row.get("code"))
        if art is None:
            msg = "Row code must be an existing article code"
            if msg not in errors:
                errors.append(msg)
        vat_code = row.get("vatPc")
        if vat_code in (None, ""):
            vat_code = vat_code_for(date or tallinn_today())
        if vat_code not in vat_by_code:
            msg = "Row vatPc must be an existing VAT code"
            if msg not in errors:
                errors.append(msg)
            continue
        price = to_decimal(row.get("price"))
        qty = to_decimal(row.get("quantity", 1))
        discount = to_decimal(row.get("discount", 0) or 0)
        if price is None or qty is None or discount is None:
            errors.append("Row price, quantity and discount must be numbers")
            continue
        line = money(price * qty * (100 - discount) / 100)
        vat = money(line * Decimal(vat_by_code[vat_code]["pc"]) / 100)
        amount += line
        vat_total += vat
        rows_out.append({
            "code": row.get("code"), "description": row.get("description") or (art or {}).get("description"),
            "price": num(price), "quantity": num(qty), "unit": row.get("unit") or (art or {}).get("unit"),
            "discount": num(discount), "vat": num(vat), "vatPc": vat_code, "sum": num(line), "order": order,
            "objectId": row.get("objectId", body.get("objectId")),
            "accountSales": row.get("accountSales") or (art or {}).get("accountSales"),
        })
    if date and company.locked_until and date <= company.locked_until:
        errors.append("Period is locked")
    base = None
    if inv_type == "CRE":
        base_id = body.get("baseForCreditInvoiceId")
        base = find_document(state, company, "clientinvoices", base_id) if base_id else None
        if not base_id:
            errors.append("baseForCreditInvoiceId is required for a credit invoice")
        elif base is None:
            errors.append("baseForCreditInvoiceId must be an existing invoice")
        elif date:
            if date < base["_date"]:
                errors.append("CREDIT-INVOICE-EARLIER-THAN-BASE")
            if (entry_date or date) < base["_entry"]:
                errors.append("CREDIT-INVOICE-ENTRY-EARLIER-THAN-BASE")
    computed_total = amount + vat_total
    round_amount = Decimal(0)
    if body.get("roundAmount") not in (None, ""):
        ra = to_decimal(body["roundAmount"])
        if ra is None:
            errors.append("roundAmount must be a number")
        else:
            round_amount = money(ra)
    if body.get("totalAmount") not in (None, "") and not errors:
        total_in = to_decimal(body["totalAmount"])
        if total_in is None or abs(total_in - computed_total - round_amount) > Decimal("0.05"):
            errors.append("totalAmount does not match the invoice rows")
        else:
            round_amount = money(total_in) - computed_total
    if errors:
        raise ApiError(400, errors)
    assert date is not None and client is not None  # noqa: S101
    entry_date = entry_date or date
    due_date = due_date or date + dt.timedelta(days=int(client.get("invoiceDueDate") or 14))
    total = computed_total + round_amount
    with state.lock:
        created = state.created_invoices.setdefault(company.id, [])
        seq = len(created) + 1
        number = str(900000 + seq)
        inv_id = state.new_id()
        doc = {
            "id": inv_id, "clientId": client["id"], "client": partner_summary(client), "type": inv_type,
            "baseForCreditInvoiceId": base["id"] if base else None, "date": fmt_sa_date(date),
            "dueDate": fmt_sa_date(due_date), "entryDate": fmt_sa_date(entry_date), "number": number,
            "invoiceNumber": str(body.get("invoiceNumber") or number),
            "referenceNumber": str(body.get("referenceNumber") or client.get("referenceNumber") or ""),
            "currency": body.get("currency") or "EUR", "exchangeRate": 1,
            "rows": rows_out,
            "amount": num(amount), "roundAmount": num(round_amount), "vatAmount": num(vat_total),
            "totalAmount": num(total), "outstandingAmount": 0.0 if inv_type == "CRE" else num(total),
            "_date": date, "_entry": entry_date, "_due": due_date, "_ord": (9999, 0, seq),
            "_created": {"invoiceNote": body.get("invoiceNote"), "comment": body.get("comment")},
        }
        created.append(doc)
        state.created_entries.setdefault(company.id, []).append({
            "id": state.new_id(), "date": fmt_sa_date(date), "docType": "CLIENT_INVOICE", "number": number,
            "currency": doc["currency"], "rows": invoice_entry_rows(doc, True),
            "_date": date, "_entry": date, "_due": date, "_ord": (9999, 0, seq),
        })
        company.version += 1
    return {"invoiceId": inv_id, "invoiceNumber": doc["invoiceNumber"], "clientId": client["id"],
            "totalAmount": doc["totalAmount"], "number": number, "referenceNumber": doc["referenceNumber"],
            "amount": doc["amount"], "vatAmount": doc["vatAmount"], "roundAmount": doc["roundAmount"],
            "dueDate": doc["dueDate"]}


# ----- payments against created invoices (admin: a bank payment arrives) -------------------------------------------

MSG_PAYMENT_TOO_LARGE = "payment amount larger than outstanding amount on row"


def record_payment(state: SandboxState, company: Company, body: dict) -> dict:
    """A bank payment of a buyer against one created invoice: lowers its ``outstandingAmount``."""
    invoice = next((d for d in created_docs(state, company, "clientinvoices") if d["id"] == body.get("invoiceId")),
                   None)
    if invoice is None:
        raise ApiError(404, "Invoice by id not found")
    amount = to_decimal(body.get("amount"))
    if amount is None or amount <= 0:
        raise ApiError(400, "amount must be a positive number")
    try:
        date = parse_sa_date(str(body["date"])) if body.get("date") else tallinn_today()
    except ValueError as exc:
        raise ApiError(400, INVALID_DATE) from exc
    with state.lock:
        outstanding = Decimal(str(invoice["outstandingAmount"]))
        if amount > outstanding:
            raise ApiError(400, MSG_PAYMENT_TOO_LARGE)
        invoice["outstandingAmount"] = num(money(outstanding - amount))
        created = state.created_payments.setdefault(company.id, [])
        seq = len(created) + 1
        payment = {
            "id": state.new_id(), "date": fmt_sa_date(date), "number": str(700000 + seq), "document": None,
            "partnerType": "CLIENT", "clientId": invoice["clientId"], "client": invoice["client"],
            "accountType": "BANK", "accountName": "Bank", "currency": invoice["currency"], "amount": num(amount),
            "rows": [{"type": "CLIENT_INVOICE", "id": invoice["id"], "amount": num(amount),
                      "description": f"Invoice {invoice['invoiceNumber']}"}],
            "_date": date, "_entry": date, "_due": date, "_ord": (9999, 1, seq),
        }
        created.append(payment)
        company.version += 1
    return {"paymentId": payment["id"], "number": payment["number"], "amount": payment["amount"],
            "outstandingAmount": invoice["outstandingAmount"]}


# ----- clients and articles ---------------------------------------------------------------------------------------


def h_clients(ctx: Ctx) -> dict:
    p = ctx.params
    company = ctx.company()
    page = page_number(p)
    clients = all_clients(ctx.state, company)
    if p.get("id"):
        clients = [c for c in clients if c["id"] == p["id"]]
        if not clients:
            raise ApiError(404, "Client by id not found")
    needle = p.get("nameOrRegCode", "").lower()
    if needle:
        clients = [c for c in clients if needle in c["name"].lower() or needle in (c["regCode"] or "").lower()]
    chunk, more = paged(clients, page)
    with_addr, with_contacts = flag(p, "fetchAddresses"), flag(p, "fetchContacts")
    items = []
    for c in chunk:
        item = {k: v for k, v in c.items() if k not in ("address", "contacts")}
        if with_addr:
            item["address"] = c.get("address")
        if with_contacts:
            item["contacts"] = c.get("contacts") or []
        items.append(item)
    return {"clients": items, "hasMoreEntries": more}


def h_add_client(ctx: Ctx) -> dict:
    state = ctx.state
    company = ctx.company()
    body = write_body(ctx)
    errors = []
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append("name is required")
    address = body.get("address") or {}
    if not isinstance(address, dict):
        errors.append("address must be an object")
        address = {}
    for line in ("address1", "address2"):
        if len(str(address.get(line) or "")) > 64:
            errors.append(f"{line} must not be longer than 64 characters")
    contacts = body.get("contacts") or []
    if not isinstance(contacts, list) or any(not isinstance(c, dict) or c.get("type") not in CONTACT_TYPES
                                             for c in contacts):
        errors.append("Invalid contact type")
        contacts = []
    due = body.get("invoiceDueDate")
    if due not in (None, "") and to_decimal(due) is None:
        errors.append("invoiceDueDate must be a number")
    if errors:
        raise ApiError(400, errors)
    with state.lock:
        created = state.created_clients.setdefault(company.id, [])
        client = {
            "id": state.new_id(), "name": name.strip(), "regCode": body.get("regCode"),
            "vatNumber": body.get("vatNumber"), "bankAccount": body.get("bankAccount"),
            "referenceNumber": reference_number(5000 + len(created)),
            "invoiceDueDate": int(to_decimal(due) or 14),
            "address": {k: address.get(k) for k in ("country", "county", "city", "address1", "address2",
                                                     "postalCode")},
            "contacts": [{"type": c["type"], "value": c.get("value"), "description": c.get("description")}
                         for c in contacts],
        }
        created.append(client)
        company.version += 1
    return {"clientId": client["id"], "referenceNumber": client["referenceNumber"]}


def h_articles(ctx: Ctx) -> dict:
    p = ctx.params
    company = ctx.company()
    page = page_number(p)
    items = all_articles(ctx.state, company)
    if p.get("code"):
        items = [a for a in items if a["code"] == p["code"]]
    if p.get("type"):
        items = [a for a in items if a["type"] == p["type"].upper()]
    chunk, more = paged(items, page)
    return {"articles": [dict(a) for a in chunk], "hasMoreEntries": more}


def h_add_article(ctx: Ctx) -> dict:
    state = ctx.state
    company = ctx.company()
    body = write_body(ctx)
    errors = []
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        errors.append("code is required")
    elif any(a["code"] == code for a in all_articles(state, company)):
        errors.append("Article code already exists")
    art_type = (body.get("type") or "SERVICE").upper()
    if art_type not in ("PRODUCT", "SERVICE", "WH"):
        errors.append("type must be PRODUCT, SERVICE or WH")
    if errors:
        raise ApiError(400, errors)
    with state.lock:
        art = {"id": state.new_id(), "code": code, "description": body.get("description") or code, "type": art_type,
               "unit": body.get("unit") or "tk", "activeSales": bool(body.get("activeSales", True)),
               "activePurchase": bool(body.get("activePurchase", True)),
               "accountSales": body.get("accountSales") or "3000",
               "accountPurchase": body.get("accountPurchase") or "4000", "vatPc": body.get("vatPc")}
        state.created_articles.setdefault(company.id, []).append(art)
        company.version += 1
    return {"articleId": art["id"], "code": code}


ENDPOINTS: dict[str, tuple[str, Callable[[Ctx], dict]]] = {
    "settings/company:get": ("read", h_company),
    "settings/companies:get": ("read", h_companies),
    "settings/vatpcs:get": ("read", h_vatpcs),
    "purchasesales/clientinvoices:get": ("read", h_client_invoices),
    "purchasesales/clientinvoices:add": ("write", h_add_client_invoice),
    "purchasesales/vendorinvoices:get": ("read", h_vendor_invoices),
    "purchasesales/payments:get": ("read", h_payments),
    "general/entries:get": ("read", h_entries),
    "purchasesales/clients:get": ("read", h_clients),
    "purchasesales/clients:add": ("write", h_add_client),
    "purchasesales/articles:get": ("read", h_articles),
    "purchasesales/articles:add": ("write", h_add_article),
}
