"""`python -m local_stack` (what `make run` starts) as a subprocess: it stops cleanly, however it is stopped.

A start that fails cleans up every child; SIGTERM and SIGINT, to the process or to its group, and also when it was
started in the background (SIGINT ignored, as a shell does for `&`), stop it within 5 s with nothing left running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from local_stack.net import free_port

pytestmark = pytest.mark.integration
STOP_WITHIN_SECONDS = 5


def _moto_servers(port: int) -> list[int]:
    """Pids of moto servers on `port` still alive (zombies excluded), whoever their parent is now."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"moto.server" in cmdline and str(port).encode() in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


def _start(port: int = 0, *, background: bool = False) -> tuple[subprocess.Popen[str], int]:
    moto_port = free_port()
    env = os.environ | {
        "PORT": str(port),
        "SANDBOX_PORT": "0",
        "MOTO_PORT": str(moto_port),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),  # as `make run` sets it
    }

    def like_a_shell_background_job() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so the test can signal the group
        preexec_fn=like_a_shell_background_job if background else None,
    )
    return process, moto_port


def _wait_until_ready(process: subprocess.Popen[str], timeout: float = 90) -> list[str]:
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("eyJ"):  # the dev token: the last line printed when everything runs
                ready.set()
        ready.set()  # it ended before it was ready

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(timeout), "the local stack did not start"
    assert process.poll() is None, "".join(lines)
    return lines


def _stops_cleanly(process: subprocess.Popen[str], moto_port: int, send: Callable[[], None]) -> None:
    assert _moto_servers(moto_port), "the moto server should run while the stack runs"
    send()
    try:
        code = process.wait(timeout=STOP_WITHIN_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert code == 0
    assert _moto_servers(moto_port) == []


@pytest.mark.parametrize(
    ("signum", "to_group", "background"),
    [
        (signal.SIGTERM, False, False),
        (signal.SIGINT, True, False),
        (signal.SIGINT, False, True),
        (signal.SIGTERM, True, True),
    ],
    ids=["sigterm-process", "sigint-group", "background-sigint-process", "background-sigterm-group"],
)
def test_a_stop_signal_ends_everything_within_five_seconds(signum: int, to_group: bool, background: bool) -> None:
    process, moto_port = _start(background=background)
    _wait_until_ready(process)
    _stops_cleanly(
        process,
        moto_port,
        (lambda: os.killpg(process.pid, signum)) if to_group else (lambda: process.send_signal(signum)),
    )


def test_a_failed_start_leaves_no_child_running() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, moto_port = _start(port)
        output, _ = process.communicate(timeout=90)
    assert process.returncode == 1
    assert "could not start" in output
    assert _moto_servers(moto_port) == []
