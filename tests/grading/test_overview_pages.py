"""The grading overview and its export through Django's test client.

Results are written directly (with the active scheme) for two months, so every number the
page shows can be checked by hand:

    customer  area  account manager  2025-02  2025-03
    c_th      TH    am_th            3        2          up
    c_th2     TH    am_th2           2        4          down
    c_yx      YX    am_yx            5        5          same
    c_th3     TH    am_th            4        4          same (computed 6, approved override 4)
    c_new     TH    am_th            —        8          new
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
from grading.choices import GradeBasis, OverrideStatus, SchemeKind
from grading.models import GradeOverride, GradeResult
from grading.services import scheme_activate, scheme_active, scheme_create_draft
from tests.customers.factories import make_customer

FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)
URL = reverse("grading:overview")
EXPORT = reverse("grading:export")


def grade(customer, month, value, *, computed=None, category="CZ2", structure=5, **fields):
    """One stored result; the figures are plain made-up inputs."""
    fields.setdefault("avg_cartons", Decimal("120.00"))
    fields.setdefault("avg_price", Decimal("150.00"))
    return GradeResult.objects.create(
        customer=customer,
        month=month,
        scheme=scheme_active(),
        basis=GradeBasis.WINDOW,
        window="2024-12,2025-01,2025-02",
        months_used=3,
        avg_amount=fields["avg_cartons"] * (fields["avg_price"] or 0),
        quantity_pct=0.5,
        amount_pct=0.5,
        scale_score=0.5,
        group_size=4,
        computed_grade=computed or value,
        grade=value,
        business_scale="medium",
        category_code=category,
        price_band=3,
        structure_class=structure,
        **fields,
    )


@pytest.fixture
def graded(customer_world, areas):
    w = customer_world
    w["c_th3"] = make_customer(areas["TH"], w["am_th"], store_name="天河三号店")
    w["c_new"] = make_customer(areas["TH"], w["am_th"], store_name="天河新店")
    grade(w["c_th"], FEB, 3)
    grade(w["c_th2"], FEB, 2)
    grade(w["c_yx"], FEB, 5)
    grade(w["c_th3"], FEB, 4)
    grade(w["c_th"], MAR, 2, category="CZ1", structure=2, avg_cartons=Decimal("1100.00"))
    grade(w["c_th2"], MAR, 4, structure=7, avg_cartons=Decimal("350.00"))
    grade(w["c_yx"], MAR, 5, category="XB3", avg_cartons=Decimal("250.00"), avg_price=None)
    override = GradeOverride.objects.create(
        customer=w["c_th3"],
        month=MAR,
        computed_grade=6,
        grade=4,
        reason="新开商圈",
        status=OverrideStatus.APPROVED,
        proposed_by=w["sup_th"],
        decided_by=w["sup_th2"],
    )
    grade(w["c_th3"], MAR, 4, computed=6, override=override, avg_cartons=Decimal("150.00"))
    grade(w["c_new"], MAR, 8, category="CZ3", structure=10, avg_cartons=Decimal("10.00"))
    return w


def codes(response) -> list[str]:
    """Customer codes of the results table, in order."""
    return re.findall(r'<tr data-customer="([^"]+)"', response.content.decode())


def card(response, key: str) -> int:
    match = re.search(rf'data-count="{key}">(\d+)<', response.content.decode())
    return int(match[1])


def matrix_cell(response, before, after) -> int:
    for row in response.context["transitions"]["rows"]:
        if row["value"] == before:
            return next(cell["n"] for cell in row["cells"] if cell["value"] == after)
    raise AssertionError(f"no row {before}")


def test_overview_numbers_of_the_month(client, graded, django_assert_max_num_queries):
    client.force_login(graded["admin"])
    # (two of them: the area and account manager pickers' choices)
    with django_assert_max_num_queries(16):
        response = client.get(URL, {"month": "2025-03"})
    assert response.status_code == 200
    # then: the cards
    assert card(response, "total") == 5
    assert card(response, "up") == 1
    assert card(response, "down") == 1
    assert card(response, "same") == 2
    assert card(response, "new") == 1
    assert card(response, "overridden") == 1
    # the distributions: grades on a contiguous axis, only the codes and classes present
    rows = {d["key"]: dict(d["rows"]) for d in response.context["distributions"]}
    assert rows["grades"] == {
        "1": 0, "2": 1, "3": 0, "4": 2, "5": 1, "6": 0, "7": 0, "8": 1
    }  # fmt: skip
    assert rows["categories"] == {"CZ1": 1, "CZ2": 2, "CZ3": 1, "XB3": 1}
    assert rows["structures"] == {"2": 1, "5": 2, "7": 1, "10": 1}
    assert response.context["chart"]["categories"]["labels"] == ["CZ1", "CZ2", "CZ3", "XB3"]
    html = response.content.decode()
    assert 'id="grading-chart-data"' in html
    assert 'data-testid="distribution-grades"' in html  # the table fallback
    # the transition matrix: row = February's grade, column = March's
    assert matrix_cell(response, 3, 2) == 1  # c_th, left of the diagonal: an upgrade
    assert matrix_cell(response, 2, 4) == 1  # c_th2, a downgrade
    assert matrix_cell(response, 5, 5) == 1
    assert matrix_cell(response, 4, 4) == 1
    assert matrix_cell(response, None, 8) == 1  # c_new had no grade in February
    assert matrix_cell(response, 1, 1) == 0
    cell = next(
        c for r in response.context["transitions"]["rows"] if r["value"] == 3 for c in r["cells"]
    )
    assert cell["kind"] == "up"
    # the list: every customer, by code, with the override shown
    assert sorted(codes(response)) == sorted(
        graded[k].customer_code for k in ("c_th", "c_th2", "c_yx", "c_th3", "c_new")
    )
    assert html.count('data-testid="overridden"') == 1
    assert "computed 6" in html


def test_the_latest_month_is_the_default(client, graded):
    client.force_login(graded["admin"])
    response = client.get(URL)
    assert response.context["month"] == MAR
    assert '<option value="2025-02">' in response.content.decode()


def test_upgrade_and_downgrade_lists(client, graded):
    client.force_login(graded["admin"])
    html = client.get(URL, {"month": "2025-03"}).content.decode()
    assert "movement=up" in html and "movement=down" in html  # the quick links
    up = client.get(URL, {"month": "2025-03", "movement": "up"})
    assert codes(up) == [graded["c_th"].customer_code]
    assert card(up, "total") == 5  # the cards still count the whole month
    down = client.get(URL, {"month": "2025-03", "movement": "down"})
    assert codes(down) == [graded["c_th2"].customer_code]
    new = client.get(URL, {"month": "2025-03", "movement": "new"})
    assert codes(new) == [graded["c_new"].customer_code]
    overridden = client.get(URL, {"month": "2025-03", "movement": "overridden"})
    assert codes(overridden) == [graded["c_th3"].customer_code]


def test_the_previous_month_has_no_movements_before_it(client, graded):
    client.force_login(graded["admin"])
    response = client.get(URL, {"month": "2025-02"})
    assert card(response, "total") == 4
    assert card(response, "new") == 4
    assert card(response, "up") == 0


def test_a_change_of_scheme_is_neither_an_upgrade_nor_a_downgrade(client, graded, system_actor):
    # given: March regraded with a new scheme version (30 grades): c_th 3 → 10, c_th2 2 → 28,
    #        c_yx 5 → 1 are now numbers on another scale; c_new has no February grade
    w = graded
    GradeResult.objects.filter(month=MAR).delete()
    draft = scheme_create_draft(kind=SchemeKind.MATRIX, name="30 grades", actor=system_actor)
    scheme_activate(scheme=draft, actor=system_actor)
    grade(w["c_th"], MAR, 10)
    grade(w["c_th2"], MAR, 28)
    grade(w["c_yx"], MAR, 1)
    grade(w["c_new"], MAR, 30)
    client.force_login(w["admin"])
    # when
    response = client.get(URL, {"month": "2025-03"})
    # then
    assert card(response, "up") == 0
    assert card(response, "down") == 0
    assert card(response, "same") == 0
    assert card(response, "new") == 1
    assert card(response, "not_comparable") == 3
    assert matrix_cell(response, "other", 28) == 1
    assert matrix_cell(response, None, 30) == 1
    assert matrix_cell(response, 2, 28) == 0  # not in the row of February's grade 2
    assert response.content.decode().count('data-testid="other-scheme"') == 3
    down = client.get(URL, {"month": "2025-03", "movement": "down"})
    assert codes(down) == []
    other = client.get(URL, {"month": "2025-03", "movement": "not_comparable"})
    assert sorted(codes(other)) == sorted(w[k].customer_code for k in ("c_th", "c_th2", "c_yx"))


def test_account_manager_sees_only_their_customers(client, graded):
    client.force_login(graded["am_th"])
    response = client.get(URL, {"month": "2025-03"})
    assert sorted(codes(response)) == sorted(
        graded[k].customer_code for k in ("c_th", "c_th3", "c_new")
    )
    assert card(response, "total") == 3
    assert card(response, "down") == 0
    assert graded["c_yx"].customer_code not in response.content.decode()


def test_supervisor_never_sees_another_area_also_not_in_the_export(client, graded):
    client.force_login(graded["sup_th"])
    response = client.get(URL, {"month": "2025-03"})
    assert card(response, "total") == 4
    assert graded["c_yx"].customer_code not in response.content.decode()
    # asking for the other area by filter finds nothing
    assert codes(client.get(URL, {"month": "2025-03", "area": "YX"})) == []
    export = client.get(EXPORT, {"month": "2025-03", "format": "csv"})
    data = b"".join(export.streaming_content).decode("utf-8-sig")
    assert graded["c_yx"].customer_code not in data
    assert graded["c_th2"].customer_code in data


def test_filters_by_area_and_account_manager(client, graded):
    client.force_login(graded["admin"])
    yx = client.get(URL, {"month": "2025-03", "area": "YX"})
    assert codes(yx) == [graded["c_yx"].customer_code]
    assert card(yx, "total") == 1  # the summary follows the population filters
    assert 'value="YX"' in yx.content.decode()  # kept in the form
    assert "area=YX" in yx.content.decode()  # and in the links
    gz = client.get(URL, {"month": "2025-03", "area": "GZ"})  # GZ holds TH and YX
    assert card(gz, "total") == 5
    am = client.get(URL, {"month": "2025-03", "account_manager": "AM_TH2"})
    assert codes(am) == [graded["c_th2"].customer_code]
    grade_4 = client.get(URL, {"month": "2025-03", "grade": "4"})
    assert sorted(codes(grade_4)) == sorted(
        [graded["c_th2"].customer_code, graded["c_th3"].customer_code]
    )


def test_sorting(client, graded):
    client.force_login(graded["admin"])
    response = client.get(URL, {"month": "2025-03", "ordering": "-avg_cartons"})
    assert codes(response)[:2] == [graded["c_th"].customer_code, graded["c_th2"].customer_code]
    assert "ordering=-avg_cartons" not in response.context["sort_query"]


def test_the_list_paginates_with_a_fixed_number_of_queries(
    client, graded, areas, django_assert_max_num_queries
):
    for _i in range(25):
        grade(make_customer(areas["TH"], graded["am_th"]), MAR, 7)
    client.force_login(graded["sup_gz"])
    # the area filter reads the area tree once for the summary and once for the list; the
    # area and account manager pickers read their choices; one more reads the month's
    # publication
    with django_assert_max_num_queries(19):
        first = client.get(URL, {"month": "2025-03", "area": "TH"})
    assert len(codes(first)) == 25
    assert card(first, "total") == 29
    second = client.get(URL, {"month": "2025-03", "area": "TH", "page": "2"})
    assert len(codes(second)) == 4


def test_unknown_month_is_a_friendly_empty_state(client, graded):
    client.force_login(graded["admin"])
    for month in ("2019-01", "2025-13", "nonsense"):
        response = client.get(URL, {"month": month})
        assert response.status_code == 200
        assert 'data-testid="unknown-month"' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "told_to_start"), [(Role.ADMINISTRATOR, True), (Role.SUPERVISOR, False)]
)
def test_empty_state_before_the_first_run(client, make_user, areas, role, told_to_start):
    client.force_login(make_user(role, [areas["TH"]]))
    html = client.get(URL).content.decode()
    assert 'data-testid="no-grades"' in html
    assert ('data-testid="start-run-link"' in html) is told_to_start
    if not told_to_start:
        assert "Grades appear here after the monthly run." in html


def test_tabs_show_runs_to_administrators_only(client, graded):
    client.force_login(graded["sup_th"])
    assert reverse("grading:runs") not in client.get(URL).content.decode()
    client.force_login(graded["admin"])
    assert reverse("grading:runs") in client.get(URL).content.decode()


def test_export_csv(client, graded):
    client.force_login(graded["admin"])
    response = client.get(EXPORT, {"month": "2025-03", "format": "csv", "movement": "up"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="grades-2025-03.csv"' in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:8] == [
        "Customer code",
        "Store name",
        "Area code",
        "Account manager",
        "Grade month",
        "Grade",
        "Computed grade",
        "Previous grade",
    ]
    assert len(rows) == 2  # only the upgrade
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Customer code"] == graded["c_th"].customer_code
    assert row["Store name"] == "天河一号店"
    assert row["Area code"] == "TH"
    assert row["Account manager"] == "am_th"
    assert row["Grade month"] == "2025-03"
    assert (row["Grade"], row["Computed grade"], row["Previous grade"]) == ("2", "2", "3")
    assert row["Basis"] == "Reference window"
    assert row["Window months"] == "2024-12,2025-01,2025-02"
    assert row["Monthly average cartons"] == "1100.00"
    assert row["Business scale"] == "Medium"
    assert row["Category code"] == "CZ1"
    assert row["Structure class"] == "2"
    assert row["Scheme version"] == str(scheme_active().version)


def test_export_xlsx(client, graded):
    client.force_login(graded["am_th"])
    response = client.get(EXPORT, {"month": "2025-03", "format": "xlsx", "ordering": "grade"})
    assert 'filename="grades-2025-03.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.values)
    header, body = rows[0], rows[1:]
    assert [r[0] for r in body] == [
        graded["c_th"].customer_code,
        graded["c_th3"].customer_code,
        graded["c_new"].customer_code,
    ]
    overridden = dict(zip(header, body[1], strict=True))
    assert (overridden["Grade"], overridden["Computed grade"]) == (4, 6)  # numbers, not text
    assert overridden["Previous grade"] == 4
    new = dict(zip(header, body[2], strict=True))
    assert new["Previous grade"] is None
    assert new["Monthly average cartons"] == 10


def test_export_of_an_unknown_month_is_a_header_only_file(client, graded):
    client.force_login(graded["admin"])
    response = client.get(EXPORT, {"month": "2020-01"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1
    assert client.get(EXPORT, {"month": "bad"}).status_code == 404


def test_overview_and_export_refuse_anonymous_users(client, graded):
    assert client.get(URL).status_code == 302
    assert client.get(EXPORT).status_code == 302


def test_each_transition_cell_opens_the_customers_it_counts(client, graded):
    """Every counted cell of the matrix links to the overview's list narrowed to its customers
    (grade now, grade the month before or none), keeping the page's area; the list's count is
    the cell's."""
    client.force_login(graded["sup_gz"])
    response = client.get(URL, {"month": "2025-03", "area": "TH"})
    cells = [
        (row["value"], cell) for row in response.context["transitions"]["rows"]
        for cell in row["cells"] if cell["n"]
    ]  # fmt: skip
    assert sorted((before or 0, cell["value"]) for before, cell in cells) == [
        (0, 8), (2, 4), (3, 2), (4, 4)
    ]  # fmt: skip
    html = response.content.decode()
    for before, cell in cells:
        assert f'href="?{cell["query"].replace("&", "&amp;")}#results"' in html
        listed = client.get(f"{URL}?{cell['query']}")
        assert "area=TH" in cell["query"]
        assert (
            int(re.search(r'data-testid="result-count">(\d+)<', listed.content.decode())[1])
            == (cell["n"])
        ), (before, cell["value"])
    # c_th went from 3 to 2: the cell lists it alone, and says which cell it is
    upgrade = next(cell for before, cell in cells if before == 3)
    listed = client.get(f"{URL}?{upgrade['query']}")
    assert codes(listed) == [graded["c_th"].customer_code]
    assert "Grade 3 → 2" in listed.content.decode()


def test_the_overview_filters_pick_areas_and_account_managers_in_scope(client, graded):
    client.force_login(graded["sup_th"])
    html = client.get(URL, {"month": "2025-03"}).content.decode()
    area = re.search(r'<select id="id_area" name="area".*?</select>', html, re.S)[0]
    assert re.findall(r'<option value="(\w+)"', area) == ["TH"]
    managers = re.search(r'<select id="id_account_manager".*?</select>', html, re.S)[0]
    assert re.findall(r'<option value="(\w+)"', managers) == ["am_th", "am_th2"]
