"""Fault injection on the local stack (modest size; `bench/bench_faults.py` runs a larger one).

A monthly import and a Reload data of two Uku companies (two clients each) run clean, then again under every fault
of `tests/support/fault_run.py`. Afterwards every summary task equals the clean run's, every job is complete,
nothing is lost, and the import DLQ holds only the two messages invalid by construction, each with its reason. The
figures (faults by kind, retries, duplicates suppressed, items lost, calls over the clean run) are printed.
"""

from __future__ import annotations

import pytest

from scripts import redrive
from tests.support import fault_run

pytestmark = pytest.mark.integration


def test_under_faults_every_summary_task_equals_the_clean_run_and_nothing_is_lost(
    stack, admin, make_company, monkeypatch, capsys
) -> None:
    tag = fault_run.new_tag()
    sa = fault_run.sandbox_companies(admin, 4, tag)
    groups = [[sa[0], sa[1]], [sa[2], sa[3]]]

    # Given the clean run's results
    clean = fault_run.run(stack, admin, make_company, groups)
    assert all(job["status"] == "COMPLETED" for job in clean.jobs)
    assert clean.values and all(values for values in clean.values.values())

    # When the same work runs on fresh Uku companies under every fault, with two invalid messages thrown in
    with fault_run.faults(stack, admin, monkeypatch) as (injected, arm):
        marker = f"invalid-{tag}"
        invalid = fault_run.send_invalid_messages(stack, marker)
        faulty = fault_run.run(stack, admin, make_company, groups, on_companies=arm, before_reload=arm)
        stack.wait_until_idle(timeout=120)

    # Then every job completed without errors and every summary task equals the clean run's
    assert [job["status"] for job in faulty.jobs] == ["COMPLETED", "COMPLETED"], faulty.jobs
    assert all(job["errors"] == {} and job["clientsDone"] == job["clientsTotal"] for job in faulty.jobs)
    lost = fault_run.lost(clean, faulty)
    assert lost == []

    # And the DLQ holds only the invalid messages (and the pump's duplicates of them), each with its reason; none of
    # the run's real work
    dead = fault_run.dead_letters(stack, [marker, *(c.id for c in faulty.companies)])
    assert {m["Body"] for m in dead} == set(invalid)
    assert all((redrive.reason_of(m) or "").startswith("invalid") for m in dead)

    # And the faults really happened
    assert faulty.statuses.get("500", 0) > 0 and faulty.statuses.get("503", 0) > 0
    assert injected.crashes > 0 and injected.throttles > 0 and injected.pump.duplicates_sent > 0
    with capsys.disabled():
        print("\n" + fault_run.report(clean, faulty, injected, len(lost), dead))
