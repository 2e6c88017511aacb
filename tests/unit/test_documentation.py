"""The README's configuration reference stays true to the settings model."""

from __future__ import annotations

from pathlib import Path

from smartaccounts_sync.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_configuration_reference() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []


def test_the_readme_names_no_setting_that_does_not_exist() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    named = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert named <= {name.upper() for name in Settings.model_fields}
