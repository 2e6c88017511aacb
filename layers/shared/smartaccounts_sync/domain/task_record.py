"""The stored monthly summary task and the decision how an import changes it.

`plan_upsert` is the whole rule, pure: mapped fields overwrite, unmapped fields keep what they had, the same values
again change nothing, and values computed earlier never replace values computed later.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.summary_task import merge_field_values

Number = Decimal


class SummaryTask(DeferredModel):
    """One client's summary task of one month, as stored (numbers as `Decimal`)."""

    model_config = ConfigDict(frozen=True)

    company_id: str
    client_id: str
    month: YearMonth
    title: str
    topic_id: str
    recurrence: Literal["MONTHLY"] = "MONTHLY"
    period_start: dt.date
    period_end: dt.date
    assignee_id: str | None = None
    field_values: dict[str, Number] = Field(default_factory=dict)  # Uku custom task field id -> value
    values: dict[str, Number] = Field(default_factory=dict)  # SmartAccounts field key -> value
    computed_at: dt.datetime
    version: int = 0
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class UpsertPlan:
    """What to write (None: nothing) and whether subscribers hear about it."""

    task: SummaryTask | None
    values_changed: bool
    title_changed: bool
    stale: bool = False

    @property
    def notify(self) -> bool:
        return self.task is not None and (self.values_changed or self.title_changed)


def plan_upsert(existing: SummaryTask | None, proposed: SummaryTask, *, overwrite: bool = False) -> UpsertPlan:
    """How `proposed` (fresh values for the mapped fields) changes `existing`.

    - no task yet: create it (version 1);
    - `existing` was computed later than `proposed`: nothing (a stale import never overwrites newer values);
    - otherwise merge: mapped fields overwrite, the others keep their value; when neither the values nor the
      title, topic, assignee or period differ, nothing is written (no new version, no event).
    `overwrite` (reload) changes nothing here: mapped fields are always overwritten; it is kept for the caller's log.
    """
    del overwrite
    if existing is None:
        task = proposed.model_copy(
            update={"version": 1, "created_at": proposed.computed_at, "updated_at": proposed.computed_at}
        )
        return UpsertPlan(task, values_changed=True, title_changed=True)
    if existing.computed_at > proposed.computed_at:
        return UpsertPlan(None, values_changed=False, title_changed=False, stale=True)
    field_values, fields_changed = merge_field_values(existing.field_values, proposed.field_values)
    values, keys_changed = merge_field_values(existing.values, proposed.values)
    title_changed = existing.title != proposed.title
    other_changed = (
        existing.topic_id != proposed.topic_id
        or existing.assignee_id != proposed.assignee_id
        or existing.period_start != proposed.period_start
        or existing.period_end != proposed.period_end
    )
    values_changed = fields_changed or keys_changed
    if not (values_changed or title_changed or other_changed):
        return UpsertPlan(None, values_changed=False, title_changed=False)
    task = existing.model_copy(
        update={
            "title": proposed.title,
            "topic_id": proposed.topic_id,
            "assignee_id": proposed.assignee_id,
            "period_start": proposed.period_start,
            "period_end": proposed.period_end,
            "field_values": field_values,
            "values": values,
            "computed_at": proposed.computed_at,
            "version": existing.version + 1,
            "updated_at": proposed.computed_at,
        }
    )
    return UpsertPlan(task, values_changed=values_changed, title_changed=title_changed)
