"""The Settings tab: task title, topic, recurrence, import day and the field mapping onto Uku custom task fields."""

from __future__ import annotations

from dataclasses import dataclass

from smartaccounts_sync.domain.field_catalogue import field_by_key, is_known_field
from smartaccounts_sync.domain.integration import CompanyIntegration, SummaryTaskSettings
from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.errors import Conflict, FieldProblem, ValidationFailed
from smartaccounts_sync.service.connection import require_enabled, with_next_import
from smartaccounts_sync.service.dependencies import Dependencies

RELOAD_NOTICE = (
    "The field mapping changed. New imports use it from now on; use Reload data to fill the past 12 months with "
    "the new mapping."
)


@dataclass(frozen=True)
class SettingsSaved:
    record: CompanyIntegration
    mapping_changed: bool

    @property
    def notice(self) -> str | None:
        return RELOAD_NOTICE if self.mapping_changed else None


def check_settings(deps: Dependencies, company_id: str, settings: SummaryTaskSettings) -> list[FieldProblem]:
    """Every reason the settings cannot be saved, each on the field it concerns (nothing is stored if any)."""
    problems: list[FieldProblem] = []
    if deps.uku.get_topic(company_id, settings.topic_id) is None:
        problems.append(FieldProblem("topicId", f"there is no topic {settings.topic_id!r} in this Uku company"))
    taken: dict[str, str] = {}
    for key, target in settings.field_mapping.items():
        where = f"fieldMapping.{key}"
        if not is_known_field(key):
            problems.append(FieldProblem(where, f"{key!r} is not a SmartAccounts field (see /fields)"))
            continue
        if not target:
            continue
        custom = deps.uku.get_custom_field(company_id, target)
        if custom is None:
            problems.append(FieldProblem(where, f"there is no custom task field {target!r}"))
            continue
        if not custom.numeric:
            problems.append(
                FieldProblem(
                    where,
                    f"custom task field {custom.name!r} is of type {custom.type}; {field_by_key(key).label} is a "
                    f"number, so pick a number or currency field",
                )
            )
        if target in taken:
            problems.append(
                FieldProblem(where, f"custom task field {custom.name!r} already receives {taken[target]!r}")
            )
        else:
            taken[target] = key
    return problems


def save_settings(
    deps: Dependencies, company_id: str, settings: SummaryTaskSettings, expected_version: int | None = None
) -> SettingsSaved:
    """Validates everything, then writes once; a stale `expected_version` (If-Match) or a concurrent edit is a
    CONFLICT."""
    record = deps.integrations.get(company_id)
    require_enabled(record)
    problems = check_settings(deps, company_id, settings)
    if problems:
        raise ValidationFailed(problems)
    if expected_version is not None and expected_version != record.version:
        raise Conflict(
            f"The settings were changed by someone else (version {record.version}, yours {expected_version}); "
            "reload them and apply your change again."
        )
    before = record.settings.mapped() if record.settings else {}
    mapping = {key: (target or None) for key, target in settings.field_mapping.items()}
    normalised = settings.model_copy(update={"field_mapping": mapping})
    updated = with_next_import(record.model_copy(update={"settings": normalised}), tallinn_today(deps.now()))
    saved = deps.integrations.save(updated)
    return SettingsSaved(saved, mapping_changed=before != normalised.mapped())
