"""`make run`: the whole service locally, on embedded defaults, until Ctrl-C or SIGTERM.

SIGINT and SIGTERM (to the process or its group; also when started in the background, where the shell ignores
SIGINT) raise `Stop` in the main thread, wherever it is - starting, seeding or waiting - and `LocalStack.stop`
ends every part within a few seconds. The handler only raises: it never touches a lock or an event the main thread
may be holding (an `Event.set` there could deadlock with the `Event.wait` it interrupts). A start that fails (a
port already taken) stops what it had started and exits with status 1.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from local_stack.seed import DEMO_COMPANY, DEMO_OWNER, seed_demo
from local_stack.stack import LocalStack

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(BaseException):
    """A stop signal arrived (BaseException, like KeyboardInterrupt: no `except Exception` swallows it)."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    for sig in STOP_SIGNALS:  # one stop is enough: a second signal must not interrupt the cleanup
        signal.signal(sig, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def main() -> int:
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stop)
    stack = LocalStack(
        port=int(os.environ.get("PORT", "3000")),
        sandbox_port=int(os.environ.get("SANDBOX_PORT", "8765")),
        moto_port=int(os.environ.get("MOTO_PORT", "0")),
        sandbox_api_key=os.environ.get("SANDBOX_API_KEY"),
        sandbox_api_secret=os.environ.get("SANDBOX_API_SECRET"),
        smartaccounts_api_url=os.environ.get("SMARTACCOUNTS_API_URL") or None,
    )
    try:
        stack.start()
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
        while True:
            signal.pause()
    except Stop as stop:
        print(f"stopping ({stop})", flush=True)
        return 0
    except (OSError, SystemExit) as error:  # a port already taken (werkzeug exits), a server that would not start
        print(f"the local stack could not start: {error or 'a port is already taken'}", file=sys.stderr, flush=True)
        return 1
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        stack.stop(timeout=1.0)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every part is stopped; end now rather than wait for deliveries still in flight in daemon threads (a handler
    # cut off here is a Lambda timeout: SQS delivers its message again on the next start).
    os._exit(code)
