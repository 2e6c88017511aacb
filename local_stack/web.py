"""The reference web page on the local stack: static files from `web/` at `/app`, and the local sign-in.

Local only: nothing here is in the template. In AWS the page would be Uku's own front end; here it stands in for
it, and the sign-in (`POST /local/token`) issues the same development JWT as `make token`.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

from local_stack.template import REPO_ROOT
from local_stack.tokens import PLANS, ROLES, issue_token

WEB_ROOT = REPO_ROOT / "web"
APP_PREFIX = "/app"
# Browsers only run module scripts served with a JavaScript type; do not depend on the machine's mime.types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


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


def serve_static(request: Request, root: Path = WEB_ROOT) -> Response:
    """`GET /app/<path>`: a file under `web/` (`/app` and `/app/` answer the page itself)."""
    if request.path == APP_PREFIX:
        return Response(status=308, headers={"Location": APP_PREFIX + "/"})
    relative = request.path[len(APP_PREFIX) + 1 :] or "index.html"
    joined = safe_join(str(root), relative)
    if joined is None or not Path(joined).is_file():
        return Response("Not Found", status=404, content_type="text/plain; charset=utf-8")
    path = Path(joined)
    content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), content_type=content_type, headers={"Cache-Control": "no-cache"})


class WithWebPage:
    """WSGI middleware: `/app…` is served from `web/`, everything else goes to the wrapped front."""

    def __init__(self, app: Callable[..., Any], root: Path = WEB_ROOT) -> None:
        self.app = app
        self.root = root

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == APP_PREFIX or path.startswith(APP_PREFIX + "/"):
            request = Request(environ)
            if request.method not in ("GET", "HEAD"):
                response = Response(status=405, headers={"Allow": "GET, HEAD"})
            else:
                response = serve_static(request, self.root)
            return response(environ, start_response)
        return self.app(environ, start_response)
