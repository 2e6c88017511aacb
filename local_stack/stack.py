"""Starts the whole service locally: moto server, sandbox, resources from the template, SQS pump and HTTP front.

No Docker, no AWS account. Every handler runs in this process, as the real function code, on events shaped like
the ones AWS delivers.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import boto3
import requests
from botocore.config import Config
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local_stack.front import LambdaContext, LocalFront
from local_stack.moto_process import MotoServerProcess
from local_stack.net import REGION, free_port
from local_stack.permissions import Permissions
from local_stack.provision import Provisioned, Provisioner
from local_stack.pump import QueueBinding, QueuePump
from local_stack.template import Template
from local_stack.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, issue_token, verify_token
from local_stack.web import WithWebPage, issue_local_token
from sa_sandbox.server import SandboxServer

STACK_PREFIX = "uku-sa-local"


class LocalStack:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        sandbox_port: int = 8765,
        moto_port: int = 0,
        sandbox_seed: int = 42,
        sandbox_time_scale: float = 1.0,
        sandbox_api_key: str | None = None,
        sandbox_api_secret: str | None = None,
        retry_delay_seconds: int = 2,
        extra_environment: dict[str, str] | None = None,
        smartaccounts_api_url: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.sandbox_port = sandbox_port
        self.moto_port = moto_port or free_port(host)
        self.sandbox_seed = sandbox_seed
        self.sandbox_time_scale = sandbox_time_scale
        self.sandbox_api_key = sandbox_api_key
        self.sandbox_api_secret = sandbox_api_secret
        self.retry_delay_seconds = retry_delay_seconds
        self.extra_environment = extra_environment or {}
        self.smartaccounts_api_url = smartaccounts_api_url  # None: the service talks to the sandbox started here
        self.template = Template()
        self.functions = self.template.functions()
        self.handlers: dict[str, Callable[[dict, Any], Any]] = {}
        # Lambda runs one invocation at a time per execution environment. The HTTP functions keep per-invocation
        # state in module-level objects (the Powertools resolver's current event, a class attribute common to every
        # resolver in the process): they share one environment here, one call at a time. A queue-driven function
        # gets as many environments as its event source allows (`ScalingConfig.MaximumConcurrency`); its handler
        # builds its state per invocation, so they share the module.
        self.environments = {logical_id: 1 for logical_id in self.functions}
        for source in self.template.queue_sources():
            self.environments[source.function] = max(self.environments[source.function], source.maximum_concurrency)
        http_functions = {route.function for route in self.template.http_routes()}
        http_environment = threading.BoundedSemaphore(1)
        self._environments = {
            name: http_environment if name in http_functions else threading.BoundedSemaphore(n)
            for name, n in self.environments.items()
        }
        self.provisioned: Provisioned | None = None
        self.permissions: Permissions | None = None
        self.moto: MotoServerProcess | None = None
        self.sandbox: SandboxServer | None = None
        self.pump: QueuePump | None = None
        self._http: Any = None
        self._http_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ URLs
    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    def token(self, company: str, role: str = "owner", plan: str = "team", **kwargs: Any) -> str:
        return issue_token(company, role, plan, **kwargs)

    def boto3_client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.moto_url, region_name=REGION)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        """Starts every part; if any part fails (a port already taken), stops the parts already started."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request of three servers is noise
        for key, value in {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }.items():
            os.environ[key] = value
        self.moto = MotoServerProcess(self.host, self.moto_port).start()
        self.sandbox = SandboxServer(
            host=self.host,
            port=self.sandbox_port,
            seed=self.sandbox_seed,
            time_scale=self.sandbox_time_scale,
        )
        self.sandbox.start()
        self._add_sandbox_key()
        provisioner = Provisioner(
            self.template,
            endpoint_url=self.moto_url,
            region=REGION,
            prefix=STACK_PREFIX,
            parameters={
                "Stage": "local",
                "JwtIssuer": LOCAL_ISSUER,
                "JwtAudience": LOCAL_AUDIENCE,
                "SmartAccountsApiUrl": self.smartaccounts_api_url or self.sandbox.api_url,
            },
        )
        self.provisioned = provisioner.provision()
        # before any handler makes a client: each AWS call a handler makes is checked against its function's policies
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        self.permissions = Permissions(self.template, provisioner.resolver)
        self.permissions.attach(boto3.DEFAULT_SESSION.events)
        os.environ.update(self.provisioned.environment)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                # a credit invoice put back to wait for its original comes back as fast as a local redelivery
                "EXPORT_WAIT_REQUEUE_SECONDS": str(self.retry_delay_seconds),
                **self.extra_environment,
            }
        )
        for logical_id, spec in self.functions.items():
            self.handlers[logical_id] = getattr(importlib.import_module(spec.module), spec.attribute)
        self.pump = QueuePump(
            # no retry storm against a moto server that is going away: a failed poll is simply polled again
            boto3.client(
                "sqs",
                endpoint_url=self.moto_url,
                region_name=REGION,
                config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1),
            ),
            self._queue_bindings(),
            self.invoke,
            region=REGION,
            retry_delay_seconds=self.retry_delay_seconds,
        )
        self.pump.start()
        front = LocalFront(
            self.template.http_routes(),
            self.invoke,
            verify_token,
            local_routes={
                ("POST", "/local/scheduled-import"): self._fire_scheduled_import,
                ("POST", "/local/daily-refresh"): self._fire_daily_refresh,
                ("GET", "/local/queues"): self._queue_status,
                ("POST", "/local/token"): issue_local_token,
            },
        )
        self._http = make_server(self.host, self.port, WithWebPage(front), threaded=True)
        self._http_thread = threading.Thread(target=self._http.serve_forever, name="local-front", daemon=True)
        self._http_thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stops every part that was started, each even if another fails, within about `timeout` seconds: the pump
        waits that long for deliveries in flight (its threads are daemons and end with the process)."""
        steps: list[Callable[[], None]] = []
        if self._http is not None:
            steps += [self._http.shutdown, self._http.server_close]
        pump = self.pump
        if pump is not None:
            steps.append(lambda: pump.stop(timeout))
        if self.sandbox is not None:
            steps.append(self.sandbox.stop)
        if self.moto is not None:
            steps.append(self.moto.stop)
        self._http = self.pump = self.sandbox = self.moto = None
        for step in steps:
            try:
                step()
            except Exception:  # the remaining parts must still stop
                logging.getLogger("local_stack").exception("a part of the local stack did not stop cleanly")

    def _add_sandbox_key(self) -> None:
        """SANDBOX_API_KEY/SANDBOX_API_SECRET: a key pair that sees the sandbox's demo companies."""
        if not (self.sandbox_api_key and self.sandbox_api_secret):
            return
        assert self.sandbox is not None
        admin = self.sandbox.admin_url
        companies = [c["id"] for c in requests.get(f"{admin}/companies", timeout=5).json()["companies"]]
        requests.post(
            f"{admin}/keys",
            json={"apiKey": self.sandbox_api_key, "apiSecret": self.sandbox_api_secret, "companyIds": companies},
            timeout=5,
        ).raise_for_status()

    def _queue_bindings(self) -> list[QueueBinding]:
        assert self.provisioned is not None
        return [
            QueueBinding(
                source=source,
                queue_url=self.provisioned.queue_urls[source.queue],
                queue_arn=self.provisioned.arns[source.queue],
            )
            for source in self.template.queue_sources()
        ]

    # ------------------------------------------------------------------ invoking
    def invoke(self, function: str, event: dict) -> Any:
        spec = self.functions[function]
        assert self.permissions is not None, "the stack is not started"
        with self._environments[function], self.permissions.acting_as(function):
            return self.handlers[function](event, LambdaContext(function, spec.timeout))

    def scheduled_import_function(self) -> str:
        """The function the template's first schedule (the import check) targets, found in the template."""
        for schedule in self.template.of_type("AWS::Scheduler::Schedule").values():
            arn = schedule["Properties"]["Target"]["Arn"]
            return arn["Fn::GetAtt"][0] if isinstance(arn["Fn::GetAtt"], list) else arn["Fn::GetAtt"].split(".")[0]
        raise LookupError("template.yaml declares no schedule")

    def daily_refresh_function(self) -> str:
        """The function `DailyRefreshSchedule` targets (VAT types and paid status), found in the template."""
        arn = self.template.resources["DailyRefreshSchedule"]["Properties"]["Target"]["Arn"]
        return arn["Fn::GetAtt"][0] if isinstance(arn["Fn::GetAtt"], list) else arn["Fn::GetAtt"].split(".")[0]

    def fire_daily_refresh(self) -> Any:
        return self.invoke(self.daily_refresh_function(), {"trigger": "local"})

    def _fire_daily_refresh(self, request: Request) -> Response:
        result = self.fire_daily_refresh()
        return Response(json.dumps(result, default=str), status=200, content_type="application/json")

    def fire_scheduled_import(self, on: date) -> Any:
        return self.invoke(self.scheduled_import_function(), {"trigger": "local", "date": on.isoformat()})

    def wait_until_idle(self, timeout: float = 60.0, *, limit: float | None = None) -> None:
        """Waits until every work queue is empty (delayed messages included) and the pump is not delivering.

        `timeout` is how long the wait may go on **without progress** (no batch delivered, none in flight, no queue
        depth changing), not a fixed time for the work: a loaded machine makes the work slower, not wrong. `limit`
        (default ten times `timeout`) bounds the whole wait, so messages bouncing forever still fail it.

        Quiet is confirmed race-free: the pump is idle and has delivered the same number of batches before and after
        the queues are read, so work a handler queued while the queues were being read is not missed."""
        assert self.pump is not None
        started = time.monotonic()
        hard_deadline = started + (limit if limit is not None else timeout * 10)
        last_progress, last_seen = started, None
        sqs = self.boto3_client("sqs")
        while True:
            idle_before, delivered_before = self.pump.activity()
            depths = tuple(self._queue_depth(sqs, binding.queue_url) for binding in self.pump.bindings)
            idle_after, delivered_after = self.pump.activity()
            if idle_before and idle_after and delivered_before == delivered_after and not any(depths):
                return
            now = time.monotonic()
            seen = (delivered_after, depths)
            if seen != last_seen or not idle_after:
                last_progress, last_seen = now, seen
            if now - last_progress > timeout or now > hard_deadline:
                break
            time.sleep(0.2)
        waiting = {}
        for binding in self.pump.bindings:
            attrs = sqs.get_queue_attributes(QueueUrl=binding.queue_url, AttributeNames=["All"])["Attributes"]
            waiting[binding.source.queue] = {
                k: attrs.get(k)
                for k in (
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                )
            }
        raise TimeoutError(
            f"work queues did not drain ({timeout:.0f} s without progress, {time.monotonic() - started:.0f} s in "
            f"all): {waiting}, pump idle: {self.pump.idle()}"
        )

    @staticmethod
    def _queue_depth(sqs: Any, queue_url: str) -> int:
        """Messages waiting, in flight and delayed (a message sent with a delay is work to come)."""
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(attrs.get(name, 0)) for name in (
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"
        ))

    def _fire_scheduled_import(self, request: Request) -> Response:
        raw = request.args.get("date")
        try:
            on = date.fromisoformat(raw) if raw else None
        except ValueError:
            on = None
        if on is None:
            return Response(
                json.dumps(
                    {"code": "VALIDATION_FAILED", "detail": "date=YYYY-MM-DD (a Europe/Tallinn date) is required"}
                ),
                status=400,
                content_type="application/problem+json",
            )
        result = self.fire_scheduled_import(on)
        return Response(json.dumps(result, default=str), status=200, content_type="application/json")

    def _queue_status(self, request: Request) -> Response:
        assert self.pump is not None and self.provisioned is not None
        sqs = self.boto3_client("sqs")
        status = {}
        for logical_id, url in self.provisioned.queue_urls.items():
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            status[logical_id] = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
        return Response(json.dumps({"queues": status, "pumpIdle": self.pump.idle()}), content_type="application/json")
