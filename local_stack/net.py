"""Loopback helpers for the local stack and the tests."""

from __future__ import annotations

import socket

REGION = "eu-north-1"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
