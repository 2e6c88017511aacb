"""A tiny signing client for the sandbox tests, written from the published rules (not the server's code)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests

TALLINN = ZoneInfo("Europe/Tallinn")
TIMEOUT = 30
FIRM = ("demo-firm-key", "demo-firm-secret")
SMALL = ("demo-small-key", "demo-small-secret")
MEDIUM = ("demo-medium-key", "demo-medium-secret")


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def timestamp(offset: dt.timedelta = dt.timedelta(0)) -> str:
    return (dt.datetime.now(TALLINN) + offset).strftime("%d%m%Y%H%M%S")


class SaClient:
    """Signs like a client: query as sent + raw body, HMAC-SHA256 with the secret, lowercase hex, signature last."""

    def __init__(self, server) -> None:
        self.server = server
        self.http = requests.Session()

    def build(self, endpoint: str, params: dict | list | None = None, *, creds: tuple[str, str] = SMALL,
              body: bytes = b"", ts: str | None = None, order: str = "auth-first", base: str | None = None) -> str:
        key, secret = creds
        auth = [("apikey", key), ("timestamp", ts or timestamp())]
        extra = list(params.items()) if isinstance(params, dict) else list(params or [])
        if order == "auth-first":
            pairs = auth + extra
        elif order == "params-first":
            pairs = extra + auth
        else:  # "sorted": timestamp, apikey, then the caller's parameters sorted
            pairs = [auth[1], auth[0], *sorted(extra)]
        query = urlencode(pairs)
        signature = sign(secret, query.encode() + body)
        return f"{base or self.server.api_url}{endpoint}?{query}&signature={signature}"

    def get(self, endpoint: str, params: dict | list | None = None, **kw) -> requests.Response:
        return self.http.get(self.build(endpoint, params, **kw), timeout=TIMEOUT)

    def post(self, endpoint: str, params: dict | list | None = None, body: object = None, *,
             raw: bytes | None = None, **kw) -> requests.Response:
        data = raw if raw is not None else json.dumps(body if body is not None else {},
                                                     separators=(",", ":"), ensure_ascii=False).encode()
        url = self.build(endpoint, params, body=data, **kw)
        return self.http.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)

    def all_pages(self, endpoint: str, envelope: str, params: dict, **kw) -> list[dict]:
        items: list[dict] = []
        page = 1
        while True:
            r = self.get(endpoint, {**params, "pageNumber": page}, **kw)
            assert r.status_code == 200, r.text
            data = r.json()
            items.extend(data[envelope])
            if not data["hasMoreEntries"]:
                return items
            assert len(data[envelope]) == 100
            page += 1

    # admin (unsigned)
    def admin(self, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, self.server.admin_url + path, timeout=TIMEOUT, **kw)

    def oracle(self, company: str, kind: str, date_from: str, date_to: str) -> list[dict]:
        r = self.admin("GET", f"/companies/{company}/documents",
                       params={"kind": kind, "dateFrom": date_from, "dateTo": date_to})
        assert r.status_code == 200, r.text
        return r.json()["documents"]


def errors_of(response: requests.Response) -> list[str]:
    assert response.headers["Content-Type"].startswith("application/json")
    return [e["message"] for e in response.json()["errors"]]
