"""The local stack serves the reference web page at /app and signs in at /local/token, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from local_stack.tokens import verify_token

pytestmark = pytest.mark.integration

TIMEOUT = 10


def test_the_page_and_its_modules_are_served_with_their_content_types(stack) -> None:
    # When the browser asks for /app, Then it is sent to /app/ and gets the page
    bare = requests.get(f"{stack.api_url}/app", allow_redirects=False, timeout=TIMEOUT)
    assert bare.status_code == 308 and bare.headers["Location"] == "/app/"
    page = requests.get(f"{stack.api_url}/app/", timeout=TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="js/app.js">' in page.text
    # module scripts only run when served as JavaScript
    script = requests.get(f"{stack.api_url}/app/js/app.js", timeout=TIMEOUT)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    css = requests.get(f"{stack.api_url}/app/styles.css", timeout=TIMEOUT)
    assert css.headers["Content-Type"].startswith("text/css")
    # and a browser revalidates instead of keeping an old copy: unchanged files answer 304
    assert "max-age=0" in script.headers["Cache-Control"]
    again = requests.get(
        f"{stack.api_url}/app/js/app.js", headers={"If-None-Match": script.headers["ETag"]}, timeout=TIMEOUT
    )
    assert again.status_code == 304


def test_nothing_outside_the_web_folder_is_served(stack) -> None:
    for path in ("/app/..%2ftemplate.yaml", "/app/%2e%2e/template.yaml", "/app/nope.js"):
        response = requests.get(f"{stack.api_url}{path}", timeout=TIMEOUT)
        assert response.status_code == 404, path
    assert requests.post(f"{stack.api_url}/app/", timeout=TIMEOUT).status_code == 405


def test_local_sign_in_issues_a_dev_token_the_api_accepts(stack) -> None:
    # When the page signs in as an admin of a company on the elite plan
    sign_in = {"company": "web-signin", "role": "admin", "plan": "elite"}
    response = requests.post(f"{stack.api_url}/local/token", json=sign_in, timeout=TIMEOUT)
    # Then the token carries those claims and the API accepts it
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    claims = verify_token(response.json()["token"])
    assert (claims["uku:companyId"], claims["uku:role"], claims["uku:plan"]) == ("web-signin", "admin", "elite")
    state = requests.get(
        f"{stack.api_url}/v1/integrations/smartaccounts",
        headers={"Authorization": f"Bearer {response.json()['token']}"},
        timeout=TIMEOUT,
    )
    assert state.status_code == 200 and state.json()["enabled"] is False


def test_local_sign_in_refuses_bad_input_field_by_field(stack) -> None:
    response = requests.post(
        f"{stack.api_url}/local/token", json={"company": "no spaces", "role": "boss", "plan": "gold"}, timeout=TIMEOUT
    )
    assert response.status_code == 400 and response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert {e["field"] for e in body["errors"]} == {"company", "role", "plan"}
    not_json = requests.post(f"{stack.api_url}/local/token", data=b"[1]", timeout=TIMEOUT)
    assert not_json.status_code == 400 and not_json.json()["code"] == "VALIDATION_FAILED"
