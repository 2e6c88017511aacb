"""The layer's pinned list (installed with --no-deps) agrees with requirements.txt and leaves the boto3 family to
the Lambda runtime."""

from __future__ import annotations

from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared"
RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (LAYER / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, version = line.split("==")
            pins[package.split("[")[0].strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_every_direct_requirement_is_in_the_layer_at_the_same_version() -> None:
    direct, layer = _pins("requirements.txt"), _pins("requirements-layer.txt")
    assert {name: layer.get(name) for name in direct} == direct


def test_the_layer_leaves_the_boto3_family_to_the_runtime() -> None:
    assert not set(_pins("requirements-layer.txt")) & RUNTIME
