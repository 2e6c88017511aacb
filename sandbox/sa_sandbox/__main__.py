"""``python -m sa_sandbox [--host H] [--port P] [--seed N] [--time-scale X] [--per-minute N] [--per-day N]``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os

from .server import SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sa_sandbox", description="SmartAccounts sandbox server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8765")))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--time-scale", type=float, default=1.0, help="60 makes a quota minute last one second")
    parser.add_argument("--per-minute", type=int, default=60)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    logging.getLogger("sa_sandbox").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    server = SandboxServer(host=args.host, port=args.port, seed=args.seed, time_scale=args.time_scale,
                           per_minute=args.per_minute, per_day=args.per_day)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
