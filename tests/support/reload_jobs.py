"""A running reload job of one client, as the import tests start it (a reload work naming no job, or a finished one,
is acknowledged without running)."""

from __future__ import annotations

import datetime as dt

from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.reload_job import ReloadJob


def one_client_reload(
    job_id: str, company_id: str, window: list[YearMonth], created_at: dt.datetime, client_id: str = "client-1"
) -> ReloadJob:
    """The job, nothing counted and no calls expected yet (a client never imported: its size is learnt from its
    pages)."""
    return ReloadJob(
        job_id=job_id,
        company_id=company_id,
        scope="ONE_CLIENT",
        client_ids=[client_id],
        window=window,
        clients_total=1,
        requested_by="user-1",
        created_at=created_at,
    )
