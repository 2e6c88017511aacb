"""`make run` (python -m local_stack) with SMARTACCOUNTS_API_URL talks to that SmartAccounts, not to its sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from local_stack.net import free_port
from local_stack.template import REPO_ROOT
from local_stack.tokens import issue_token
from sa_sandbox.server import SandboxServer

pytestmark = pytest.mark.integration

TIMEOUT = 10


@pytest.fixture
def other_smartaccounts() -> Iterator[SandboxServer]:
    """A second SmartAccounts-compatible server standing in for the real one."""
    server = SandboxServer(port=0).start()
    yield server
    server.stop()


def _banner(process: subprocess.Popen, until: str, limit: float = 90.0) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + limit
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(until):
            return lines
    raise AssertionError("make run did not print its banner:\n" + "\n".join(lines))


def test_make_run_uses_the_given_smartaccounts_and_says_so(other_smartaccounts: SandboxServer) -> None:
    # Given `make run` started with SMARTACCOUNTS_API_URL pointing at another SmartAccounts
    port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "SANDBOX_PORT": str(sandbox_port),
        "SMARTACCOUNTS_API_URL": other_smartaccounts.api_url,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT), str(REPO_ROOT / "layers" / "shared"), str(REPO_ROOT / "sandbox")]
            + [str(p) for p in sorted((REPO_ROOT / "functions").iterdir()) if p.is_dir()]
        ),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "local_stack"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        banner = "\n".join(_banner(process, "Dev token"))
        # Then the banner names the SmartAccounts in use and the web page
        assert f"SmartAccounts in use:  {other_smartaccounts.api_url}" in banner
        assert f"http://127.0.0.1:{port}/app/" in banner
        # When a connection is tested, Then the other SmartAccounts answers, and the local sandbox saw nothing
        token = issue_token("run-url", "owner", "team")
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{port}/v1/integrations/smartaccounts"
        assert requests.post(f"{base}/enable", headers=headers, timeout=TIMEOUT).status_code == 200
        test = requests.post(
            f"{base}/test-connection",
            json={"apiKey": "demo-small-key", "apiSecret": "demo-small-secret"},
            headers=headers,
            timeout=TIMEOUT,
        )
        assert test.status_code == 200 and test.json()["companyName"] == "Väike Raamatupidamine OÜ"
        seen_there = requests.get(f"{other_smartaccounts.admin_url}/requests?apiKey=demo-small-key", timeout=TIMEOUT)
        assert seen_there.json()["count"] == 1
        local = f"http://127.0.0.1:{sandbox_port}/_sandbox/requests"
        assert requests.get(local, params={"apiKey": "demo-small-key"}, timeout=TIMEOUT).json()["count"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
