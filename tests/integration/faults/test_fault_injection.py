"""Fault injection on the local stack (modest size; `bench/bench_faults.py` runs a larger one).

A monthly import and a Reload data of two Uku companies (two clients each), and a batch of invoice exports of a
firm, run clean, then again under every fault of `tests/support/fault_run.py` (DynamoDB answers lost after the
write included). Afterwards every summary task equals
the clean run's, every job is complete, nothing is lost, and the import DLQ holds only the two messages invalid by
construction, each with its reason; every invoice exists exactly once in SmartAccounts (read back over HTTP), every
export record is EXPORTED with SmartAccounts' number, and nothing is on the export DLQ. The figures (faults by kind,
retries, duplicates suppressed, items lost, calls over the clean run against the floor of the fault mix, where the
calls go per endpoint, exports done) are printed.
"""

from __future__ import annotations

import pytest

from scripts import redrive
from tests.support import fault_run
from tests.support.invoices import firm_factory

pytestmark = pytest.mark.integration


def test_under_faults_every_summary_task_equals_the_clean_run_and_nothing_is_lost(
    stack, admin, make_company, monkeypatch, capsys
) -> None:
    tag = fault_run.new_tag()
    sa = fault_run.sandbox_companies(admin, 4, tag)
    groups = [[sa[0], sa[1]], [sa[2], sa[3]]]
    make_firm = firm_factory(stack, admin)

    # Given the clean run's results
    clean = fault_run.run(stack, admin, make_company, groups)
    assert all(job["status"] == "COMPLETED" for job in clean.jobs)
    assert clean.values and all(values for values in clean.values.values())
    clean_exports = fault_run.run_exports(stack, admin, make_firm())
    assert fault_run.export_problems(clean_exports) == []

    # When the same work runs on fresh Uku companies under every fault, with two invalid messages thrown in
    with fault_run.faults(stack, admin, monkeypatch, lose_answers=True) as (injected, arm, arm_firm):
        marker = f"invalid-{tag}"
        invalid = fault_run.send_invalid_messages(stack, marker)
        faulty = fault_run.run(stack, admin, make_company, groups, on_companies=arm, before_reload=arm)
        exports = fault_run.run_exports(stack, admin, make_firm(), on_firm=arm_firm)
        stack.wait_until_idle(timeout=120)

    # Then every job completed without errors and every summary task equals the clean run's
    assert [job["status"] for job in faulty.jobs] == ["COMPLETED", "COMPLETED"], faulty.jobs
    assert all(job["errors"] == {} and job["clientsDone"] == job["clientsTotal"] for job in faulty.jobs)
    lost = fault_run.lost(clean, faulty)
    assert lost == []

    # And every invoice exists exactly once in SmartAccounts, its record EXPORTED with SmartAccounts' number, the
    # known buyers used, one buyer created per new Uku client, the credit invoice linked to its original
    export_problems = fault_run.export_problems(exports)
    assert export_problems == []
    assert fault_run.export_dead_letters(stack, exports.firm) == []

    # And the DLQ holds only the invalid messages (and the pump's duplicates of them), each with its reason; none of
    # the run's real work
    dead = fault_run.dead_letters(stack, [marker, *(c.id for c in faulty.companies)])
    assert {m["Body"] for m in dead} == set(invalid)
    assert all((redrive.reason_of(m) or "").startswith("invalid") for m in dead)

    # And the faults really happened, to the imports and to the exports
    assert faulty.statuses.get("500", 0) > 0 and faulty.statuses.get("503", 0) > 0
    assert faulty.statuses.get("429", 0) > 0
    assert injected.crashes > 0 and injected.throttles > 0 and injected.pump.duplicates_sent > 0
    assert injected.lost_answers is not None and {"PutItem", "UpdateItem"} <= set(injected.lost_answers.lost)
    assert exports.statuses.get("503", 0) > 0 and exports.statuses.get("429", 0) > 0
    assert exports.statuses.get("500", 0) >= 2  # the two answers lost after SmartAccounts accepted, at least
    assert injected.throttled.get("export_record", 0) > 0 and injected.export_deliveries > len(exports.invoices)
    with capsys.disabled():
        print("\n" + fault_run.report(clean, faulty, injected, len(lost), dead))
        print(fault_run.where_calls_go(clean.log, faulty.log))
        print(fault_run.export_report(clean_exports, exports, injected, export_problems, []))
        print(fault_run.where_calls_go(clean_exports.log, exports.log))
