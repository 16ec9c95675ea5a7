"""The services selectors and writes respect the one scope rule: an account manager reaches
only their customers' requests and services, a supervisor or licence officer those of their
areas and below, an administrator everything; writes refuse what lies outside.

customer_world: am_th owns c_th, am_th2 owns c_th2 (both TH), am_yx owns c_yx (YX); sup_th
supervises TH, sup_yx YX, sup_gz the city above both; lo_th is TH's licence officer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from crm.exceptions import DomainError
from services import selectors, services
from services.models import ServiceActivity, ServiceRequest, TrainingSession
from tests.services.factories import act, actor, hours_ago, log_activity, raise_request

ALL = {"th", "th_late", "th2", "yx"}
SEES = {
    "am_th": {"th", "th_late"},
    "am_th2": {"th2"},
    "am_yx": {"yx"},
    "sup_th": {"th", "th_late", "th2"},
    "lo_th": {"th", "th_late", "th2"},
    "sup_yx": {"yx"},
    "sup_gz": ALL,
    "admin": ALL,
}
WED = dt.date(2026, 6, 10)


@pytest.fixture
def world(customer_world, areas):
    """One request per customer (c_th's second one overdue), a display guidance per customer,
    and training sessions in TH (c_th, c_th2), YX (c_yx) and GZ (c_th, c_yx)."""
    w = customer_world
    w["requests"] = {
        "th": raise_request(w["c_th"], w["am_th"]),
        "th_late": raise_request(w["c_th"], w["am_th"], raised_at=hours_ago(30)),
        "th2": raise_request(w["c_th2"], w["am_th2"]),
        "yx": raise_request(w["c_yx"], w["am_yx"]),
    }
    for key in ("th", "th2", "yx"):
        log_activity(w[f"c_{key}"], w[f"am_{key}"], "display", WED)

    def train(user, attendees, area):
        return services.training_session_log(
            title=f"Training in {area.code}",
            held_on=WED,
            area=area,
            attendees=attendees,
            actor=actor(user),
        )

    w["sessions"] = {
        "TH": train(w["sup_th"], [w["c_th"], w["c_th2"]], areas["TH"]),
        "YX": train(w["am_yx"], [w["c_yx"]], areas["YX"]),
        "GZ": train(w["sup_gz"], [w["c_th"], w["c_yx"]], areas["GZ"]),
    }
    return w


def names(world, requests) -> set[str]:
    by_pk = {r.pk: key for key, r in world["requests"].items()}
    return {by_pk[r.pk] for r in requests}


# --- request queues ------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), SEES.items())
def test_the_area_queue_holds_what_each_person_sees(world, who, expected):
    queue = selectors.request_queue(user=world[who], queue="area")
    assert names(world, queue) == expected


@pytest.mark.parametrize(("who", "expected"), SEES.items())
def test_the_overdue_queue_holds_the_overdue_requests_each_person_sees(world, who, expected):
    queue = selectors.request_queue(user=world[who], queue="overdue")
    assert names(world, queue) == expected & {"th_late"}


def test_the_mine_queue_holds_what_one_raised_or_was_given(world):
    extra = raise_request(world["c_th2"], world["sup_th"])  # given to am_th2
    assert list(selectors.request_queue(user=world["sup_th"], queue="mine")) == [extra]
    assert names(world, selectors.request_queue(user=world["am_th"], queue="mine")) == {
        "th",
        "th_late",
    }
    am_th2 = selectors.request_queue(user=world["am_th2"], queue="mine")
    assert {r.pk for r in am_th2} == {extra.pk, world["requests"]["th2"].pk}


def test_queues_put_the_most_pressing_first(world):
    queue = list(selectors.request_queue(user=world["am_th"], queue="area"))
    assert [r.pk for r in queue] == [world["requests"]["th_late"].pk, world["requests"]["th"].pk]


def test_closed_requests_leave_the_queues_unless_asked_for(world):
    request = world["requests"]["th"]
    act(request, world["am_th"], "resolve", note="Done.")
    act(request, world["am_th"], "close", satisfaction=5)
    assert names(world, selectors.request_queue(user=world["am_th"], queue="area")) == {"th_late"}
    closed = selectors.request_queue(
        user=world["am_th"], queue="area", filters={"status": ["closed"]}
    )
    assert names(world, closed) == {"th"}
    # Filters do not widen the scope.
    other = selectors.request_queue(
        user=world["am_th"], queue="area", filters={"customer": world["c_yx"].customer_code}
    )
    assert list(other) == []


@pytest.mark.parametrize("who", list(SEES))
def test_request_counts_follow_the_scope(world, who):
    counts = selectors.request_counts(user=world[who])
    assert counts["area"] == len(SEES[who])
    assert counts["overdue"] == len(SEES[who] & {"th_late"})


def test_an_inactive_person_sees_no_requests(world):
    world["sup_gz"].is_active = False
    world["sup_gz"].save(update_fields=["is_active"])
    assert not selectors.request_queue(user=world["sup_gz"], queue="area").exists()


@pytest.mark.parametrize(("who", "expected"), SEES.items())
def test_one_request_is_found_only_in_scope(world, who, expected):
    for key, request in world["requests"].items():
        if key in expected:
            assert selectors.request_get(user=world[who], pk=request.pk) == request
        else:
            with pytest.raises(Http404):
                selectors.request_get(user=world[who], pk=request.pk)


# --- activities and training ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "customers"),
    [
        ("am_th", {"c_th"}),
        ("sup_th", {"c_th", "c_th2"}),
        ("sup_yx", {"c_yx"}),
        ("sup_gz", {"c_th", "c_th2", "c_yx"}),
    ],
)
def test_the_activity_list_follows_the_customers_scope(world, who, customers):
    displays = selectors.activity_list(user=world[who], filters={"kind": "display"})
    assert {a.customer for a in displays} == {world[c] for c in customers}
    value_added = selectors.activity_list(user=world[who], filters={"category": "value_added"})
    assert {a.kind for a in value_added} == {"display", "training"}
    assert {a.customer for a in value_added} == {world[c] for c in customers}


@pytest.mark.parametrize(
    ("who", "sessions"),
    [
        # the city-wide GZ session shows to everyone whose shops went (c_th, c_yx)
        ("am_th", {"TH", "GZ"}),
        ("sup_th", {"TH", "GZ"}),
        ("lo_th", {"TH", "GZ"}),
        ("sup_yx", {"YX", "GZ"}),
        ("am_yx", {"YX", "GZ"}),
        ("sup_gz", {"TH", "YX", "GZ"}),
        ("admin", {"TH", "YX", "GZ"}),
    ],
)
def test_training_sessions_are_seen_by_area_or_by_their_attendees(world, who, sessions):
    listed = {s.area.code: s.attendee_count for s in selectors.training_list(user=world[who])}
    assert set(listed) == sessions
    counts = {"TH": 2, "YX": 1, "GZ": 2}
    assert listed == {code: counts[code] for code in sessions}
    for code, session in world["sessions"].items():
        if code in sessions:
            assert selectors.training_get(user=world[who], pk=session.pk) == session
        else:
            with pytest.raises(Http404):
                selectors.training_get(user=world[who], pk=session.pk)


@pytest.mark.parametrize(
    ("who", "attendees"),
    [("am_th", {"c_th"}), ("sup_th", {"c_th", "c_th2"}), ("admin", {"c_th", "c_th2"})],
)
def test_one_sees_only_the_attendees_in_ones_scope(world, who, attendees):
    rows = selectors.training_attendees(user=world[who], session=world["sessions"]["TH"])
    assert {row.customer for row in rows} == {world[c] for c in attendees}


def test_a_city_session_shows_a_district_supervisor_nothing_of_the_other_district(world):
    session = world["sessions"]["GZ"]
    rows = selectors.training_attendees(user=world["sup_th"], session=session)
    assert [row.customer for row in rows] == [world["c_th"]]


# --- writes refuse what lies outside ---------------------------------------------------------


@pytest.mark.parametrize("who", ["am_th2", "am_yx", "sup_yx"])
def test_writes_on_a_request_outside_ones_scope_are_refused(world, who):
    request = world["requests"]["th"]
    user = world[who]
    with pytest.raises(DomainError, match="not in your scope"):
        act(request, user, "start")
    with pytest.raises(DomainError, match="not in your scope"):
        services.service_request_assign(
            request=request, assignee=world["sup_th"], actor=actor(user)
        )
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.assignee) == ("open", world["am_th"])


@pytest.mark.parametrize("who", ["am_th2", "am_yx", "sup_yx"])
def test_raising_and_logging_outside_ones_scope_are_refused(world, who):
    before = (ServiceRequest.objects.count(), ServiceActivity.objects.count())
    with pytest.raises(DomainError):
        raise_request(world["c_th"], world[who])
    with pytest.raises(DomainError):
        log_activity(world["c_th"], world[who], "renovation", WED)
    with pytest.raises(DomainError):
        services.training_session_log(
            title="Outside",
            held_on=WED,
            area=world["c_th"].area,
            attendees=[world["c_th"]],
            actor=actor(world[who]),
        )
    assert (ServiceRequest.objects.count(), ServiceActivity.objects.count()) == before
    assert TrainingSession.objects.count() == 3
