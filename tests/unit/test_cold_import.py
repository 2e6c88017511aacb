"""What a cold start loads: each handler imported in a fresh interpreter as Lambda would (tracing on), and what it must
not load because its invocations never use it. How long it takes is measured by `bench/bench_cold_import.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"
EXPORT_DOMAIN = "smartaccounts_sync.domain.invoice_export"
#: Powertools' batch utility builds its parser models (SQS, Kinesis, DynamoDB stream and Kafka records: pydantic
#: models the service never uses) when pydantic is imported before it: about 38 ms of a worker's cold start
#: (docs/performance.md). The workers import the batch utility first; this keeps them doing so.
PARSER_MODELS = "aws_lambda_powertools.utilities.parser.models"

def wire(*names: str) -> set[str]:
    return {f"smartaccounts_sync.smartaccounts.models.{name}" for name in names}


#: Every wire model module (`smartaccounts/models/`); each worker loads only those its invocations read or write.
WIRE_MODELS = wire("base", "companies", "invoices", "ledger", "registers", "buyers", "posting")
#: What the export writes and reads besides invoices: not for the import.
EXPORT_WIRE_MODELS = wire("companies", "registers", "buyers", "posting")
#: What the import reads besides invoices, and the connection test's: not for the export.
IMPORT_WIRE_MODELS = wire("companies", "ledger")


def adapters(*names: str) -> set[str]:
    return {f"smartaccounts_sync.adapters.{name}" for name in names}


def services(*names: str) -> set[str]:
    return {f"smartaccounts_sync.service.{name}" for name in names}


#: The composition root builds each port at its first use (`service/dependencies.py`): the adapters a function's
#: invocations never read or write are not imported by it.
EXPORT_ADAPTERS = adapters("export_record_repository", "vat_type_repository", "export_queue")
IMPORT_ADAPTERS = adapters(
    "summary_task_repository", "sync_history_repository", "import_progress_repository", "reload_job_repository"
)
LINK_ADAPTERS = adapters("client_link_repository", "uku_store", "work_queue")
DIAGNOSTICS = adapters("diagnostics_repository") | {"smartaccounts_sync.domain.diagnostics"}
#: Modules a handler's import must not load: the OpenAPI models are for the documentation function's /openapi.json
#: and /docs only, requests and the SmartAccounts wire models for the functions that call SmartAccounts, the export
#: domain for those that export or show exports, pydantic-settings for nobody; the adapters (and the services) that
#: its invocations do not use.
NOT_AT_IMPORT = {
    "connection_api": {OPENAPI_MODELS, "pydantic_settings", "requests", EXPORT_DOMAIN} | WIRE_MODELS,
    "client_link_api": {OPENAPI_MODELS, "pydantic_settings", "requests", EXPORT_DOMAIN} | WIRE_MODELS,
    "reload_api": {OPENAPI_MODELS, "pydantic_settings", "requests", EXPORT_DOMAIN} | WIRE_MODELS,
    "read_api": {OPENAPI_MODELS, "pydantic_settings", "requests", EXPORT_DOMAIN} | WIRE_MODELS,
    # requests unless a paid status is refreshed; the summary-task service only for an owner's manage call
    "invoice_export_api": {OPENAPI_MODELS, "pydantic_settings", "requests"}
    | IMPORT_ADAPTERS
    | DIAGNOSTICS
    | services("summary_tasks", "monthly_import", "reload"),
    "api_docs": {OPENAPI_MODELS, "pydantic_settings", "requests"} | WIRE_MODELS,  # loaded by /openapi.json and /docs
    "import_worker": {OPENAPI_MODELS, "pydantic_settings", EXPORT_DOMAIN}
    | EXPORT_WIRE_MODELS
    | EXPORT_ADAPTERS
    | DIAGNOSTICS
    | services("invoice_export", "payment_status"),
    # the dead-letter path (intake, with the reload bookkeeping) only for an unreadable event; the import
    # machinery only for the daily quota-renewed run
    "scheduled_import": {OPENAPI_MODELS, "pydantic_settings", "requests", EXPORT_DOMAIN} | WIRE_MODELS
    | EXPORT_ADAPTERS
    | IMPORT_ADAPTERS
    | DIAGNOSTICS
    | services("intake", "reload", "quota_plan", "resumable_import", "monthly_import")
    | {"smartaccounts_sync.smartaccounts.rate_guard"},
    "invoice_export": {OPENAPI_MODELS, "pydantic_settings"}
    | IMPORT_WIRE_MODELS
    | IMPORT_ADAPTERS
    | LINK_ADAPTERS
    | DIAGNOSTICS
    | services("monthly_import", "reload", "summary_tasks"),
    "daily_refresh": {OPENAPI_MODELS, "pydantic_settings"}
    | IMPORT_WIRE_MODELS
    | IMPORT_ADAPTERS
    | LINK_ADAPTERS
    | DIAGNOSTICS
    | services("monthly_import", "reload", "summary_tasks"),
}


def _in_lambda(function: str, code: str) -> dict:
    """Runs `code` in a fresh interpreter set up like a Lambda container of `function` (tracing on)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_SAM", "PYTHON"))}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function), str(ROOT / "layers" / "shared")]),
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "eu-north-1",
        "POWERTOOLS_SERVICE_NAME": "smartaccounts-sync",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_function_is_checked() -> None:
    assert set(NOT_AT_IMPORT) == {path.name for path in (ROOT / "functions").iterdir() if path.is_dir()}


@pytest.mark.parametrize("function", sorted(NOT_AT_IMPORT))
def test_a_handler_import_loads_nothing_its_invocations_do_not_use(function: str) -> None:
    loaded = _in_lambda(
        function,
        f"import json, sys, {function}\n"
        f"print(json.dumps({{'handler': callable({function}.lambda_handler), 'loaded': sorted(sys.modules)}}))",
    )
    assert loaded["handler"]
    assert not (NOT_AT_IMPORT[function] | {PARSER_MODELS}) & set(loaded["loaded"])


def test_with_tracing_on_botocore_is_patched_at_import_and_requests_when_it_is_imported() -> None:
    patched = _in_lambda(
        "read_api",
        "import json, sys\n"
        "import botocore.client\n"
        "from smartaccounts_sync.observability import tracer\n"
        "before = {'disabled': tracer.disabled, 'requests': 'requests' in sys.modules,\n"
        "          'botocore': botocore.client.BaseClient.__dict__['_make_api_call']._self_wrapper.__module__}\n"
        "from smartaccounts_sync.smartaccounts.client import SmartAccountsClient\n"
        "import requests\n"
        "after = requests.Session.__dict__['request']._self_wrapper.__module__\n"
        "print(json.dumps({'before': before, 'after': after}))",
    )
    assert patched["before"] == {"disabled": False, "requests": False, "botocore": "aws_xray_sdk.ext.botocore.patch"}
    assert patched["after"] == "aws_xray_sdk.ext.requests.patch"


def test_the_composition_root_imports_an_adapter_at_its_ports_first_use_and_builds_it_once() -> None:
    seen = _in_lambda(
        "import_worker",
        "import json, sys\n"
        "from smartaccounts_sync.service.dependencies import Dependencies\n"
        "from smartaccounts_sync.settings import Settings\n"
        "names = {n: n.upper() for n in ('config_table_name', 'summary_tasks_table_name', 'jobs_table_name',\n"
        "    'sync_history_table_name', 'idempotency_table_name', 'rate_limit_table_name', 'import_queue_url',\n"
        "    'export_queue_url')}\n"
        "deps = Dependencies.from_settings(Settings(**names))\n"
        "adapters = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "    if m.startswith('smartaccounts_sync.adapters.') and m.endswith(('_repository', '_queue', '_store')))\n"
        "built = adapters()\n"
        "exports = deps.exports\n"
        "print(json.dumps({'built': built, 'read': adapters(), 'once': deps.exports is exports,\n"
        "    'kind': type(exports).__name__, 'guard': 'smartaccounts_sync.smartaccounts.rate_guard' in sys.modules}))",
    )
    assert seen["built"] == []  # wiring imports no adapter
    # the first read of `exports` imports its adapter (and the company key it shares with the integration adapter)
    assert seen["read"] == ["export_record_repository", "integration_repository"]
    assert seen["once"]
    assert seen["kind"] == "DynamoDbExportRecordRepository"
    assert not seen["guard"]  # the rate guard is built with the first SmartAccounts client or `quota` read


def test_the_wire_models_package_loads_a_module_at_the_first_use_of_one_of_its_names() -> None:
    seen = _in_lambda(
        "import_worker",
        "import json, sys\n"
        "from smartaccounts_sync.smartaccounts import models\n"
        "loaded = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "    if m.startswith('smartaccounts_sync.smartaccounts.models.'))\n"
        "before = loaded()\n"
        "from smartaccounts_sync.smartaccounts.models import NewBuyer\n"
        "after = loaded()\n"
        "from smartaccounts_sync.smartaccounts.models.buyers import NewBuyer as home\n"
        "names = {n: getattr(models, n).__module__ for n in models.__all__ if isinstance(getattr(models, n), type)}\n"
        "try:\n"
        "    models.NoSuchModel\n"
        "    missing = None\n"
        "except AttributeError as error:\n"
        "    missing = str(error)\n"
        "print(json.dumps({'before': before, 'after': after, 'same': NewBuyer is home, 'names': names,\n"
        "    'missing': missing}))",
    )
    assert seen["before"] == []
    assert seen["after"] == ["base", "buyers"]
    assert seen["same"]
    assert seen["names"]["ApiCredentials"] == "smartaccounts_sync.smartaccounts.credentials"
    assert seen["names"]["ClientInvoice"] == "smartaccounts_sync.smartaccounts.models.invoices"
    assert seen["names"]["JournalEntry"] == "smartaccounts_sync.smartaccounts.models.ledger"
    assert seen["names"]["CreatedClientInvoice"] == "smartaccounts_sync.smartaccounts.models.posting"
    assert len(seen["names"]) == 24  # the 22 wire models, their base and the credentials
    assert seen["missing"] == "module 'smartaccounts_sync.smartaccounts.models' has no attribute 'NoSuchModel'"
