"""Built-in companies and deterministic, lazily generated documents.

Every document list is a pure function of (server seed, company seed, kind, year, month): it is generated with
``random.Random(f"...")`` the first time a month is needed and kept in a bounded LRU cache.

Documents are stored in their final API shape (including the deliberate "numbers as strings" quirks), plus private
keys starting with ``_`` (parsed dates, sort order) that are stripped before sending.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from .util import (
    FIRST_MONTH,
    LAST_MONTH,
    fmt_sa_date,
    money,
    month_end,
    mstr,
    num,
    reference_number,
    short_hash,
    stable_uuid,
)

KINDS = ("clientinvoices", "vendorinvoices", "payments", "entries")
KIND_CODES = {"clientinvoices": 1, "vendorinvoices": 2, "payments": 3, "entries": 4}

# documents per month: (low, high) per kind; "ledger" = manual journal entries; pools of partners
VOLUMES: dict[str, dict[str, tuple[int, int] | int]] = {
    "none": {"clientinvoices": (0, 0), "vendorinvoices": (0, 0), "payments": (0, 0), "ledger": (0, 0),
             "clients": 3, "vendors": 2},
    "small": {"clientinvoices": (5, 40), "vendorinvoices": (5, 40), "payments": (5, 40), "ledger": (1, 5),
              "clients": 12, "vendors": 10},
    "medium": {"clientinvoices": (150, 400), "vendorinvoices": (100, 300), "payments": (200, 500), "ledger": (5, 20),
               "clients": 150, "vendors": 80},
    "large": {"clientinvoices": (2500, 3500), "vendorinvoices": (600, 1200), "payments": (2500, 4000),
              "ledger": (20, 60), "clients": 450, "vendors": 220},
}

VAT_PCS = [
    {"vatPc": "VAT24", "pc": 24, "descriptionEt": "Käibemaks 24%", "descriptionEn": "VAT 24%",
     "activeSales": True, "activePurchase": True},
    {"vatPc": "VAT22", "pc": 22, "descriptionEt": "Käibemaks 22%", "descriptionEn": "VAT 22%",
     "activeSales": True, "activePurchase": True},
    {"vatPc": "VAT20", "pc": 20, "descriptionEt": "Käibemaks 20%", "descriptionEn": "VAT 20%",
     "activeSales": False, "activePurchase": False},
    {"vatPc": "VAT13", "pc": 13, "descriptionEt": "Käibemaks 13%", "descriptionEn": "VAT 13%",
     "activeSales": True, "activePurchase": True},
    {"vatPc": "VAT9", "pc": 9, "descriptionEt": "Käibemaks 9%", "descriptionEn": "VAT 9%",
     "activeSales": True, "activePurchase": True},
    {"vatPc": "VAT0", "pc": 0, "descriptionEt": "Käibemaks 0%", "descriptionEn": "VAT 0%",
     "activeSales": True, "activePurchase": True},
    {"vatPc": "MVM", "pc": 0, "descriptionEt": "Maksuvaba", "descriptionEn": "VAT exempt",
     "activeSales": True, "activePurchase": True},
]
VAT_BY_CODE = {v["vatPc"]: v for v in VAT_PCS}

ARTICLES = [
    ("SERVICE", "Teenus", "SERVICE", "h", "3000", "4000"),
    ("CONSULT", "Konsultatsioon", "SERVICE", "h", "3000", "4000"),
    ("GOODS", "Kaup", "PRODUCT", "tk", "3010", "4010"),
    ("SUBSCRIPTION", "Kuutasu", "SERVICE", "kuu", "3000", "4020"),
    ("TRAVEL", "Sõidukulu", "SERVICE", "km", "3020", "4300"),
    ("BOOK", "Raamat", "WH", "tk", "3010", "4010"),
]

BUILTIN_COMPANIES = [
    # id, name, regCode, vatNumber, seed, volume
    ("co-empty", "Tühi Holding OÜ", "16000001", "EE102000001", "empty", "none"),
    ("co-small", "Väike Raamatupidamine OÜ", "16000002", "EE102000002", "small", "small"),
    ("co-medium", "Keskmine Kaubandus AS", "10000003", "EE100000003", "medium", "medium"),
    ("co-large", "Suur Logistika AS", "10000004", "EE100000004", "large", "large"),
]

# The demo accounting firm: the company the demo firm key (`demo-firm-key`) belongs to, so that a connection test
# answers with the firm's own name. Its own books are empty; the key also sees the client companies above.
DEMO_FIRM_COMPANY = ("co-firm", "Näidis Raamatupidamisbüroo OÜ", "16000000", "EE102000000", "firm", "none")

_FIRST = ["Põhja", "Lõuna", "Ida", "Lääne", "Mere", "Metsa", "Kivi", "Tamme", "Kase", "Järve", "Öö", "Päikese",
          "Tuule", "Sala", "Ranna", "Küla", "Linna", "Vana", "Uus", "Hõbe"]
_SECOND = ["Ehitus", "Kaubandus", "Teenused", "Transport", "Disain", "Konsult", "Tarkvara", "Puit", "Toit", "Meedia",
           "Logistika", "Energia", "Tehnika", "Hooldus", "Invest"]
_SUFFIX = ["OÜ", "OÜ", "OÜ", "AS", "MTÜ", "FIE"]
_CITIES = [("Tallinn", "Harju maakond", "10111"), ("Tartu", "Tartu maakond", "50090"),
           ("Pärnu", "Pärnu maakond", "80010"), ("Narva", "Ida-Viru maakond", "20308"),
           ("Viljandi", "Viljandi maakond", "71003")]
_STREETS = ["Narva mnt", "Pärnu mnt", "Tartu mnt", "Riia", "Ülikooli", "Rüütli", "Lai", "Pikk", "Kalda", "Jõe"]


def vat_code_for(date: dt.date) -> str:
    if date >= dt.date(2025, 7, 1):
        return "VAT24"
    if date >= dt.date(2024, 1, 1):
        return "VAT22"
    return "VAT20"


@dataclass
class Company:
    id: str
    name: str
    reg_code: str
    vat_number: str | None
    seed: str
    volume: str
    server_seed: int
    locked_until: dt.date | None = None
    clients: list[dict] = field(default_factory=list)
    vendors: list[dict] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)
    version: int = 0  # bumped when objects are created through the API
    vat_pcs: list[dict] | None = None  # the company's own VAT register when set through the admin API

    def vat_register(self) -> list[dict]:
        return self.vat_pcs if self.vat_pcs is not None else VAT_PCS

    @property
    def seed_str(self) -> str:
        return f"{self.server_seed}:{self.seed}"

    @property
    def tag(self) -> str:
        return short_hash("company", self.id, length=8)

    def summary(self) -> dict:
        return {"id": self.id, "name": self.name, "regCode": self.reg_code, "vatNumber": self.vat_number}

    def admin_view(self) -> dict:
        return {**self.summary(), "seed": self.seed, "volume": self.volume,
                "lockedUntil": self.locked_until.isoformat() if self.locked_until else None}


def make_company(cid: str, name: str, reg_code: str | None, vat_number: str | None, seed: str, volume: str,
                 server_seed: int, locked_until: dt.date | None = None) -> Company:
    if volume not in VOLUMES:
        raise ValueError(f"volume must be one of {', '.join(VOLUMES)}")
    company = Company(id=cid, name=name, reg_code=reg_code or "", vat_number=vat_number, seed=seed, volume=volume,
                      server_seed=server_seed, locked_until=locked_until)
    company.clients = _make_partners(company, "client", int(VOLUMES[volume]["clients"]))
    company.vendors = _make_partners(company, "vendor", int(VOLUMES[volume]["vendors"]))
    company.articles = [
        {"id": stable_uuid(company.seed_str, "article", code), "code": code, "description": desc, "type": typ,
         "unit": unit, "activeSales": True, "activePurchase": True, "accountSales": acc_s, "accountPurchase": acc_p,
         "vatPc": None}
        for code, desc, typ, unit, acc_s, acc_p in ARTICLES
    ]
    return company


def _make_partners(company: Company, kind: str, count: int) -> list[dict]:
    rng = random.Random(f"{company.seed_str}:{kind}s")
    out = []
    for i in range(count):
        city, county, postal = rng.choice(_CITIES)
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}"
        if i >= len(_FIRST):
            name = f"{rng.choice(_FIRST)}-{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}"
        reg = str(rng.randint(10000000, 16999999))
        slug = short_hash(name, i, length=6)
        out.append({
            "id": stable_uuid(company.seed_str, kind, i),
            "name": name,
            "regCode": reg,
            "vatNumber": f"EE{rng.randint(100000000, 102999999)}" if rng.random() < 0.7 else None,
            "bankAccount": f"EE{rng.randint(10, 99)}{rng.randint(10**15, 10**16 - 1)}",
            "referenceNumber": reference_number(1000 + i),
            "invoiceDueDate": rng.choice([7, 14, 14, 21, 30]),
            "address": {"country": "EE", "county": county, "city": city,
                        "address1": f"{rng.choice(_STREETS)} {rng.randint(1, 120)}", "address2": None,
                        "postalCode": postal},
            "contacts": [
                {"type": "EMAIL", "value": f"arved+{slug}@example.ee", "description": None},
                {"type": "PHONE", "value": f"+372 5{rng.randint(100000, 9999999)}", "description": None},
            ],
        })
    return out


def partner_summary(p: dict) -> dict:
    return {"id": p["id"], "name": p["name"], "regCode": p["regCode"], "vatNumber": p["vatNumber"]}


def doc_id(company: Company, kind: str, year: int, month: int, seq: int) -> str:
    """UUID-shaped id that encodes where the document lives: tag-yyyy-MMkk-seq-hash."""
    return (f"{company.tag}-{year:04d}-{month:02d}{KIND_CODES[kind]:02d}-{seq:04x}-"
            f"{short_hash(company.seed_str, kind, year, month, seq)}")


def decode_doc_id(company: Company, value: str) -> tuple[str, int, int, int] | None:
    parts = value.split("-")
    if len(parts) != 5 or parts[0] != company.tag or len(parts[2]) != 4:
        return None
    try:
        year, month, code, seq = int(parts[1]), int(parts[2][:2]), int(parts[2][2:]), int(parts[3], 16)
    except ValueError:
        return None
    kinds = {v: k for k, v in KIND_CODES.items()}
    if code not in kinds or not (1 <= month <= 12) or not (FIRST_MONTH <= (year, month) <= LAST_MONTH):
        return None
    return kinds[code], year, month, seq


class DocumentStore:
    """Lazily generated per-month documents with a bounded LRU cache."""

    def __init__(self, max_months: int = 24) -> None:
        self.lock = threading.RLock()  # generation runs under this lock, not under the state lock
        self._cache: OrderedDict[tuple, list[dict]] = OrderedDict()
        self.query_cache: OrderedDict[tuple, list[dict]] = OrderedDict()
        self.max_months = max_months

    def clear(self) -> None:
        with self.lock:
            self._cache.clear()
            self.query_cache.clear()

    def month(self, company: Company, kind: str, year: int, month: int) -> list[dict]:
        with self.lock:
            return self._month(company, kind, year, month)

    def _month(self, company: Company, kind: str, year: int, month: int) -> list[dict]:
        key = (company.id, company.seed_str, company.volume, kind, year, month)
        docs = self._cache.get(key)
        if docs is not None:
            self._cache.move_to_end(key)
            return docs
        if not (FIRST_MONTH <= (year, month) <= LAST_MONTH):
            docs = []
        elif kind in ("clientinvoices", "vendorinvoices"):
            docs = self._gen_invoices(company, kind, year, month)
        elif kind == "payments":
            docs = self._gen_payments(company, year, month)
        else:
            docs = self._gen_entries(company, year, month)
        self._cache[key] = docs
        while len(self._cache) > self.max_months:
            self._cache.popitem(last=False)
        return docs

    def find(self, company: Company, kind: str, value: str) -> dict | None:
        decoded = decode_doc_id(company, value)
        if decoded is None or decoded[0] != kind:
            return None
        _, year, month, seq = decoded
        docs = self.month(company, kind, year, month)
        if seq < len(docs) and docs[seq]["id"] == value:
            return docs[seq]
        return None

    # ----- generators -------------------------------------------------------------------------------------------

    @staticmethod
    def _days(rng: random.Random, year: int, month: int, n: int) -> list[dt.date]:
        last = month_end(year, month).day
        days = [1, last] + [rng.randint(1, last) for _ in range(max(0, n - 2))]
        days = sorted(days[:n])
        return [dt.date(year, month, d) for d in days]

    def _gen_invoices(self, company: Company, kind: str, year: int, month: int) -> list[dict]:
        lo, hi = VOLUMES[company.volume][kind]  # type: ignore[misc]
        crng = random.Random(f"{company.seed_str}:{kind}:{year:04d}-{month:02d}:count")
        n = crng.randint(lo, hi) if hi else 0
        if n == 0:
            return []
        n = max(n, 2)
        rng = random.Random(f"{company.seed_str}:{kind}:{year:04d}-{month:02d}")
        sales = kind == "clientinvoices"
        partners = company.clients if sales else company.vendors
        dates = self._days(rng, year, month, n)
        docs: list[dict] = []
        inv_indexes: list[int] = []
        for seq, date in enumerate(dates):
            partner = rng.choice(partners)
            is_credit = bool(seq > 0 and inv_indexes and rng.random() < (0.08 if sales else 0.03))
            if seq == n - 1 and n >= 3 and len(inv_indexes) == seq:  # at least one credit invoice a month
                is_credit = True
            base = docs[rng.choice(inv_indexes)] if is_credit else None
            default_vat = vat_code_for(date)
            rows = []
            amount = Decimal(0)
            vat_total = Decimal(0)
            for order in range(1, rng.randint(1, 4) + 1):
                art = company.articles[rng.randrange(len(company.articles))]
                price = money(Decimal(rng.randint(500, 150000)) / 100)
                qty = Decimal(rng.choice([1, 1, 1, 2, 3, 5, 10])) if art["unit"] != "h" else \
                    Decimal(rng.randint(1, 40)) / 2
                discount = Decimal(rng.choice([0, 0, 0, 0, 5, 10]))
                r = rng.random()
                code = "VAT9" if r < 0.08 else "VAT0" if r < 0.11 else "MVM" if r < 0.13 else default_vat
                pc = Decimal(VAT_BY_CODE[code]["pc"])
                line = money(price * qty * (100 - discount) / 100)
                vat = money(line * pc / 100)
                amount += line
                vat_total += vat
                row = {"code": art["code"], "description": art["description"], "unit": art["unit"],
                       "discount": num(discount), "vatPc": code, "order": order, "objectId": None}
                if sales:
                    row.update(price=num(price), quantity=num(qty), sum=num(line), vat=num(vat),
                               accountSales=art["accountSales"])
                else:
                    row.update(price=mstr(price), quantity=num(qty), sum=mstr(line), vat=mstr(vat),
                               accountPurchase=art["accountPurchase"])
                rows.append(row)
            total = amount + vat_total
            r = rng.random()
            if is_credit:
                outstanding = Decimal(0)
            elif r < 0.12:
                outstanding = total
            elif r < 0.2:
                outstanding = money(total * Decimal(rng.randint(10, 90)) / 100)
            else:
                outstanding = Decimal(0)
            entry_date = date + dt.timedelta(days=1 if rng.random() < 0.1 else 0)
            due = date + dt.timedelta(days=partner["invoiceDueDate"])
            number = f"{year % 100:02d}{month:02d}{seq + 1:05d}"
            as_int = date.day % 2 == 0  # documented quirk: numbers as JSON numbers on even days
            doc = {
                "id": doc_id(company, kind, year, month, seq),
                ("clientId" if sales else "vendorId"): partner["id"],
                ("client" if sales else "vendor"): partner_summary(partner),
                "type": "CRE" if is_credit else "INV",
                "baseForCreditInvoiceId": base["id"] if base else None,
                "date": fmt_sa_date(date),
                "dueDate": fmt_sa_date(due),
                "entryDate": fmt_sa_date(entry_date),
                "number": int(number) if as_int else number,
                "invoiceNumber": (int(number) if as_int else number) if sales else f"A-{rng.randint(1000, 99999)}",
                "referenceNumber": partner["referenceNumber"] if sales else None,
                "currency": "EUR",
                "exchangeRate": 1,
                "rows": rows,
                "_date": date, "_entry": entry_date, "_due": due, "_ord": (year, month, seq),
            }
            money_fields = {"amount": amount, "roundAmount": Decimal(0), "vatAmount": vat_total,
                            "totalAmount": total, "outstandingAmount": outstanding}
            for k, v in money_fields.items():
                doc[k] = num(v) if sales else mstr(v)
            docs.append(doc)
            if not is_credit:
                inv_indexes.append(seq)
        return docs

    def _gen_payments(self, company: Company, year: int, month: int) -> list[dict]:
        lo, hi = VOLUMES[company.volume]["payments"]  # type: ignore[misc]
        crng = random.Random(f"{company.seed_str}:payments:{year:04d}-{month:02d}:count")
        n = crng.randint(lo, hi) if hi else 0
        if n == 0:
            return []
        n = max(n, 2)
        rng = random.Random(f"{company.seed_str}:payments:{year:04d}-{month:02d}")
        sales = [d for d in self.month(company, "clientinvoices", year, month) if d["type"] == "INV"]
        purchases = [d for d in self.month(company, "vendorinvoices", year, month) if d["type"] == "INV"]
        sale_dates = [d["_date"] for d in sales]
        purchase_dates = [d["_date"] for d in purchases]
        by_id = {p["id"]: p for p in company.clients + company.vendors}
        dates = self._days(rng, year, month, n)
        docs = []
        for seq, date in enumerate(dates):
            partner_type = "CLIENT" if rng.random() < 0.6 else "VENDOR"
            account_type = "BANK" if rng.random() < 0.85 else "CASH"
            if seq == 0:
                account_type = "BANK"
            elif seq == 1:
                account_type = "CASH"
            pool = sales if partner_type == "CLIENT" else purchases
            eligible = pool[: bisect.bisect_right(sale_dates if partner_type == "CLIENT" else purchase_dates, date)]
            rows = []
            total = Decimal(0)
            if eligible and rng.random() < 0.9:
                inv = rng.choice(eligible)
                part = money(Decimal(str(inv["totalAmount"])) * (1 if rng.random() < 0.8 else
                                                                Decimal(rng.randint(10, 90)) / 100))
                rows.append({"type": "CLIENT_INVOICE" if partner_type == "CLIENT" else "VENDOR_INVOICE",
                             "id": inv["id"], "amount": num(part), "description": f"Arve {inv['number']}"})
                total += part
                partner_id = inv["clientId"] if partner_type == "CLIENT" else inv["vendorId"]
                partner = by_id[partner_id]
            else:
                partner = rng.choice(company.clients if partner_type == "CLIENT" else company.vendors)
                part = money(Decimal(rng.randint(1000, 200000)) / 100)
                rows.append({"type": "PREPAYMENT_PAYMENT", "id": None, "amount": num(part),
                             "description": "Ettemaks"})
                total += part
            key = "client" if partner_type == "CLIENT" else "vendor"
            docs.append({
                "id": doc_id(company, "payments", year, month, seq),
                "date": fmt_sa_date(date),
                "number": f"{year % 100:02d}{month:02d}{seq + 1:05d}",
                "document": (f"Pangaväljavõte {year}-{month:02d}" if account_type == "BANK"
                             else f"Kassaorder {seq + 1}"),
                "partnerType": partner_type,
                f"{key}Id": partner["id"],
                key: partner_summary(partner),
                "accountType": account_type,
                "accountName": (rng.choice(["LHV EUR", "SEB EUR"]) if account_type == "BANK" else "Kassa"),
                "currency": "EUR",
                "amount": num(total),
                "rows": rows,
                "_date": date, "_entry": date, "_due": date, "_ord": (year, month, seq),
            })
        return docs

    def _gen_entries(self, company: Company, year: int, month: int) -> list[dict]:
        if VOLUMES[company.volume]["clientinvoices"] == (0, 0):
            return []
        rng = random.Random(f"{company.seed_str}:entries:{year:04d}-{month:02d}")
        raw: list[tuple] = []  # (date, order, number, docType, rows)
        for inv in self.month(company, "clientinvoices", year, month):
            raw.append((inv["_date"], 0, str(inv["number"]), "CLIENT_INVOICE", invoice_entry_rows(inv, True)))
        for inv in self.month(company, "vendorinvoices", year, month):
            raw.append((inv["_date"], 1, str(inv["number"]), "VENDOR_INVOICE", invoice_entry_rows(inv, False)))
        for pay in self.month(company, "payments", year, month):
            raw.append((pay["_date"], 2, pay["number"], "PAYMENT", payment_entry_rows(pay)))
        last = month_end(year, month)
        lo, hi = VOLUMES[company.volume]["ledger"]  # type: ignore[misc]
        for i in range(rng.randint(lo, hi)):
            day = 1 if i == 0 else rng.randint(1, last.day)
            amt = money(Decimal(rng.randint(1000, 500000)) / 100)
            debit, credit = rng.choice([("5000", "1020"), ("4300", "2110"), ("1210", "3000"), ("6000", "1020")])
            raw.append((dt.date(year, month, day), 3, f"LE{year % 100:02d}{month:02d}{i + 1:03d}", "LEDGER_ENTRY",
                        [_row(debit, amt, 0, "Kanne"), _row(credit, 0, amt, "Kanne")]))
        vat = money(Decimal(rng.randint(10000, 2000000)) / 100)
        raw.append((dt.date(year, month, 20), 4, f"KMD{year}{month:02d}", "VAT_RETURN",
                    [_row("2410", vat, 0, "Käibemaksu deklaratsioon"), _row("2400", 0, vat, "Maksuamet")]))
        dep = money(Decimal(rng.randint(5000, 300000)) / 100)
        raw.append((last, 5, f"AM{year}{month:02d}", "DEPRECIATION",
                    [_row("6500", dep, 0, "Põhivara kulum"), _row("1190", 0, dep, "Akumuleeritud kulum")]))
        if rng.random() < 0.75:
            sal = money(Decimal(rng.randint(100000, 3000000)) / 100)
            raw.append((last, 6, f"PALK{year}{month:02d}", "SALARY",
                        [_row("5000", sal, 0, "Palgakulu"), _row("2510", 0, sal, "Palgavõlg")]))
        raw.sort(key=lambda r: (r[0], r[1], r[2]))
        return [
            {"id": doc_id(company, "entries", year, month, seq), "date": fmt_sa_date(date), "docType": doc_type,
             "number": number, "currency": "EUR", "rows": rows,
             "_date": date, "_entry": date, "_due": date, "_ord": (year, month, seq)}
            for seq, (date, _o, number, doc_type, rows) in enumerate(raw)
        ]


def _row(account: str, debit, credit, description: str) -> dict:
    return {"account": account, "debitAmount": num(money(debit)), "creditAmount": num(money(credit)),
            "description": description}


def invoice_entry_rows(inv: dict, sales: bool) -> list[dict]:
    amount, vat, total = (money(inv[k]) for k in ("amount", "vatAmount", "totalAmount"))
    if sales:
        rows = [_row("1210", total, 0, "Ostjate tasumata arved"), _row("3000", 0, amount, "Müügitulu"),
                _row("2410", 0, vat, "Käibemaks")]
    else:
        rows = [_row("4000", amount, 0, "Kulu"), _row("1510", vat, 0, "Sisendkäibemaks"),
                _row("2110", 0, total, "Tarnijate tasumata arved")]
    if inv["type"] == "CRE":  # a credit reverses the posting
        rows = [{**r, "debitAmount": r["creditAmount"], "creditAmount": r["debitAmount"]} for r in rows]
    return rows


def payment_entry_rows(pay: dict) -> list[dict]:
    amount = money(pay["amount"])
    cash_acc = "1020" if pay["accountType"] == "BANK" else "1000"
    if pay["partnerType"] == "CLIENT":
        return [_row(cash_acc, amount, 0, pay["accountName"]), _row("1210", 0, amount, "Laekumine")]
    return [_row("2110", amount, 0, "Tasumine"), _row(cash_acc, 0, amount, pay["accountName"])]
