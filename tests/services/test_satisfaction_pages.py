"""The supervisors' satisfaction page and its export, on a hand-made case: the table cells, the
total row, the chart figures, the period and area filters, and who may see it."""

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.choices import Role
from tests.customers.factories import make_customer
from tests.services.factories import closed_request

TODAY = dt.date(2026, 5, 20)
URL = "/services/satisfaction/"
EXPORT = "/services/satisfaction/export/"
SIX_MONTHS = ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr("services.views.satisfaction._today", lambda: TODAY)
    return TODAY


@pytest.fixture
def case(customer_world, areas, make_user, today):
    """TH: two requests closed this month (May) rated 4 and 5; YX: one closed in April rated
    2, and one in October 2025 rated 1 (only in the 12-month view); SZ (outside GZ): one
    rated 1 in May."""
    w = customer_world
    closed_request(w["c_th"], w["am_th"], 4, at(dt.date(2026, 5, 3)))
    closed_request(w["c_th2"], w["am_th2"], 5, at(dt.date(2026, 5, 19)))
    closed_request(w["c_yx"], w["am_yx"], 2, at(dt.date(2026, 4, 30), 23))
    closed_request(w["c_yx"], w["am_yx"], 1, at(dt.date(2025, 10, 8)))
    am_sz = make_user(Role.ACCOUNT_MANAGER, [areas["SZ"]], username="am_sz")
    closed_request(make_customer(areas["SZ"], am_sz), am_sz, 1, at(dt.date(2026, 5, 4)))
    return w


def row_cells(html: str, marker: str) -> dict[str, str]:
    """The cells of the table row holding `marker`, by their data-month."""
    start = html.index(marker)
    row = html[start : html.index("</tr>", start)]
    cells = {}
    for part in row.split('data-month="')[1:]:
        month, rest = part.split('"', 1)
        cells[month] = " ".join(rest[rest.index(">") + 1 : rest.index("</td>")].split())
    return cells


def chart_data(html: str) -> dict:
    start = html.index('id="satisfaction-chart-data"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def test_url_names(db):
    assert reverse("services:satisfaction") == URL
    assert reverse("services:satisfaction_export") == EXPORT


def test_table_cells_and_total_row_of_the_hand_made_case(client, case):
    client.force_login(case["sup_gz"])
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    th = row_cells(html, 'data-area="TH"')
    assert list(th) == [*SIX_MONTHS, "period"]
    assert th["2026-05"] == "4.5 (2)"
    assert th["2026-04"] == "—"
    assert th["period"] == "4.5 (2)"
    yx = row_cells(html, 'data-area="YX"')
    assert yx["2026-04"] == "2.0 (1)"  # closed at 23:00 on 30 April, Beijing time
    assert yx["2026-05"] == "—"
    assert yx["period"] == "2.0 (1)"
    total = row_cells(html, 'data-testid="satisfaction-total"')
    assert total["2026-05"] == "4.5 (2)"
    assert total["2026-04"] == "2.0 (1)"
    assert total["2025-12"] == "—"
    # The mean of every rating: (4 + 5 + 2) / 3. SZ lies outside the supervisor's areas.
    assert total["period"] == "3.67 (3)"
    assert 'data-area="SZ"' not in html
    assert 'data-area="GZ"' not in html


def test_chart_figures(client, case):
    client.force_login(case["sup_gz"])
    html = client.get(URL).content.decode()
    data = chart_data(html)
    assert data["labels"] == SIX_MONTHS
    assert data["series"] == [
        {"label": "TH 天河区", "data": [None, None, None, None, None, 4.5]},
        {"label": "YX 越秀区", "data": [None, None, None, None, 2.0, None]},
    ]
    assert data["total"] == [None, None, None, None, 2.0, 4.5]
    assert data["scores"] == ["1", "2", "3", "4", "5"]
    assert data["counts"] == [0, 1, 0, 1, 1]
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/services_satisfaction.js" in html
    # The words of the chart come from the template.
    assert 'data-label-total="All areas"' in html


def test_period_choice(client, case):
    client.force_login(case["sup_gz"])
    response = client.get(URL, {"months": 12})
    yx = row_cells(response.content.decode(), 'data-area="YX"')
    assert len(yx) == 13
    assert yx["2025-10"] == "1.0 (1)"
    assert yx["period"] == "1.5 (2)"
    html = client.get(URL, {"months": 3}).content.decode()
    assert list(row_cells(html, 'data-area="TH"')) == ["2026-03", "2026-04", "2026-05", "period"]
    # Anything else falls back to six months.
    assert client.get(URL, {"months": "7"}).context["months"] == 6
    assert client.get(URL, {"months": "x"}).context["months"] == 6


def test_area_filter(client, case):
    client.force_login(case["sup_gz"])
    response = client.get(URL, {"area": "TH"})
    html = response.content.decode()
    assert response.context["area"].code == "TH"
    assert [a.code for a in response.context["areas"]] == ["GZ", "TH", "YX"]
    assert 'data-area="YX"' not in html
    total = row_cells(html, 'data-testid="satisfaction-total"')
    assert total["period"] == "4.5 (2)"
    assert chart_data(html)["counts"] == [0, 0, 0, 1, 1]
    # The period links keep the area.
    assert 'href="?months=12&amp;area=TH"' in html
    # The city holds both districts; an area outside the user's scope is ignored.
    assert client.get(URL, {"area": "GZ"}).context["summary"].total.overall.count == 3
    response = client.get(URL, {"area": "SZ"})
    assert response.context["area"] is None
    assert response.context["summary"].total.overall.count == 3


def test_supervisor_of_one_district_sees_it_alone_without_area_filter(client, case):
    client.force_login(case["sup_th"])
    response = client.get(URL, {"area": "YX"})
    html = response.content.decode()
    assert response.context["areas"] == []
    assert 'id="id_area"' not in html
    assert 'data-area="TH"' in html
    assert 'data-area="YX"' not in html


def test_administrator_sees_every_area(client, case):
    client.force_login(case["admin"])
    html = client.get(URL).content.decode()
    assert row_cells(html, 'data-area="SZ"')["2026-05"] == "1.0 (1)"
    assert row_cells(html, 'data-testid="satisfaction-total"')["2026-05"] == "3.33 (3)"


def test_no_rating_in_the_period(client, customer_world, today):
    client.force_login(customer_world["sup_th"])
    response = client.get(URL)
    html = response.content.decode()
    assert 'data-testid="satisfaction-empty"' in html
    assert "satisfaction-chart-data" not in html
    assert "chart.umd.min.js" not in html


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_forbidden_to_account_managers_and_licence_officers(client, case, who):
    client.force_login(case[who])
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT, {"format": "csv"}).status_code == 403


def test_anonymous_users_sign_in_first(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_query_count_does_not_grow_with_requests(client, case, django_assert_max_num_queries):
    client.force_login(case["sup_gz"])
    client.get(URL)
    with django_assert_max_num_queries(12):
        client.get(URL)
    for n in range(3):
        closed_request(case["c_th"], case["am_th"], 3, at(dt.date(2026, 3, 1 + n)))
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert row_cells(response.content.decode(), 'data-area="TH"')["2026-03"] == "3.0 (3)"


# --- export ------------------------------------------------------------------------------


def test_csv_export_of_the_table(client, case):
    client.force_login(case["sup_gz"])
    response = client.get(EXPORT, {"format": "csv", "months": 3})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="satisfaction-2026-05-3m.csv"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Area code",
        "Area",
        "2026-03 average",
        "2026-03 rated",
        "2026-04 average",
        "2026-04 rated",
        "2026-05 average",
        "2026-05 rated",
        "Period average",
        "Period rated",
    ]
    assert rows[1] == ["TH", "天河区", "", "0", "", "0", "4.5", "2", "4.5", "2"]
    assert rows[2] == ["YX", "越秀区", "", "0", "2.0", "1", "", "0", "2.0", "1"]
    assert rows[3] == ["", "Total", "", "0", "2.0", "1", "4.5", "2", "3.67", "3"]
    assert len(rows) == 4


def test_xlsx_export_follows_the_area_filter(client, case):
    client.force_login(case["sup_gz"])
    response = client.get(EXPORT, {"format": "xlsx", "area": "TH"})
    assert response.status_code == 200
    assert 'filename="satisfaction-2026-05-6m-TH.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ["Area code", "Area"]
    assert len(rows[0]) == 2 + 2 * 6 + 2
    assert rows[1][0] == "TH"
    assert rows[1][-2:] == [4.5, 2]
    assert rows[2][1] == "Total"
    assert rows[2][-2:] == [4.5, 2]
    assert len(rows) == 3


def test_export_links_keep_the_filters(client, case):
    client.force_login(case["sup_gz"])
    html = client.get(URL, {"months": 3, "area": "YX"}).content.decode()
    assert f"{EXPORT}?months=3&amp;area=YX&amp;format=csv" in html
    assert f"{EXPORT}?months=3&amp;area=YX&amp;format=xlsx" in html
