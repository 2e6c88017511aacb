# ruff: noqa: S603, S607 - the bench runs our own interpreter, pip and make on paths it builds itself
"""Cold import of each handler as Lambda would do it, against a bare `import boto3` in the same run.

Lambda-like: a fresh interpreter per measurement (python3.13 with no site-packages), `LAMBDA_TASK_ROOT` set, the
function's folder, then the layer, then the runtime's boto3 family on the path (Lambda's order). Two layers are
measured side by side: the SharedLayer as `layers/shared/Makefile` ships it (the pinned list without boto3, compiled),
built here for this machine's platform, and the layer as `sam build`'s python3.13 builder made it before (the full
requirements closure with its own botocore, no bytecode). Best of several fresh processes, interleaved; goals:
HTTP functions <= 2.5x, workers <= 2.0x of bare boto3.

A handler is timed as `import boto3, <handler>`: every invocation makes a boto3 client, and a handler whose import
leaves boto3 to its first invocation (the composition root imports an adapter, and the boto3 parts it uses, at the
port's first use) pays for it there, so the figure stays what a cold start pays. For a handler that imports boto3
itself, the second import costs nothing. The same holds for requests and the functions whose every invocation calls
SmartAccounts (`CALLS_SMARTACCOUNTS`): the SmartAccounts client, and requests with it, is imported where a client is
made, so for the export worker and the daily refresh a second figure, `import boto3, requests, <handler>`, is what
their cold start pays (the import worker imports the client, and requests, itself).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON313 = subprocess.run(
    [str(ROOT / "scripts" / "find-python.sh"), "3.13"], capture_output=True, text=True, check=False
).stdout.strip()
RUNS = 7
#: The HTTP functions (split by concern, docs/security.md) and the workers, with the issue's goals.
HANDLERS = {
    "connection_api": 2.5,
    "client_link_api": 2.5,
    "reload_api": 2.5,
    "read_api": 2.5,
    "invoice_export_api": 2.5,
    "api_docs": 2.5,
    "import_worker": 2.0,
    "scheduled_import": 2.0,
    "invoice_export": 2.0,
    "daily_refresh": 2.0,
}
#: The functions whose every invocation makes a SmartAccounts client (and so imports requests): the HTTP functions
#: call SmartAccounts on some routes only (a connection test, linking, a paid-status refresh), not on reads.
CALLS_SMARTACCOUNTS = ("import_worker", "invoice_export", "daily_refresh")
RUNTIME_FAMILY = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
PLATFORM = {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}[platform.machine()]


def _pip(*args: str) -> None:
    subprocess.run(
        [PYTHON313, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        check=True,
        stderr=subprocess.DEVNULL,
    )


def build_runtime(target: Path) -> None:
    """The Lambda runtime's boto3 family (the versions the venv pins), compiled as the runtime ships it."""
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_FAMILY:
        for source in site.glob(name):
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / source.name)
    subprocess.run([PYTHON313, "-m", "compileall", "-q", "-j", "0", str(target)], check=True)


def build_shipped(target: Path) -> None:
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "layers" / "shared"),
            "build-SharedLayer",
            f"PLATFORM={PLATFORM}",
            f"ARTIFACTS_DIR={target}",
            f"LAYER_PYTHON={PYTHON313}",
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )


def build_before(target: Path) -> None:
    """As the python3.13 builder did: requirements.txt with every dependency (botocore too), no bytecode."""
    python = target / "python"
    _pip("--no-compile", "--target", str(python), "-r", str(ROOT / "layers" / "shared" / "requirements.txt"))
    shutil.copytree(ROOT / "layers" / "shared" / "smartaccounts_sync", python / "smartaccounts_sync")
    for cache in python.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def import_seconds(module: str, path: list[Path], *, no_bytecode_writes: bool = True) -> float:
    """One fresh interpreter's `import boto3, <module>`; `module` may name several (`requests, invoice_export`)."""
    modules = module if module == "boto3" else f"boto3, {module}"
    code = "import time; t = time.perf_counter(); import " + modules + "; print(time.perf_counter() - t)"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "LAMBDA_TASK_ROOT": str(path[0]),
        "AWS_LAMBDA_FUNCTION_NAME": module.split(", ")[-1],
        "AWS_REGION": "eu-north-1",
        "POWERTOOLS_SERVICE_NAME": "smartaccounts-sync",
        "POWERTOOLS_METRICS_NAMESPACE": "UkuSmartAccounts",
    }
    if no_bytecode_writes:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # Lambda's /opt and /var/task are read-only
    out = subprocess.run([PYTHON313, "-S", "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def best_of(modules: dict[str, list[Path]], runs: int) -> dict[str, float]:
    """The best of `runs` fresh imports of each module, interleaved so that the machine's load hits all alike."""
    best = dict.fromkeys(modules, float("inf"))
    for _ in range(runs):
        for module, path in modules.items():
            best[module] = min(best[module], import_seconds(module.split(":")[0], path))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"fresh processes per handler (default {RUNS})")
    parser.add_argument(
        "--shipped-only", action="store_true", help="only the shipped layer (not the layer as built before)"
    )
    args = parser.parse_args()
    if not PYTHON313:
        sys.exit("bench_cold_import needs python3.13")
    with tempfile.TemporaryDirectory(prefix="cold-import-") as tmp:
        base = Path(tmp)
        runtime, shipped, before = base / "runtime", base / "shipped", base / "before"
        runtime.mkdir()
        build_runtime(runtime)
        build_shipped(shipped)
        if not args.shipped_only:
            build_before(before)
        empty = base / "task"
        empty.mkdir()
        print(
            f"cold import, Lambda-like (python3.13 -S, LAMBDA_TASK_ROOT, best of {args.runs} fresh processes, "
            "interleaved)"
        )
        layers = {"shipped layer": shipped / "python", "before (own botocore, no .pyc)": before / "python"}
        if args.shipped_only:
            del layers["before (own botocore, no .pyc)"]
        runs = {"boto3": [empty, runtime]}
        for name, layer in layers.items():
            runs |= {f"{h}:{name}": [ROOT / "functions" / h, layer, runtime] for h in HANDLERS}
            runs |= {
                f"requests, {h}:{name}": [ROOT / "functions" / h, layer, runtime]
                for h in CALLS_SMARTACCOUNTS
                if h != "import_worker"  # it imports requests itself
            }
        best = best_of(runs, args.runs)
        boto3_alone = best["boto3"]
        print(f"  bare `import boto3` (the runtime's, compiled): {boto3_alone * 1000:.0f} ms")
        print("  each handler timed as `import boto3, <handler>` (what its cold start pays for boto3 either way)")
        for name in layers:
            print(f"  {name}:")
            for handler, goal in HANDLERS.items():
                seconds = best[f"{handler}:{name}"]
                ratio = seconds / boto3_alone
                verdict = "met" if ratio <= goal else "NOT met"
                print(
                    f"    {handler:17s} {seconds * 1000:6.0f} ms  {ratio:4.2f}x boto3  (goal <= {goal:.1f}x: {verdict})"
                )
                if f"requests, {handler}:{name}" in best:
                    seconds = best[f"requests, {handler}:{name}"]
                    ratio = seconds / boto3_alone
                    verdict = "met" if ratio <= goal else "NOT met"
                    print(
                        f"      {'+ requests':15s} {seconds * 1000:6.0f} ms  {ratio:4.2f}x boto3  "
                        f"(goal <= {goal:.1f}x: {verdict}; every invocation makes a SmartAccounts client)"
                    )


if __name__ == "__main__":
    main()
