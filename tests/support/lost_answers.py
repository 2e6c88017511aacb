"""A write applied whose answer is lost, as botocore's retries make it: the request reached AWS and was applied, the
answer never came (a read timeout, a dropped connection, a 500 after the write), and botocore sent the same request
again; the caller sees the second attempt's outcome. A conditional write then fails on the condition its own first
attempt changed (`ConditionalCheckFailedException`, with `RetryAttempts` 1 as botocore reports it), an `ADD` or a
`SET x = x + :n` is applied twice, a delete finds nothing to delete.

Wraps any boto3 client (in-process moto or the moto server) for the adapters that take one:
``AnswerLost(client, "update_item", when=lambda kwargs: "finishedAt" in kwargs["UpdateExpression"])``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


class AnswerLost:
    """``client`` with the next ``times`` calls of ``operation`` (those ``when`` accepts) applied twice: the first
    attempt's answer is lost, the caller gets the retry's. ``lost`` counts the answers lost so far."""

    def __init__(
        self,
        client: Any,
        operation: str,
        *,
        when: Callable[[dict[str, Any]], bool] = lambda _kwargs: True,
        times: int = 1,
    ) -> None:
        self._client = client
        self._operation = operation
        self._when = when
        self._left = times
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name != self._operation:
            return real

        def applied_then_sent_again(**kwargs: Any) -> Any:
            if self._left <= 0 or not self._when(kwargs):
                return real(**kwargs)
            real(**kwargs)  # applied (a write refused outright raises here: it had no answer to lose)
            self._left -= 1
            self.lost += 1  # its answer never arrives
            try:
                return real(**kwargs)  # botocore's retry: its outcome is what the caller sees
            except ClientError as error:
                error.response.setdefault("ResponseMetadata", {})["RetryAttempts"] = 1
                raise

        return applied_then_sent_again
