"""The audit reports on hand-made data: the pure maths, the selectors per role, the pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audits import computations, reports
from crm.choices import Role
from tests.audits.observed import audit_stored, product_form, when
from tests.customers.factories import make_customer
from tests.orders.factories import make_product

NOV = dt.date(2026, 11, 1)
D = Decimal


# --- the maths -----------------------------------------------------------------------------


def test_median_of_an_odd_count_is_the_middle_shops_price():
    assert computations.tally_median({D("240"): 1, D("250"): 1, D("300"): 1}) == D("250.00")


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_prices():
    # shops: 240, 260, 270, 280 → (260 + 270) / 2
    assert computations.tally_median({D("280"): 1, D("240"): 1, D("270"): 1, D("260"): 1}) == D(
        "265.00"
    )


def test_median_counts_the_shops_of_each_price():
    # shops: 200, 250, 250, 250, 300, 300 → (250 + 250) / 2; then a seventh at 300 → 250
    assert computations.tally_median({D("200"): 1, D("250"): 3, D("300"): 2}) == D("250.00")
    assert computations.tally_median({D("200"): 1, D("250"): 2, D("300"): 3}) == D("275.00")


def test_an_empty_tally_has_no_median_range_or_share():
    assert computations.tally_median({}) is None
    assert computations.tally_median({D("250"): 0}) is None
    assert computations.tally_range({}) == (None, None)
    assert computations.share_above({}, D("250")) is None


def test_share_above_counts_shops_strictly_above_the_suggested_price():
    tally = {D("240"): 1, D("250"): 2, D("260"): 1}
    assert computations.share_above(tally, D("250")) == 0.25
    assert computations.share_above(tally, None) is None
    assert computations.price_summary(tally, D("245")) == {
        "observations": 4,
        "median": D("250.00"),
        "min": D("240"),
        "max": D("260"),
        "share_above": 0.75,
    }


# --- the selectors -----------------------------------------------------------------------


@pytest.fixture
def world(customer_world, areas):
    """P1 (key brand, SRP 250): TH shops at 240 (c_th, am_th), 260 (c_th2), 280 (c_th3,
    am_th); YX at 270 (c_yx). P2 (no SRP): c_th at 300. Shelves of P1: c_th yes, c_th2 and
    c_yx no."""
    w = dict(customer_world)
    w["c_th3"] = make_customer(areas["TH"], w["am_th"], store_name="天河三号店")
    w["p1"] = make_product("P1", suggested_retail_price="250.00", is_key_brand=True)
    w["p2"] = make_product("P2")
    w["p1"].refresh_from_db()
    form = product_form()
    p1, p2 = w["p1"], w["p2"]
    audit_stored(w["c_th"], when(3), form=form, prices={p1: "240", p2: "300"}, shelf={p1: True})
    audit_stored(w["c_th2"], when(4), form=form, prices={p1: "260"}, shelf={p1: False})
    audit_stored(w["c_th3"], when(5), form=form, prices={p1: "280"})
    audit_stored(w["c_yx"], when(6), form=form, prices={p1: "270"}, shelf={p1: False})
    # October: another month, not counted in November
    audit_stored(w["c_th"], when(6, month=10), form=form, prices={p1: "200"})
    return w


def _by_code(rows):
    return {row["product_code"]: row for row in rows}


def test_price_monitoring_for_an_administrator_reads_every_shop(world):
    rows = _by_code(reports.price_monitoring(world["admin"], NOV))
    p1 = rows["P1"]
    assert (p1["observations"], p1["median"], p1["min"], p1["max"]) == (
        4,
        D("265.00"),
        D("240"),
        D("280"),
    )
    assert p1["suggested_retail_price"] == D("250.00")
    assert p1["share_above"] == 0.75
    assert rows["P2"]["share_above"] is None
    assert rows["P2"]["median"] == D("300.00")


def test_price_monitoring_by_area_includes_the_areas_below(world, areas):
    city = _by_code(reports.price_monitoring(world["admin"], NOV, area=areas["GZ"]))
    assert city["P1"]["observations"] == 4
    district = _by_code(reports.price_monitoring(world["admin"], NOV, area=areas["YX"]))
    assert (district["P1"]["observations"], district["P1"]["median"]) == (1, D("270.00"))
    assert reports.price_monitoring(world["admin"], NOV, area=areas["SZ"]) == []


def test_a_supervisor_reads_the_tallies_of_their_areas(world, areas):
    p1 = _by_code(reports.price_monitoring(world["sup_th"], NOV))["P1"]
    assert (p1["observations"], p1["median"], p1["share_above"]) == (3, D("260.00"), 0.6667)
    # an area outside their scope shows nothing
    assert reports.price_monitoring(world["sup_th"], NOV, area=areas["YX"]) == []
    city = _by_code(reports.price_monitoring(world["sup_gz"], NOV))
    assert city["P1"]["observations"] == 4


def test_an_account_manager_reads_their_own_shops_only(world):
    p1 = _by_code(reports.price_monitoring(world["am_th"], NOV))["P1"]
    # c_th 240 and c_th3 280, not c_th2 (am_th2's) in the same district
    assert (p1["observations"], p1["median"], p1["share_above"]) == (2, D("260.00"), 0.5)
    assert _by_code(reports.price_monitoring(world["am_th2"], NOV))["P1"]["observations"] == 1


def test_a_licence_officer_reads_no_report_page(world, client):
    client.force_login(world["lo_th"])
    for name in ("audits:prices", "audits:shelves", "audits:shelves_missing", "audits:reports"):
        assert client.get(reverse(name)).status_code == 403
    url = reverse("audits:price_product", args=["P1"])
    assert client.get(url).status_code == 403


def test_shops_above_the_suggested_price_are_listed_highest_first(world):
    rows = reports.shops_above(world["admin"], NOV, world["p1"])
    assert [(r.customer.store_name, r.price) for r in rows] == [
        ("天河三号店", D("280.00")),
        ("越秀店", D("270.00")),
        ("天河二号店", D("260.00")),
    ]
    assert [r.customer_id for r in reports.shops_above(world["am_th"], NOV, world["p1"])] == [
        world["c_th3"].pk
    ]
    assert not reports.shops_above(world["admin"], NOV, world["p2"]).exists()


def test_the_price_trend_has_every_month_oldest_first(world):
    trend = reports.price_trend(world["admin"], world["p1"], NOV, months=3)
    assert [row["month"] for row in trend] == [
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 1),
        NOV,
    ]
    assert [row["observations"] for row in trend] == [0, 1, 4]
    assert trend[1]["median"] == D("200.00")
    assert trend[0]["median"] is None


def test_shelf_presence_is_the_share_of_shops_asked(world, areas):
    p1 = _by_code(reports.shelf_presence(world["admin"], NOV))["P1"]
    assert (p1["audited"], p1["on_shelf"], p1["share"]) == (3, 1, 0.3333)
    th = _by_code(reports.shelf_presence(world["sup_th"], NOV))["P1"]
    assert (th["audited"], th["on_shelf"], th["share"]) == (2, 1, 0.5)
    assert "P2" not in _by_code(reports.shelf_presence(world["admin"], NOV))


def test_shops_missing_a_key_brand_per_scope(world):
    everyone = reports.shops_missing_key_brand(world["admin"], NOV)
    assert [r.customer.store_name for r in everyone] == ["天河二号店", "越秀店"]
    assert [r.customer_id for r in reports.shops_missing_key_brand(world["sup_yx"], NOV)] == [
        world["c_yx"].pk
    ]
    assert not reports.shops_missing_key_brand(world["am_th"], NOV).exists()


# --- the pages ------------------------------------------------------------------------------


def _get(client, user, name, *args, **query):
    client.force_login(user)
    return client.get(reverse(name, args=args), query)


def test_the_reports_index_opens_price_monitoring(world, client):
    response = _get(client, world["admin"], "audits:reports", month="2026-11")
    assert response.status_code == 302
    assert response["Location"] == reverse("audits:prices") + "?month=2026-11"


def test_the_prices_page_shows_the_table_and_chart(world, client, django_assert_num_queries):
    client.force_login(world["sup_th"])
    with django_assert_num_queries(PAGE_QUERIES["prices"]):
        response = client.get(reverse("audits:prices"), {"month": "2026-11"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-product="P1"' in html and 'data-product="P2"' in html
    assert 'id="audit-chart-data"' in html
    assert '"median": [260.0' in html
    assert response.context["rows"][0]["observations"] == 3


def test_the_prices_page_of_another_month_is_empty(world, client):
    response = _get(client, world["admin"], "audits:prices", month="2026-08")
    assert response.context["rows"] == []
    assert 'data-testid="no-prices"' in response.content.decode()
    assert "audit-chart-data" not in response.content.decode()


def test_a_bad_month_shows_the_latest_month_with_prices(world, client):
    response = _get(client, world["admin"], "audits:prices", month="2026-13")
    assert response.status_code == 200
    assert response.context["month"] == NOV


def test_without_a_month_the_reports_open_on_the_latest_month_seen_in_scope(
    world, client, make_user, areas
):
    # given November's prices (and October's) and nothing since
    for name in ("audits:prices", "audits:shelves"):
        response = _get(client, world["sup_th"], name)
        # then the page shows November, not an empty current month
        assert response.context["month"] == NOV
        assert response.context["rows"]
    # a person whose shops were never audited sees this month
    sup_sz = make_user(Role.SUPERVISOR, [areas["SZ"]], username="sup_sz")
    response = _get(client, sup_sz, "audits:prices")
    assert response.context["month"] == timezone.localdate().replace(day=1)
    assert response.context["rows"] == []


def test_the_product_page_lists_the_shops_above_in_scope(world, client, django_assert_num_queries):
    client.force_login(world["sup_th"])
    with django_assert_num_queries(PAGE_QUERIES["product"]):
        response = client.get(reverse("audits:price_product", args=["P1"]), {"month": "2026-11"})
    rows = list(response.context["rows"])
    assert [r.customer.customer_code for r in rows] == [
        world["c_th3"].customer_code,
        world["c_th2"].customer_code,
    ]
    assert response.context["trend"][-1]["observations"] == 3
    # the chart has twelve months; the table only those with a price seen (October, November)
    assert len(response.context["trend"]) == 12
    table = response.content.decode().split('data-testid="trend-table"')[1].split("</table>")[0]
    assert table.count("<tr data-month=") == 2
    assert 'data-month="2026-10"' in table and 'data-month="2026-11"' in table


def test_the_product_page_exports_its_shops_above_as_csv(world, client):
    response = _get(
        client, world["am_th"], "audits:price_product", "P1", month="2026-11", format="csv"
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 2  # the header and c_th3 (am_th's only shop above)
    assert world["c_th3"].customer_code in lines[1] and "280.00" in lines[1]


def test_an_unknown_product_is_not_found(world, client):
    assert _get(client, world["admin"], "audits:price_product", "NOPE").status_code == 404


def test_the_shelves_page(world, client, django_assert_num_queries):
    client.force_login(world["admin"])
    with django_assert_num_queries(PAGE_QUERIES["shelves"]):
        response = client.get(reverse("audits:shelves"), {"month": "2026-11"})
    assert response.context["rows"][0]["share"] == 0.3333
    assert 'data-figure="share">33%' in response.content.decode()


def test_the_missing_key_brands_page(world, client, django_assert_num_queries, areas):
    client.force_login(world["sup_gz"])
    with django_assert_num_queries(PAGE_QUERIES["missing"]):
        response = client.get(reverse("audits:shelves_missing"), {"month": "2026-11", "area": "TH"})
    assert [r.customer_id for r in response.context["rows"]] == [world["c_th2"].pk]


def test_the_pages_show_in_chinese(world, client):
    client.force_login(world["admin"])
    response = client.get(
        reverse("audits:prices"), {"month": "2026-11"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "零售价格监测" in response.content.decode()


def test_the_nav_has_the_audits_entry_for_field_roles(world, client):
    client.force_login(world["am_th"])
    assert reverse("audits:prices") in client.get(reverse("home")).content.decode()


PAGE_QUERIES = {"prices": 8, "product": 10, "shelves": 6, "missing": 9}
