"""The reference web page on the local stack: static files from `web/` at `/app/`, and the local sign-in.

Local only: nothing here is in the template. In AWS the page would be Uku's own front end; here it stands in for
it, and the sign-in (`POST /local/token`) issues the same development JWT as `make token`.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Request, Response

from local_stack.template import REPO_ROOT
from local_stack.tokens import PLANS, ROLES, issue_token

WEB_ROOT = REPO_ROOT / "web"
APP_PREFIX = "/app"
# Browsers run module scripts only when served with a JavaScript type: do not depend on the machine's mime.types.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")


def _problem(status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": detail, "status": status, "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    return Response(json.dumps(body), status=status, content_type="application/problem+json")


def issue_local_token(request: Request) -> Response:
    """`POST /local/token {company, role, plan}` → `{token, company, role, plan}`: the local stack's sign-in."""
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _problem(400, "VALIDATION_FAILED", "The body must be a JSON object")
    company = str(body.get("company") or "").strip()
    role = body.get("role") or "owner"
    plan = body.get("plan") or "team"
    errors = []
    if not company or len(company) > 64 or not all(c.isalnum() or c in "-_." for c in company):
        errors.append({"field": "company", "message": "an Uku company id: letters, digits, - _ . (1-64)"})
    if role not in ROLES:
        errors.append({"field": "role", "message": f"one of {', '.join(ROLES)}"})
    if plan not in PLANS:
        errors.append({"field": "plan", "message": f"one of {', '.join(PLANS)}"})
    if errors:
        return _problem(400, "VALIDATION_FAILED", "The sign-in is not valid", errors)
    token = issue_token(company, role, plan, sub=f"user-{company}-{role}")
    return Response(
        json.dumps({"token": token, "company": company, "role": role, "plan": plan}),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _not_found(environ: dict, start_response: Callable) -> Any:
    return Response("Not Found", status=404, content_type="text/plain; charset=utf-8")(environ, start_response)


class WithWebPage:
    """WSGI middleware: `/app/…` is served from `web/` (werkzeug's SharedDataMiddleware: safe paths, ETags,
    revalidated on every load so edits show at once), `/app` redirects to `/app/`, everything else goes on."""

    def __init__(self, app: Callable[..., Any], root: Path = WEB_ROOT) -> None:
        self.app = app
        self.files = SharedDataMiddleware(_not_found, {APP_PREFIX: str(root)}, cache=True, cache_timeout=0)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == APP_PREFIX:
            return Response(status=308, headers={"Location": APP_PREFIX + "/"})(environ, start_response)
        if not path.startswith(APP_PREFIX + "/"):
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return Response(status=405, headers={"Allow": "GET, HEAD"})(environ, start_response)
        if path == APP_PREFIX + "/":
            environ = {**environ, "PATH_INFO": APP_PREFIX + "/index.html"}
        return self.files(environ, start_response)
