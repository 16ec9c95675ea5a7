"""The agenda (sections, route order, whose day), rescheduling and skipping planned visits, and
the follow-up list."""

import datetime as dt
import html
import re
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from crm.choices import AuditSource
from crm.services import Actor
from tests.customers.factories import make_customer
from visits import services
from visits.choices import FollowUpStatus, PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit, VisitsConfig

HTMX = {"HTTP_HX_REQUEST": "true"}


def section(html: str, testid: str) -> str:
    """The part of the page from the section's marker to the next section's."""
    start = html.index(f'data-testid="{testid}"')
    ends = [
        i
        for marker in (
            "agenda-overdue",
            "agenda-planned",
            "agenda-done",
            "agenda-skipped",
            "agenda-follow-ups",
            "agenda-upcoming",
        )
        if (i := html.find(f'data-testid="{marker}"', start + 1)) != -1
    ]
    return html[start : min(ends, default=len(html))]


def plan(customer, day, **fields):
    return PlannedVisit.objects.create(customer=customer, planned_for=day, cycle_days=30, **fields)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def route(customer_world):
    """Three of am_th's shops whose route order differs from their codes' order."""
    am = customer_world["am_th"]
    return [
        make_customer("TH", am, store_name="乙店", visit_batch="B", delivery_route="R2"),
        make_customer("TH", am, store_name="甲店", visit_batch="A", delivery_route="R9"),
        make_customer("TH", am, store_name="丙店", visit_batch="B", delivery_route="R1"),
    ]


def test_the_agenda_shows_the_day_in_route_order_with_every_section(
    client, customer_world, route, today
):
    # given
    am = customer_world["am_th"]
    for customer in route:
        plan(customer, today)
    plan(customer_world["c_th"], today - dt.timedelta(days=2))  # overdue
    boosted = make_customer("TH", am, store_name="潜力店")
    plan(boosted, today + dt.timedelta(days=3), boosted=True)
    skipped_shop = make_customer("TH", am, store_name="休息店")
    plan(skipped_shop, today, status=PlanStatus.SKIPPED, reason="Closed for a funeral")
    done_shop = make_customer("TH", am, store_name="已访店")
    visit = Visit.objects.create(
        customer=done_shop,
        visited_by=am,
        visited_at=timezone.now(),
        visit_type="routine",
        purpose="Round",
    )
    FollowUp.objects.create(
        visit=visit, customer=done_shop, action="Send the poster", due_date=today, owner=am
    )
    plan(customer_world["c_th2"], today)  # another account manager's: not on this agenda
    client.force_login(am)

    # when
    html = client.get(reverse("visits:agenda")).content.decode()

    # then
    planned = section(html, "agenda-planned")
    positions = [planned.index(name) for name in ("甲店", "丙店", "乙店")]
    assert positions == sorted(positions)
    assert "天河二号店" not in html
    assert planned.count('data-testid="start-visit"') == 3
    first = route[1]
    assert (
        f"{reverse('visits:log')}?customer={first.customer_code}&amp;plan="
        f"{PlannedVisit.objects.get(customer=first).pk}"
    ) in planned
    overdue = section(html, "agenda-overdue")
    assert "天河一号店" in overdue and "planned for" in overdue
    assert "已访店" in section(html, "agenda-done")
    skipped = section(html, "agenda-skipped")
    assert "休息店" in skipped and "Closed for a funeral" in skipped
    assert "Send the poster" in section(html, "agenda-follow-ups")
    # The days ahead: the day and how many visits, the visits themselves when it is opened.
    upcoming = section(html, "agenda-upcoming")
    later = (today + dt.timedelta(days=3)).isoformat()
    assert later in upcoming and "潜力店" not in upcoming
    opened = client.get(reverse("visits:agenda_coming_day"), {"day": later}, **HTMX)
    assert "潜力店" in opened.content.decode()
    assert "shorter cycle: potential value" in opened.content.decode()


def test_another_day_is_shown_with_day(client, customer_world, route, today):
    later = today + dt.timedelta(days=2)
    plan(route[0], later)
    client.force_login(customer_world["am_th"])

    html = client.get(reverse("visits:agenda"), {"day": later.isoformat()}).content.decode()

    assert "乙店" in section(html, "agenda-planned")
    # A bad day is today.
    response = client.get(reverse("visits:agenda"), {"day": "soon"})
    assert response.context["agenda"].day == today


def test_supervisors_choose_whose_agenda_within_their_areas(client, customer_world, today):
    plan(customer_world["c_th"], today)
    client.force_login(customer_world["sup_th"])

    choose = client.get(reverse("visits:agenda"))
    assert [m.username for m in choose.context["managers"]] == ["am_th", "am_th2"]
    assert 'data-testid="agenda-choose"' in choose.content.decode()

    response = client.get(reverse("visits:agenda"), {"am": "am_th"})
    assert response.context["manager"] == customer_world["am_th"]
    assert "天河一号店" in section(response.content.decode(), "agenda-planned")

    assert client.get(reverse("visits:agenda"), {"am": "am_yx"}).status_code == 404
    assert client.get(reverse("visits:agenda"), {"am": "nobody"}).status_code == 404

    client.force_login(customer_world["sup_gz"])  # the city: sees both districts
    assert client.get(reverse("visits:agenda"), {"am": "am_yx"}).status_code == 200


def test_an_account_manager_sees_only_their_own_agenda(client, customer_world, today):
    client.force_login(customer_world["am_th"])

    assert client.get(reverse("visits:agenda"), {"am": "am_th"}).status_code == 200
    assert client.get(reverse("visits:agenda"), {"am": "am_th2"}).status_code == 404


def test_licence_officers_have_no_agenda(client, customer_world):
    client.force_login(customer_world["lo_th"])

    response = client.get(reverse("visits:agenda"))

    assert response.status_code == 200
    assert 'data-testid="agenda-empty"' in response.content.decode()


# --- the days ahead, on demand -------------------------------------------------------------


def days_ahead(html: str) -> list[tuple[str, str]]:
    """The agenda's days ahead: (day, number of visits) each."""
    return re.findall(
        r'data-testid="upcoming-day".*?<span>(\d{4}-\d\d-\d\d) \w+</span> '
        r'<span class="badge[^"]*">(\d+)</span>',
        section(html, "agenda-upcoming"),
        re.S,
    )


def test_the_days_ahead_show_their_counts_and_open_on_demand(client, customer_world, route, today):
    # given: two shops in two days, one in five days; another manager's in two days
    am = customer_world["am_th"]
    in_two, in_five = today + dt.timedelta(days=2), today + dt.timedelta(days=5)
    for customer in route[:2]:
        plan(customer, in_two)
    plan(route[2], in_five)
    plan(customer_world["c_th2"], in_two)
    client.force_login(am)

    # when: the agenda is opened
    html = client.get(reverse("visits:agenda")).content.decode()

    # then: each day ahead with its count, and no shop of those days yet
    assert days_ahead(html) == [(in_two.isoformat(), "2"), (in_five.isoformat(), "1")]
    upcoming = section(html, "agenda-upcoming")
    assert not any(c.store_name in upcoming for c in route)
    # each day asks for its visits when opened, and links to its agenda without JavaScript
    fragment = f"{reverse('visits:agenda_coming_day')}?day={in_two.isoformat()}"
    assert f'hx-get="{fragment}"' in upcoming and 'hx-trigger="toggle once"' in upcoming
    assert f'href="?day={in_two.isoformat()}"' in upcoming

    # when: a day is opened (htmx)
    opened = client.get(reverse("visits:agenda_coming_day"), {"day": in_two}, **HTMX)

    # then: its shops in route order (甲店 batch A before 乙店 batch B), not another's
    text = opened.content.decode()
    assert text.index("甲店") < text.index("乙店")
    assert "丙店" not in text and customer_world["c_th2"].store_name not in text
    assert "<html" not in text


def test_a_day_ahead_asked_as_a_page_is_that_days_agenda(client, customer_world, route, today):
    client.force_login(customer_world["sup_th"])
    later = (today + dt.timedelta(days=2)).isoformat()

    response = client.get(reverse("visits:agenda_coming_day"), {"am": "am_th", "day": later})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('visits:agenda')}?am=am_th&day={later}"


def test_a_day_ahead_keeps_the_agendas_scope(client, customer_world, route, today):
    later = today + dt.timedelta(days=2)
    plan(route[0], later)
    url = reverse("visits:agenda_coming_day")

    client.force_login(customer_world["sup_th"])
    opened = client.get(url, {"am": "am_th", "day": later}, **HTMX)
    assert "乙店" in opened.content.decode()
    assert client.get(url, {"day": later}, **HTMX).status_code == 404  # whose day?
    assert client.get(url, {"am": "am_yx", "day": later}, **HTMX).status_code == 404
    client.force_login(customer_world["am_th2"])
    assert client.get(url, {"am": "am_th", "day": later}, **HTMX).status_code == 404
    client.force_login(customer_world["am_th"])
    assert client.get(url, {"day": "soon"}, **HTMX).status_code == 404
    client.force_login(customer_world["lo_th"])
    assert client.get(url, {"day": later}, **HTMX).status_code == 404


def test_a_day_ahead_query_count_does_not_grow_with_rows(
    client, customer_world, route, today, django_assert_num_queries
):
    later = today + dt.timedelta(days=2)
    for customer in route:
        plan(customer, later)
    client.force_login(customer_world["am_th"])
    url = reverse("visits:agenda_coming_day")
    client.get(url, {"day": later}, **HTMX)

    # session, user, the day's plans (with their shops); no count of unread notifications (a
    # fragment draws no navigation bar)
    with django_assert_num_queries(3):
        response = client.get(url, {"day": later}, **HTMX)
    assert len(response.context["plans"]) == 3


# --- reschedule and skip -------------------------------------------------------------------


def test_reschedule_by_htmx_swaps_the_row(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th"])
    url = reverse("visits:plan_reschedule", args=[planned.pk])
    later = today + dt.timedelta(days=4)

    # The reason is required: the row comes back with the error and the form open.
    refused = client.post(url, {"new_date": later.isoformat(), "reason": ""}, **HTMX)
    html = refused.content.decode()
    assert refused.status_code == 200  # htmx swaps only successful answers
    assert html.lstrip().startswith(f'<li class="list-group-item py-3" id="plan-{planned.pk}"')
    assert "Say why the visit moves." in html
    assert '<details class="flex-fill" open>' in html
    assert f'value="{later.isoformat()}"' in html  # what was typed comes back
    planned.refresh_from_db()
    assert planned.planned_for == today

    moved = client.post(url, {"new_date": later.isoformat(), "reason": "Owner away"}, **HTMX)
    assert f"Moved to {later.isoformat()}." in moved.content.decode()
    planned.refresh_from_db()
    assert (planned.planned_for, planned.rescheduled_from, planned.reason) == (
        later,
        today,
        "Owner away",
    )


def test_reschedule_without_javascript_goes_back_with_a_message(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th"])
    url = reverse("visits:plan_reschedule", args=[planned.pk])
    agenda = reverse("visits:agenda") + f"?day={today.isoformat()}"

    past = client.post(
        url,
        {"new_date": (today - dt.timedelta(days=1)).isoformat(), "reason": "x", "next": agenda},
        follow=True,
    )
    assert past.redirect_chain == [(agenda, 302)]
    assert "The new day cannot be in the past." in past.content.decode()

    bad = client.post(url, {"new_date": "someday", "reason": "x"}, follow=True)
    assert "Enter a valid date." in bad.content.decode()

    # An unsafe `next` is ignored.
    response = client.post(
        url,
        {
            "new_date": (today + dt.timedelta(days=1)).isoformat(),
            "reason": "Rain",
            "next": "https://example.com/",
        },
    )
    assert response["Location"] == reverse("visits:agenda")


def test_skip_needs_a_reason(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th"])
    url = reverse("visits:plan_skip", args=[planned.pk])

    refused = client.post(url, {"reason": "  "}, **HTMX)
    assert "Say why the visit is skipped." in refused.content.decode()
    planned.refresh_from_db()
    assert planned.status == PlanStatus.PLANNED

    skipped = client.post(url, {"reason": "Shop closed today"}, **HTMX)
    html = skipped.content.decode()
    assert 'data-testid="plan-status"' in html and "Skipped" in html
    assert 'data-testid="start-visit"' not in html
    planned.refresh_from_db()
    assert (planned.status, planned.reason) == (PlanStatus.SKIPPED, "Shop closed today")

    # Skipped once is final.
    again = client.post(url, {"reason": "again"}, follow=True)
    assert "Only a planned visit that is still open can be changed." in again.content.decode()


def test_the_rows_forms_load_when_opened(client, customer_world, today):
    # given: a planned visit on today's agenda
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th"])
    agenda = reverse("visits:agenda") + f"?day={today.isoformat()}"
    reschedule = reverse("visits:plan_reschedule", args=[planned.pk])
    back = f"?next={quote(agenda, safe='/')}"

    # when: the agenda is shown
    html = client.get(agenda).content.decode()

    # then: the row has its toggles, each loading its form when opened (htmx) and linking to
    # the form's own page without JavaScript; no form is drawn in the row
    assert 'data-testid="reschedule-toggle"' in html and 'data-testid="skip-toggle"' in html
    assert 'data-testid="reschedule-form"' not in html and 'data-testid="skip-form"' not in html
    link = escape(reschedule + back)
    assert f'hx-get="{link}" hx-trigger="toggle once"' in html
    assert f'href="{link}"' in html

    # and: the form opened by htmx is a fragment posting back into the row, to come back to
    # the agenda
    fragment = client.get(reschedule + back, **HTMX).content.decode()
    assert "<html" not in fragment
    assert f'hx-post="{reschedule}" hx-target="#plan-{planned.pk}"' in fragment
    assert f'name="next" value="{escape(agenda)}"' in fragment
    assert 'name="csrfmiddlewaretoken"' in fragment
    skip = client.get(reverse("visits:plan_skip", args=[planned.pk]) + back, **HTMX)
    assert "hx-confirm=" in skip.content.decode()


def test_without_javascript_each_action_has_its_own_page(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th"])
    agenda = reverse("visits:agenda") + f"?day={today.isoformat()}"
    url = reverse("visits:plan_skip", args=[planned.pk])

    # The toggle's link: the form on a page of its own, a plain form.
    page = client.get(url, {"next": agenda}).content.decode()
    assert 'data-testid="plan-action-title"' in page and "Skip a planned visit" in page
    assert 'data-testid="skip-form"' in page and "hx-post" not in page
    assert "A skipped visit cannot be put back on the plan." in page
    assert f'href="{escape(agenda)}" data-testid="plan-action-back"' in page

    # Refused there: the page again, with the error and what was typed.
    refused = client.post(url, {"reason": "x" * 1001, "next": agenda, "shown_on": "page"})
    html = refused.content.decode()
    assert refused.status_code == 200
    assert 'data-testid="plan-errors"' in html and 'data-testid="skip-form"' in html
    assert f'value="{"x" * 1001}"' in html
    planned.refresh_from_db()
    assert planned.status == PlanStatus.PLANNED

    # Done: back to the agenda with what happened.
    done = client.post(
        url, {"reason": "Road works", "next": agenda, "shown_on": "page"}, follow=True
    )
    assert done.redirect_chain == [(agenda, 302)]
    assert "Skipped." in done.content.decode()
    planned.refresh_from_db()
    assert planned.status == PlanStatus.SKIPPED

    # A plan no longer open has no form, on its page or in the row.
    again = client.get(url, {"next": agenda}).content.decode()
    assert "Only a planned visit that is still open can be changed." in again
    assert 'data-testid="skip-form"' not in again
    closed = client.get(url, **HTMX).content.decode()
    assert 'data-testid="plan-closed"' in closed and 'data-testid="skip-form"' not in closed


def test_an_action_page_goes_back_only_within_the_site(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th"])
    url = reverse("visits:plan_reschedule", args=[planned.pk])

    for unsafe in ("https://example.com/", "javascript:alert(1)", ""):
        page = client.get(url, {"next": unsafe}).content.decode()
        assert f'href="{reverse("visits:agenda")}" data-testid="plan-action-back"' in page
        assert f'name="next" value="{reverse("visits:agenda")}"' in page


def test_plans_outside_the_scope_are_not_found(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["am_th2"])

    assert (
        client.post(reverse("visits:plan_skip", args=[planned.pk]), {"reason": "x"}).status_code
        == 404
    )
    client.force_login(customer_world["lo_th"])  # sees it, may not change it
    assert (
        client.post(reverse("visits:plan_skip", args=[planned.pk]), {"reason": "x"}).status_code
        == 403
    )
    planned.refresh_from_db()
    assert planned.status == PlanStatus.PLANNED


def test_a_supervisor_skips_from_the_account_managers_agenda(client, customer_world, today):
    planned = plan(customer_world["c_th"], today)
    client.force_login(customer_world["sup_th"])

    html = client.get(reverse("visits:agenda"), {"am": "am_th"}).content.decode()
    assert 'data-testid="skip-toggle"' in html
    form = client.get(reverse("visits:plan_skip", args=[planned.pk]), **HTMX).content.decode()
    assert 'data-testid="skip-form"' in form
    client.post(reverse("visits:plan_skip", args=[planned.pk]), {"reason": "Road works"})

    planned.refresh_from_db()
    assert planned.status == PlanStatus.SKIPPED


def test_the_agenda_query_count_does_not_grow_with_rows(
    client, customer_world, route, today, django_assert_num_queries
):
    am = customer_world["am_th"]
    VisitsConfig.current()
    for customer in route:
        plan(customer, today)
        plan(customer, today + dt.timedelta(days=5))
        plan(customer, today - dt.timedelta(days=3))
        visit = Visit.objects.create(
            customer=customer, visited_by=am, visited_at=timezone.now(), purpose="Round"
        )
        FollowUp.objects.create(
            visit=visit, customer=customer, action="Call", due_date=today, owner=am
        )
    client.force_login(am)

    # session, user, config, overdue, planned, skipped, done and their follow-ups, the days
    # ahead (their plans' ids and codes), follow-ups due, unread notifications
    with django_assert_num_queries(11):
        response = client.get(reverse("visits:agenda"))
    agenda = response.context["agenda"]
    assert [len(agenda.overdue), len(agenda.planned), len(agenda.done)] == [3, 3, 3]
    assert len(agenda.follow_ups_due) == 3


# --- follow-ups ----------------------------------------------------------------------------


@pytest.fixture
def follow_ups(customer_world, today):
    def make(customer, owner, due, action):
        visit = services.visit_log(
            customer=customer,
            data={"visited_at": timezone.now(), "visit_type": "routine", "purpose": "Round"},
            actor=Actor.of(customer.account_manager, AuditSource.PAGE),
            follow_ups=[{"action": action, "due_date": due, "owner": owner}],
        )
        return visit.follow_ups.get()

    late = make(customer_world["c_th"], customer_world["am_th"], today, "Late one")
    # Due before today: made through the service (which refuses a past due date), then aged.
    FollowUp.objects.filter(pk=late.pk).update(due_date=today - dt.timedelta(days=2))
    return {
        "late": late,
        "soon": make(
            customer_world["c_th"],
            customer_world["am_th"],
            today + dt.timedelta(days=2),
            "Soon one",
        ),
        "other": make(
            customer_world["c_th2"], customer_world["am_th2"], today, "Another manager's"
        ),
    }


def test_follow_up_tabs(client, customer_world, follow_ups):
    client.force_login(customer_world["am_th"])

    mine = client.get(reverse("visits:follow_ups"))
    assert [r["follow_up"].action for r in mine.context["rows"]] == ["Late one", "Soon one"]
    assert [key for key, _label in mine.context["tabs"]] == ["mine", "overdue"]
    overdue = client.get(reverse("visits:follow_ups"), {"tab": "overdue"})
    assert [r["follow_up"].action for r in overdue.context["rows"]] == ["Late one"]
    # Account managers have no "my areas" tab: they get their own.
    area = client.get(reverse("visits:follow_ups"), {"tab": "area"})
    assert area.context["tab"] == "mine"

    client.force_login(customer_world["sup_th"])
    area = client.get(reverse("visits:follow_ups"), {"tab": "area"})
    assert {r["follow_up"].action for r in area.context["rows"]} == {
        "Late one",
        "Soon one",
        "Another manager's",
    }
    assert all(r["may_complete"] for r in area.context["rows"])


def test_follow_up_done_by_htmx(client, customer_world, follow_ups):
    follow_up = follow_ups["soon"]
    client.force_login(customer_world["am_th"])
    url = reverse("visits:follow_up_done", args=[follow_up.pk])

    refused = client.post(url, {"note": ""}, **HTMX)
    assert "Say what was done." in refused.content.decode()

    done = client.post(url, {"note": "Delivered"}, **HTMX)
    html = done.content.decode()
    assert html.lstrip().startswith(f'<li class="list-group-item" id="followup-{follow_up.pk}"')
    assert "Delivered" in html and 'data-testid="follow-up-done-form"' not in html
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DONE

    # Outside the scope: not found.
    client.force_login(customer_world["am_th2"])
    assert client.post(url, {"note": "x"}).status_code == 404


def test_the_follow_up_list_query_count_does_not_grow_with_rows(
    client, customer_world, follow_ups, django_assert_num_queries
):
    client.force_login(customer_world["sup_gz"])

    # session, user, the scope (their areas, the area tree), count, the page, notifications
    with django_assert_num_queries(7):
        response = client.get(reverse("visits:follow_ups"), {"tab": "area"})
    assert len(response.context["rows"]) == 3


# --- what the phone keeps for the road (the offline route) -------------------------------------


def test_the_own_agenda_of_today_lists_the_pages_to_keep_offline(
    client, customer_world, route, today
):
    # given: a shop overdue, one today, one tomorrow, and one in two days (not kept)
    am = customer_world["am_th"]
    overdue = plan(route[0], today - dt.timedelta(days=2))
    planned = plan(route[1], today)
    tomorrow = plan(route[2], today + dt.timedelta(days=1))
    plan(customer_world["c_th"], today + dt.timedelta(days=2))
    client.force_login(am)

    # when
    response = client.get(reverse("visits:agenda"))

    # then: both agendas, and per shop its page and its visit form (from the plan and not)
    agenda = reverse("visits:agenda")
    log = reverse("visits:log")
    expected = [agenda, f"{agenda}?day={(today + dt.timedelta(days=1)).isoformat()}"]
    for p in (overdue, planned, tomorrow):
        code = p.customer.customer_code
        expected += [
            reverse("customers:detail", args=[code]),
            f"{log}?customer={code}&plan={p.pk}",
            f"{log}?customer={code}",
        ]
    assert response.context["offline_urls"] == expected
    assert 'id="offline-urls"' in response.content.decode()
    # and each "Start visit" button opens an address the phone keeps
    starts = re.findall(r'data-testid="start-visit"\s+href="([^"]+)"', response.content.decode())
    assert len(starts) == 2  # overdue and today's
    assert {html.unescape(href) for href in starts} <= set(expected)


def test_no_page_is_kept_from_another_day_or_anothers_agenda(client, customer_world, route, today):
    plan(route[0], today)
    client.force_login(customer_world["am_th"])
    response = client.get(reverse("visits:agenda"), {"day": today + dt.timedelta(days=1)})
    assert response.context["offline_urls"] == []
    assert 'id="offline-urls"' not in response.content.decode()

    client.force_login(customer_world["sup_th"])
    response = client.get(reverse("visits:agenda"), {"am": "am_th"})
    assert response.context["offline_urls"] == []
