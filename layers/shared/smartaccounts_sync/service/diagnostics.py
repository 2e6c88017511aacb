"""The help page's troubleshooting checklist, run for one company: each check passes or fails and names the fix."""

from __future__ import annotations

from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.diagnostics import Check, CheckStatus, DiagnosticsReport
from smartaccounts_sync.domain.field_catalogue import field_by_key, is_known_field
from smartaccounts_sync.domain.integration import CompanyIntegration, ConnectionStatus
from smartaccounts_sync.domain.sync_records import ImportOutcome
from smartaccounts_sync.errors import ServiceError
from smartaccounts_sync.service.client_links import linked_clients, unseen_links
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.errors import SmartAccountsError
from smartaccounts_sync.troubleshooting import cause_of, explain


def _check(id: str, title: str, ok: bool, detail: str, fix: str) -> Check:
    return Check(id, title, CheckStatus.PASS if ok else CheckStatus.FAIL, detail, None if ok else fix)


__all__ = ["Check", "CheckStatus", "DiagnosticsReport", "check_now", "last_report", "run_diagnostics"]

#: the checks that call SmartAccounts (spending the company's quota) and may rewrite client link statuses
LIVE_CHECKS = ("connectionTest", "linkedCompaniesVisible")
MANAGER_ONLY = "Only a Company Owner or Admin can run this check; it has not run yet."


def check_now(deps: Dependencies, company_id: str) -> DiagnosticsReport:
    """Runs every check, live ones included, and keeps the result for the company's members."""
    report = DiagnosticsReport(
        company_id=company_id, checks=run_diagnostics(deps, company_id), checked_at=deps.now(), live=True
    )
    deps.diagnostics.save(report)
    return report


def last_report(deps: Dependencies, company_id: str) -> DiagnosticsReport:
    """The last stored result; before any live check, the checks that need no SmartAccounts call."""
    stored = deps.diagnostics.last(company_id)
    if stored is not None:
        return stored
    return DiagnosticsReport(company_id=company_id, checks=run_diagnostics(deps, company_id, live=False))


def run_diagnostics(deps: Dependencies, company_id: str, *, live: bool = True) -> list[Check]:
    """Every check; with `live=False` the ones that call SmartAccounts are SKIPPED (nothing is called or changed)."""
    record = deps.integrations.get(company_id)
    checks = [
        _check(
            "integrationEnabled",
            "SmartAccounts integration is enabled",
            record.enabled,
            "Enabled for this company." if record.enabled else "The integration is disabled.",
            "Open Settings & Apps → SmartAccounts and click Enable on the Overview tab.",
        ),
        _check(
            "credentialsSaved",
            "API key and secret are saved",
            record.credentials is not None,
            f"Key {record.credentials.masked_key} saved." if record.credentials else "No credentials saved.",
            "Paste the API key and API secret from SmartAccounts on the Connect tab and click Save.",
        ),
        (
            _connection_check(deps, record)
            if live
            else Check(LIVE_CHECKS[0], CONNECTION, CheckStatus.SKIPPED, MANAGER_ONLY)
        ),
    ]
    settings = record.settings
    checks.append(
        _check(
            "settingsComplete",
            "Summary task settings are configured",
            settings is not None,
            "Task title, topic and import day are set." if settings else "Summary task settings were never saved.",
            "Open the Settings tab and set the task title, topic and import day, then click Save.",
        )
    )
    mapped = settings.mapped() if settings else {}
    checks.append(
        _check(
            "fieldsMapped",
            "At least one SmartAccounts field is mapped",
            bool(mapped),
            f"{len(mapped)} field(s) mapped: {', '.join(sorted(mapped))}." if mapped else "No field is mapped.",
            "In Configure data fields, pick a Uku custom task field for each SmartAccounts field you want.",
        )
    )
    links = linked_clients(deps, company_id)
    checks.append(
        _check(
            "clientsLinked",
            "Clients are connected to their SmartAccounts companies",
            bool(links),
            f"{len(links)} client(s) linked." if links else "No client is linked to a SmartAccounts company.",
            "In the client list, click the Integration column, pick SmartAccounts and the client's company.",
        )
    )
    checks.append(
        _visibility_check(deps, company_id, record, bool(links))
        if live
        else Check(LIVE_CHECKS[1], VISIBILITY, CheckStatus.SKIPPED, MANAGER_ONLY)
    )
    checks.append(
        Check(
            "nextImportDate",
            "Next import is scheduled",
            CheckStatus.PASS if record.next_import_date and record.enabled else CheckStatus.FAIL,
            (
                f"Next import on {record.next_import_date} for {record.next_import_month}."
                if record.next_import_date and record.enabled
                else "No import is scheduled."
            ),
            None
            if record.next_import_date and record.enabled
            else "Enable the integration and save the summary task settings.",
        )
    )
    checks.append(_last_import_check(deps, company_id, links))
    checks.append(_empty_fields_check(deps, company_id, links, mapped))
    return checks


CONNECTION = "Connection test passes now"
VISIBILITY = "Linked clients' companies are visible to the credentials"


def _connection_check(deps: Dependencies, record: CompanyIntegration) -> Check:
    title = CONNECTION
    if record.credentials is None:
        return Check("connectionTest", title, CheckStatus.SKIPPED, "No credentials to test.")
    try:
        credentials = deps.credentials.load(record.credentials.secret_name, record.credentials.saved_at)
        name = deps.route_client(credentials, None).company_info().name
    except SmartAccountsError as error:
        return Check(
            "connectionTest",
            title,
            CheckStatus.FAIL,
            explain(error),
            cause_of(error).fix,
            error_kind=cause_of(error).kind,
        )
    except ServiceError as error:
        return Check("connectionTest", title, CheckStatus.FAIL, error.detail, "Save the credentials again.")
    failing = record.connection.status is ConnectionStatus.FAILING
    detail = f"SmartAccounts answers as {name}."
    if failing:
        detail += " The connection was marked failing earlier; test the connection to restore it."
    return Check("connectionTest", title, CheckStatus.PASS, detail)


def _visibility_check(deps: Dependencies, company_id: str, record: CompanyIntegration, any_links: bool) -> Check:
    title = VISIBILITY
    if not any_links:
        return Check("linkedCompaniesVisible", title, CheckStatus.SKIPPED, "No client is linked.")
    try:
        missing = unseen_links(deps, company_id)
    except SmartAccountsError as error:
        return Check(
            "linkedCompaniesVisible", title, CheckStatus.FAIL, explain(error), cause_of(error).fix, cause_of(error).kind
        )
    except ServiceError as error:
        return Check("linkedCompaniesVisible", title, CheckStatus.FAIL, error.detail, "Save the credentials again.")
    if not missing:
        return Check("linkedCompaniesVisible", title, CheckStatus.PASS, "Every linked company is visible.")
    names = ", ".join(
        f"{c.name} ({link.company_id}{'' if link.reason == 'NOT_FOUND' else ': ' + (link.reason or '')})"
        for c, link in missing
    )
    return Check(
        "linkedCompaniesVisible",
        title,
        CheckStatus.FAIL,
        f"The credentials no longer see the SmartAccounts company of: {names}.",
        "Pick the client's company again in the Integration column, or save credentials that see it.",
        error_kind="NOT_FOUND",
    )


#: How many recent imported months the empty-field check looks at per client.
RECENT_MONTHS = 3


def _last_import_check(deps: Dependencies, company_id: str, links: list[ClientLink]) -> Check:
    """The latest import of every linked client: passes when each succeeded, names the ones that did not."""
    title = "Last import succeeded"
    latest = []
    for link in links:
        entries = deps.history.list(company_id, link.client_id, limit=1)
        if entries:
            latest.append(entries[0])
    if not latest:
        return Check(
            "lastImport",
            title,
            CheckStatus.SKIPPED,
            "No import has run yet: wait for the next import day or use Reload data.",
        )
    bad = [e for e in latest if e.outcome not in (ImportOutcome.SUCCEEDED, ImportOutcome.DEFERRED)]
    when = max(e.at for e in latest)
    if not bad:
        return Check(
            "lastImport",
            title,
            CheckStatus.PASS,
            f"The latest import of each of {len(latest)} client(s) succeeded (most recent {when:%Y-%m-%d %H:%M} UTC).",
        )
    names = {c.id: c.name for c in deps.uku.list_clients(company_id)}
    listed = "; ".join(
        f"{names.get(e.client_id, e.client_id)}: {e.error_kind or e.outcome.value} - {e.message or ''}".strip(" -")
        for e in bad
    )
    return Check(
        "lastImport",
        title,
        CheckStatus.FAIL,
        f"The latest import failed for {len(bad)} client(s): {listed}",
        "Fix the cause named for each client (see its sync history), then use Reload data for it.",
        error_kind=bad[0].error_kind,
    )


def _empty_fields_check(deps: Dependencies, company_id: str, links: list[ClientLink], mapped: dict[str, str]) -> Check:
    """Mapped fields whose value was empty or zero in every recent summary task of every linked client."""
    title = "Mapped fields receive values"
    if not mapped:
        return Check("emptyMappedFields", title, CheckStatus.SKIPPED, "No field is mapped.")
    tasks = []
    for link in links:
        if link.last_imported_month is None:
            continue
        last = link.last_imported_month
        tasks += deps.summary_tasks.list(company_id, link.client_id, last.minus(RECENT_MONTHS - 1), last)
    if not tasks:
        return Check("emptyMappedFields", title, CheckStatus.SKIPPED, "No summary task has been imported yet.")
    empty = sorted(key for key in mapped if not any(task.values.get(key) for task in tasks))
    if not empty:
        return Check(
            "emptyMappedFields",
            title,
            CheckStatus.PASS,
            f"Every mapped field has values in {len(tasks)} recent task(s).",
        )
    labels = ", ".join(field_by_key(key).label for key in empty if is_known_field(key))
    return Check(
        "emptyMappedFields",
        title,
        CheckStatus.FAIL,
        f"These mapped fields stayed empty in every recent summary task: {labels}.",
        "Check that the SmartAccounts company has such documents and that the field is mapped to the intended Uku "
        "custom task field on the Settings tab; then use Reload data to back-fill existing months.",
    )
