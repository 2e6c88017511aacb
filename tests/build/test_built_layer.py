"""The SharedLayer as `sam build` ships it (`.aws-sam/build/SharedLayer`): compiled for python3.13, without a
boto3/botocore of its own (the runtime's is used), nothing for tests or the local stack.

`make test` builds before it runs pytest and sets REQUIRE_BUILT_LAYER=1, so there a missing build fails; a bare
`pytest` on a machine that never built skips these (say so with `make build`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
RUNTIME_PACKAGES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"}
NOT_FOR_LAMBDA = {"moto", "pytest", "sa_sandbox", "local_stack", "werkzeug", "flask", "tests", "ruff"}


@pytest.fixture(scope="module")
def layer() -> Path:
    if not LAYER.is_dir():
        if os.environ.get("REQUIRE_BUILT_LAYER") == "1":
            pytest.fail(f"{LAYER} is missing: `sam build` did not build the SharedLayer")
        pytest.skip("the layer is not built here (run `make build`)")
    return LAYER


def test_the_layer_bundles_no_boto3_family_of_its_own(layer: Path) -> None:
    top = {p.name.split("-")[0].lower() for p in layer.iterdir()}
    assert not top & RUNTIME_PACKAGES, f"bundled: {sorted(top & RUNTIME_PACKAGES)}"
    assert not list(layer.glob("botocore*")) and not list(layer.glob("boto3*"))


def test_nothing_for_tests_or_the_local_stack_is_shipped(layer: Path) -> None:
    top = {p.name.split("-")[0].lower().removesuffix(".py") for p in layer.iterdir()}
    assert not top & NOT_FOR_LAMBDA


def test_every_module_is_compiled_for_python_3_13(layer: Path) -> None:
    sources = list(layer.rglob("*.py"))
    assert len(sources) > 100
    missing = [
        str(src.relative_to(layer))
        for src in sources
        if not (src.parent / "__pycache__" / f"{src.stem}.cpython-313.pyc").is_file()
    ]
    assert missing == []


def test_the_layer_holds_our_package_and_the_pinned_list_exactly(layer: Path) -> None:
    assert (layer / "smartaccounts_sync" / "__init__.py").is_file()
    pinned = {
        re.split(r"==", line)[0].strip().lower().replace("_", "-")
        for line in (ROOT / "layers" / "shared" / "requirements-layer.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    shipped = {
        p.name.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("_", "-")
        for p in layer.glob("*.dist-info")
    }
    assert shipped == pinned
