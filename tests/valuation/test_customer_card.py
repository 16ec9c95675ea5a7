"""The customer page's value card: the tier, the values, the radar data, the "why" of each
indicator for a hand-made result, the tier history, the customer's open warnings and
compliance records with the forms its user may use, and the queries it adds to the page."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource
from crm.dates import add_months, month_start
from crm.services import Actor
from tests.grading.factories import make_fact
from valuation import panels as valuation_panels
from valuation import services
from valuation.choices import RecordType, WarningKind
from valuation.models import EarlyWarning, ValueResult
from valuation.selectors.customer import customer_value_card

MONTH = dt.date(2026, 10, 1)


def value_result(customer, month: dt.date = MONTH, **fields) -> ValueResult:
    """A stored result with the default scheme. The defaults are the hand-made case of
    `test_why_explains_each_indicator`: new-product share, display compliance (never
    audited) and trade area missing, one violation, value tier, core and problem."""
    values = {
        "group_size": 120,
        "months_counted": 6,
        "window_amount": Decimal("72000.00"),
        "avg_amount": Decimal("12000.00"),
        "key_brand_share": 0.45,
        "new_product_share": None,
        "display_compliance": None,
        "e_settlement_rate": 0.8,
        "on_time_rate": 0.9,
        "violations": 1,
        "recent_violations": 1,
        "trend_months": 12,
        "amount_trend": 0.032,
        "tenure_months": 26.0,
        "outlet_size": "medium",
        "trade_area": "",
        "model_outlet": False,
        "avg_amount_score": 65.0,
        "key_brand_share_score": 70.0,
        "new_product_share_score": None,
        "display_compliance_score": None,
        "e_settlement_rate_score": 80.0,
        "on_time_rate_score": 90.0,
        "amount_trend_score": 75.0,
        "tenure_months_score": 72.2,
        "outlet_size_score": 60.0,
        "trade_area_score": None,
        "model_outlet_score": 0.0,
        # contribution 65; support 70 (key brands only); credit (80 + 90) / 2 − 25 = 60;
        # growth 0.7 × 75 + 0.3 × 72.2 = 74.2; influence (0.4 × 60 + 0.2 × 0) / 0.6 = 40
        "contribution_score": 65.0,
        "support_score": 70.0,
        "credit_score": 60.0,
        "growth_score": 74.2,
        "influence_score": 40.0,
        "missing": "new_product_share,display_compliance,trade_area",
        # 0.5 × 65 + 0.2 × 70 + 0.3 × 60 = 64.5; 0.6 × 74.2 + 0.4 × 40 = 60.5
        "current_value": 64.5,
        "potential_value": 60.5,
        "value_tier": "value",
        "is_core": True,
        "is_problem": True,
    }
    values.update(fields)
    return ValueResult.objects.create(
        customer=customer, month=month, scheme=services.scheme_active(), **values
    )


def detail_url(customer) -> str:
    """The customer page with the card's tab open."""
    return reverse("customers:detail", args=[customer.customer_code]) + "?tab=grade-value"


def card(client, user, customer):
    client.force_login(user)
    response = client.get(detail_url(customer))
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.fixture
def valued(customer_world):
    value_result(customer_world["c_th"])
    return customer_world


# --- the result ---------------------------------------------------------------------------


def test_a_customer_not_valued_yet_says_so(client, customer_world):
    response, html = card(client, customer_world["am_th"], customer_world["c_th"])
    assert 'data-testid="customer-value"' in html
    assert 'data-testid="not-valued"' in html
    assert "value-radar-data" not in html
    assert response.context["valuation"]["result"] is None


def test_the_card_shows_tier_values_and_badges(client, valued):
    _response, html = card(client, valued["am_th"], valued["c_th"])
    assert 'data-tier="value"' in html
    assert "Value customer" in html
    assert 'data-testid="current-value">64.5<' in html
    assert 'data-testid="potential-value">60.5<' in html
    assert 'data-testid="core-badge"' in html
    assert 'data-testid="problem-badge"' in html
    assert "valued for 2026-10" in html
    assert "Scheme version 1" in html


def test_the_radar_data_and_its_table_fallback(client, customer_world):
    customer = customer_world["c_th"]
    value_result(
        customer,
        month=add_months(MONTH, -1),
        contribution_score=50.0,
        support_score=50.0,
        credit_score=50.0,
        growth_score=50.0,
        influence_score=50.0,
    )
    value_result(customer)
    response, html = card(client, customer_world["am_th"], customer)
    data = response.context["valuation"]["chart"]
    assert data["labels"] == ["Contribution", "Support", "Credit", "Growth", "Influence"]
    assert data["scores"] == [65.0, 70.0, 60.0, 74.2, 40.0]
    assert data["month"] == "2026-10"
    assert data["previous"] == {"month": "2026-09", "scores": [50.0] * 5}
    script = html.split('id="value-radar-data" type="application/json">')[1]
    assert json.loads(script.split("</script>")[0]) == data
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/valuation_customer.js" in html
    # the same scores in a table
    table = html.split('data-testid="indicator-scores"')[1].split("</table>")[0]
    for key, score in (("contribution", "65.0"), ("credit", "60.0"), ("influence", "40.0")):
        row = table.split(f'data-indicator="{key}"')[1].split("</tr>")[0]
        assert score in row


def test_why_explains_each_indicator(client, valued):
    response, html = card(client, valued["am_th"], valued["c_th"])
    why = html.split('data-testid="value-why"')[1]

    def cell(kind: str, name: str) -> str:
        return why.split(f'data-testid="{kind}-{name}">')[1].split("</td>")[0]

    assert "among the 120 customers of its group: customers of the same market type (Urban)" in why
    # raw values in readable units
    assert cell("raw", "avg_amount") == "¥12,000 a month over 6 months (¥72,000 in all)"
    assert cell("raw", "key_brand_share") == "45.0%"
    assert cell("raw", "new_product_share") == "not measured: no cartons bought"
    assert cell("raw", "e_settlement_rate") == "80.0%"
    assert cell("raw", "on_time_rate") == "90.0%"
    assert cell("raw", "amount_trend") == "+3.2% of the average per month, over 12 months"
    assert cell("raw", "tenure_months") == "26 months"
    assert cell("raw", "outlet_size") == "Medium"
    assert cell("raw", "trade_area") == "not measured: not filled in"
    assert cell("raw", "model_outlet") == "Not a model outlet"
    # scores, methods, weights
    assert cell("score", "avg_amount") == "65.0"
    assert cell("score", "new_product_share") == "—"
    assert cell("score", "tenure_months") == "72.2"
    assert cell("method", "avg_amount") == "percentile in its group of 120 customers"
    assert cell("method", "e_settlement_rate") == "scale: 100% or more scores 100"
    assert cell("method", "tenure_months") == "percentile in its group of 120 customers"
    assert cell("method", "outlet_size") == "points per answer (Large 100 · Medium 60 · Small 30)"
    assert cell("weight", "avg_amount") == "1.0"
    assert cell("weight", "key_brand_share") == "0.48"
    assert cell("raw", "display_compliance") == "not audited"
    assert cell("score", "display_compliance") == "—"
    assert cell("weight", "display_compliance") == "0.2"
    assert cell("weight", "amount_trend") == "0.7"
    # the indicators' rules: means, missing inputs, the penalty
    assert "Weighted mean of the measured inputs: 70.0." in why
    assert "Not measured, so left out of the mean: New-product share, Display compliance." in why
    assert "Not measured, so left out of the mean: Trade-area environment." in why
    assert "1 violation in the last 12 months: −25 points (25 each) → 60.0." in why
    # the values, the tier, the lists
    current = why.split('data-testid="why-current">')[1].split("</li>")[0]
    assert " ".join(current.split()) == (
        "Current value 64.5 = 0.5 × Contribution 65.0 + 0.2 × Support 70.0 + 0.3 × Credit 60.0"
    )
    assert "0.6 × Growth 74.2 + 0.4 × Influence 40.0" in why
    assert "current value high from 50, potential value high from 50 → Value customer." in why
    assert "among the top 10 percent by current value" in why
    assert "credit score below 30 or a violation in the last 6 months" in why
    assert "1 violation in the last 6 months" in why
    # the explanation's means match the stored scores
    items = {i["key"]: i for i in response.context["valuation"]["why"]["indicators"]}
    assert items["growth"]["base"] == 74.2
    assert items["influence"]["base"] == 40.0
    assert items["credit"]["base"] == 85.0
    assert items["credit"]["penalty"]["total"] == 25


def test_why_shows_the_display_compliance_of_an_audited_shop(client, customer_world):
    # support (0.48 × 70 + 0.2 × 75) / 0.68 = 71.5 (new-product share still missing)
    value_result(
        customer_world["c_th"],
        display_compliance=0.75,
        display_compliance_score=75.0,
        support_score=71.5,
        missing="new_product_share,trade_area",
    )
    response, html = card(client, customer_world["am_th"], customer_world["c_th"])
    why = html.split('data-testid="value-why"')[1]

    def cell(kind: str, name: str) -> str:
        return why.split(f'data-testid="{kind}-{name}">')[1].split("</td>")[0]

    assert cell("raw", "display_compliance") == "75.0%"
    assert cell("score", "display_compliance") == "75.0"
    assert cell("method", "display_compliance") == "scale: 100% or more scores 100"
    assert cell("weight", "display_compliance") == "0.2"
    support = {i["key"]: i for i in response.context["valuation"]["why"]["indicators"]}["support"]
    assert support["base"] == 71.5
    assert support["missing"] == ["New-product share"]


def test_the_display_compliance_explanation_in_chinese(client, customer_world):
    value_result(customer_world["c_th"])
    client.force_login(customer_world["am_th"])
    response = client.get(detail_url(customer_world["c_th"]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    why = response.content.decode().split('data-testid="value-why"')[1]

    assert why.split('data-testid="raw-display_compliance">')[1].startswith("未检查")
    assert "陈列合规率" in why


def test_an_indicator_without_any_input_takes_the_neutral_score(client, customer_world):
    value_result(
        customer_world["c_th"],
        months_counted=0,
        window_amount=Decimal("0"),
        avg_amount=None,
        avg_amount_score=None,
        contribution_score=40.0,
        violations=0,
        recent_violations=0,
        credit_score=85.0,
        is_problem=False,
        missing="avg_amount,new_product_share,trade_area",
    )
    _response, html = card(client, customer_world["am_th"], customer_world["c_th"])
    why = html.split('data-testid="why-contribution-rule"')[1].split("</p>")[0]
    assert "No input measured: the neutral score 40 stands in." in why
    assert "not measured: no order in the window yet" in html
    assert "No violation in the last 12 months (each would take 25 points off)." in html
    assert 'data-testid="problem-badge"' not in html


def test_an_unknown_model_outlet_flag_is_named_missing_and_the_neutral_score_stands_in(
    client, customer_world
):
    # given: a shop with no outlet size, trade area or model-outlet flag entered, trading
    #        since 10 February (20/29 of February + 4 months = 4.69 months before the month)
    value_result(
        customer_world["c_th"],
        outlet_size="",
        outlet_size_score=None,
        model_outlet=None,
        model_outlet_score=None,
        influence_score=40.0,
        tenure_months=4.69,
        missing="new_product_share,outlet_size,trade_area,model_outlet",
    )
    # when
    _response, html = card(client, customer_world["am_th"], customer_world["c_th"])
    why = html.split('data-testid="value-why"')[1]
    # then: unknown, not "Not a model outlet"; the neutral score is said to stand in
    assert 'data-testid="raw-model_outlet">not measured: not filled in<' in why
    assert "Not a model outlet<" not in why
    assert 'data-testid="raw-tenure_months">4.7 months<' in why
    rule = why.split('data-testid="why-influence-rule"')[1].split("</p>")[0]
    assert "No input measured: the neutral score 40 stands in." in rule
    assert "Not measured: Outlet size, Trade-area environment, Model outlet." in rule


def test_the_card_reads_its_own_schemes_parameters(client, valued, customer_world):
    """A later scheme does not rewrite the explanation of a past month."""
    from valuation.models import ValuationScheme

    scheme = ValuationScheme.objects.get()
    parameters = scheme.parameters
    parameters["inputs"]["tenure_months"].update(method="scale", full=60)
    scheme.parameters = parameters
    scheme.save()
    _response, html = card(client, valued["am_th"], valued["c_th"])
    assert "scale: 60 months or more scores 100" in html


def test_tier_history_of_the_last_twelve_valued_months(client, customer_world):
    customer = customer_world["c_th"]
    for k in range(14, 0, -1):
        value_result(customer, month=add_months(MONTH, -k), value_tier="low", is_core=False)
    value_result(customer)
    response, html = card(client, customer_world["am_th"], customer)
    history = response.context["valuation"]["history"]
    assert len(history) == 12
    assert history[0].month == add_months(MONTH, -11)
    assert history[-1].month == MONTH
    table = html.split('data-testid="value-history"')[1].split("</table>")[0]
    assert table.count("<tr data-month=") == 12
    assert f'data-month="{add_months(MONTH, -12):%Y-%m}"' not in table


def test_a_real_valuation_is_explained_consistently(client, customer_world, system_actor):
    """The card's means, recomputed from the stored input scores, match the stored indicator
    scores of a result written by the real run."""
    this_month = month_start(timezone.localdate())
    for key, cartons in (("c_th", 300), ("c_th2", 100), ("c_yx", 50)):
        for k in range(1, 7):
            make_fact(
                customer_world[key],
                add_months(this_month, -k),
                cartons,
                first_order_date=add_months(this_month, -8).replace(day=3),
                key_brand_cartons=cartons // 3,
                electronic_amount=Decimal(cartons * 150),
                on_time_orders=3,
                late_orders=1,
            )
    services.valuation_recompute(month=this_month, actor=system_actor)
    response, _html = card(client, customer_world["sup_gz"], customer_world["c_th"])
    why = response.context["valuation"]["why"]
    for item in why["indicators"]:
        if item["key"] == "credit":
            assert item["score"] == max(round(item["base"] - item["penalty"]["total"], 1), 0)
        else:
            assert item["score"] == item["base"], item["key"]
    assert why["group_size"] == 3


# --- warnings and compliance records --------------------------------------------------------


@pytest.fixture
def with_records(valued):
    w = valued
    customer = w["c_th"]
    w["warning"] = EarlyWarning.objects.create(
        customer=customer,
        kind=WarningKind.NO_ORDERS,
        key="2026-11-01",
        details={
            "last_order_date": "2026-11-01",
            "days_since": 19,
            "order_cycle": "weekly",
            "cycles": 2,
        },
    )
    w["resolved"] = EarlyWarning.objects.create(
        customer=customer,
        kind=WarningKind.DOWNGRADE,
        key="2026-09",
        status="resolved",
        details={"month": "2026-09", "previous_grade": 3, "grade": 6},
    )
    actor = Actor.of(w["lo_th"], AuditSource.PAGE)
    w["record"] = services.compliance_record_add(
        customer=customer,
        date=timezone.localdate() - dt.timedelta(days=3),
        record_type=RecordType.COUNTERFEIT,
        note="Fake packs",
        actor=actor,
    )
    w["void"] = services.compliance_record_add(
        customer=customer,
        date=timezone.localdate() - dt.timedelta(days=9),
        record_type=RecordType.PRICE,
        note="Mistake",
        actor=actor,
    )
    services.compliance_record_void(record=w["void"], reason="Other shop", actor=actor)
    return w


def test_the_card_lists_open_warnings_with_actions_for_those_who_handle_them(client, with_records):
    w = with_records
    acknowledge = reverse("valuation:warning_acknowledge", args=[w["warning"].pk])
    _response, html = card(client, w["am_th"], w["c_th"])
    section = html.split('id="value-warnings"')[1].split('id="value-compliance"')[0]
    assert "Last order 2026-11-01, 19 days ago (order cycle weekly, 2 cycles)" in section
    assert f'data-warning="{w["warning"].pk}"' in section
    assert f'data-warning="{w["resolved"].pk}"' not in section  # resolved: not on the card
    assert acknowledge in section
    back = detail_url(w["c_th"]) + "#value-warnings"
    assert f'name="next" value="{back}"' in section
    # the licence officer reads them without the forms
    _response, html = card(client, w["lo_th"], w["c_th"])
    assert "19 days ago" in html
    assert acknowledge not in html


def test_acknowledging_from_the_card_comes_back_to_it(client, with_records):
    w = with_records
    client.force_login(w["am_th"])
    back = detail_url(w["c_th"]) + "#value-warnings"
    response = client.post(
        reverse("valuation:warning_acknowledge", args=[w["warning"].pk]),
        {"note": "Visit tomorrow", "next": back},
    )
    assert response["Location"] == back
    html = client.get(detail_url(w["c_th"])).content.decode()
    assert "Visit tomorrow" in html
    assert 'data-status="acknowledged"' in html


def test_the_card_lists_the_records_and_offers_the_forms_to_the_licence_officer(
    client, with_records
):
    w = with_records
    _response, html = card(client, w["lo_th"], w["c_th"])
    section = html.split('id="value-compliance"')[1]
    assert f'data-record="{w["record"].pk}"' in section
    assert "Fake packs" in section
    assert f'data-void="{w["void"].pk}"' in section and "Other shop" in section
    assert 'data-testid="compliance-add-form"' in section
    assert f'name="customer" value="{w["c_th"].customer_code}"' in section
    assert reverse("valuation:compliance_void", args=[w["record"].pk]) in section
    assert reverse("valuation:compliance_void", args=[w["void"].pk]) not in section
    # an account manager reads them only
    _response, html = card(client, w["am_th"], w["c_th"])
    assert "Fake packs" in html
    assert 'data-testid="compliance-add-form"' not in html
    assert reverse("valuation:compliance_void", args=[w["record"].pk]) not in html


def test_adding_a_record_from_the_card(client, valued):
    client.force_login(valued["lo_th"])
    back = detail_url(valued["c_th"]) + "#value-compliance"
    response = client.post(
        reverse("valuation:compliance"),
        {
            "customer": valued["c_th"].customer_code,
            "date": f"{timezone.localdate():%Y-%m-%d}",
            "record_type": RecordType.INSPECTION_PASSED,
            "note": "",
            "next": back,
        },
    )
    assert response["Location"] == back
    html = client.get(back).content.decode()
    assert "Inspection passed" in html.split('id="value-compliance"')[1]


def test_a_customer_outside_the_scope_is_not_found(client, valued):
    client.force_login(valued["am_th2"])
    assert client.get(detail_url(valued["c_th"])).status_code == 404
    client.force_login(valued["sup_yx"])
    assert client.get(detail_url(valued["c_th"])).status_code == 404


# --- queries ------------------------------------------------------------------------------


def test_the_card_takes_three_queries_whatever_it_shows(with_records, django_assert_num_queries):
    w = with_records
    for k in range(1, 14):
        value_result(w["c_th"], month=add_months(MONTH, -k))
    # results with the scheme (latest and history at once), warnings, records
    with django_assert_num_queries(3):
        data = customer_value_card(customer=w["c_th"], user=w["lo_th"])
    assert len(data["history"]) == 12
    assert len(data["warnings"]) == 1
    assert len(data["records"]) == 2


def test_the_card_adds_three_queries_to_the_customer_page(
    client, with_records, monkeypatch, django_assert_num_queries
):
    """Pinned by rendering the page with the card and with an empty stand-in: the card's
    template reads nothing more than its selector did."""
    w = with_records
    client.force_login(w["lo_th"])
    url = detail_url(w["c_th"])
    client.get(url)  # warm up: content types, the session

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as with_card:
        client.get(url)
    empty = {
        "result": None,
        "why": None,
        "chart": None,
        "history": [],
        "warnings": [],
        "records": [],
        "may_handle_warnings": False,
        "may_record_compliance": False,
        "record_types": [],
    }
    monkeypatch.setattr(
        valuation_panels.customer_selectors, "customer_value_card", lambda **kw: empty
    )
    with CaptureQueriesContext(connection) as without_card:
        client.get(url)
    assert len(with_card) - len(without_card) == 3
