"""A moto server that answers one request at a time: ``python -m tests.support.serial_moto HOST PORT``.

moto's own server answers each request in a thread of its own and its DynamoDB backend takes no lock, so two
concurrent conditional writes to one item can both pass their condition. DynamoDB applies conditional writes to an
item one at a time; tests whose subject is exactly that atomicity (the rate guard's concurrency tests) use this
server, which keeps every request whole, like DynamoDB, and is otherwise the same moto over HTTP.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from local_stack.net import free_port


def main(host: str, port: int) -> None:
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    moto_app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def app(environ, start_response):  # connections are served concurrently; requests are applied one by one
        with one_at_a_time:
            return list(moto_app(environ, start_response))

    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)


@contextmanager
def serial_moto_server(host: str = "127.0.0.1", timeout: float = 30.0) -> Iterator[str]:
    port = free_port(host)
    url = f"http://{host}:{port}"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running this module
        [sys.executable, "-m", "tests.support.serial_moto", host, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the serial moto server exited at start (code {process.returncode})")
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the serial moto server did not answer on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
