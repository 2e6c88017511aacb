"""All mutable sandbox state behind one lock: companies, keys, quotas, faults, request log, created objects."""

from __future__ import annotations

import collections
import datetime as dt
import os
import random
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from .data import BUILTIN_COMPANIES, DEMO_FIRM_COMPANY, Company, DocumentStore, make_company
from .util import ScaledClock, next_tallinn_midnight, tallinn_date_of

FIRM_KEY = "demo-firm-key"
FIRM_SECRET = "demo-firm-secret"  # noqa: S105 - published demo credential
LOG_LIMIT = 100_000


@dataclass
class KeyRecord:
    api_key: str
    secret: str
    company_ids: list[str]
    revoked: bool = False

    def view(self, with_secret: bool = True) -> dict:
        out = {"apiKey": self.api_key, "companyIds": list(self.company_ids), "revoked": self.revoked}
        if with_secret:
            out["apiSecret"] = self.secret
        return out


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    error_status: int = 500
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    latency_ms: float = 0.0
    rate_limit_burst: int = 0
    proxy_rate_limit_burst: int = 0  # the next N answered 429 by a proxy in front of SmartAccounts
    crash_after_accept: int = 0  # the next N writes are carried out, then answered 500 (the answer is "lost")
    crash_endpoint: str | None = None  # only writes to this endpoint (e.g. purchasesales/clientinvoices:add)

    def view(self) -> dict:
        return {"errorRate": self.error_rate, "errorStatus": self.error_status, "timeoutRate": self.timeout_rate,
                "timeoutSeconds": self.timeout_seconds, "latencyMs": self.latency_ms,
                "rateLimitBurst": self.rate_limit_burst, "proxyRateLimitBurst": self.proxy_rate_limit_burst,
                "crashAfterAccept": self.crash_after_accept,
                "crashEndpoint": self.crash_endpoint}


@dataclass
class KeyQuota:
    minute: collections.deque = field(default_factory=collections.deque)  # virtual times in the rolling window
    day: dt.date | None = None
    day_count: int = 0


class SandboxState:
    def __init__(self, seed: int = 42, time_scale: float = 1.0, per_minute: int = 60, per_day: int = 1000) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self._initial = (time_scale, per_minute, per_day)
        self.store = DocumentStore()
        self.in_flight = 0  # API requests being answered now (not reset: they are still running)
        self.reset()

    # ----- lifecycle ----------------------------------------------------------------------------------------------

    def reset(self) -> None:
        time_scale, per_minute, per_day = self._initial
        with self.lock:
            self.clock = ScaledClock(time_scale)
            self.per_minute = per_minute
            self.per_day = per_day
            self.companies: OrderedDict[str, Company] = OrderedDict()
            for cid, name, reg, vat, seed, volume in BUILTIN_COMPANIES:
                self.companies[cid] = make_company(cid, name, reg, vat, seed, volume, self.seed)
            builtin_ids = [c[0] for c in BUILTIN_COMPANIES]
            firm_id, firm_name, firm_reg, firm_vat, firm_seed, firm_volume = DEMO_FIRM_COMPANY
            self.companies[firm_id] = make_company(firm_id, firm_name, firm_reg, firm_vat, firm_seed, firm_volume,
                                                   self.seed)
            # the firm key belongs to the demo firm (listed first: its own company) and sees the client companies
            self.keys: dict[str, KeyRecord] = {FIRM_KEY: KeyRecord(FIRM_KEY, FIRM_SECRET, [firm_id, *builtin_ids])}
            for cid in builtin_ids:
                short = cid.removeprefix("co-")
                self.keys[f"demo-{short}-key"] = KeyRecord(f"demo-{short}-key", f"demo-{short}-secret", [cid])
            env_key, env_secret = os.environ.get("SANDBOX_API_KEY"), os.environ.get("SANDBOX_API_SECRET")
            if env_key and env_secret:
                self.keys[env_key] = KeyRecord(env_key, env_secret, list(builtin_ids))
            self.quotas: dict[str, KeyQuota] = {}
            self.accepted: dict[str, collections.deque] = {}
            self.faults: dict[str | None, FaultConfig] = {}
            self.fault_rng = random.Random(f"faults:{self.seed}")
            self.id_rng = random.Random(f"ids:{self.seed}")
            self.log: collections.deque = collections.deque(maxlen=LOG_LIMIT)
            self.created_invoices: dict[str, list[dict]] = {}
            self.created_entries: dict[str, list[dict]] = {}
            self.created_clients: dict[str, list[dict]] = {}
            self.created_articles: dict[str, list[dict]] = {}
            self.created_payments: dict[str, list[dict]] = {}
            self.store.clear()

    def new_id(self) -> str:
        with self.lock:
            return "%08x-%04x-4%03x-8%03x-%012x" % (  # noqa: UP031
                self.id_rng.getrandbits(32), self.id_rng.getrandbits(16), self.id_rng.getrandbits(12),
                self.id_rng.getrandbits(12), self.id_rng.getrandbits(48))

    # ----- keys ---------------------------------------------------------------------------------------------------

    def add_key(self, api_key: str | None, secret: str | None, company_ids: list[str]) -> KeyRecord:
        with self.lock:
            api_key = api_key or f"key-{secrets.token_hex(8)}"
            secret = secret or secrets.token_hex(16)
            rec = KeyRecord(api_key, secret, list(company_ids))
            self.keys[api_key] = rec
            return rec

    # ----- quota --------------------------------------------------------------------------------------------------

    def check_quota(self, api_key: str) -> tuple[str, int] | None:
        """Returns (message, retry_after) when over quota, else None. Caller holds the lock and records on success."""
        now = self.clock.now()
        q = self.quotas.setdefault(api_key, KeyQuota())
        today = tallinn_date_of(now)
        if q.day != today:
            q.day, q.day_count = today, 0
        if q.day_count >= self.per_day:
            return "Daily request limit exceeded", self.clock.real_seconds(next_tallinn_midnight(now) - now)
        while q.minute and q.minute[0] <= now - 60.0:
            q.minute.popleft()
        if len(q.minute) >= self.per_minute:
            return "Too many requests", self.clock.real_seconds(q.minute[0] + 60.0 - now)
        return None

    def record_quota(self, api_key: str) -> None:
        now = self.clock.now()
        q = self.quotas.setdefault(api_key, KeyQuota())
        q.minute.append(now)
        q.day_count += 1
        self.accepted.setdefault(api_key, collections.deque(maxlen=LOG_LIMIT)).append(now)

    def reset_quota(self) -> None:
        with self.lock:
            self.quotas.clear()
            self.accepted.clear()

    def max_per_window(self, api_key: str, window_seconds: float) -> int:
        with self.lock:
            times = list(self.accepted.get(api_key, ()))
        best = 0
        start = 0
        for end, t in enumerate(times):
            while times[start] <= t - window_seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    # ----- faults -------------------------------------------------------------------------------------------------

    def fault_for(self, api_key: str) -> FaultConfig | None:
        return self.faults.get(api_key) or self.faults.get(None)

    # ----- request log --------------------------------------------------------------------------------------------

    def log_request(self, api_key: str | None, endpoint: str, method: str, status: int, query: str = "",
                    duration_ms: int = 0) -> None:
        entry = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                 "apiKey": api_key, "endpoint": endpoint, "method": method, "status": status, "query": query,
                 "durationMs": duration_ms}
        with self.lock:
            self.log.append(entry)

    def counts(self) -> dict:
        by_key: dict[str, int] = {}
        by_key_ep: dict[str, dict[str, int]] = {}
        with self.lock:
            entries = list(self.log)
        for e in entries:
            k = e["apiKey"] or ""
            by_key[k] = by_key.get(k, 0) + 1
            eps = by_key_ep.setdefault(k, {})
            eps[e["endpoint"]] = eps.get(e["endpoint"], 0) + 1
        return {"byKey": by_key, "byKeyAndEndpoint": by_key_ep}
