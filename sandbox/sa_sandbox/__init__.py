"""A local, deterministic stand-in for the SmartAccounts REST API (see docs/sandbox.md)."""

from __future__ import annotations

__all__ = ["SandboxServer"]


def __getattr__(name: str):
    if name == "SandboxServer":
        from .server import SandboxServer

        return SandboxServer
    raise AttributeError(name)
