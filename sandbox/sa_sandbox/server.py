"""WSGI application (signed API + unsigned admin interface) and the threaded SandboxServer."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .api import collect, handle_api, public, record_payment
from .data import KINDS, VOLUMES, make_company
from .state import FaultConfig, SandboxState
from .util import ApiError, parse_iso_date, short_hash

API_PREFIXES = ("/api/", "/en/api/", "/et/api/")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


#: Query parameters left out of the request log: the signing ones (a repeat of a request differs only in them).
_SIGNING_PARAMS = frozenset({"apikey", "timestamp", "signature"})


def logged_query(raw_query: bytes) -> str:
    """The request's query without its signing parameters, as sent: the same request repeated logs the same text."""
    parts = raw_query.decode("utf-8", "replace").split("&") if raw_query else []
    return "&".join(p for p in parts if p and p.split("=", 1)[0] not in _SIGNING_PARAMS)


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


class SandboxApp:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ApiError as err:
            response = error_response(err)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        for prefix in API_PREFIXES:
            if path.startswith(prefix):
                endpoint = path[len(prefix):]
                body = request.get_data(cache=True)
                started = time.monotonic()
                with self.state.lock:
                    self.state.in_flight += 1
                try:
                    result = handle_api(self.state, request.method, endpoint, request.query_string, body)
                    self.state.log_request(result.api_key, endpoint, request.method, result.status,
                                           logged_query(request.query_string),
                                           round((time.monotonic() - started) * 1000))
                finally:
                    with self.state.lock:
                        self.state.in_flight -= 1
                if result.raw is not None:
                    return Response(result.raw, status=result.status, headers=result.headers,
                                    content_type="text/html; charset=utf-8")
                return json_response(result.payload, result.status, result.headers)
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return self.admin(request, path[len("/_sandbox"):].strip("/"))
        raise ApiError(404, "Unknown endpoint")

    # ----- admin --------------------------------------------------------------------------------------------------

    def _json(self, request: Request) -> dict:
        data = request.get_data(cache=True)
        if not data.strip():
            return {}
        try:
            body = json.loads(data)
        except ValueError as exc:
            raise ApiError(400, "POST body read error") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "JSON object expected")
        return body

    def admin(self, request: Request, sub: str) -> Response:
        st = self.state
        method = request.method
        parts = sub.split("/") if sub else []
        if parts == ["health"] and method == "GET":
            return json_response({"status": "ok"})
        if parts == ["reset"] and method == "POST":
            st.reset()
            return json_response({"status": "reset"})
        if parts == ["companies"]:
            if method == "GET":
                with st.lock:
                    return json_response({"companies": [c.admin_view() for c in st.companies.values()]})
            if method == "POST":
                return self._create_company(self._json(request))
        if len(parts) == 3 and parts[0] == "companies" and parts[2] == "vat-pcs" and method == "PUT":
            with st.lock:
                company = st.companies.get(parts[1])
                if company is None:
                    raise ApiError(404, "Company not found")
                items = self._json(request).get("vatPcs")
                if not isinstance(items, list) or not all(isinstance(v, dict) and v.get("vatPc") for v in items):
                    raise ApiError(400, "vatPcs must be a list of {vatPc, pc, ...}")
                company.vat_pcs = [dict(v) for v in items]
                company.version += 1
                return json_response({"vatPcs": company.vat_pcs})
        if len(parts) == 3 and parts[0] == "companies" and parts[2] == "payments" and method == "POST":
            with st.lock:
                company = st.companies.get(parts[1])
            if company is None:
                raise ApiError(404, "Company not found")
            return json_response(record_payment(st, company, self._json(request)), 201)
        if len(parts) == 3 and parts[0] == "companies" and method == "GET":
            with st.lock:
                company = st.companies.get(parts[1])
            if company is None:
                raise ApiError(404, "Company not found")
            if parts[2] == "documents":
                return self._documents(request, company)
            if parts[2] == "created-invoices":
                with st.lock:
                    docs = [{**public(d), **{k: v for k, v in d["_created"].items() if v is not None}}
                            for d in st.created_invoices.get(company.id, [])]
                return json_response({"invoices": docs})
            if parts[2] == "created-clients":
                with st.lock:
                    return json_response({"clients": list(st.created_clients.get(company.id, []))})
            if parts[2] == "created-articles":
                with st.lock:
                    return json_response({"articles": list(st.created_articles.get(company.id, []))})
        if parts and parts[0] == "keys":
            return self._keys(request, parts[1:])
        if parts == ["faults"]:
            return self._faults(request)
        if parts == ["quota"] and method in ("PUT", "POST"):
            body = self._json(request)
            try:
                with st.lock:
                    if body.get("perMinute") is not None:
                        st.per_minute = int(body["perMinute"])
                    if body.get("perDay") is not None:
                        st.per_day = int(body["perDay"])
                    if body.get("timeScale") is not None:
                        st.clock.set_scale(float(body["timeScale"]))
            except (TypeError, ValueError) as exc:
                raise ApiError(400, f"Invalid quota settings: {exc}") from exc
            return json_response(self._quota_view())
        if parts == ["quota"] and method == "GET":
            return json_response(self._quota_view())
        if parts == ["quota", "reset"] and method == "POST":
            st.reset_quota()
            return json_response(self._quota_view())
        if parts and parts[0] == "requests":
            return self._requests(request, parts[1:])
        raise ApiError(404, "Unknown endpoint")

    def _quota_view(self) -> dict:
        st = self.state
        return {"perMinute": st.per_minute, "perDay": st.per_day, "timeScale": st.clock.scale}

    def _create_company(self, body: dict) -> Response:
        st = self.state
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "name is required")
        volume = body.get("volume") or "small"
        if volume not in VOLUMES:
            raise ApiError(400, f"volume must be one of {', '.join(VOLUMES)}")
        locked = body.get("lockedUntil")
        try:
            locked_date = parse_iso_date(locked) if locked else None
        except ValueError as exc:
            raise ApiError(400, "lockedUntil must be YYYY-MM-DD") from exc
        with st.lock:
            cid = body.get("id") or f"co-{short_hash(name, len(st.companies), st.seed, length=10)}"
            if cid in st.companies:
                raise ApiError(400, "Company id already exists")
            company = make_company(cid, name, body.get("regCode"), body.get("vatNumber"),
                                   str(body.get("seed") if body.get("seed") is not None else cid), volume, st.seed,
                                   locked_date)
            st.companies[cid] = company
            for key in body.get("apiKeys") or []:
                if key in st.keys and cid not in st.keys[key].company_ids:
                    st.keys[key].company_ids.append(cid)
            return json_response(company.admin_view(), 201)

    def _documents(self, request: Request, company) -> Response:
        kind = request.args.get("kind", "")
        if kind not in KINDS:
            raise ApiError(400, f"kind must be one of {', '.join(KINDS)}")
        try:
            date_from = parse_iso_date(request.args["dateFrom"])
            date_to = parse_iso_date(request.args["dateTo"])
        except (KeyError, ValueError) as exc:
            raise ApiError(400, "dateFrom and dateTo (YYYY-MM-DD) are required") from exc
        fetch_rows = request.args.get("fetchRows", "true").lower() != "false"
        docs = collect(self.state, company, kind, date_from, date_to)
        return json_response({"kind": kind, "count": len(docs), "documents": [public(d, fetch_rows) for d in docs]})

    def _keys(self, request: Request, parts: list[str]) -> Response:
        st = self.state
        method = request.method
        if not parts:
            if method == "GET":
                with st.lock:
                    return json_response({"keys": [k.view() for k in st.keys.values()]})
            if method == "POST":
                body = self._json(request)
                ids = body.get("companyIds")
                if ids is None:
                    ids = []
                if not isinstance(ids, list):
                    raise ApiError(400, "companyIds must be a list")
                rec = st.add_key(body.get("apiKey"), body.get("apiSecret"), [str(i) for i in ids])
                return json_response(rec.view(), 201)
        if len(parts) >= 1:
            with st.lock:
                rec = st.keys.get(parts[0])
                if rec is None:
                    raise ApiError(404, "Key not found")
                if len(parts) == 1 and method == "GET":
                    return json_response(rec.view())
                if len(parts) == 1 and method == "DELETE":
                    del st.keys[parts[0]]
                    return json_response({"deleted": parts[0]})
                if parts[1:] == ["revoke"] and method == "POST":
                    rec.revoked = True
                    return json_response(rec.view())
                if parts[1:] == ["unrevoke"] and method == "POST":
                    rec.revoked = False
                    return json_response(rec.view())
                if parts[1:] == ["rotate"] and method == "POST":
                    body = self._json(request)
                    rec.secret = body.get("apiSecret") or secrets.token_hex(16)
                    return json_response({"apiKey": rec.api_key, "apiSecret": rec.secret})
                if parts[1:] == ["companies"] and method in ("PUT", "POST"):
                    body = self._json(request)
                    ids = body.get("companyIds")
                    if not isinstance(ids, list):
                        raise ApiError(400, "companyIds must be a list")
                    rec.company_ids = [str(i) for i in ids]
                    return json_response(rec.view())
        raise ApiError(404, "Unknown endpoint")

    def _faults(self, request: Request) -> Response:
        st = self.state
        if request.method == "GET":
            with st.lock:
                return json_response({"faults": {k or "*": v.view() for k, v in st.faults.items()}})
        if request.method == "DELETE":
            scope = request.args.get("apiKey")
            with st.lock:
                if scope:
                    st.faults.pop(scope, None)
                else:
                    st.faults.clear()
            return json_response({"faults": {}})
        if request.method in ("POST", "PUT"):
            body = self._json(request)
            try:
                cfg = FaultConfig(
                    error_rate=float(body.get("errorRate", 0) or 0),
                    error_status=int(body.get("errorStatus", 500) or 500),
                    timeout_rate=float(body.get("timeoutRate", 0) or 0),
                    timeout_seconds=float(body.get("timeoutSeconds", 30) or 0),
                    latency_ms=float(body.get("latencyMs", 0) or 0),
                    rate_limit_burst=int(body.get("rateLimitBurst", 0) or 0),
                    proxy_rate_limit_burst=int(body.get("proxyRateLimitBurst", 0) or 0),
                    crash_after_accept=int(body.get("crashAfterAccept", 0) or 0),
                    crash_endpoint=body.get("crashEndpoint") or None,
                )
            except (TypeError, ValueError) as exc:
                raise ApiError(400, f"Invalid fault settings: {exc}") from exc
            if not (0 <= cfg.error_rate <= 1 and 0 <= cfg.timeout_rate <= 1):
                raise ApiError(400, "errorRate and timeoutRate must be between 0 and 1")
            with st.lock:
                st.faults[body.get("apiKey") or None] = cfg
            return json_response({"apiKey": body.get("apiKey"), **cfg.view()})
        raise ApiError(404, "Unknown endpoint")

    def _requests(self, request: Request, parts: list[str]) -> Response:
        st = self.state
        if not parts:
            if request.method == "GET":
                key = request.args.get("apiKey")
                with st.lock:
                    entries = [e for e in st.log if key is None or e["apiKey"] == key]
                    in_flight = st.in_flight
                return json_response({"requests": entries, "count": len(entries), "inFlight": in_flight})
            if request.method == "DELETE":
                with st.lock:
                    st.log.clear()
                    st.accepted.clear()
                return json_response({"requests": [], "count": 0})
        if parts == ["counts"] and request.method == "GET":
            return json_response(st.counts())
        if parts == ["max-per-window"] and request.method == "GET":
            key = request.args.get("apiKey", "")
            try:
                window = float(request.args.get("windowSeconds", "60"))
            except ValueError as exc:
                raise ApiError(400, "windowSeconds must be a number") from exc
            return json_response({"apiKey": key, "windowSeconds": window,
                                  "maxRequests": st.max_per_window(key, window)})
        raise ApiError(404, "Unknown endpoint")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if logging.getLogger("sa_sandbox").isEnabledFor(logging.DEBUG):
            super().log_request(code, size)


class SandboxServer:
    """A SmartAccounts sandbox on a background thread.

    >>> server = SandboxServer(host="127.0.0.1", port=0, seed=42, time_scale=1.0)
    >>> server.start(); server.api_url  # doctest: +SKIP
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 42, time_scale: float = 1.0,
                 per_minute: int = 60, per_day: int = 1000) -> None:
        self.host = host
        self.port = port
        self.state = SandboxState(seed=seed, time_scale=time_scale, per_minute=per_minute, per_day=per_day)
        self.app = SandboxApp(self.state)
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def admin_url(self) -> str:
        return self.url + "/_sandbox"

    def start(self) -> SandboxServer:
        if self._server is not None:
            return self
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="sa-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Run in the foreground (used by ``python -m sa_sandbox``)."""
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        logging.getLogger("sa_sandbox").info("SmartAccounts sandbox on %s (admin: %s)", self.api_url, self.admin_url)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        self.state.reset()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
