"""Input at the edge: what the service refuses to work on, and why, recorded where an operator sees it.

- Work that needs nothing (a duplicate or stray reload message) is acknowledged as it is: no SmartAccounts call, no
  sync history entry; the `DuplicatesSuppressed` metric (dimension `reason`) and a log line count it.
- Input that can never be handled (a message or event the models cannot read) is dead-lettered at once with its
  reason: the `MessagesRejected` metric (dimensions `source`, `reason`), an error log with the message id, and the
  reason on the dead-letter message itself.
"""

from __future__ import annotations

from pydantic import ValidationError

from smartaccounts_sync.adapters.dead_letters import DeadLetters
from smartaccounts_sync.domain.import_work import ImportWork
from smartaccounts_sync.observability import count, logger
from smartaccounts_sync.service import reload
from smartaccounts_sync.service.dependencies import Dependencies

UNKNOWN = "There is no SmartAccounts integration for this Uku company; the work was not for this service."
CLIENT_GONE = "There is no such client in this Uku company (it was deleted); nothing was imported for it."


class Unreadable(Exception):
    """Input that can never be handled, where no dead-letter queue is configured to take it at once."""


def suppressed_duplicate(deps: Dependencies, work: ImportWork) -> bool:
    """True when the work needs nothing (see `reload.settled`); counted and logged, nothing else happens."""
    reason = reload.settled(deps, work)
    if reason is None:
        return False
    count("DuplicatesSuppressed", reason=reason)
    logger.info(
        "work acknowledged without importing",
        extra={"reason": reason, "job_id": work.job_id, "client_id": work.client_id, "company_id": work.company_id},
    )
    return True


def describe(error: ValidationError) -> str:
    """A short reason from a pydantic error: the fields and what is wrong, never the values."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:5]]
    return "invalid " + "; ".join(parts)


def rejected(
    dead_letters: DeadLetters | None, body: str, *, source: str, reason: str, message_id: str | None
) -> None:
    """Dead-letters input that can never be handled, with its reason (metric, log, the message's attributes)."""
    count("MessagesRejected", source=source, reason=reason.split(" ", 1)[0])
    logger.error(
        "input dead-lettered", extra={"source": source, "reason": reason, "message_id": message_id}
    )
    if dead_letters is None:  # no queue configured: fail it, so SQS's own redrive dead-letters it
        raise Unreadable(f"{source}: {reason}")
    dead_letters.send(body, reason=reason, source=source, message_id=message_id)


def read_import_work(
    dead_letters: DeadLetters | None, body: str, message_id: str | None
) -> ImportWork | None:
    """The import work in a message, or None after dead-lettering a message that is not import work."""
    try:
        return ImportWork.model_validate_json(body)
    except ValidationError as error:
        rejected(dead_letters, body, source="import-queue", reason=describe(error), message_id=message_id)
        return None
