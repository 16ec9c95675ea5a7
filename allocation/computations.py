"""The pure rules of supply allocation: who is eligible for a plan, what each grade asks for,
and the scaling to the supply. DataFrames in, DataFrames out; no ORM.

Scaling (when the eligible shops' quotas add up to more than the supply): every quota is
multiplied by supply ÷ demand and rounded down to whole cartons, in integers so no float
error can push the sum past the supply; the cartons the rounding left over (fewer than the
shops) go one each to the shops of the highest grades first (grade 1 is the highest), the
largest rounded-off fraction first within a grade, then the lowest customer id. The sum is
then exactly the supply.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from crm.exceptions import DomainError

# What a plan's shops frame carries (one row per shop graded in the grade month).
SHOP_COLUMNS = (
    "customer_id",
    "grade",
    "structure_class",
    "market_type",
    "business_format",
    "area_id",
)
QUOTA_COLUMNS = ("customer_id", "grade", "structure_class", "requested", "quota", "bonus")


@dataclass(frozen=True)
class PlanRule:
    """A plan's rule: cartons per shop by grade, the eligibility filters (empty: everyone;
    `area_ids` already holds the areas below the chosen ones) and the optional supply."""

    quotas: Mapping[int, int]
    structure_classes: Collection[int] = ()
    market_types: Collection[str] = ()
    business_formats: Collection[str] = ()
    area_ids: Collection[int] = ()
    supply: int | None = None


@dataclass
class Allocation:
    """The outcome: one row per shop with a quota (`QUOTA_COLUMNS`; `bonus` is 1 for a shop
    given a carton of the remainder), the totals and a row per grade for the preview."""

    quotas: pd.DataFrame
    eligible: int  # shops that pass the filters (with or without a quota)
    demand: int  # what the shops' grades ask for, in cartons
    allocated: int
    supply: int | None
    scale: float | None  # supply ÷ demand when scaled down, else None
    grades: list[dict] = field(default_factory=list)

    @property
    def scaled(self) -> bool:
        return self.scale is not None


def eligible_shops(shops: pd.DataFrame, rule: PlanRule) -> pd.DataFrame:
    """The shops that pass the plan's filters (a filter left empty lets everyone through; a
    shop whose attribute is blank does not pass a filter that is set)."""
    keep = pd.Series(True, index=shops.index)
    if rule.structure_classes:
        keep &= shops["structure_class"].isin(list(rule.structure_classes))
    if rule.market_types:
        keep &= shops["market_type"].isin(list(rule.market_types))
    if rule.business_formats:
        keep &= shops["business_format"].isin(list(rule.business_formats))
    if rule.area_ids:
        keep &= shops["area_id"].isin(list(rule.area_ids))
    return shops[keep]


def allocate(shops: pd.DataFrame, rule: PlanRule) -> Allocation:
    """Each eligible shop's quota: its grade's cartons, scaled down to the supply when the
    demand exceeds it (see the module docstring)."""
    eligible = eligible_shops(shops, rule)
    grade_quota = {int(g): int(q) for g, q in rule.quotas.items()}
    requested = eligible["grade"].map(grade_quota).fillna(0).astype("int64")
    frame = pd.DataFrame(
        {
            "customer_id": eligible["customer_id"].astype("int64").to_numpy(),
            "grade": eligible["grade"].astype("int64").to_numpy(),
            "structure_class": eligible["structure_class"].to_numpy(),
            "requested": requested.to_numpy(),
        }
    )
    frame = frame[frame["requested"] > 0].reset_index(drop=True)
    demand = int(frame["requested"].sum())
    supply = rule.supply
    scale = None
    if supply is not None and demand > supply:
        scale = supply / demand
        product = frame["requested"].to_numpy(dtype=np.int64) * np.int64(supply)
        base = product // demand
        fraction = product % demand
        left = int(supply - base.sum())
        order = np.lexsort((frame["customer_id"].to_numpy(), -fraction, frame["grade"].to_numpy()))
        bonus = np.zeros(len(frame), dtype=np.int64)
        bonus[order[:left]] = 1
        frame["quota"] = base + bonus
        frame["bonus"] = bonus
    else:
        frame["quota"] = frame["requested"]
        frame["bonus"] = 0
    allocated = int(frame["quota"].sum())
    return Allocation(
        quotas=frame[list(QUOTA_COLUMNS)],
        eligible=len(eligible),
        demand=demand,
        allocated=allocated,
        supply=supply,
        scale=scale,
        grades=grade_rows(eligible, frame, grade_quota),
    )


def grade_rows(
    eligible: pd.DataFrame, quotas: pd.DataFrame, grade_quota: Mapping[int, int]
) -> list[dict]:
    """Per grade (every grade the plan names or an eligible shop has, highest first): shops,
    the cartons per shop asked, the demand, what the grade gets in all and per shop (lowest
    and highest, which differ by the remainder's carton)."""
    counts = eligible["grade"].value_counts()
    got = quotas.groupby("grade")["quota"].agg(["sum", "min", "max"]) if len(quotas) else None
    rows = []
    for grade in sorted({*grade_quota, *(int(g) for g in counts.index)}):
        shops = int(counts.get(grade, 0))
        asked = grade_quota.get(grade, 0)
        has = got is not None and grade in got.index
        rows.append(
            {
                "grade": grade,
                "shops": shops,
                "per_shop": asked,
                "demand": shops * asked,
                "allocated": int(got.loc[grade, "sum"]) if has else 0,
                "min": int(got.loc[grade, "min"]) if has else 0,
                "max": int(got.loc[grade, "max"]) if has else 0,
            }
        )
    return rows


# --- quota take-up (allocation's monthly result) ----------------------------------------------
# A shop's take-up of a month sums its quotas of the plan versions in force during the month
# (published or closed, the period overlapping the month: a plan of two months counts whole in
# each) and what it ordered of them. Per quota, what was ordered up to the quota is "used" and
# the rest "over"; summing per quota first means a shop over on one plan and short on another
# shows both. Its status: "none" when it ordered nothing, "over" when any quota was exceeded,
# otherwise the share of its quotas used against the scheme's two shares — below `low_share`
# "low", at or above `full_share` "full", between them "partial".

# One row per quota of a plan in force in the month.
TAKEUP_QUOTA_COLUMNS = ("customer_id", "plan_id", "grade", "area_id", "quota", "ordered")
# One row per shop (the columns of `AllocationTakeUp`).
TAKEUP_COLUMNS = (
    "customer_id",
    "grade",
    "area_id",
    "plans",
    "quota",
    "ordered",
    "used",
    "over_quota",
    "status",
)
TAKEUP_STATUSES = ("none", "low", "partial", "full", "over")
TAKEUP_DEFAULTS = {"low_share": 50, "full_share": 95}


def default_takeup_parameters() -> dict[str, float]:
    return dict(TAKEUP_DEFAULTS)


def validate_takeup_parameters(parameters: Mapping[str, object]) -> dict[str, float]:
    """The clean shares (numbers, 0 < low < full ≤ 100), or a DomainError naming each field at
    fault (`low_share`, `full_share`)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, float] = {}
    for name in ("low_share", "full_share"):
        value = parameters.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            errors[name] = [_("Enter a percentage.")]
        elif not 0 < value <= 100:
            errors[name] = [_("Enter a percentage above 0 and at most 100.")]
        else:
            clean[name] = int(value) if float(value).is_integer() else float(value)
    if not errors and clean["low_share"] >= clean["full_share"]:
        errors["full_share"] = [_("The full share must be above the low share.")]
    if errors:
        raise DomainError(errors=errors)
    return clean


def takeup_frame(quotas: pd.DataFrame, *, low_share: float, full_share: float) -> pd.DataFrame:
    """Each shop's take-up (`TAKEUP_COLUMNS`) from its quotas of the month
    (`TAKEUP_QUOTA_COLUMNS`), by the rules above. The grade and area are those of the shop's
    largest quota (the latest plan among equals)."""
    if quotas.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in TAKEUP_COLUMNS}).astype(
            {"area_id": "Int64", "status": object}
        )
    rows = quotas.assign(
        quota=quotas["quota"].astype("int64"),
        ordered=quotas["ordered"].astype("int64"),
    )
    rows["used"] = np.minimum(rows["ordered"], rows["quota"])
    rows["over_quota"] = rows["ordered"] - rows["used"]
    rows = rows.sort_values(["customer_id", "quota", "plan_id"], ascending=[True, False, False])
    shops = rows.groupby("customer_id", sort=True).agg(
        grade=("grade", "first"),
        area_id=("area_id", "first"),
        plans=("plan_id", "count"),
        quota=("quota", "sum"),
        ordered=("ordered", "sum"),
        used=("used", "sum"),
        over_quota=("over_quota", "sum"),
    )
    shops = shops.reset_index()
    quota, used = shops["quota"].to_numpy(), shops["used"].to_numpy()
    # Shares compared without dividing: used / quota < low % ⇔ 100 × used < low × quota.
    status = np.select(
        [
            shops["ordered"].to_numpy() == 0,
            shops["over_quota"].to_numpy() > 0,
            100 * used < low_share * quota,
            100 * used >= full_share * quota,
        ],
        ["none", "over", "low", "full"],
        default="partial",
    )
    shops["status"] = status.astype(object)
    shops["grade"] = shops["grade"].astype("int64")
    shops["area_id"] = shops["area_id"].astype("Int64")
    return shops[list(TAKEUP_COLUMNS)]


def takeup_counts(status: pd.Series) -> dict[str, int]:
    """Shops per status, every status named (in `TAKEUP_STATUSES` order)."""
    counts = status.value_counts()
    return {name: int(counts.get(name, 0)) for name in TAKEUP_STATUSES}
