"""Domain unit tests: pure functions on plain values. Any attempt to open a socket fails the test."""

from __future__ import annotations




