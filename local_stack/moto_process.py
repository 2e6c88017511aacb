"""The moto server in a process of its own, as a real AWS endpoint is: its state is not shared with the process
that uses it (moto keeps its backends per process, and an in-process `mock_aws` would reset them)."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time

import requests

from local_stack.net import free_port

_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None  # loaded here, never after fork
_PR_SET_PDEATHSIG = 1
_SIGTERM = int(signal.SIGTERM)
_NO_SIGNALS: set[signal.Signals] = set()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The moto server gets SIGTERM when the process that started it dies (Linux), so none is ever left with
    parent 1, whatever ends the parent; signals the parent blocked are unblocked for the server."""
    signal.pthread_sigmask(signal.SIG_SETMASK, _NO_SIGNALS)
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, _SIGTERM)


class MotoServerProcess:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServerProcess:
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter running moto's server module
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # two system calls, no allocation or import in the child
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the moto server exited at start (code {self._process.returncode})")
            try:
                requests.get(f"{self.url}/moto-api/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"the moto server did not answer on {self.url} within {timeout} s")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, timeout: float = 2.0) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=timeout)
        self._process = None
