"""The moto server in a process of its own, as a real AWS endpoint is: its state is not shared with the process
that uses it (moto keeps its backends per process, and an in-process `mock_aws` would reset them)."""

from __future__ import annotations

import subprocess
import sys
import time

import requests

from local_stack.net import free_port


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

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
