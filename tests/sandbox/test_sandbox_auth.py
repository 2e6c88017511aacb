"""Authentication and signing rules, checked against the published facts."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from tests.sandbox.sandbox_testkit import FIRM, SMALL, TIMEOUT, errors_of, sign, timestamp

MSG_TS = "Request timestamp is not within 15 minutes of Estonian time"
EP = "settings/vatpcs:get"


def test_published_hmac_test_vector():
    assert sign("key", b"data") == "5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0"


def test_signed_get_and_post_with_empty_object_body(sa):
    r = sa.get(EP)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    codes = {v["vatPc"] for v in r.json()["vatPcs"]}
    assert {"VAT24", "VAT22", "VAT9", "VAT0", "MVM"} <= codes
    r = sa.post(EP, body={})
    assert r.status_code == 200, r.text
    assert r.json() == sa.get(EP).json()


def test_language_prefixed_bases(sa):
    for lang in ("en", "et"):
        r = sa.get(EP, base=f"{sa.server.url}/{lang}/api/")
        assert r.status_code == 200, r.text


def test_parameter_orders_are_all_accepted(sa):
    params = {"dateFrom": "01.03.2026", "dateTo": "31.03.2026", "fetchRows": "true"}
    results = []
    for order in ("auth-first", "params-first", "sorted"):
        r = sa.get("purchasesales/clientinvoices:get", params, order=order)
        assert r.status_code == 200, r.text
        results.append(r.json())
    assert results[0] == results[1] == results[2]


def test_percent_encoded_values_are_verified_as_sent(sa):
    r = sa.get("purchasesales/clients:get", {"nameOrRegCode": "ä ö/õ+ü"})
    assert r.status_code == 200, r.text
    # the same parameters encoded differently (%20 instead of +) are still valid when signed as sent
    query = f"apikey={SMALL[0]}&timestamp={timestamp()}&nameOrRegCode=%C3%A4%20x"
    url = f"{sa.server.api_url}purchasesales/clients:get?{query}&signature={sign(SMALL[1], query.encode())}"
    assert sa.http.get(url, timeout=TIMEOUT).status_code == 200


def test_signature_must_be_last(sa):
    ts = timestamp()
    query = f"apikey={SMALL[0]}&timestamp={ts}"
    sig = sign(SMALL[1], query.encode())
    url = f"{sa.server.api_url}{EP}?signature={sig}&{query}"
    r = sa.http.get(url, timeout=TIMEOUT)
    assert r.status_code == 401
    assert errors_of(r) == ["apikey, timestamp and signature are required"]
    url = f"{sa.server.api_url}{EP}?apikey={SMALL[0]}&signature={sig}&timestamp={ts}"
    assert sa.http.get(url, timeout=TIMEOUT).status_code == 401


def test_missing_auth_parameters(sa):
    for query in ("", f"apikey={SMALL[0]}", f"apikey={SMALL[0]}&timestamp={timestamp()}"):
        r = sa.http.get(f"{sa.server.api_url}{EP}?{query}", timeout=TIMEOUT)
        assert r.status_code == 401
        assert errors_of(r) == ["apikey, timestamp and signature are required"]


def test_wrong_key_and_wrong_secret(sa):
    r = sa.get(EP, creds=("no-such-key", "x"))
    assert (r.status_code, errors_of(r)) == (401, ["Invalid apikey"])
    r = sa.get(EP, creds=(SMALL[0], "wrong-secret"))
    assert (r.status_code, errors_of(r)) == (401, ["Invalid signature"])


def test_body_is_part_of_the_signature(sa):
    body = b"{}"
    url = sa.build(EP, body=body)
    r = sa.http.post(url, data=b'{ }', headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert (r.status_code, errors_of(r)) == (401, ["Invalid signature"])
    r = sa.http.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 200


def test_uppercase_hex_signature_is_rejected(sa):
    url = sa.build(EP)
    base, sig = url.rsplit("=", 1)
    r = sa.http.get(f"{base}={sig.upper()}", timeout=TIMEOUT)
    assert r.status_code == 401


def test_revoked_key(sa):
    assert sa.get(EP).status_code == 200
    assert sa.admin("POST", f"/keys/{SMALL[0]}/revoke").status_code == 200
    r = sa.get(EP)
    assert (r.status_code, errors_of(r)) == (401, ["Apikey is revoked"])


def test_rotated_key(sa):
    r = sa.admin("POST", f"/keys/{SMALL[0]}/rotate")
    assert r.status_code == 200
    new_secret = r.json()["apiSecret"]
    assert new_secret != SMALL[1] and r.json()["apiKey"] == SMALL[0]
    r = sa.get(EP)
    assert (r.status_code, errors_of(r)) == (401, ["Invalid signature"])
    assert sa.get(EP, creds=(SMALL[0], new_secret)).status_code == 200


def test_created_key_sees_only_its_companies(sa):
    r = sa.admin("POST", "/keys", json={"companyIds": ["co-medium"]})
    assert r.status_code == 201
    creds = (r.json()["apiKey"], r.json()["apiSecret"])
    r = sa.get("settings/companies:get", creds=creds)
    assert [c["id"] for c in r.json()["companies"]] == ["co-medium"]
    sa.admin("PUT", f"/keys/{creds[0]}/companies", json={"companyIds": ["co-small", "co-large"]})
    r = sa.get("settings/companies:get", creds=creds)
    assert [c["id"] for c in r.json()["companies"]] == ["co-small", "co-large"]


def test_timestamp_window(sa):
    for minutes in (-16, 16):
        r = sa.get(EP, ts=timestamp(dt.timedelta(minutes=minutes)))
        assert (r.status_code, errors_of(r)) == (401, [MSG_TS]), minutes
    for minutes in (-14, 14):
        assert sa.get(EP, ts=timestamp(dt.timedelta(minutes=minutes))).status_code == 200, minutes
    # UTC instead of Tallinn time is off by 2-3 hours
    utc = dt.datetime.now(dt.UTC).strftime("%d%m%Y%H%M%S")
    assert sa.get(EP, ts=utc).status_code == 401
    for bad in ("2026-11-24", "99999999999999", "abc"):
        r = sa.get(EP, ts=bad)
        assert (r.status_code, errors_of(r)) == (401, [MSG_TS])


def test_check_order_revoked_before_timestamp_before_signature(sa):
    sa.admin("POST", f"/keys/{SMALL[0]}/revoke")
    r = sa.get(EP, creds=(SMALL[0], "wrong"), ts=timestamp(dt.timedelta(hours=1)))
    assert errors_of(r) == ["Apikey is revoked"]
    r = sa.get(EP, creds=(FIRM[0], "wrong"), ts=timestamp(dt.timedelta(hours=1)))
    assert errors_of(r) == [MSG_TS]


def test_unknown_endpoint_and_malformed_body(sa):
    r = sa.get("purchasesales/nothing:get")
    assert (r.status_code, errors_of(r)) == (404, ["Unknown endpoint"])
    r = sa.post("purchasesales/clientinvoices:add", raw=b"{not json")
    assert (r.status_code, errors_of(r)) == (400, ["POST body read error"])
    r = sa.post(EP, raw=b"[1,")
    assert (r.status_code, errors_of(r)) == (400, ["POST body read error"])


def test_write_method_needs_post(sa):
    r = sa.get("purchasesales/clientinvoices:add")
    assert r.status_code == 405


def test_sandbox_api_key_env_pair(monkeypatch):
    from sa_sandbox.server import SandboxServer

    monkeypatch.setenv("SANDBOX_API_KEY", "env-key")
    monkeypatch.setenv("SANDBOX_API_SECRET", "env-secret")
    server = SandboxServer(port=0).start()
    try:
        query = urlencode([("apikey", "env-key"), ("timestamp", timestamp())])
        url = f"{server.api_url}settings/companies:get?{query}&signature={sign('env-secret', query.encode())}"
        import requests

        r = requests.get(url, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        assert len(json.loads(r.text)["companies"]) == 4
    finally:
        server.stop()
