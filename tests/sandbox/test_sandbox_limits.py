"""Quotas, time scale, fault injection and the request log."""

from __future__ import annotations

import datetime as dt
import math
import time
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.sandbox.sandbox_testkit import FIRM, MEDIUM, SMALL, TIMEOUT, errors_of

EP = "settings/vatpcs:get"


def test_per_minute_quota_sliding_window(sa):
    assert sa.admin("PUT", "/quota", json={"perMinute": 3}).json()["perMinute"] == 3
    for _ in range(3):
        assert sa.get(EP).status_code == 200
    r = sa.get(EP)
    assert (r.status_code, errors_of(r)) == (503, ["Too many requests"])
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # per key: another key is unaffected; rejected requests do not count
    assert sa.get(EP, creds=MEDIUM).status_code == 200
    for _ in range(3):
        assert sa.get(EP).status_code == 503
    sa.admin("POST", "/quota/reset")
    assert sa.get(EP).status_code == 200


def test_daily_quota_retry_after_is_tallinn_midnight(sa):
    sa.admin("PUT", "/quota", json={"perDay": 2})
    assert sa.get(EP).status_code == 200
    assert sa.get(EP).status_code == 200
    r = sa.get(EP)
    assert (r.status_code, errors_of(r)) == (503, ["Daily request limit exceeded"])
    now = dt.datetime.now(ZoneInfo("Europe/Tallinn"))
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo)
    expected = max(1, math.ceil((midnight - now).total_seconds()))
    assert abs(int(r.headers["Retry-After"]) - expected) <= 5


def test_time_scale(sa):
    sa.admin("PUT", "/quota", json={"perMinute": 2, "timeScale": 60})
    assert sa.get(EP).status_code == 200
    assert sa.get(EP).status_code == 200
    r = sa.get(EP)
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    time.sleep(1.1)  # a scaled minute has passed
    assert sa.get(EP).status_code == 200
    # the daily window scales too: with 86400x a day lasts a second
    sa.admin("PUT", "/quota", json={"perMinute": 1000, "perDay": 1, "timeScale": 86400})
    sa.admin("POST", "/quota/reset")
    assert sa.get(EP).status_code == 200
    r = sa.get(EP)
    if r.status_code == 503:  # unless the scaled day rolled over in between
        assert r.headers["Retry-After"] == "1"
        assert errors_of(r) == ["Daily request limit exceeded"]


def test_concurrent_requests_never_exceed_the_window(sa):
    sa.admin("PUT", "/quota", json={"perMinute": 5})

    def call(_):
        with requests.Session() as s:
            return s.get(sa.build(EP, creds=MEDIUM), timeout=TIMEOUT).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(call, range(24)))
    assert statuses.count(200) == 5 and statuses.count(503) == 19
    r = sa.admin("GET", "/requests/max-per-window", params={"apiKey": MEDIUM[0], "windowSeconds": 60})
    assert r.json()["maxRequests"] == 5


def test_fault_injection_error_and_scope(sa):
    r = sa.admin("POST", "/faults", json={"errorRate": 1, "errorStatus": 502, "apiKey": SMALL[0]})
    assert r.status_code == 200
    r = sa.get(EP)
    assert (r.status_code, errors_of(r)) == (502, ["Internal server error"])
    assert sa.get(EP, creds=MEDIUM).status_code == 200
    # auth is checked before faults
    assert sa.get(EP, creds=(SMALL[0], "wrong")).status_code == 401
    sa.admin("DELETE", "/faults")
    assert sa.get(EP).status_code == 200


def test_fault_injection_rate_is_seeded(sa):
    sa.admin("POST", "/faults", json={"errorRate": 0.5})
    first = [sa.get(EP, creds=FIRM).status_code for _ in range(20)]
    assert 200 in first and 500 in first
    sa.admin("POST", "/reset")
    sa.admin("POST", "/faults", json={"errorRate": 0.5})
    assert [sa.get(EP, creds=FIRM).status_code for _ in range(20)] == first


def test_rate_limit_burst_latency_and_timeout(sa):
    sa.admin("POST", "/faults", json={"rateLimitBurst": 2})
    for _ in range(2):
        r = sa.get(EP)
        assert (r.status_code, r.headers["Retry-After"], errors_of(r)) == (503, "1", ["Too many requests"])
    assert sa.get(EP).status_code == 200
    sa.admin("POST", "/faults", json={"latencyMs": 200})
    start = time.monotonic()
    assert sa.get(EP).status_code == 200
    assert time.monotonic() - start >= 0.2
    sa.admin("POST", "/faults", json={"timeoutRate": 1, "timeoutSeconds": 0.6})
    with pytest.raises(requests.Timeout):
        requests.get(sa.build(EP), timeout=0.2)
    sa.admin("DELETE", "/faults")


def test_proxy_rate_limit_burst_answers_429_with_the_proxys_own_body_and_counts_no_quota(sa):
    # Given a 503 burst of SmartAccounts and then a 429 burst of a proxy in front of it
    sa.admin("POST", "/faults", json={"rateLimitBurst": 1, "proxyRateLimitBurst": 2})
    assert sa.admin("GET", "/faults").json()["faults"]["*"]["proxyRateLimitBurst"] == 2
    first = sa.get(EP)
    assert (first.status_code, errors_of(first)) == (503, ["Too many requests"])
    for _ in range(2):
        r = sa.get(EP)
        assert (r.status_code, r.headers["Retry-After"]) == (429, "1")
        assert r.headers["Content-Type"].startswith("text/html") and "429 Too Many Requests" in r.text
    assert sa.get(EP).status_code == 200
    # And none of the refused requests counted against the quota; all are in the request log
    assert sa.admin("GET", "/requests/max-per-window", params={"apiKey": SMALL[0], "windowSeconds": 60}).json()[
        "maxRequests"] == 1
    statuses = [e["status"] for e in sa.admin("GET", "/requests", params={"apiKey": SMALL[0]}).json()["requests"]]
    assert statuses[-4:] == [503, 429, 429, 200]
    sa.admin("DELETE", "/faults")


def test_request_log_and_counts(sa):
    # a key of this test's own: the demo keys are also what other processes' local stacks use (a request one of them
    # still sends to a port this sandbox took over afterwards would be in the log)
    made = sa.admin("POST", "/keys", json={"companyIds": ["co-small"]}).json()
    key = (made["apiKey"], made["apiSecret"])
    for _ in range(3):
        sa.get("purchasesales/clientinvoices:get", {"dateFrom": "01.01.2026", "dateTo": "31.01.2026"}, creds=key)
    sa.get(EP, creds=key)
    sa.get(EP, creds=(key[0], "wrong"))
    answer = sa.admin("GET", "/requests", params={"apiKey": key[0]}).json()
    log = answer["requests"]
    assert isinstance(answer["inFlight"], int) and answer["inFlight"] >= 0
    assert [e["status"] for e in log] == [200, 200, 200, 200, 401]
    assert set(log[0]) == {"time", "apiKey", "endpoint", "method", "status", "query", "durationMs"}
    assert log[0]["endpoint"] == "purchasesales/clientinvoices:get" and log[0]["method"] == "GET"
    # the query without the signing parameters: a repeated request logs the same text
    assert {e["query"] for e in log[:3]} == {"dateFrom=01.01.2026&dateTo=31.01.2026"}
    assert log[3]["query"] == "" and all(isinstance(e["durationMs"], int) for e in log)
    dt.datetime.fromisoformat(log[0]["time"].replace("Z", "+00:00"))
    counts = sa.admin("GET", "/requests/counts").json()
    assert counts["byKey"][key[0]] == 5
    assert counts["byKeyAndEndpoint"][key[0]] == {"purchasesales/clientinvoices:get": 3, EP: 2}
    sa.admin("DELETE", "/requests")
    assert sa.admin("GET", "/requests/counts").json() == {"byKey": {}, "byKeyAndEndpoint": {}}


def test_reset_restores_keys_quota_and_faults(sa):
    sa.admin("POST", f"/keys/{SMALL[0]}/revoke")
    sa.admin("PUT", "/quota", json={"perMinute": 1, "timeScale": 5})
    sa.admin("POST", "/faults", json={"errorRate": 1})
    sa.admin("POST", "/reset")
    assert sa.admin("GET", "/quota").json() == {"perMinute": 60, "perDay": 1000, "timeScale": 1.0}
    assert sa.get(EP).status_code == 200
    assert sa.get(EP).status_code == 200
