"""The supervisors' coverage page, its drill-down and export, and the visit panels of the
home page. The figures are checked on a hand-made case, through the selector and the page."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.choices import AuditSource, Role
from crm.services import Actor
from customers.choices import ValueTier
from customers.models import CustomerSystem
from tests.customers.factories import make_customer
from visits import selectors
from visits.models import FollowUp, PlannedVisit
from visits.services import visit_log

TODAY = dt.date(2025, 6, 18)  # a Wednesday
# Working days (Monday to Friday) from 2025-05-20 (a Tuesday) to TODAY, the 30 days of the
# default period: four whole weeks (20) and Tuesday 17 and Wednesday 18 June (2).
WORK_DAYS_30 = 22


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """`hour` o'clock on `day`; a minute ago when that is still ahead (today, just after
    midnight: a visit cannot be logged in the future)."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    return min(moment, timezone.now() - dt.timedelta(minutes=1))


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def log(customer, user, day: dt.date, follow_ups=()):
    return visit_log(
        customer=customer,
        data={"visited_at": at(day), "visit_type": "routine", "purpose": "巡店"},
        actor=Actor.of(user, AuditSource.PAGE),
        follow_ups=follow_ups,
    )


@pytest.fixture
def today(monkeypatch):
    """The pages compute their figures for TODAY."""
    monkeypatch.setattr("visits.views.coverage._today", lambda: TODAY)
    return TODAY


@pytest.fixture
def case(areas, make_user):
    """One account manager with four customers:

    - weekly, visited 3 days ago: within its cycle;
    - weekly, visited 8 days ago: not;
    - monthly but of potential value (one step shorter: fortnightly), visited 20 days ago:
      not (monthly, it would be);
    - no cycle (monthly), never visited, its planned visit two days overdue: not.

    Three visits in the last 30 days (and one 35 days ago), one overdue follow-up.
    """
    am = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_case", name="张伟")
    sup = make_user(Role.SUPERVISOR, [areas["TH"]], username="sup_case")
    weekly_in = make_customer(areas["TH"], am, visit_cycle="weekly", store_name="每周甲店")
    weekly_out = make_customer(areas["TH"], am, visit_cycle="weekly", store_name="每周乙店")
    boosted = make_customer(areas["TH"], am, visit_cycle="monthly", store_name="潜力店")
    CustomerSystem.objects.filter(customer=boosted).update(value_tier=ValueTier.POTENTIAL)
    never = make_customer(areas["TH"], am, store_name="未访店")
    log(weekly_in, am, days_ago(35))
    log(weekly_in, am, days_ago(3))
    log(weekly_out, am, days_ago(8))
    log(
        boosted,
        am,
        days_ago(20),
        follow_ups=[
            {"action": "补货跟进", "due_date": days_ago(8), "owner": am},  # overdue
            {"action": "回访", "due_date": TODAY + dt.timedelta(days=7), "owner": am},
        ],
    )
    PlannedVisit.objects.create(customer=never, planned_for=days_ago(2), cycle_days=30)
    return {
        "am": am,
        "sup": sup,
        "weekly_in": weekly_in,
        "weekly_out": weekly_out,
        "boosted": boosted,
        "never": never,
    }


def line_of(html: str, username: str) -> str:
    start = html.index(f'data-manager="{username}"')
    return html[start : html.index("</tr>", start)]


def cell(row_html: str, col: str) -> str:
    start = row_html.index(f'data-col="{col}"')
    start = row_html.index(">", start) + 1
    text = row_html[start : row_html.index("</td>", start)]
    while "<" in text:  # strip tags
        a = text.index("<")
        text = text[:a] + text[text.index(">", a) + 1 :]
    return " ".join(text.split())


# --- figures -----------------------------------------------------------------------------


def test_coverage_figures_of_the_hand_made_case(case):
    [line] = selectors.coverage(user=case["sup"], today=TODAY, period_days=30)
    assert line.manager == case["am"]
    assert line.customers == 4
    assert line.in_cycle == 1
    assert line.share == 25.0
    assert line.overdue == 1
    assert line.visits == 3
    assert line.visits_per_day == pytest.approx(3 / WORK_DAYS_30)
    assert line.follow_ups_overdue == 1


def test_a_seven_day_period_counts_the_last_week_only(case):
    [line] = selectors.coverage(user=case["sup"], today=TODAY, period_days=7)
    # 12 to 18 June: Thursday, Friday, Monday, Tuesday, Wednesday; one visit (15 June).
    assert line.visits == 1
    assert line.visits_per_day == pytest.approx(1 / 5)


def test_coverage_customers_of_the_hand_made_case(case):
    rows = {
        row.customer_code: row
        for row in selectors.coverage_customers(
            user=case["sup"], today=TODAY, account_manager=case["am"]
        )
    }
    weekly_in = rows[case["weekly_in"].customer_code]
    assert (weekly_in.cycle, weekly_in.last_visit, weekly_in.in_cycle) == (
        "weekly",
        days_ago(3),
        True,
    )
    assert weekly_in.next_due == TODAY + dt.timedelta(days=4)
    assert rows[case["weekly_out"].customer_code].in_cycle is False
    boosted = rows[case["boosted"].customer_code]
    assert (boosted.cycle, boosted.cycle_days, boosted.boosted) == ("fortnightly", 14, True)
    assert boosted.in_cycle is False  # 20 days ago; on its monthly cycle it would be in
    never = rows[case["never"].customer_code]
    assert (never.cycle, never.last_visit, never.in_cycle) == ("monthly", None, False)
    assert never.overdue_since == days_ago(2)


def test_coverage_page_shows_the_figures(client, case, today):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage"))
    assert response.status_code == 200
    html = response.content.decode()
    row = line_of(html, "am_case")
    assert reverse("visits:coverage_detail", args=["am_case"]) in row
    assert cell(row, "customers") == "4"
    assert 'data-share="25.0"' in row
    assert "bg-danger" in row  # 25 percent is below the amber level
    assert cell(row, "overdue") == "1"
    assert cell(row, "visits") == "3"
    assert cell(row, "per-day") == "0.1"  # 3 / 22
    assert cell(row, "follow-ups") == "1"
    totals = html[html.index('data-testid="coverage-totals"') :]
    assert cell(totals, "customers") == "4"
    assert 'data-share="25.0"' in totals
    chart = response.context["chart"]
    assert chart == {"labels": ["张伟"], "shares": [25.0], "levels": ["danger"]}
    assert 'id="coverage-chart-data"' in html
    assert "js/visits_coverage.js" in html


def test_coverage_page_period_selector(client, case, today):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage"), {"period": 7})
    row = line_of(response.content.decode(), "am_case")
    assert cell(row, "visits") == "1"
    assert cell(row, "per-day") == "0.2"
    assert response.context["period"] == 7
    # Anything but 7, 30 or 90 falls back to 30.
    assert client.get(reverse("visits:coverage"), {"period": "365"}).context["period"] == 30


def test_coverage_page_without_managers_says_so(client, make_user, areas):
    client.force_login(make_user(Role.SUPERVISOR, [areas["SZ"]]))
    html = client.get(reverse("visits:coverage")).content.decode()
    assert 'data-testid="coverage-empty"' in html
    assert "visits_coverage.js" not in html


# --- permissions and scope -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_coverage_pages_are_for_supervisors_and_administrators(client, customer_world, who):
    client.force_login(customer_world[who])
    assert client.get(reverse("visits:coverage")).status_code == 403
    assert client.get(reverse("visits:coverage_detail", args=["am_th"])).status_code == 403
    assert client.get(reverse("visits:coverage_export"), {"format": "csv"}).status_code == 403


def test_anonymous_users_go_to_the_login_page(client, db):
    response = client.get(reverse("visits:coverage"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_supervisor_sees_the_managers_of_their_areas_only(client, customer_world):
    client.force_login(customer_world["sup_th"])
    html = client.get(reverse("visits:coverage")).content.decode()
    assert 'data-manager="am_th"' in html
    assert 'data-manager="am_th2"' in html
    assert 'data-manager="am_yx"' not in html
    client.force_login(customer_world["admin"])
    html = client.get(reverse("visits:coverage")).content.decode()
    for username in ("am_th", "am_th2", "am_yx"):
        assert f'data-manager="{username}"' in html


def test_area_filter_for_those_who_see_several_areas(client, customer_world):
    client.force_login(customer_world["sup_gz"])
    response = client.get(reverse("visits:coverage"), {"area": "YX"})
    html = response.content.decode()
    assert 'id="id_area"' in html
    assert 'data-manager="am_yx"' in html
    assert 'data-manager="am_th"' not in html
    # A supervisor of one area gets no area filter.
    client.force_login(customer_world["sup_th"])
    assert 'id="id_area"' not in client.get(reverse("visits:coverage")).content.decode()


def test_drill_down_is_404_outside_scope(client, customer_world):
    client.force_login(customer_world["sup_th"])
    assert client.get(reverse("visits:coverage_detail", args=["am_th"])).status_code == 200
    assert client.get(reverse("visits:coverage_detail", args=["am_yx"])).status_code == 404
    assert client.get(reverse("visits:coverage_detail", args=["sup_th2"])).status_code == 404
    assert client.get(reverse("visits:coverage_detail", args=["nobody"])).status_code == 404
    response = client.get(reverse("visits:coverage_export"), {"am": "am_yx", "format": "csv"})
    assert response.status_code == 404


def test_settings_link_only_for_administrators(client, customer_world):
    client.force_login(customer_world["sup_th"])
    html = client.get(reverse("visits:coverage")).content.decode()
    assert 'data-testid="visit-settings-link"' not in html
    client.force_login(customer_world["admin"])
    html = client.get(reverse("visits:coverage")).content.decode()
    assert 'data-testid="visit-settings-link"' in html
    assert reverse("visits:settings") in html


# --- drill-down ----------------------------------------------------------------------------


def test_drill_down_lists_the_customers_with_their_cycle(client, case, today):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage_detail", args=["am_case"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert [tab[2] for tab in response.context["tabs"]] == [4, 3, 1]
    boosted = line_of_customer(html, case["boosted"].customer_code)
    assert 'data-boosted="true"' in boosted
    assert "Fortnightly" in boosted
    assert days_ago(20).isoformat() in cell(boosted, "last-visit")
    assert cell(boosted, "in-cycle") == "no"
    weekly_in = line_of_customer(html, case["weekly_in"].customer_code)
    assert cell(weekly_in, "in-cycle") == "yes"
    assert cell(weekly_in, "next-due") == (TODAY + dt.timedelta(days=4)).isoformat()
    never = line_of_customer(html, case["never"].customer_code)
    assert cell(never, "last-visit") == "Never"
    assert cell(never, "overdue-since") == days_ago(2).isoformat()
    # The manager's overdue follow-up, and the way to their agenda.
    follow_ups = html[html.index('data-testid="coverage-follow-ups"') :]
    assert "补货跟进" in follow_ups
    assert "回访" not in follow_ups
    assert f"{reverse('visits:agenda')}?am=am_case" in html


def line_of_customer(html: str, code: str) -> str:
    start = html.index(f'data-customer="{code}"')
    return html[start : html.index("</tr>", start)]


@pytest.mark.parametrize(
    ("show", "expected"),
    [("out", {"weekly_out", "boosted", "never"}), ("overdue", {"never"}), ("junk", None)],
)
def test_drill_down_tabs(client, case, today, show, expected):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage_detail", args=["am_case"]), {"show": show})
    codes = {item["row"].customer_code for item in response.context["customers"]}
    keys = expected or {"weekly_in", "weekly_out", "boosted", "never"}
    assert codes == {case[key].customer_code for key in keys}


def test_drill_down_paginates_by_50(client, areas, make_user):
    am = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_many")
    sup = make_user(Role.SUPERVISOR, [areas["TH"]])
    for _ in range(51):
        make_customer(areas["TH"], am)
    client.force_login(sup)
    url = reverse("visits:coverage_detail", args=["am_many"])
    first = client.get(url, {"show": "out"})
    assert len(first.context["customers"]) == 50
    assert "page=2" in first.content.decode()
    assert "show=out" in first.context["query_string"]
    assert len(client.get(url, {"show": "out", "page": 2}).context["customers"]) == 1


# --- query counts ----------------------------------------------------------------------------


def test_coverage_page_query_count_does_not_grow(
    client, case, today, areas, make_user, django_assert_num_queries
):
    client.force_login(case["sup"])
    url = reverse("visits:coverage")
    client.get(url)  # warm caches (content types, the settings row)
    # session, user, unread notifications, areas in scope (the user's areas, the area tree),
    # settings row, managers, the customers' figures per manager (one aggregate), visits in
    # the period, overdue follow-ups, areas of the filter
    with django_assert_num_queries(11):
        client.get(url)
    other = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_other")
    for _ in range(3):
        customer = make_customer(areas["TH"], other)
        log(customer, other, days_ago(1))
    with django_assert_num_queries(11):
        response = client.get(url)
    assert len(response.context["rows"]) == 2


def test_drill_down_query_count_does_not_grow(
    client, case, today, areas, django_assert_num_queries
):
    client.force_login(case["sup"])
    url = reverse("visits:coverage_detail", args=["am_case"])
    client.get(url)
    # session, user, unread notifications, user's areas, area tree, manager, settings row,
    # customers, last visits, overdue plans, overdue follow-ups
    with django_assert_num_queries(11):
        client.get(url)
    for _ in range(3):
        customer = make_customer(areas["TH"], case["am"])
        log(
            customer,
            case["am"],
            days_ago(10),
            follow_ups=[{"action": "跟进", "due_date": days_ago(5), "owner": case["am"]}],
        )
    with django_assert_num_queries(11):
        response = client.get(url)
    assert len(response.context["customers"]) == 7
    assert len(response.context["follow_ups"]) == 4


# --- export --------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_of_the_manager_table(client, case, today):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage_export"), {"format": "csv", "period": 30})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[:5] == [
        "Username",
        "Account manager",
        "Customers",
        "Visited within cycle",
        "Share visited within cycle (percent)",
    ]
    assert rows == [["am_case", "张伟", "4", "1", "25.0", "1", "3", "0.14", "1"]]


def test_export_of_a_managers_customers(client, case, today):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage_export"), {"format": "csv", "am": "am_case"})
    header, *rows = csv_rows(response)
    assert header[0] == "Customer code"
    by_code = {row[0]: row for row in rows}
    assert len(by_code) == 4
    assert by_code[case["boosted"].customer_code][2:6] == [
        "Fortnightly",
        "14",
        "yes",
        days_ago(20).isoformat(),
    ]
    assert by_code[case["weekly_in"].customer_code][7] == "yes"
    assert by_code[case["never"].customer_code][5:] == [
        "",
        TODAY.isoformat(),
        "no",
        days_ago(2).isoformat(),
    ]
    # The tab narrows the export as it narrows the page.
    response = client.get(
        reverse("visits:coverage_export"), {"format": "csv", "am": "am_case", "show": "overdue"}
    )
    assert [row[0] for row in csv_rows(response)[1:]] == [case["never"].customer_code]


def test_export_as_xlsx(client, case, today):
    client.force_login(case["sup"])
    response = client.get(reverse("visits:coverage_export"), {"format": "xlsx"})
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Username"
    assert rows[1][:5] == ("am_case", "张伟", 4, 1, 25.0)


def test_export_is_scoped(client, customer_world):
    client.force_login(customer_world["sup_th"])
    response = client.get(reverse("visits:coverage_export"), {"format": "csv"})
    usernames = [row[0] for row in csv_rows(response)[1:]]
    assert usernames == ["am_th", "am_th2"]


# --- home page -----------------------------------------------------------------------------


def test_supervisor_home_shows_the_coverage_of_the_team(client, customer_world):
    log(customer_world["c_th"], customer_world["am_th"], timezone.localdate())
    client.force_login(customer_world["sup_th"])
    html = client.get(reverse("home")).content.decode()
    panel = html[html.index('data-testid="home-visit-coverage"') :]
    assert reverse("visits:coverage") in panel
    th = panel[panel.index('data-manager="am_th"') :]
    assert reverse("visits:coverage_detail", args=["am_th"]) in th
    assert 'data-share="100.0"' in th[: th.index("</li>")]
    assert 'data-manager="am_yx"' not in panel


def test_account_manager_home_shows_today(client, customer_world):
    am, customer = customer_world["am_th"], customer_world["c_th"]
    today_ = timezone.localdate()
    visit = log(
        customer,
        am,
        today_ - dt.timedelta(days=40),
        follow_ups=[{"action": "送宣传品", "due_date": today_ - dt.timedelta(days=1), "owner": am}],
    )
    # Logging re-plans the customer; replace its plans with one today and one overdue.
    PlannedVisit.objects.filter(customer=customer).delete()
    PlannedVisit.objects.create(customer=customer, planned_for=today_, cycle_days=30)
    PlannedVisit.objects.create(
        customer=customer, planned_for=today_ - dt.timedelta(days=3), cycle_days=30
    )
    assert visit.follow_ups.count() == 1
    client.force_login(am)
    html = client.get(reverse("home")).content.decode()
    panel = html[html.index('data-testid="home-visits-today"') :]
    assert reverse("visits:agenda") in panel
    assert 'data-testid="home-planned-today">1<' in panel
    assert 'data-testid="home-overdue">1<' in panel
    assert 'data-testid="home-done-today">0<' in panel
    assert "送宣传品" in panel
    assert 'data-testid="home-visit-coverage"' not in html


def test_account_manager_home_counts_the_day_as_the_agenda_lists_it(client, customer_world):
    # given: two shops planned today (one skipped), one overdue, one tomorrow; one visit today
    am, th = customer_world["am_th"], customer_world["c_th"].area
    today_ = timezone.localdate()
    shops = [make_customer(th, am) for _ in range(5)]
    log(shops[4], am, today_)
    PlannedVisit.objects.filter(customer__in=shops).delete()
    for shop, day, status in (
        (shops[0], today_, "planned"),
        (shops[1], today_, "skipped"),
        (shops[2], today_ - dt.timedelta(days=2), "planned"),
        (shops[3], today_ + dt.timedelta(days=1), "planned"),
    ):
        PlannedVisit.objects.create(customer=shop, planned_for=day, cycle_days=30, status=status)
    PlannedVisit.objects.filter(customer=customer_world["c_th"]).delete()
    client.force_login(am)

    # when
    html = client.get(reverse("home")).content.decode()
    agenda = client.get(reverse("visits:agenda")).context["agenda"]

    # then: the home's figures are the agenda's
    panel = html[html.index('data-testid="home-visits-today"') :]
    assert (len(agenda.planned), len(agenda.overdue), len(agenda.done)) == (1, 1, 1)
    assert 'data-testid="home-planned-today">1<' in panel
    assert 'data-testid="home-overdue">1<' in panel
    assert 'data-testid="home-done-today">1<' in panel


def test_account_manager_home_lists_the_soonest_follow_ups_and_counts_them_all(
    client, customer_world
):
    # given: seven open follow-ups due by today (one of another owner, one not yet due)
    am, shop = customer_world["am_th"], customer_world["c_th"]
    today_ = timezone.localdate()
    visit = log(shop, am, today_)
    for n in range(7):
        FollowUp.objects.create(
            visit=visit,
            customer=shop,
            action=f"Task {n}",
            owner=am,
            due_date=today_ - dt.timedelta(days=n),
        )
    FollowUp.objects.create(
        visit=visit,
        customer=shop,
        action="Later",
        owner=am,
        due_date=today_ + dt.timedelta(days=1),
    )
    FollowUp.objects.create(
        visit=visit,
        customer=shop,
        action="Not mine",
        owner=customer_world["sup_th"],
        due_date=today_,
    )
    client.force_login(am)

    # when
    html = client.get(reverse("home")).content.decode()

    # then: the five due soonest (the longest overdue first), and all seven counted
    panel = html[html.index('data-testid="home-follow-ups"') :]
    panel = panel[: panel.index("</ul>")]
    assert [f"Task {n}" for n in (6, 5, 4, 3, 2)] == re.findall(r"Task \d", panel)
    assert "7 follow-ups are due" in panel
    assert "Later" not in panel and "Not mine" not in panel
    summary = selectors.today_summary(user=am, account_manager=am)
    assert (len(summary.follow_ups_due), summary.follow_ups_due_count) == (5, 7)


def test_a_big_teams_home_shows_its_total_and_its_lowest_shares(
    client, areas, make_user, monkeypatch
):
    # given: a team of four (one without customers), the home showing two lines at most
    monkeypatch.setattr("visits.panels.HOME_COVERAGE_LINES", 2)
    th = areas["TH"]
    sup = make_user(Role.SUPERVISOR, [th], username="sup_big")
    today_ = timezone.localdate()
    shares = {"am_a": (2, 2), "am_b": (2, 0), "am_c": (2, 1)}  # customers, visited this week
    for username, (customers, visited) in shares.items():
        am = make_user(Role.ACCOUNT_MANAGER, [th], username=username)
        for n in range(customers):
            customer = make_customer(th, am, visit_cycle="weekly")
            if n < visited:
                log(customer, am, today_ - dt.timedelta(days=1))
    make_user(Role.ACCOUNT_MANAGER, [th], username="am_d")  # no customers yet
    client.force_login(sup)

    # when
    html = client.get(reverse("home")).content.decode()

    # then: the team (3 of 6 customers in cycle), then am_b (0 %) and am_c (50 %), and a link
    # to all four on the coverage page
    panel = html[html.index('data-testid="home-visit-coverage"') :]
    team = panel[panel.index('data-testid="home-coverage-team"') :]
    assert "The team: 4 account managers" in team
    assert 'data-share="50.0"' in team[: team.index("</li>")]
    assert "The 2 lowest shares:" in panel
    managers = [m for m in ("am_a", "am_b", "am_c", "am_d") if f'data-manager="{m}"' in panel]
    assert managers == ["am_b", "am_c"]
    assert panel.index('data-manager="am_b"') < panel.index('data-manager="am_c"')
    assert "All 4 account managers on the coverage page" in panel


def test_a_small_teams_home_shows_every_account_manager(client, customer_world):
    client.force_login(customer_world["sup_th"])

    html = client.get(reverse("home")).content.decode()

    panel = html[html.index('data-testid="home-visit-coverage"') :]
    assert 'data-manager="am_th"' in panel and 'data-manager="am_th2"' in panel
    assert 'data-testid="home-coverage-team"' not in panel


def test_chart_data_is_json(client, case, today):
    client.force_login(case["sup"])
    html = client.get(reverse("visits:coverage")).content.decode()
    start = html.index('id="coverage-chart-data"')
    start = html.index(">", start) + 1
    data = json.loads(html[start : html.index("</script>", start)])
    assert data["shares"] == [25.0]
