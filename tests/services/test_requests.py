"""Service requests through services.services: raising (validation, service levels, default
assignee, notice, audit), the workflow as people act on it (transitions, notes, satisfaction,
reopening), who may do what, handing requests on, and escalating overdue ones.

customer_world: am_th owns c_th in TH, am_th2 owns c_th2 (TH), am_yx owns c_yx (YX); sup_th and
sup_th2 supervise TH, sup_yx YX, sup_gz the city GZ above both; lo_th is TH's licence officer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import Notification
from services import selectors, services
from services.models import ServiceRequest
from tests.crm.factories import AreaFactory
from tests.customers.factories import make_customer
from tests.services.factories import act, actor, hours_ago, raise_request
from tests.visits.factories import log_visit

DEFAULT_SLA = {
    "supply": 48,
    "price": 72,
    "delivery": 24,
    "licence": 120,
    "complaint": 48,
    "other": 72,
}


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


RAISED_AT = local(2026, 3, 2, 9, 30)


def history(request) -> list:
    return list(selectors.request_history(request=request))


def reload(request) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


def notices(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("message", flat=True))


def configure(world, **data):
    return services.services_config_update(data=data, actor=actor(world["admin"]))


@pytest.fixture
def w(customer_world):
    return customer_world


@pytest.fixture
def c_lic(w, areas):
    """A TH customer of am_th with lo_th as its licence officer."""
    return make_customer(areas["TH"], w["am_th"], license_officer="lo_th")


def in_status(w, status: str) -> ServiceRequest:
    """A request of am_th on c_th brought to `status` through the workflow."""
    request = raise_request(w["c_th"], w["am_th"])
    am = w["am_th"]
    if status == "in_progress":
        request = act(request, am, "start")
    if status in ("resolved", "closed", "reopened"):
        request = act(request, am, "resolve", note="Redelivered on Tuesday.")
    if status == "closed":
        request = act(request, am, "close", satisfaction=4)
    if status == "reopened":
        request = act(request, am, "reopen", note="It happened again.")
    assert request.status == status
    return request


# --- raising: service levels --------------------------------------------------------------


@pytest.mark.parametrize(("request_type", "hours"), DEFAULT_SLA.items())
def test_due_time_is_raising_time_plus_the_types_default_service_level(w, request_type, hours):
    request = raise_request(w["c_th"], w["am_th"], request_type=request_type, raised_at=RAISED_AT)
    assert request.raised_at == RAISED_AT
    assert reload(request).due_at == RAISED_AT + dt.timedelta(hours=hours)


def test_the_default_service_levels_hand_counted(w):
    expected = {
        "delivery": local(2026, 3, 3, 9, 30),
        "licence": local(2026, 3, 7, 9, 30),
    }
    for request_type, due in expected.items():
        request = raise_request(
            w["c_th"], w["am_th"], request_type=request_type, raised_at=RAISED_AT
        )
        assert request.due_at == due


@pytest.mark.parametrize("changed", list(DEFAULT_SLA))
def test_a_changed_service_level_applies_to_new_requests_of_that_type_only(w, changed):
    before = raise_request(w["c_th"], w["am_th"], request_type=changed, raised_at=RAISED_AT)

    configure(w, **{f"sla_{changed}_hours": 10})

    for request_type, hours in DEFAULT_SLA.items():
        request = raise_request(
            w["c_th"], w["am_th"], request_type=request_type, raised_at=RAISED_AT
        )
        expected = 10 if request_type == changed else hours
        assert request.due_at == RAISED_AT + dt.timedelta(hours=expected), request_type
    assert reload(before).due_at == RAISED_AT + dt.timedelta(hours=DEFAULT_SLA[changed])


def test_a_service_level_out_of_range_is_refused_and_kept(w):
    with pytest.raises(DomainError) as exc:
        configure(w, sla_price_hours=0)
    assert "sla_price_hours" in exc.value.errors
    request = raise_request(w["c_th"], w["am_th"], request_type="price", raised_at=RAISED_AT)
    assert request.due_at == RAISED_AT + dt.timedelta(hours=72)


def test_only_administrators_change_the_service_levels(w):
    with pytest.raises(DomainError):
        services.services_config_update(data={"sla_price_hours": 10}, actor=actor(w["sup_th"]))


def test_without_a_raising_time_the_request_is_raised_now(w):
    start = timezone.now()
    request = raise_request(w["c_th"], w["am_th"])
    assert start <= request.raised_at <= timezone.now()
    assert request.due_at == request.raised_at + dt.timedelta(hours=24)


# --- raising: validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"request_type": "refund"}, "request_type"),
        ({"request_type": ""}, "request_type"),
        ({"priority": "critical"}, "priority"),
        ({"description": ""}, "description"),
        ({"description": "   \n "}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"raised_at": timezone.now() + dt.timedelta(hours=2)}, "raised_at"),
    ],
)
def test_raising_refuses_a_bad_field_naming_it(w, overrides, field):
    with pytest.raises(DomainError) as exc:
        raise_request(w["c_th"], w["am_th"], **overrides)
    assert list(exc.value.errors) == [field]
    assert ServiceRequest.objects.count() == 0


def test_raising_refuses_a_visit_to_another_customer(w):
    visit = log_visit(w["c_yx"], w["am_yx"])
    with pytest.raises(DomainError) as exc:
        raise_request(w["c_th"], w["am_th"], visit=visit)
    assert list(exc.value.errors) == ["visit"]
    assert ServiceRequest.objects.count() == 0


def test_raising_on_the_customers_own_visit_links_it(w):
    visit = log_visit(w["c_th"], w["am_th"])
    request = raise_request(w["c_th"], w["am_th"], visit=visit)
    assert reload(request).visit == visit


def test_raising_reports_every_bad_field_at_once(w):
    with pytest.raises(DomainError) as exc:
        raise_request(w["c_th"], w["am_th"], request_type="x", priority="y", description="")
    assert set(exc.value.errors) == {"request_type", "priority", "description"}


def test_a_description_is_stored_trimmed(w):
    request = raise_request(w["c_th"], w["am_th"], description="  Short of 中华.  ")
    assert reload(request).description == "Short of 中华."


def test_an_integration_client_raises_no_request(w, make_user):
    erp = make_user(Role.INTEGRATION_CLIENT, username="erp")
    with pytest.raises(DomainError):
        raise_request(w["c_th"], erp, source=AuditSource.API)
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "customer"), [("am_th2", "c_th"), ("am_th", "c_yx"), ("sup_yx", "c_th")]
)
def test_raising_for_a_customer_outside_ones_scope_is_refused(w, who, customer):
    with pytest.raises(DomainError) as exc:
        raise_request(w[customer], w[who])
    assert list(exc.value.errors) == ["customer_code"]
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize("who", ["am_th", "sup_th", "sup_gz", "lo_th", "admin"])
def test_the_account_manager_and_people_over_the_customer_raise_requests(w, who):
    request = raise_request(w["c_th"], w[who])
    assert request.raised_by == w[who]
    assert request.status == "open"


# --- raising: assignee, notice, audit -----------------------------------------------------


@pytest.mark.parametrize("who", ["am_th", "sup_th", "lo_th"])
def test_a_request_goes_to_the_customers_account_manager_by_default(w, who):
    assert raise_request(w["c_th"], w[who]).assignee == w["am_th"]


def test_a_licence_matter_goes_to_the_customers_licence_officer(w, c_lic):
    assert raise_request(c_lic, w["am_th"], request_type="licence").assignee == w["lo_th"]
    assert raise_request(c_lic, w["am_th"], request_type="supply").assignee == w["am_th"]


def test_a_licence_matter_without_a_licence_officer_goes_to_the_account_manager(w):
    assert raise_request(w["c_th"], w["am_th"], request_type="licence").assignee == w["am_th"]


def test_a_licence_matter_goes_to_the_account_manager_when_the_officer_left(w, c_lic):
    officer = w["lo_th"]
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert raise_request(c_lic, w["am_th"], request_type="licence").assignee == w["am_th"]


@pytest.mark.parametrize("assignee", ["sup_th", "sup_gz", "lo_th", "admin"])
def test_an_explicit_assignee_who_sees_the_customer_takes_it(w, assignee):
    request = raise_request(w["c_th"], w["am_th"], assignee=w[assignee])
    assert reload(request).assignee == w[assignee]


@pytest.mark.parametrize("assignee", ["am_th2", "am_yx", "sup_yx"])
def test_an_explicit_assignee_who_may_not_take_the_customer_is_refused(w, assignee):
    with pytest.raises(DomainError) as exc:
        raise_request(w["c_th"], w["am_th"], assignee=w[assignee])
    assert list(exc.value.errors) == ["assignee"]
    assert ServiceRequest.objects.count() == 0


def test_an_integration_client_is_no_assignee(w, make_user):
    erp = make_user(Role.INTEGRATION_CLIENT, username="erp")
    with pytest.raises(DomainError) as exc:
        raise_request(w["c_th"], w["sup_th"], assignee=erp)
    assert list(exc.value.errors) == ["assignee"]


def test_the_assignee_is_told_when_someone_else_raised_it(w):
    request = raise_request(w["c_th"], w["sup_th"], request_type="supply")
    notice = Notification.objects.get(user=w["am_th"])
    assert notice.link == reverse("services:request_detail", args=[request.pk])
    assert request.number in notice.message
    assert "天河一号店" in notice.message
    assert timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M") in notice.message
    assert notices(w["sup_th"]) == []


def test_no_notice_when_one_raises_a_request_for_oneself(w):
    raise_request(w["c_th"], w["am_th"])
    assert Notification.objects.count() == 0


def test_raising_writes_one_create_audit_row(w):
    request = raise_request(w["c_th"], w["am_th"], request_type="price", priority="urgent")
    (row,) = history(request)
    assert row.action == AuditAction.CREATE
    assert row.actor == w["am_th"]
    assert row.source == AuditSource.PAGE
    assert row.new_value["customer"] == w["c_th"].customer_code
    assert row.new_value["request_type"] == "price"
    assert row.new_value["priority"] == "urgent"
    assert row.new_value["assignee"] == "am_th"


def test_a_request_raised_through_the_api_remembers_it(w):
    request = raise_request(w["c_th"], w["am_th"], source=AuditSource.API)
    assert reload(request).source == AuditSource.API
    assert history(request)[0].source == AuditSource.API


# --- the workflow as people act on it -----------------------------------------------------


def test_a_request_taken_through_its_whole_life(w):
    am = w["am_th"]
    request = raise_request(w["c_th"], am)

    request = act(request, am, "start")
    assert request.status == "in_progress"
    request = act(request, am, "resolve", note="  Redelivered on Tuesday. ")
    assert (request.status, request.resolution_note) == ("resolved", "Redelivered on Tuesday.")
    assert request.resolved_at is not None
    request = act(request, am, "close", satisfaction=5)
    assert (request.status, request.satisfaction) == ("closed", 5)
    assert request.closed_at is not None

    stored = reload(request)
    assert (stored.status, stored.satisfaction) == ("closed", 5)
    statuses = [(row.old_value, row.new_value) for row in history(request) if row.field == "status"]
    assert statuses == [
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]


ILLEGAL = [
    ("open", "close"),
    ("open", "reopen"),
    ("in_progress", "start"),
    ("in_progress", "close"),
    ("in_progress", "reopen"),
    ("resolved", "start"),
    ("resolved", "resolve"),
    ("closed", "start"),
    ("closed", "resolve"),
    ("closed", "close"),
    ("reopened", "close"),
    ("reopened", "reopen"),
]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_an_illegal_transition_is_refused_and_changes_nothing(w, status, action):
    request = in_status(w, status)
    stored = reload(request)
    rows = len(history(request))

    with pytest.raises(DomainError) as exc:
        act(request, w["sup_th"], action, note="A note.", satisfaction=3)

    assert list(exc.value.errors) == ["action"]
    after = reload(request)
    assert after.status == status
    assert (after.due_at, after.satisfaction, after.resolution_note, after.updated_at) == (
        stored.due_at,
        stored.satisfaction,
        stored.resolution_note,
        stored.updated_at,
    )
    assert len(history(request)) == rows


def test_an_unknown_action_is_refused(w):
    request = raise_request(w["c_th"], w["am_th"])
    with pytest.raises(DomainError) as exc:
        act(request, w["am_th"], "archive")
    assert list(exc.value.errors) == ["action"]
    assert reload(request).status == "open"


@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_needs_a_note(w, note):
    request = raise_request(w["c_th"], w["am_th"])
    with pytest.raises(DomainError) as exc:
        act(request, w["am_th"], "resolve", note=note)
    assert list(exc.value.errors) == ["note"]
    stored = reload(request)
    assert (stored.status, stored.resolved_at) == ("open", None)
    assert len(history(request)) == 1


@pytest.mark.parametrize("satisfaction", [0, 6, -1, "x", "", None, "3.5"])
def test_closing_needs_a_satisfaction_from_1_to_5(w, satisfaction):
    request = in_status(w, "resolved")
    rows = len(history(request))
    with pytest.raises(DomainError) as exc:
        act(request, w["am_th"], "close", satisfaction=satisfaction)
    assert list(exc.value.errors) == ["satisfaction"]
    stored = reload(request)
    assert (stored.status, stored.satisfaction, stored.closed_at) == ("resolved", None, None)
    assert len(history(request)) == rows


def test_a_fractional_satisfaction_is_refused(w):
    request = in_status(w, "resolved")
    with pytest.raises(DomainError):
        act(request, w["am_th"], "close", satisfaction=4.5)


@pytest.mark.parametrize(("given", "stored"), [(1, 1), (5, 5), ("4", 4), (" 2 ", 2)])
def test_closing_takes_a_satisfaction_from_1_to_5_as_number_or_text(w, given, stored):
    request = in_status(w, "resolved")
    act(request, w["am_th"], "close", satisfaction=given)
    assert reload(request).satisfaction == stored


@pytest.mark.parametrize("note", ["", "  "])
def test_reopening_needs_a_reason(w, note):
    request = in_status(w, "closed")
    with pytest.raises(DomainError) as exc:
        act(request, w["am_th"], "reopen", note=note)
    assert list(exc.value.errors) == ["note"]
    assert reload(request).status == "closed"


def _close_days_ago(request, days: float) -> None:
    ServiceRequest.objects.filter(pk=request.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=days)
    )


def test_a_request_closed_more_than_reopen_days_ago_is_not_reopened(w):
    request = in_status(w, "closed")
    _close_days_ago(request, 31)
    rows = len(history(request))
    with pytest.raises(DomainError, match="30 days"):
        act(request, w["am_th"], "reopen", note="It happened again.")
    stored = reload(request)
    assert (stored.status, stored.satisfaction) == ("closed", 4)
    assert len(history(request)) == rows


def test_a_request_closed_within_reopen_days_is_reopened(w):
    request = in_status(w, "closed")
    _close_days_ago(request, 29)
    assert act(request, w["am_th"], "reopen", note="It happened again.").status == "reopened"


def test_the_reopening_window_follows_the_settings(w):
    configure(w, reopen_days=5)
    request = in_status(w, "closed")
    _close_days_ago(request, 6)
    with pytest.raises(DomainError, match="5 days"):
        act(request, w["am_th"], "reopen", note="Again.")


def test_a_resolved_request_is_reopened_whenever(w):
    request = in_status(w, "resolved")
    ServiceRequest.objects.filter(pk=request.pk).update(
        resolved_at=timezone.now() - dt.timedelta(days=400)
    )
    assert act(request, w["am_th"], "reopen", note="Not fixed.").status == "reopened"


def test_reopening_gives_a_fresh_due_time_and_clears_the_outcome(w):
    request = raise_request(w["c_th"], w["am_th"], request_type="supply", raised_at=RAISED_AT)
    services.service_requests_escalate()  # long overdue: escalated
    request = act(request, w["am_th"], "resolve", note="Delivered.")
    request = act(request, w["am_th"], "close", satisfaction=2)
    assert reload(request).escalated_at is not None

    before = timezone.now()
    act(request, w["sup_th"], "reopen", note="Short again.")
    after = timezone.now()

    stored = reload(request)
    assert stored.status == "reopened"
    assert before + dt.timedelta(hours=48) <= stored.due_at <= after + dt.timedelta(hours=48)
    assert (stored.satisfaction, stored.closed_at, stored.resolved_at) == (None, None, None)
    assert (stored.escalated_at, stored.escalated_to) == (None, None)
    assert stored.raised_at == RAISED_AT
    reopen_rows = {row.field: row for row in history(request)[-3:]}
    assert reopen_rows["status"].new_value == "reopened"
    assert reopen_rows["status"].reason == "Short again."
    assert "due_at" in reopen_rows


def test_a_reopened_request_is_started_and_resolved_again(w):
    request = in_status(w, "reopened")
    request = act(request, w["am_th"], "start")
    request = act(request, w["am_th"], "resolve", note="Second fix.")
    assert reload(request).resolution_note == "Second fix."


def test_whoever_raised_it_is_told_when_someone_else_resolves_it(w):
    request = raise_request(w["c_th"], w["sup_th"])
    act(request, w["am_th"], "resolve", note="Done.")
    (message,) = notices(w["sup_th"])
    assert request.number in message and "resolved" in message


def test_no_resolution_notice_to_oneself(w):
    request = raise_request(w["c_th"], w["am_th"])
    act(request, w["am_th"], "resolve", note="Done.")
    assert Notification.objects.count() == 0


def test_the_assignee_is_told_when_someone_else_reopens_it(w):
    request = in_status(w, "closed")
    act(request, w["sup_th"], "reopen", note="The shop called again.")
    (message,) = notices(w["am_th"])
    assert "The shop called again." in message


# --- who may do what ------------------------------------------------------------------------


@pytest.fixture
def lo_raised(w):
    """A delivery request lo_th raised on c_th; am_th (its account manager) is the assignee."""
    return raise_request(w["c_th"], w["lo_th"])


@pytest.fixture
def sup_raised_licence(w, c_lic):
    """A licence matter sup_th raised on c_lic; lo_th is the assignee, am_th the customer's
    account manager (neither raiser nor assignee)."""
    return raise_request(c_lic, w["sup_th"], request_type="licence")


@pytest.mark.parametrize("action", ["start", "resolve"])
@pytest.mark.parametrize("who", ["am_th", "sup_th", "sup_gz", "admin"])
def test_the_assignee_and_supervisors_start_and_resolve(w, lo_raised, who, action):
    assert act(lo_raised, w[who], action, note="Done.").status != "open"


@pytest.mark.parametrize("action", ["start", "resolve"])
def test_who_raised_it_without_being_assignee_does_not_start_or_resolve(w, lo_raised, action):
    with pytest.raises(DomainError, match="may not"):
        act(lo_raised, w["lo_th"], action, note="Done.")
    assert reload(lo_raised).status == "open"


@pytest.mark.parametrize("action", ["start", "resolve"])
def test_the_customers_account_manager_does_not_work_anothers_request(
    w, sup_raised_licence, action
):
    with pytest.raises(DomainError, match="may not"):
        act(sup_raised_licence, w["am_th"], action, note="Done.")
    assert act(sup_raised_licence, w["lo_th"], action, note="Done.").status != "open"


@pytest.mark.parametrize("who", ["am_th2", "am_yx", "sup_yx"])
def test_another_account_manager_or_area_does_not_act(w, lo_raised, who):
    with pytest.raises(DomainError, match="not in your scope"):
        act(lo_raised, w[who], "start")
    assert reload(lo_raised).status == "open"


@pytest.mark.parametrize("action", ["close", "reopen"])
@pytest.mark.parametrize("who", ["lo_th", "am_th", "sup_th", "sup_gz", "admin"])
def test_raiser_assignee_and_supervisors_close_and_reopen(w, lo_raised, who, action):
    act(lo_raised, w["am_th"], "resolve", note="Done.")
    result = act(lo_raised, w[who], action, note="Customer says so.", satisfaction=4)
    assert result.status == {"close": "closed", "reopen": "reopened"}[action]


@pytest.mark.parametrize("action", ["close", "reopen"])
def test_the_customers_account_manager_closes_and_reopens(w, sup_raised_licence, action):
    act(sup_raised_licence, w["lo_th"], "resolve", note="Licence renewed.")
    result = act(sup_raised_licence, w["am_th"], action, note="Shop agrees.", satisfaction=5)
    assert result.status in ("closed", "reopened")


def test_a_licence_officer_neither_raiser_nor_assignee_does_not_close(w):
    request = raise_request(w["c_th"], w["am_th"])
    act(request, w["am_th"], "resolve", note="Done.")
    with pytest.raises(DomainError, match="may not"):
        act(request, w["lo_th"], "close", satisfaction=4)
    assert reload(request).status == "resolved"


def test_an_integration_client_does_not_act(w, lo_raised, make_user):
    erp = make_user(Role.INTEGRATION_CLIENT, username="erp")
    with pytest.raises(DomainError):
        act(lo_raised, erp, "start")
    assert reload(lo_raised).status == "open"


# --- handing on ------------------------------------------------------------------------------


def assign(request, user, assignee, reason=""):
    return services.service_request_assign(
        request=request, assignee=assignee, actor=actor(user), reason=reason
    )


def test_the_assignee_hands_a_request_on_and_the_new_one_is_told(w, sup_raised_licence):
    result = assign(sup_raised_licence, w["lo_th"], w["am_th"], reason="  Shop asked for Wang. ")
    assert reload(result).assignee == w["am_th"]
    row = history(result)[-1]
    assert (row.field, row.old_value, row.new_value) == ("assignee", "lo_th", "am_th")
    assert row.reason == "Shop asked for Wang."
    (message,) = notices(w["am_th"])
    assert "lo_th" in message or str(w["lo_th"]) in message


@pytest.mark.parametrize("who", ["sup_th", "sup_gz", "admin"])
def test_supervisors_hand_requests_on(w, sup_raised_licence, who):
    assign(sup_raised_licence, w[who], w["am_th"])
    assert reload(sup_raised_licence).assignee == w["am_th"]


def test_who_raised_it_hands_it_on(w, lo_raised):
    assign(lo_raised, w["lo_th"], w["sup_th"])
    assert reload(lo_raised).assignee == w["sup_th"]


def test_no_notice_when_one_takes_a_request_oneself(w, sup_raised_licence):
    assign(sup_raised_licence, w["sup_th"], w["sup_th"])
    assert notices(w["sup_th"]) == []


def test_the_customers_account_manager_neither_raiser_nor_assignee_does_not_hand_on(
    w, sup_raised_licence
):
    with pytest.raises(DomainError):
        assign(sup_raised_licence, w["am_th"], w["am_th"])
    assert reload(sup_raised_licence).assignee == w["lo_th"]


@pytest.mark.parametrize("who", ["am_th2", "sup_yx"])
def test_people_outside_the_scope_do_not_hand_on(w, lo_raised, who):
    with pytest.raises(DomainError, match="not in your scope"):
        assign(lo_raised, w[who], w["sup_th"])
    assert reload(lo_raised).assignee == w["am_th"]


@pytest.mark.parametrize("assignee", ["am_th2", "am_yx", "sup_yx"])
def test_handing_on_to_someone_who_may_not_take_the_customer_is_refused(w, lo_raised, assignee):
    with pytest.raises(DomainError) as exc:
        assign(lo_raised, w["sup_th"], w[assignee])
    assert list(exc.value.errors) == ["assignee"]
    assert reload(lo_raised).assignee == w["am_th"]


def test_handing_on_to_the_current_assignee_is_refused(w, lo_raised):
    with pytest.raises(DomainError) as exc:
        assign(lo_raised, w["sup_th"], w["am_th"])
    assert list(exc.value.errors) == ["assignee"]
    assert len(history(lo_raised)) == 1


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_finished_requests_are_not_handed_on(w, status):
    request = in_status(w, status)
    with pytest.raises(DomainError, match="reopen"):
        assign(request, w["sup_th"], w["sup_th"])
    assert reload(request).assignee == w["am_th"]


def test_assignee_candidates_are_the_people_who_may_take_it(w, make_user):
    make_user(Role.INTEGRATION_CLIENT, username="erp")
    names = {p.username for p in services.assignee_candidates(customer=w["c_th"])}
    assert names == {"am_th", "sup_th", "sup_th2", "sup_gz", "lo_th", "admin_x"}


# --- escalation -------------------------------------------------------------------------------


def overdue(customer, user, hours_late: float = 6, **kw) -> ServiceRequest:
    """A delivery request (24 h) on `customer` that fell due `hours_late` hours ago."""
    return raise_request(customer, user, raised_at=hours_ago(24 + hours_late), **kw)


def test_an_overdue_request_escalates_to_the_supervisors_of_its_area(w):
    request = overdue(w["c_th"], w["am_th"])
    now = timezone.now()

    assert services.service_requests_escalate(now=now) == 1

    stored = reload(request)
    assert (stored.escalated_at, stored.escalated_to) == (now, w["sup_th"])
    assert stored.status == "open"
    for person in ("sup_th", "sup_th2", "am_th"):
        (message,) = notices(w[person])
        assert request.number in message and "overdue" in message
    for person in ("sup_gz", "sup_yx", "admin", "am_th2"):
        assert notices(w[person]) == []
    row = history(request)[-1]
    assert (row.field, row.new_value, row.source) == ("escalated_to", "sup_th", AuditSource.JOB)
    assert row.actor is None


def test_a_request_escalates_only_once(w):
    overdue(w["c_th"], w["am_th"])
    assert services.service_requests_escalate() == 1
    assert services.service_requests_escalate() == 0
    assert Notification.objects.count() == 3


@pytest.mark.parametrize("status", ["open", "in_progress", "reopened"])
def test_every_unfinished_status_escalates(w, status):
    request = in_status(w, status)
    ServiceRequest.objects.filter(pk=request.pk).update(due_at=hours_ago(1))
    assert services.service_requests_escalate() == 1


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_finished_request_does_not_escalate(w, status):
    request = in_status(w, status)
    ServiceRequest.objects.filter(pk=request.pk).update(due_at=hours_ago(100))
    assert services.service_requests_escalate() == 0
    assert reload(request).escalated_at is None


def test_a_request_not_yet_due_does_not_escalate(w):
    request = raise_request(w["c_th"], w["am_th"], raised_at=hours_ago(23))
    assert services.service_requests_escalate() == 0
    assert services.service_requests_escalate(now=request.due_at + dt.timedelta(seconds=1)) == 1


def test_escalation_waits_the_configured_hours_after_the_due_time(w):
    configure(w, escalate_after_hours=10)
    late = overdue(w["c_th"], w["am_th"], hours_late=6)
    later = overdue(w["c_th"], w["am_th"], hours_late=11)
    assert services.service_requests_escalate() == 1
    assert reload(late).escalated_at is None
    assert reload(later).escalated_at is not None


def test_a_resolved_request_was_escalated_no_more(w):
    request = overdue(w["c_th"], w["am_th"])
    act(request, w["am_th"], "resolve", note="Done at last.")
    assert services.service_requests_escalate() == 0


def test_a_reopened_request_may_escalate_again(w):
    request = overdue(w["c_th"], w["am_th"])
    services.service_requests_escalate()
    act(request, w["am_th"], "resolve", note="Done.")
    reopened = act(request, w["am_th"], "reopen", note="Not done.")
    assert services.service_requests_escalate() == 0  # due afresh

    later = reopened.due_at + dt.timedelta(minutes=1)
    assert services.service_requests_escalate(now=later) == 1
    assert reload(request).escalated_at == later
    assert len(notices(w["sup_th"])) == 2


def test_a_district_without_supervisors_escalates_to_the_nearest_area_above(w, areas, make_user):
    below_th = AreaFactory(code="TH01", name="石牌街道", parent=areas["TH"])
    am = make_user(Role.ACCOUNT_MANAGER, [below_th], username="am_th01")
    request = overdue(make_customer(below_th, am), am)

    services.service_requests_escalate()

    assert reload(request).escalated_to == w["sup_th"]
    assert len(notices(w["sup_th"])) == len(notices(w["sup_th2"])) == 1
    assert notices(w["sup_gz"]) == []


def test_an_area_without_supervisors_escalates_to_the_citys(w, areas, make_user):
    by = AreaFactory(code="BY", name="白云区", parent=areas["GZ"])
    am = make_user(Role.ACCOUNT_MANAGER, [by], username="am_by")
    request = overdue(make_customer(by, am), am)

    services.service_requests_escalate()

    assert reload(request).escalated_to == w["sup_gz"]
    assert len(notices(w["sup_gz"])) == 1
    assert notices(w["sup_th"]) == notices(w["sup_yx"]) == []


def test_without_any_supervisor_above_the_administrators_are_told(w, areas, make_user):
    am = make_user(Role.ACCOUNT_MANAGER, [areas["SZ"]], username="am_sz")
    request = overdue(make_customer(areas["SZ"], am), am)

    services.service_requests_escalate()

    assert reload(request).escalated_to == w["admin"]
    assert len(notices(w["admin"])) == len(notices(am)) == 1
    assert notices(w["sup_gz"]) == []


def test_an_inactive_supervisor_is_passed_over(w):
    for name in ("sup_th", "sup_th2"):
        w[name].is_active = False
        w[name].save(update_fields=["is_active"])
    request = overdue(w["c_th"], w["am_th"])
    services.service_requests_escalate()
    assert reload(request).escalated_to == w["sup_gz"]


def test_escalations_in_several_areas_in_one_run(w):
    th = overdue(w["c_th"], w["am_th"])
    yx = overdue(w["c_yx"], w["am_yx"])
    assert services.service_requests_escalate() == 2
    assert reload(th).escalated_to == w["sup_th"]
    assert reload(yx).escalated_to == w["sup_yx"]
    assert len(notices(w["sup_yx"])) == 1
    assert len(notices(w["sup_th"])) == 1


def test_escalation_targets_by_area(w, areas):
    names = [u.username for u in services.escalation_targets(areas["TH"])]
    assert names == ["sup_th", "sup_th2"]
    assert [u.username for u in services.escalation_targets(areas["GZ"])] == ["sup_gz"]
    assert [u.username for u in services.escalation_targets(areas["SZ"])] == ["admin_x"]
