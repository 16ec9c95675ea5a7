"""The value overview and the exports of its core and problem lists, through Django's test
client.

Results are written directly (with the default scheme: tiers at 50, problem below a credit of
30 or a violation in the last 6 months) for two months, so every number the page shows can
be checked by hand:

    customer  area  AM      2025-02    2025-03    list     amount  current potential credit
    c_th      TH    am_th   secondary  value      core     6000    80      70        90
    c_th2     TH    am_th2  value      low        problem  1000    30      20        20
    c_yx      YX    am_yx   potential  potential  problem  2000    40      60        60 (*)
    c_th3     TH    am_th   —          value               3000    55      52        70

    (*) one violation in the problem window.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.choices import Role
from tests.customers.factories import make_customer
from valuation.models import ValueResult
from valuation.services import scheme_active

FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)
URL = reverse("valuation:overview")
EXPORT = reverse("valuation:export")


def value(
    customer,
    month,
    tier,
    *,
    current=60.0,
    potential=60.0,
    credit=70.0,
    core=False,
    problem=False,
    amount="1000.00",
    recent_violations=0,
    missing="",
):
    """One stored result; the inputs are plain made-up figures."""
    return ValueResult.objects.create(
        customer=customer,
        month=month,
        scheme=scheme_active(),
        group_size=4,
        months_counted=6,
        window_amount=Decimal(amount),
        avg_amount=Decimal(amount) / 6,
        violations=recent_violations,
        recent_violations=recent_violations,
        trend_months=6,
        tenure_months=24,
        model_outlet=False,
        contribution_score=50,
        support_score=50,
        credit_score=credit,
        growth_score=50,
        influence_score=50,
        current_value=current,
        potential_value=potential,
        value_tier=tier,
        is_core=core,
        is_problem=problem,
        missing=missing,
    )


@pytest.fixture
def valued(customer_world, areas):
    w = customer_world
    w["c_th3"] = make_customer(areas["TH"], w["am_th"], store_name="天河三号店")
    value(w["c_th"], FEB, "secondary")
    value(w["c_th2"], FEB, "value")
    value(w["c_yx"], FEB, "potential")
    value(w["c_th"], MAR, "value", current=80, potential=70, credit=90, core=True, amount="6000")
    value(w["c_th2"], MAR, "low", current=30, potential=20, credit=20, problem=True)
    value(
        w["c_yx"],
        MAR,
        "potential",
        current=40,
        potential=60,
        credit=60,
        problem=True,
        amount="2000",
        recent_violations=1,
    )
    value(w["c_th3"], MAR, "value", current=55, potential=52, amount="3000")
    return w


def count(response, key: str) -> int:
    match = re.search(rf'data-count="{key}">(\d+)<', response.content.decode())
    return int(match[1])


def listed(response, key: str) -> list[str]:
    """Customer codes of the core or problem table, in order."""
    table = response.content.decode().split(f'data-testid="{key}-table"')[1].split("</table>")[0]
    return re.findall(r'<tr data-customer="([^"]+)"', table)


def cell(response, before, after) -> int:
    for row in response.context["transitions"]["rows"]:
        if row["value"] == before:
            return next(c["n"] for c in row["cells"] if c["value"] == after)
    raise AssertionError(f"no row {before}")


def tiers_of(rows) -> dict[str, list[int]]:
    return {row.get("code") or row.get("username"): row["counts"] for row in rows}


def test_overview_numbers_of_the_month(client, valued, django_assert_num_queries):
    client.force_login(valued["admin"])
    # session, user, months, results by tier and movement (with the core and problem counts),
    # by area, by account manager, the month's scheme, the inputs missing for most customers,
    # the core page, the problem page, unread notifications, the area and account manager
    # pickers' choices
    with django_assert_num_queries(13):
        response = client.get(URL, {"month": "2025-03"})
    assert response.status_code == 200
    html = response.content.decode()
    # the 2×2 matrix, the cut-offs of the scheme in its headings
    assert count(response, "customers") == 4
    assert (count(response, "value"), count(response, "secondary")) == (2, 0)
    assert (count(response, "potential"), count(response, "low")) == (1, 1)
    assert "Current value ≥ 50" in html and "Potential value &lt; 50" in html
    matrix = {c["tier"]: c for row in response.context["matrix"]["rows"] for c in row["cells"]}
    assert matrix["value"]["share"] == "50.0"
    assert matrix["value"]["amount"] == Decimal("9000")
    assert matrix["low"]["amount"] == Decimal("1000")
    assert 'data-amount="value">¥9,000<' in html
    # core and problem totals
    assert (count(response, "core"), count(response, "problem")) == (1, 2)
    # by area (value, secondary, potential, low) and by account manager
    assert tiers_of(response.context["by_area"]) == {"TH": [2, 0, 0, 1], "YX": [0, 0, 1, 0]}
    assert tiers_of(response.context["by_manager"]) == {
        "am_th": [2, 0, 0, 0],
        "am_th2": [0, 0, 0, 1],
        "am_yx": [0, 0, 1, 0],
    }
    chart = response.context["chart"]
    assert chart["labels"] == ["TH", "YX"]
    assert [s["counts"] for s in chart["series"]] == [[2, 0], [0, 0], [0, 1], [1, 0]]
    assert 'id="value-chart-data"' in html and 'data-testid="by-area"' in html  # the table too
    # the movements: row = February's tier, column = March's
    assert cell(response, "secondary", "value") == 1
    assert cell(response, "value", "low") == 1
    assert cell(response, "potential", "potential") == 1
    assert cell(response, None, "value") == 1
    assert cell(response, "low", "low") == 0
    # (tiers have one scale whatever the scheme version: none is "not comparable")
    assert response.context["transitions"]["movements"] == {
        "up": 1,
        "down": 1,
        "across": 0,
        "same": 1,
        "new": 1,
        "not_comparable": 0,
    }
    # the lists, with the customer pages linked and the problem customers' reasons
    assert listed(response, "core") == [valued["c_th"].customer_code]
    assert listed(response, "problem") == [
        valued["c_th2"].customer_code,  # the lowest credit first
        valued["c_yx"].customer_code,
    ]
    assert reverse("customers:detail", args=[valued["c_th"].customer_code]) in html
    assert "credit below 30" in html
    assert "violation in the last 6 months" in html


def test_the_latest_month_is_the_default(client, valued):
    client.force_login(valued["admin"])
    response = client.get(URL)
    assert response.context["month"] == MAR
    assert '<option value="2025-02">' in response.content.decode()
    february = client.get(URL, {"month": "2025-02"})
    assert count(february, "customers") == 3
    assert february.context["transitions"]["movements"]["new"] == 3


def test_account_manager_sees_only_their_customers(client, valued):
    client.force_login(valued["am_th"])
    response = client.get(URL, {"month": "2025-03"})
    assert count(response, "customers") == 2
    assert count(response, "value") == 2
    assert (count(response, "core"), count(response, "problem")) == (1, 0)
    assert listed(response, "core") == [valued["c_th"].customer_code]
    assert listed(response, "problem") == []
    assert tiers_of(response.context["by_area"]) == {"TH": [2, 0, 0, 0]}
    html = response.content.decode()
    for other in ("c_th2", "c_yx"):
        assert valued[other].customer_code not in html


def test_supervisor_sees_their_area_also_in_the_exports(client, valued):
    client.force_login(valued["sup_th"])
    response = client.get(URL, {"month": "2025-03"})
    assert count(response, "customers") == 3
    assert listed(response, "problem") == [valued["c_th2"].customer_code]
    # asking for the other area by filter finds nothing
    assert count(client.get(URL, {"month": "2025-03", "area": "YX"}), "customers") == 0
    export = client.get(EXPORT, {"month": "2025-03", "list": "problem", "format": "csv"})
    data = b"".join(export.streaming_content).decode("utf-8-sig")
    assert valued["c_th2"].customer_code in data
    assert valued["c_yx"].customer_code not in data


def test_filters_by_area_and_account_manager(client, valued):
    client.force_login(valued["admin"])
    yx = client.get(URL, {"month": "2025-03", "area": "YX"})
    assert count(yx, "customers") == 1
    assert listed(yx, "problem") == [valued["c_yx"].customer_code]
    html = yx.content.decode()
    assert 'value="YX"' in html  # kept in the form
    assert "area=YX" in html and "list=problem" in html  # and in the export links
    gz = client.get(URL, {"month": "2025-03", "area": "GZ"})  # GZ holds TH and YX
    assert count(gz, "customers") == 4
    am = client.get(URL, {"month": "2025-03", "account_manager": "AM_TH2"})
    assert count(am, "customers") == 1
    assert listed(am, "problem") == [valued["c_th2"].customer_code]
    assert listed(am, "core") == []


def test_the_lists_page_on_their_own_with_a_fixed_number_of_queries(
    client, valued, areas, django_assert_num_queries
):
    for n in range(26):
        value(make_customer(areas["TH"], valued["am_th"]), MAR, "value", current=90 - n, core=True)
    client.force_login(valued["sup_gz"])
    # + the supervisor's areas and the area tree (scope), the area filter's codes and tree,
    # the area and account manager pickers' choices
    with django_assert_num_queries(17):
        first = client.get(URL, {"month": "2025-03", "area": "TH"})
    assert len(listed(first, "core")) == 25
    assert first.context["lists"][0]["paginator"].count == 27
    html = first.content.decode()
    assert "core_page=2" in html
    second = client.get(URL, {"month": "2025-03", "area": "TH", "core_page": "2"})
    assert len(listed(second, "core")) == 2
    assert listed(second, "problem") == [valued["c_th2"].customer_code]  # on its first page


def test_unknown_month_is_a_friendly_empty_state(client, valued):
    client.force_login(valued["admin"])
    for month in ("2019-01", "2025-13", "nonsense"):
        response = client.get(URL, {"month": month})
        assert response.status_code == 200
        assert 'data-testid="unknown-month"' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "told_to_run"), [(Role.ADMINISTRATOR, True), (Role.SUPERVISOR, False)]
)
def test_empty_state_before_the_first_valuation(client, make_user, areas, role, told_to_run):
    client.force_login(make_user(role, [areas["TH"]]))
    html = client.get(URL).content.decode()
    assert 'data-testid="no-values"' in html
    assert ('data-testid="start-run-link"' in html) is told_to_run
    assert ("manage.py recompute" in html) is told_to_run


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER])
def test_every_person_sees_the_overview(client, valued, make_user, areas, role):
    client.force_login(make_user(role, [areas["TH"]]))
    assert client.get(URL).status_code == 200


def test_tabs_show_runs_and_schemes_to_administrators_only(client, valued):
    client.force_login(valued["sup_th"])
    html = client.get(URL).content.decode()
    assert reverse("valuation:runs") not in html
    assert reverse("valuation:schemes") not in html
    client.force_login(valued["admin"])
    html = client.get(URL).content.decode()
    assert reverse("valuation:runs") in html and reverse("valuation:schemes") in html


def test_export_core_list_csv(client, valued):
    client.force_login(valued["admin"])
    response = client.get(EXPORT, {"month": "2025-03", "list": "core", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="core-customers-2025-03.csv"' in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Customer code"] == valued["c_th"].customer_code
    assert row["Store name"] == "天河一号店"
    assert (row["Area code"], row["Account manager"], row["Month"]) == ("TH", "am_th", "2025-03")
    assert row["Value tier"] == "Value customer"
    assert (row["Current value"], row["Potential value"], row["Credit"]) == ("80.0", "70.0", "90.0")
    assert row["Amount in the window"] == "6000.00"
    assert (row["Core customer"], row["Problem customer"]) == ("Yes", "No")
    assert row["Why a problem customer"] == ""
    assert row["Scheme version"] == str(scheme_active().version)


def test_export_problem_list_xlsx(client, valued):
    client.force_login(valued["admin"])
    response = client.get(EXPORT, {"month": "2025-03", "list": "problem", "format": "xlsx"})
    assert 'filename="problem-customers-2025-03.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    header, *body = list(sheet.values)
    rows = [dict(zip(header, r, strict=True)) for r in body]
    assert [r["Customer code"] for r in rows] == [
        valued["c_th2"].customer_code,
        valued["c_yx"].customer_code,
    ]
    assert rows[0]["Why a problem customer"] == "credit below 30"
    assert rows[1]["Why a problem customer"] == "violation in the last 6 months"
    assert rows[0]["Credit"] == 20  # a number, not text
    assert rows[1]["Value tier"] == "Potential value customer"


def test_an_account_managers_export_holds_only_their_customers(client, valued):
    client.force_login(valued["am_th2"])
    response = client.get(EXPORT, {"month": "2025-03", "list": "problem", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [valued["c_th2"].customer_code]
    core = client.get(EXPORT, {"month": "2025-03", "list": "core", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(core.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1  # the header only


def test_export_of_an_unknown_list_or_month(client, valued):
    client.force_login(valued["admin"])
    assert client.get(EXPORT, {"month": "2025-03", "list": "all"}).status_code == 404
    assert client.get(EXPORT, {"month": "bad", "list": "core"}).status_code == 404
    response = client.get(EXPORT, {"month": "2020-01", "list": "core"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1


def test_overview_and_export_refuse_anonymous_users(client, valued):
    assert client.get(URL).status_code == 302
    assert client.get(EXPORT, {"list": "core"}).status_code == 302


# --- inputs missing for most customers (issue 19) ----------------------------------------

BLANK_SHOP = "outlet_size,trade_area,model_outlet"


def test_the_overview_warns_when_an_indicator_is_missing_for_more_than_half(client, valued):
    # given: March's c_th, c_th2 and c_th3 have no shop attribute entered (3 of 4 customers:
    #        influence took the neutral score), c_th2 bought nothing (contribution, 1 of 4)
    ValueResult.objects.filter(month=MAR).exclude(customer=valued["c_yx"]).update(
        missing=BLANK_SHOP
    )
    ValueResult.objects.filter(month=MAR, customer=valued["c_th2"]).update(
        missing=f"avg_amount,key_brand_share,new_product_share,{BLANK_SHOP}"
    )
    ValueResult.objects.filter(month=MAR, customer=valued["c_yx"]).update(missing="trade_area")
    client.force_login(valued["admin"])
    # when
    response = client.get(URL, {"month": "2025-03"})
    # then: influence only; outlet size, trade area and model outlet named as fields to fill in
    [warning] = response.context["missing_inputs"]
    assert warning["indicator"] == "influence"
    assert (warning["n"], warning["customers"], warning["percent"]) == (3, 4, 75)
    assert warning["fields"] == ["Outlet size", "Trade-area environment", "Model outlet"]
    html = response.content.decode()
    box = html.split('data-testid="missing-inputs"')[1].split("</div>")[0]
    assert "Influence: no input known for 3 of 4 customers (75%)" in box
    assert "the neutral score 40 stood in" in box
    assert "Fill in on the customers: Outlet size, Trade-area environment, Model outlet." in box


def test_no_warning_when_at_most_half_miss_an_indicator(client, valued):
    # given: 2 of 4 (exactly half) without shop attributes
    ValueResult.objects.filter(month=MAR, customer__in=[valued["c_th"], valued["c_yx"]]).update(
        missing=BLANK_SHOP
    )
    client.force_login(valued["admin"])
    response = client.get(URL, {"month": "2025-03"})
    assert response.context["missing_inputs"] == []
    assert 'data-testid="missing-inputs"' not in response.content.decode()


def test_the_warning_counts_only_the_customers_the_user_sees(client, valued):
    # given: only the YX customer lacks its shop attributes: most of YX, a quarter of all
    ValueResult.objects.filter(month=MAR, customer=valued["c_yx"]).update(missing=BLANK_SHOP)
    client.force_login(valued["sup_yx"])
    assert [w["n"] for w in client.get(URL, {"month": "2025-03"}).context["missing_inputs"]] == [1]
    client.force_login(valued["admin"])
    assert client.get(URL, {"month": "2025-03"}).context["missing_inputs"] == []


def test_each_tier_cell_opens_the_customers_it_counts(client, valued):
    """A counted cell of the 2×2 matrix opens the list of its tier for the page's month and
    filters, above the core and problem lists; the list's count is the cell's; it exports."""
    client.force_login(valued["sup_th"])
    response = client.get(URL, {"month": "2025-03", "area": "TH"})
    cells = {c["tier"]: c for row in response.context["matrix"]["rows"] for c in row["cells"]}
    assert cells["potential"]["query"] == ""  # nobody of TH in that cell: no link
    for tier, n in (("value", 2), ("low", 1)):
        assert cells[tier]["n"] == n
        query = cells[tier]["query"]
        assert f'href="?{query.replace("&", "&amp;")}#tier-list"' in response.content.decode()
        listed = client.get(f"{URL}?{query}")
        tier_list = listed.context["lists"][0]
        assert (tier_list["key"], tier_list["tier"]) == ("tier", tier)
        assert tier_list["paginator"].count == n
        assert {r.value_tier for r in tier_list["rows"]} == {tier}
        assert {r.customer.area.code for r in tier_list["rows"]} == {"TH"}
        assert [entry["key"] for entry in listed.context["lists"]] == ["tier", "core", "problem"]
    value = client.get(f"{URL}?{cells['value']['query']}").context["lists"][0]
    assert [r.customer for r in value["rows"]] == [valued["c_th"], valued["c_th3"]]
    export = client.get(EXPORT, {"month": "2025-03", "list": "tier", "tier": "value"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3
    # a tier that is none: no tier list, and no such export
    assert len(client.get(URL, {"month": "2025-03", "tier": "gold"}).context["lists"]) == 2
    assert client.get(EXPORT, {"month": "2025-03", "list": "tier"}).status_code == 404
