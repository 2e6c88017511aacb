"""`make run`: the whole service locally, on embedded defaults, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading

from local_stack.seed import DEMO_COMPANY, DEMO_OWNER, seed_demo
from local_stack.stack import LocalStack


def main() -> None:
    stack = LocalStack(
        port=int(os.environ.get("PORT", "3000")),
        sandbox_port=int(os.environ.get("SANDBOX_PORT", "8765")),
        sandbox_api_key=os.environ.get("SANDBOX_API_KEY"),
        sandbox_api_secret=os.environ.get("SANDBOX_API_SECRET"),
        smartaccounts_api_url=os.environ.get("SMARTACCOUNTS_API_URL") or None,
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        summary = seed_demo(stack)
        assert stack.sandbox is not None
        print(f"SmartAccounts sandbox: {stack.sandbox.url}  (admin: {stack.sandbox.admin_url})")
        if stack.smartaccounts_api_url:
            print(f"SmartAccounts in use:  {stack.smartaccounts_api_url}  (from SMARTACCOUNTS_API_URL)")
        else:
            print(f"SmartAccounts in use:  the sandbox, {stack.sandbox.api_url}  (SMARTACCOUNTS_API_URL overrides)")
        print(f"AWS (moto server):     {stack.moto_url}")
        print(f"Demo data:             {summary}")
        print(f"Web page:              {stack.api_url}/app/  (sign in as any Uku company, role and plan)")
        print(f"Swagger UI:            {stack.api_url}/docs")
        print(f"API:                   {stack.api_url}")
        print(f"Dev token (company {DEMO_COMPANY}, owner, team plan; `make token` prints others):")
        print(stack.token(DEMO_COMPANY, "owner", "team", sub=DEMO_OWNER), flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
