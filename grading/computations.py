"""The grading rules as pure pandas: frames of monthly facts and customer attributes in, a frame
of results out. No ORM and no I/O, so the rules are tested on small hand-made tables and run
the same in one process or split by area (`window_inputs` per part, `grade_frame` once).

Conventions:
- grades are numbers, 1 the highest; a scheme with n grades gives 1…n;
- money and cartons are floats here, rounded to 2 decimals before any comparison with a
  threshold, so what the page shows is what was compared;
- percentiles are 0-100, ranked with ties sharing their average rank.

The parameters of a scheme are a plain dict (stored as JSON on `GradingScheme`), checked by
`validate_parameters`; `default_parameters(kind)` gives the defaults of the brief.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from crm.dates import add_months, trade_shares
from crm.parameters import ParameterErrors
from customers.choices import BusinessScale, MarketType
from grading.choices import SchemeKind, StructureMetric

SCALES: tuple[str, ...] = tuple(BusinessScale.values)  # large, medium, small
MARKETS: tuple[str, ...] = tuple(MarketType.values)
MAX_WINDOW_MONTHS = 12
MAX_GRADES = 60

# Which fact columns make the "structure" numerator of the score scheme.
STRUCTURE_COLUMNS: dict[str, tuple[str, ...]] = {
    StructureMetric.LOW_TAR: ("low_tar_cartons",),
    StructureMetric.HIGH_CLASS: ("class_1_cartons", "class_2_cartons"),
    StructureMetric.KEY_BRAND: ("key_brand_cartons",),
    StructureMetric.NEW_PRODUCT: ("new_product_cartons",),
}
FACT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "month",
    "cartons",
    "amount",
    "low_tar_cartons",
    "class_1_cartons",
    "class_2_cartons",
    "key_brand_cartons",
    "new_product_cartons",
)


def fact_columns(structure_metric: str | None) -> tuple[str, ...]:
    """The FACT_COLUMNS `window_inputs` reads with `structure_metric` (none: cartons and
    amount only, as a thresholds or matrix scheme grades)."""
    extra = STRUCTURE_COLUMNS[structure_metric] if structure_metric else ()
    return ("customer_id", "month", "cartons", "amount", *extra)


CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "market_type",
    "business_format",
    "floor_area_m2",
    "first_order_date",
    "assessment",
)
INPUT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "market_type",
    "business_format",
    "floor_area_m2",
    "assessment",
    "basis",
    "window",
    "months_used",
    "avg_cartons",
    "avg_amount",
    "avg_price",
    "structure_share",
)
RESULT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "basis",
    "window",
    "months_used",
    "avg_cartons",
    "avg_amount",
    "avg_price",
    "structure_share",
    "assessment",
    "score",
    "floor_area_m2",
    "quantity_pct",
    "amount_pct",
    "scale_score",
    "group_size",
    "computed_grade",
    "business_scale",
    "category_code",
    "price_band",
    "structure_class",
)

# --- parameters ---------------------------------------------------------------------------

_COMMON_DEFAULTS: dict[str, Any] = {
    # The 3 full calendar months before the grade month; flagged peak months left out.
    "window": {"months": 3, "exclude_peak_months": True},
    # Top 20% of a market type × format group large, next 30% medium, the rest small.
    "scale": {"large": 20, "medium": 30, "small": 50},
    # Average price per carton bands (from, CNY) × scale → structure class 1 (best) … 10.
    "structure": {
        "price_bands": [250, 180, 130, 90],
        "matrix": {
            "large": [1, 2, 4, 6, 8],
            "medium": [2, 3, 5, 7, 9],
            "small": [3, 4, 6, 8, 10],
        },
    },
}
_KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    SchemeKind.THRESHOLDS: {
        # Cartons per month from which each grade starts, grade 1 first (the brief's table).
        "grades": {"thresholds": [1500, 1000, 500, 300, 200, 100, 50, 0]},
        # New customers: ≤ 50 m² or unknown floor area → "up_to", larger → "above".
        "initial": {
            "floor_area_m2": 50,
            "grades": {"C": {"up_to": 6, "above": 5}, "X": {"up_to": 7, "above": 6}},
        },
    },
    SchemeKind.MATRIX: {
        # 10 volume segments × 3 price intervals = 30 grades; grade 1 = top volume, top price.
        "grades": {
            "volume": [1500, 1000, 700, 500, 300, 200, 100, 50, 20, 0],
            "price": [180, 100, 0],
        },
        "initial": {
            "floor_area_m2": 50,
            "grades": {"C": {"up_to": 24, "above": 21}, "X": {"up_to": 27, "above": 24}},
        },
    },
    SchemeKind.SCORE: {
        # The published example: 20% quantity, 70% amount, 10% structure (low-tar share).
        "grades": {
            "weights": {"quantity": 0.2, "amount": 0.7, "structure": 0.1, "assessment": 0},
            "structure_metric": StructureMetric.LOW_TAR.value,
            "bands": [2, 3, 5, 10, 10, 15, 15, 15, 15, 10],
        },
        "initial": {
            "floor_area_m2": 50,
            "grades": {"C": {"up_to": 8, "above": 7}, "X": {"up_to": 9, "above": 8}},
        },
    },
}


def default_parameters(kind: str) -> dict[str, Any]:
    """The brief's default parameters for a scheme of `kind` (a fresh copy)."""
    return deepcopy({**_COMMON_DEFAULTS, **_KIND_DEFAULTS[SchemeKind(kind)]})


def grade_count(kind: str, parameters: Mapping[str, Any]) -> int:
    """How many grades a scheme gives (grade 1 … n)."""
    grades = parameters["grades"]
    if kind == SchemeKind.THRESHOLDS:
        return len(grades["thresholds"])
    if kind == SchemeKind.MATRIX:
        return len(grades["volume"]) * len(grades["price"])
    return len(grades["bands"])


def validate_parameters(kind: str, parameters: Any) -> dict[str, Any]:
    """Checks a scheme's parameters and returns them normalised (numbers as numbers, only the
    known keys). Raises DomainError naming each faulty parameter, e.g. `grades.thresholds`:
    thresholds strictly falling to 0, band sizes summing to 100%, weights summing to 1,
    initial grades and structure classes within range."""
    errors = ParameterErrors()
    if kind not in SchemeKind.values:
        errors.add("kind", _("Choose a scheme kind."))
        errors.raise_if_any()
    if not isinstance(parameters, Mapping):
        errors.add("parameters", _("The parameters must be an object."))
        errors.raise_if_any()
    p = {
        key: errors.section(key, parameters.get(key))
        for key in ("window", "grades", "initial", "scale", "structure")
    }
    out: dict[str, Any] = {}

    months = p["window"].get("months")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 12:
        errors.add("window.months", _("Enter a whole number of months from 1 to 12."))
    out["window"] = {
        "months": months,
        "exclude_peak_months": bool(p["window"].get("exclude_peak_months", True)),
    }

    grades = p["grades"]
    if kind == SchemeKind.THRESHOLDS:
        out["grades"] = {
            "thresholds": errors.falling_to_zero("grades.thresholds", grades.get("thresholds"))
        }
        n = len(out["grades"]["thresholds"])
    elif kind == SchemeKind.MATRIX:
        volume = errors.falling_to_zero("grades.volume", grades.get("volume"))
        price = errors.falling_to_zero("grades.price", grades.get("price"), minimum_length=1)
        out["grades"] = {"volume": volume, "price": price}
        n = len(volume) * len(price)
    else:
        clean = errors.weights(
            "grades.weights",
            grades.get("weights") or {},
            ("quantity", "amount", "structure", "assessment"),
        )
        metric = grades.get("structure_metric", StructureMetric.LOW_TAR)
        if metric not in StructureMetric.values:
            errors.add("grades.structure_metric", _("Choose a structure measure."))
        out["grades"] = {
            "weights": clean,
            "structure_metric": str(metric),
            "bands": errors.shares("grades.bands", grades.get("bands")),
        }
        n = len(out["grades"]["bands"])
    if n > MAX_GRADES:
        errors.add("grades", _("A scheme may have at most %(n)d grades.") % {"n": MAX_GRADES})

    initial = p["initial"]
    area = errors.number("initial.floor_area_m2", initial.get("floor_area_m2"), minimum=0)
    initial_grades: dict[str, dict[str, int]] = {}
    by_market = errors.section("initial.grades", initial.get("grades"))
    for market in MARKETS:
        row = errors.section(f"initial.grades.{market}", by_market.get(market))
        initial_grades[market] = {}
        for size in ("up_to", "above"):
            value = row.get(size)
            if n and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= n):
                errors.add(
                    f"initial.grades.{market}.{size}",
                    _("Enter a grade from 1 to %(n)d.") % {"n": n},
                )
            initial_grades[market][size] = value
    out["initial"] = {"floor_area_m2": area, "grades": initial_grades}

    cuts = p["scale"]
    shares = errors.shares("scale", [cuts.get(size) for size in SCALES], count=len(SCALES))
    out["scale"] = dict(zip(SCALES, shares, strict=False)) if shares else {}

    structure = p["structure"]
    bands = structure.get("price_bands")
    if not isinstance(bands, list) or not bands:
        errors.add("structure.price_bands", _("Give at least one price band."))
        bands = []
    else:
        bands = [errors.number(f"structure.price_bands.{i}", v) for i, v in enumerate(bands)]
        if None in bands:
            bands = []
        elif any(a <= b for a, b in zip(bands, bands[1:], strict=False)) or bands[-1] <= 0:
            errors.add(
                "structure.price_bands",
                _("Each price must be lower than the one before it, and above 0."),
            )
    matrix: dict[str, list[int]] = {}
    matrix_rows = errors.section("structure.matrix", structure.get("matrix"))
    for size in SCALES:
        row = matrix_rows.get(size)
        if not isinstance(row, list) or len(row) != len(bands) + 1:
            errors.add(
                f"structure.matrix.{size}",
                _("Give one class per price band (%(n)d).") % {"n": len(bands) + 1},
            )
            continue
        if any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10 for v in row):
            errors.add(
                f"structure.matrix.{size}", _("Each class must be a whole number from 1 to 10.")
            )
        matrix[size] = row
    out["structure"] = {"price_bands": bands, "matrix": matrix}

    errors.raise_if_any()
    return out


# --- reference window ---------------------------------------------------------------------


def reference_window(
    month: dt.date, *, months: int, peak_months: Iterable[dt.date] = (), exclude_peaks: bool = True
) -> list[dt.date]:
    """The calendar months (first days, oldest first) whose figures grade `month`: the `months`
    full months before it, without the flagged peak months when the scheme leaves them out.
    If that would leave no month at all, the peak months are kept: a grade from peak figures
    beats no grade."""
    window = [add_months(month, -k) for k in range(months, 0, -1)]
    if not exclude_peaks:
        return window
    peaks = set(peak_months)
    return [m for m in window if m not in peaks] or window


def window_inputs(
    facts: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    window: list[dt.date],
    structure_metric: str | None = None,
) -> pd.DataFrame:
    """Per customer, the figures of the reference window (INPUT_COLUMNS).

    `facts`: `fact_columns(structure_metric)` rows (any months; others are ignored; more
    columns may come). `customers`: CUSTOMER_COLUMNS, one row per customer to grade. The
    window months before the customer's first order do not count. The month of the first
    order counts with all its purchases, as the share of the month from the first order on
    (`crm.dates.trade_shares`: an order on 15 August counts 17/31 of August); later months
    count in full. A counted month without facts counts as 0.

    avg = the purchases of the counted months / the months they count for (full months plus
    the first month's share), so the grade does not depend on the day of the first order
    beyond that proration. `months_used` is how many window months counted, the first one
    included however small its share; `window` names them. Customers with no counted month
    (never ordered, or first order in the grade month itself) get basis "initial".
    """
    out = customers.loc[:, list(CUSTOMER_COLUMNS)].copy().reset_index(drop=True)
    first = pd.to_datetime(out["first_order_date"])
    shares = trade_shares(first, window)
    counted = (shares > 0).sum(axis=1)
    out["months_used"] = counted
    # Counted months are always the latest ones of the window (those from the first order on).
    labels = [
        " ".join(f"{m:%Y-%m}" for m in window[len(window) - k :]) for k in range(len(window) + 1)
    ]
    out["window"] = np.asarray(labels, dtype=object)[counted]

    starts = pd.DatetimeIndex([pd.Timestamp(m) for m in window])
    in_window = facts[facts["month"].isin(starts)]
    first_month = first.dt.to_period("M").dt.to_timestamp()
    in_window = in_window.merge(out[["customer_id"]].assign(_first=first_month), on="customer_id")
    in_window = in_window[in_window["month"] >= in_window["_first"]]
    columns = ["cartons", "amount"]
    if structure_metric:
        in_window = in_window.assign(
            structure_cartons=in_window[list(STRUCTURE_COLUMNS[structure_metric])].sum(axis=1)
        )
        columns.append("structure_cartons")
    sums = in_window.groupby("customer_id")[columns].sum()
    sums = sums.reindex(out["customer_id"]).fillna(0).to_numpy(dtype=float)
    cartons, amount = sums[:, 0], sums[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        used = shares.sum(axis=1)
        out["avg_cartons"] = np.where(counted > 0, np.round(cartons / used, 2), 0.0)
        out["avg_amount"] = np.where(counted > 0, np.round(amount / used, 2), 0.0)
        out["avg_price"] = np.where(cartons > 0, np.round(amount / cartons, 2), np.nan)
        out["structure_share"] = (
            np.where(cartons > 0, np.round(sums[:, 2] / cartons, 4), np.nan)
            if structure_metric
            else np.nan
        )
    out["basis"] = np.where(counted > 0, "window", "initial")
    return out.loc[:, list(INPUT_COLUMNS)]


# --- grading ------------------------------------------------------------------------------


def _percentile(values: pd.Series, groups: list[pd.Series] | None = None) -> pd.Series:
    """0-100 percentile rank (ties share their average rank), within `groups` if given."""
    if groups is None:
        return values.rank(method="average", pct=True) * 100
    return values.groupby(groups).rank(method="average", pct=True) * 100


def _band_index(
    score: pd.Series, shares: list[float], groups: list[pd.Series] | None = None
) -> pd.Series:
    """0-based band of each value when ranked high to low and cut by `shares` (percent, in
    order, summing to 100): a value goes to the first band whose cumulative share exceeds the
    share of values ranked strictly above it, so ties share a band."""
    if groups is None:
        position = score.rank(method="min", ascending=False)
        size = pd.Series(len(score), index=score.index, dtype=float)
    else:
        grouped = score.groupby(groups)
        position = grouped.rank(method="min", ascending=False)
        size = grouped.transform("size").astype(float)
    above = ((position - 1) / size * 100).round(9)
    edges = np.cumsum(np.asarray(shares, dtype=float))
    edges[-1] = np.inf
    return pd.Series(np.searchsorted(edges, above.to_numpy(), side="right"), index=score.index)


def _falling_index(values: np.ndarray, falling: list[float]) -> np.ndarray:
    """0-based index of the first entry of `falling` (strictly falling to 0) that `values`
    reach: 0 for values ≥ falling[0], len-1 for values below falling[-2]."""
    rising = np.asarray(falling[::-1], dtype=float)
    return len(falling) - np.searchsorted(rising, values, side="right")


def grade_frame(inputs: pd.DataFrame, *, kind: str, parameters: Mapping[str, Any]) -> pd.DataFrame:
    """Grades, business scales, category codes and structure classes (RESULT_COLUMNS) for the
    customers of `inputs` (from `window_inputs`, all customers of the company at once: scales
    rank within each market type × format group, the score scheme across everyone)."""
    frame = inputs.reset_index(drop=True).copy()
    window_basis = frame["basis"] == "window"

    # Business scale: mean of the quantity and amount percentiles within the group.
    groups = [frame["market_type"], frame["business_format"]]
    frame["quantity_pct"] = _percentile(frame["avg_cartons"], groups).round(2)
    frame["amount_pct"] = _percentile(frame["avg_amount"], groups).round(2)
    frame["scale_score"] = ((frame["quantity_pct"] + frame["amount_pct"]) / 2).round(2)
    frame["group_size"] = frame.groupby(groups)["customer_id"].transform("size")
    cuts = [parameters["scale"][size] for size in SCALES]
    scale_index = _band_index(frame["scale_score"], cuts, groups)
    frame["business_scale"] = np.asarray(SCALES, dtype=object)[scale_index.to_numpy()]
    digits = frame["business_scale"].map({s: BusinessScale(s).digit for s in SCALES})
    frame["category_code"] = frame["market_type"] + frame["business_format"] + digits

    # Structure class: price band × scale.
    structure = parameters["structure"]
    price = frame["avg_price"].fillna(-1).to_numpy(dtype=float)
    # No purchases in the window (no price): the lowest band.
    band = 1 + _falling_index(price, [*structure["price_bands"], 0])
    band = np.minimum(band, len(structure["price_bands"]) + 1).astype(int)
    frame["price_band"] = band
    matrix = np.asarray([structure["matrix"][size] for size in SCALES], dtype=int)
    frame["structure_class"] = matrix[scale_index.to_numpy(dtype=int), band - 1]

    # Grade.
    grades = parameters["grades"]
    frame["score"] = np.nan
    if kind == SchemeKind.THRESHOLDS:
        computed = 1 + _falling_index(frame["avg_cartons"].to_numpy(float), grades["thresholds"])
    elif kind == SchemeKind.MATRIX:
        segment = _falling_index(frame["avg_cartons"].to_numpy(float), grades["volume"])
        interval = _falling_index(price.clip(min=0), grades["price"])
        computed = 1 + segment * len(grades["price"]) + interval
    else:
        computed = _score_grades(frame, window_basis, grades)
    frame["computed_grade"] = np.asarray(computed, dtype=int)

    # New customers: market type × floor area.
    initial = parameters["initial"]
    # An unknown floor area counts as the smaller kind of shop.
    large = frame["floor_area_m2"].astype(float) > float(initial["floor_area_m2"])
    by_market = {
        size: {m: initial["grades"][m][size] for m in MARKETS} for size in ("up_to", "above")
    }
    starting = np.where(
        large,
        frame["market_type"].map(by_market["above"]),
        frame["market_type"].map(by_market["up_to"]),
    )
    frame["computed_grade"] = np.where(window_basis, frame["computed_grade"], starting).astype(int)
    return frame.loc[:, list(RESULT_COLUMNS)]


def _score_grades(frame: pd.DataFrame, ranked: pd.Series, grades: Mapping[str, Any]) -> np.ndarray:
    """Weighted score (0-100) of percentile ranks among the customers graded on their window;
    an unknown structure share or a missing assessment counts as the middle (50)."""
    weights = grades["weights"]
    part = frame[ranked]
    components = {
        "quantity": _percentile(part["avg_cartons"]),
        "amount": _percentile(part["avg_amount"]),
        "structure": _percentile(part["structure_share"]).fillna(50),
        "assessment": part["assessment"].astype(float).fillna(50),
    }
    score = sum(weights[name] * values for name, values in components.items())
    frame.loc[ranked, "score"] = score.round(2)
    computed = np.ones(len(frame), dtype=int)
    if ranked.any():
        computed[ranked.to_numpy()] = 1 + _band_index(score.round(2), grades["bands"]).to_numpy()
    return computed


# --- summaries ----------------------------------------------------------------------------


def distribution(grades: pd.Series) -> dict[int, int]:
    """Customers per grade, highest grade first."""
    counts = grades.value_counts().sort_index()
    return {int(grade): int(n) for grade, n in counts.items()}


def movements(
    previous: pd.Series, current: pd.Series, *, comparable: pd.Series | None = None
) -> dict[str, int]:
    """How many customers (indexed by customer id) moved up, down or stayed against the
    previous month's grades; `new` have no previous grade.

    `comparable` (indexed by customer id, default: every previous grade) says whether the
    previous grade was given by the same scheme version as the current one. A grade number
    is a position on its own scheme's scale, so a customer graded by another version the
    month before is `not_comparable`, neither up nor down."""
    joined = pd.concat({"before": previous, "after": current}, axis=1).dropna(subset=["after"])
    had = joined["before"].notna()
    if comparable is not None:
        same_scheme = comparable.astype(bool).reindex(joined.index, fill_value=False).to_numpy()
    else:
        same_scheme = np.ones(len(joined), dtype=bool)
    compared = had & same_scheme
    return {
        "up": int((compared & (joined["after"] < joined["before"])).sum()),
        "down": int((compared & (joined["after"] > joined["before"])).sum()),
        "same": int((compared & (joined["after"] == joined["before"])).sum()),
        "new": int((~had).sum()),
        "not_comparable": int((had & ~same_scheme).sum()),
    }
