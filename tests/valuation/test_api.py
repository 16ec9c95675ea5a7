"""The valuation through the customers API: after `recompute`, each customer's system block
carries its value tier, five indicator scores, current and potential value and the two list
flags, and the OpenAPI schema documents them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.dates import add_months, month_start
from customers.choices import ValueTier
from tests.grading.factories import make_fact
from valuation.models import ValueResult

MONTH = month_start(timezone.localdate())
SCORES = (
    "contribution_score",
    "support_score",
    "credit_score",
    "growth_score",
    "influence_score",
    "current_value",
    "potential_value",
)
FLAGS = ("is_core", "is_problem")
KEYS = ("c_th", "c_th2", "c_yx")


def detail(code: str) -> str:
    return reverse("customers_api:customer_detail", args=[code])


@pytest.fixture
def valued(customer_world):
    """c_th buys 600 cartons a month, c_th2 120, c_yx nothing; this month is recomputed."""
    for k in range(1, 7):
        month = add_months(MONTH, -k)
        make_fact(customer_world["c_th"], month, 600, 260, electronic_amount=600 * 260)
        make_fact(customer_world["c_th2"], month, 120, 150, on_time_orders=2, late_orders=2)
    call_command("recompute", "--month", f"{MONTH:%Y-%m}", stdout=StringIO())
    return customer_world


@pytest.fixture
def api(valued):
    client = APIClient()
    client.force_login(valued["admin"])
    return client


def test_after_recompute_the_system_block_shows_the_valuation(valued, api):
    for key in KEYS:
        response = api.get(detail(valued[key].customer_code))
        assert response.status_code == 200
        system = response.json()["system"]
        assert system["value_tier"] in ValueTier.values
        for name in SCORES:
            assert isinstance(system[name], int | float), name
            assert not isinstance(system[name], bool), name
            assert 0 <= system[name] <= 100, name
        for name in FLAGS:
            assert isinstance(system[name], bool), name
        # the block shows what the run stored
        result = ValueResult.objects.get(customer=valued[key], month=MONTH)
        assert system["value_tier"] == result.value_tier
        assert {n: system[n] for n in (*SCORES, *FLAGS)} == {
            n: getattr(result, n) for n in (*SCORES, *FLAGS)
        }


def test_the_list_endpoint_shows_the_same_block(valued, api):
    rows = api.get(reverse("customers_api:customer_list")).json()["results"]
    by_code = {row["customer_code"]: row["system"] for row in rows}
    for key in KEYS:
        system = by_code[valued[key].customer_code]
        assert system["value_tier"] in ValueTier.values
        assert all(isinstance(system[name], bool) for name in FLAGS)


def test_an_account_manager_sees_the_valuation_of_their_customers_only(valued):
    client = APIClient()
    client.force_login(valued["am_th"])
    assert client.get(detail(valued["c_th"].customer_code)).json()["system"]["value_tier"]
    assert client.get(detail(valued["c_yx"].customer_code)).status_code == 404


def test_the_schema_documents_the_valuation_fields(valued, api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()
    block = schema["components"]["schemas"]["CustomerSystemBlock"]["properties"]
    for name in SCORES:
        assert block[name]["type"] == "number", name
        assert block[name].get("readOnly") is True, name
    for name in FLAGS:
        assert block[name]["type"] == "boolean", name
    tier = block["value_tier"]
    ref = tier.get("$ref") or next(
        option["$ref"]
        for option in tier.get("allOf", []) + tier.get("oneOf", [])
        if "$ref" in option
    )
    enum = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["enum"]
    assert set(ValueTier.values) <= set(enum)
    # system fields cannot be written through the sync
    sync_item = schema["components"]["schemas"]["CustomerSyncItem"]["properties"]
    assert not set(sync_item) & {"value_tier", *SCORES, *FLAGS}
