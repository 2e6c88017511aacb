"""The fault-injection run at a larger size than `make test`'s: three Uku companies with three clients each, a
monthly import and a Reload data of all of them, and a firm exporting a batch of invoices with more new buyers,
clean and then under every fault (`tests/support/fault_run.py`).

Prints faults injected by kind, retries, duplicates suppressed, items lost (must be 0), the DLQ's content, the
SmartAccounts calls of the faulty run over the clean run's (goal <= 1.25) next to the floor the fault mix implies,
and where the calls go per endpoint; for the exports: exports done, duplicates
suppressed, SmartAccounts export calls against the clean run, items lost (must be 0) and the export DLQ.
"""

from __future__ import annotations

import os
import sys

import pytest

from local_stack.stack import LocalStack
from tests.support import fault_run
from tests.support.invoices import firm_factory
from tests.support.local_company import Admin, company_factory

GROUPS, CLIENTS = 3, 3
NEW_BUYERS = 10  # the export batch: 3 known buyers, 10 new ones (one invoiced twice), a credit invoice: 15 invoices


def main() -> int:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = LocalStack(port=0, sandbox_port=0, retry_delay_seconds=1).start()
    try:
        admin = Admin(stack.sandbox.admin_url)
        make_company = company_factory(stack, admin)
        make_firm = firm_factory(stack, admin)
        tag = fault_run.new_tag()
        sa = fault_run.sandbox_companies(admin, GROUPS * CLIENTS, tag)
        groups = [sa[i * CLIENTS : (i + 1) * CLIENTS] for i in range(GROUPS)]
        clean = fault_run.run(stack, admin, make_company, groups, timeout=600)
        clean_exports = fault_run.run_exports(stack, admin, make_firm(), new_buyers=NEW_BUYERS, timeout=600)
        with (
            pytest.MonkeyPatch.context() as patch,
            fault_run.faults(stack, admin, patch, lose_answers=True) as (injected, arm, arm_firm),
        ):
            marker = f"invalid-{tag}"
            fault_run.send_invalid_messages(stack, marker)
            faulty = fault_run.run(
                stack, admin, make_company, groups, on_companies=arm, before_reload=arm, timeout=600
            )
            exports = fault_run.run_exports(
                stack, admin, make_firm(), on_firm=arm_firm, new_buyers=NEW_BUYERS, timeout=600
            )
            stack.wait_until_idle(timeout=300)
        lost = fault_run.lost(clean, faulty)
        dead = fault_run.dead_letters(stack, [marker, *(c.id for c in faulty.companies)])
        export_lost = fault_run.export_problems(clean_exports) + fault_run.export_problems(exports)
        export_dead = fault_run.export_dead_letters(stack, exports.firm)
        print(f"{GROUPS} Uku companies x {CLIENTS} clients: monthly import + Reload data")
        print(fault_run.report(clean, faulty, injected, len(lost), dead))
        print(fault_run.where_calls_go(clean.log, faulty.log))
        print(f"  jobs: {[job['status'] for job in faulty.jobs]}")
        for problem in lost:
            print(f"  LOST {problem}")
        print(fault_run.export_report(clean_exports, exports, injected, export_lost, export_dead))
        print(fault_run.where_calls_go(clean_exports.log, exports.log))
        for problem in export_lost:
            print(f"  LOST {problem}")
        failed = lost or export_lost or export_dead or any(job["status"] != "COMPLETED" for job in faulty.jobs)
        return 1 if failed else 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
