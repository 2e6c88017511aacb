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
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        summary = seed_demo(stack)
        assert stack.sandbox is not None
        print(f"SmartAccounts sandbox: {stack.sandbox.url}  (admin: {stack.sandbox.admin_url})")
        print(f"AWS (moto server):     {stack.moto_url}")
        print(f"Demo data:             {summary}")
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
