"""The customer page's grading card, its forms (override, decisions, assessment) and the
override queue, through Django's test client."""

from __future__ import annotations

import calendar
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource
from crm.dates import add_months, month_start
from crm.services import Actor
from grading import services
from grading.choices import OverrideStatus
from grading.models import GradeAssessment, GradeOverride, GradeResult, PeakMonth
from grading.selectors import category_meaning
from tests.customers.factories import make_customer
from tests.grading.factories import make_fact

MONTH = month_start(timezone.localdate())


def actor(user) -> Actor:
    return Actor.of(user, AuditSource.PAGE)


def add_facts(customer, cartons: int, price: int = 200, *, months=(1, 2, 3), first=None):
    """`cartons` a month at `price` CNY a carton in the given months before MONTH (1 = the
    month before); the first order on `first` (default: the month before the earliest)."""
    first = first or add_months(MONTH, -max(months) - 1)
    for k in months:
        start = add_months(MONTH, -k)
        make_fact(customer, start, cartons, price, first_order_date=max(first, start))


@pytest.fixture
def graded(customer_world, system_actor):
    """c_th: 600 cartons a month at 200 CNY (thresholds grade 3); c_th2: 120 (grade 6);
    c_yx: no orders (graded as a new customer)."""
    add_facts(customer_world["c_th"], 600)
    add_facts(customer_world["c_th2"], 120)
    services.grading_recompute(month=MONTH, actor=system_actor)
    return customer_world


def detail_url(customer) -> str:
    return reverse("customers:detail", args=[customer.customer_code])


def card_url(customer) -> str:
    """The customer page with its grade and value tab open (the grading card's)."""
    return detail_url(customer) + "?tab=grade-value"


def card_html(client, user, customer) -> str:
    client.force_login(user)
    response = client.get(card_url(customer))
    assert response.status_code == 200
    return response.content.decode()


def propose(world, customer_key="c_th", *, by="sup_th", grade=2):
    return services.override_propose(
        customer=world[customer_key],
        month=MONTH,
        grade=grade,
        reason="New shop front",
        actor=actor(world[by]),
    )


def decide_url(override, action: str) -> str:
    return reverse("grading:override_decide", args=[override.pk, action])


# --- the card -------------------------------------------------------------------------------


def test_card_empty_state_before_any_grading(client, customer_world):
    html = card_html(client, customer_world["sup_th"], customer_world["c_th"])
    assert 'data-testid="customer-grading"' in html
    assert 'data-testid="not-graded"' in html
    assert 'data-testid="override-propose-form"' not in html
    assert "grading-history-data" not in html


def test_card_shows_the_result_and_why_for_a_thresholds_grade(client, graded):
    html = card_html(client, graded["am_th"], graded["c_th"])
    assert 'data-testid="effective-grade">3<' in html
    assert "Urban · Grocery store · " in html  # the category code's meaning
    assert "version 1" in html
    # the window months counted, the averages, the rule that placed it
    window = [f"{add_months(MONTH, -k):%Y-%m}" for k in (3, 2, 1)]
    assert f"Months counted: {', '.join(window)} (3 months)." in html
    assert "Monthly average: 600.00 cartons" in html
    assert "average price 200.00 CNY per carton" in html
    assert "Rule: ≥ 500 and &lt; 1000 cartons a month → grade 3." in html
    # the scale percentiles and the structure cell: 200 CNY is band 2 (180-250)
    assert "among the 3 customers of the group Urban × Grocery store" in html
    assert "Price band 2 (≥ 180 and &lt; 250 CNY per carton)." in html
    result = GradeResult.objects.get(customer=graded["c_th"], month=MONTH)
    assert f"structure class {result.structure_class}." in html
    assert 'data-testid="structure-cell"' in html
    assert "not counted" not in html


def test_card_names_the_active_schemes_assessment_weight(client, graded):
    """The assessment's weight comes from the active scheme: for a graded customer its result's
    own scheme (no second read of it), for a customer not graded yet a read of the active one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grading.models import GradingScheme

    scheme = GradingScheme.objects.get(status="active")
    weights = scheme.parameters["grades"].setdefault("weights", {})
    weights["assessment"] = 0.25
    scheme.save(update_fields=["parameters"])
    ungraded = make_customer(graded["c_th"].area, graded["am_th"])
    for customer, scheme_reads in ((graded["c_th"], 0), (ungraded, 1)):
        with CaptureQueriesContext(connection) as queries:
            html = card_html(client, graded["am_th"], customer)
        assert "the active scheme weights it 25%." in html
        assert (
            sum(q["sql"].lstrip().startswith('SELECT "grading_gradingscheme"') for q in queries)
            == scheme_reads
        )
    scheme.status = "retired"
    scheme.save(update_fields=["status"])
    assert "the active scheme does not use it." in card_html(client, graded["am_th"], ungraded)


def test_card_history_chart_data_and_table(client, graded):
    client.force_login(graded["sup_th"])
    response = client.get(card_url(graded["c_th"]))
    html = response.content.decode()
    data = response.context["grading"]["chart"]
    assert len(data["labels"]) == 12
    assert data["labels"][-1] == f"{MONTH:%Y-%m}"
    assert (data["grade"][-1], data["computed"][-1], data["grade_count"]) == (3, 3, 8)
    assert data["grade"][0] is None  # not graded then
    assert 'id="grading-history-data"' in html
    script = html.split('id="grading-history-data" type="application/json">')[1]
    assert json.loads(script.split("</script>")[0]) == data
    assert "js/grading_history.js" in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert f'data-month="{MONTH:%Y-%m}"' in html  # the table fallback


def test_card_lists_category_code_changes(client, graded, system_actor):
    # given: the month before graded too, with another category code stored
    previous = add_months(MONTH, -1)
    services.grading_recompute(month=previous, actor=system_actor)
    GradeResult.objects.filter(customer=graded["c_th"], month=previous).update(category_code="CZ3")
    current = GradeResult.objects.get(customer=graded["c_th"], month=MONTH).category_code
    # when
    html = card_html(client, graded["sup_th"], graded["c_th"])
    # then
    assert f"{MONTH:%Y-%m}: category code CZ3 → {current}" in html
    assert f'data-month="{previous:%Y-%m}"' in html
    assert 'data-testid="category-changes"' in html
    other = card_html(client, graded["sup_th"], graded["c_th2"])  # no change: no list
    assert 'data-testid="category-changes"' not in other


def test_card_explains_a_first_order_month_counted_from_the_first_order_on(
    client, customer_world, system_actor
):
    # given: 900 cartons in the window's first month, first ordered on its 15th, none since
    first_month = add_months(MONTH, -3)
    first = first_month.replace(day=15)
    days = calendar.monthrange(first.year, first.month)[1]
    add_facts(customer_world["c_th"], 900, months=(3,), first=first)
    services.grading_recompute(month=MONTH, actor=system_actor)
    # when
    html = card_html(client, customer_world["sup_th"], customer_world["c_th"])
    # then: all three months count, the first from the 15th on
    share = html.split('data-testid="why-partial-month">')[1].split("</span>")[0]
    assert share == (
        f"{first_month:%Y-%m} counts from the first order on {first:%Y-%m-%d}: "
        f"{days - 14} of its {days} days, with all its purchases."
    )
    result = GradeResult.objects.get(customer=customer_world["c_th"], month=MONTH)
    assert result.months_used == 3
    assert float(result.avg_cartons) == round(900 / ((days - 14) / days + 2), 2)


def test_card_explains_months_left_out(client, customer_world, system_actor):
    # given: the first order in the window's second month, and its last month a peak
    peak = add_months(MONTH, -1)
    PeakMonth.objects.create(month=peak, label="Spring Festival")
    add_facts(customer_world["c_th"], 600, months=(1, 2), first=add_months(MONTH, -2))
    services.grading_recompute(month=MONTH, actor=system_actor)
    # when
    html = card_html(client, customer_world["sup_th"], customer_world["c_th"])
    # then: only the second month counts
    assert f"Month counted: {add_months(MONTH, -2):%Y-%m}." in html
    assert "The scheme's window is 3 months; not counted:" in html
    assert "before the customer's first order" in html
    assert "peak month left out: Spring Festival" in html


def activate(kind: str, system_actor) -> None:
    draft = services.scheme_create_draft(kind=kind, name=kind, actor=system_actor)
    services.scheme_activate(scheme=draft, actor=system_actor)


def test_card_explains_a_matrix_grade(client, customer_world, system_actor):
    # 600 cartons: volume segment 4 of 10 (500-700); 200 CNY: price interval 1 of 3 (≥ 180)
    # → grade 1 + 3 × 3 + 0 = 10.
    activate("matrix", system_actor)
    add_facts(customer_world["c_th"], 600)
    services.grading_recompute(month=MONTH, actor=system_actor)
    html = " ".join(card_html(client, customer_world["sup_th"], customer_world["c_th"]).split())
    assert 'data-testid="effective-grade">10<' in html
    assert "Volume segment 4 of 10 (≥ 500 and &lt; 700 cartons a month)" in html
    assert "price interval 1 of 3 (≥ 180 CNY per carton) → grade 10." in html


def test_card_explains_a_score_grade(client, customer_world, system_actor):
    # Among the two customers graded on their window, c_th2 ranks second on quantity and
    # amount (percentile 50) and ties on structure (75): 0.2×50 + 0.7×50 + 0.1×75 = 52.5.
    # 50% of customers rank above it: the bands 2,3,5,10,10,15,15,… reach 45% after six
    # bands and 60% after seven → grade 7.
    activate("score", system_actor)
    add_facts(customer_world["c_th"], 600)
    add_facts(customer_world["c_th2"], 120)
    services.grading_recompute(month=MONTH, actor=system_actor)
    html = " ".join(card_html(client, customer_world["sup_th"], customer_world["c_th2"]).split())
    assert "Score 52.50 (quantity 20%, amount 70%, structure 10%)" in html
    assert "ranks in the top 45–60% of customers → grade 7." in html


def test_card_explains_the_initial_grade(client, graded, areas):
    html = card_html(client, graded["sup_yx"], graded["c_yx"])
    assert 'data-testid="why-initial"' in html
    assert "floor area unknown (counted as up to 50 m²) → grade 6." in html
    assert "up to 50 m² → grade 6; larger → grade 5." in html


def test_card_explains_the_initial_grade_of_a_large_shop(client, customer_world, system_actor):
    shop = make_customer("TH", customer_world["am_th"], floor_area_m2="80", market_type="X")
    services.grading_recompute(month=MONTH, actor=system_actor)
    html = card_html(client, customer_world["am_th"], shop)
    assert "Rural shop, floor area 80.00 m² (above 50 m²) → grade 6." in html


def test_card_shows_computed_and_effective_grade_when_overridden(client, graded):
    override = propose(graded)
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    html = card_html(client, graded["am_th"], graded["c_th"])
    assert 'data-testid="effective-grade">2<' in html
    today = timezone.localdate().strftime("%Y-%m-%d")
    assert f"computed 3 → effective 2, approved by {graded['sup_th2']} on {today}" in html


# --- who sees which form --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "propose_form", "assessment_form"),
    [
        ("sup_th", True, True),
        ("sup_gz", True, True),
        ("admin", True, True),
        ("am_th", False, True),
        ("lo_th", False, False),
    ],
)
def test_forms_appear_only_for_the_right_roles(client, graded, who, propose_form, assessment_form):
    html = card_html(client, graded[who], graded["c_th"])
    assert ('data-testid="override-propose-form"' in html) is propose_form
    assert ('data-testid="assessment-form"' in html) is assessment_form


def test_the_propose_form_offers_the_other_grades_of_the_result_month(client, graded):
    client.force_login(graded["sup_th"])
    response = client.get(card_url(graded["c_th"]))
    assert response.context["grading"]["grade_choices"] == [1, 2, 4, 5, 6, 7, 8]
    assert f'name="month" value="{MONTH:%Y-%m-%d}"' in response.content.decode()


def test_decision_buttons_follow_the_rules(client, graded):
    override = propose(graded)
    # the proposer may withdraw, not approve
    html = card_html(client, graded["sup_th"], graded["c_th"])
    assert decide_url(override, "withdraw") in html
    assert decide_url(override, "approve") not in html
    assert 'data-testid="override-propose-form"' not in html  # one open override a month
    # another supervisor of the area may approve or reject
    html = card_html(client, graded["sup_th2"], graded["c_th"])
    assert decide_url(override, "approve") in html
    assert decide_url(override, "reject") in html
    assert decide_url(override, "withdraw") not in html
    # the account manager sees it, with no button
    html = card_html(client, graded["am_th"], graded["c_th"])
    assert f'data-override="{override.pk}"' in html
    assert decide_url(override, "approve") not in html
    # once approved, a supervisor may revoke
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    html = card_html(client, graded["sup_th"], graded["c_th"])
    assert decide_url(override, "revoke") in html


# --- the POSTs ------------------------------------------------------------------------------


def test_propose_posts_and_redirects_to_the_card(client, graded):
    client.force_login(graded["sup_th"])
    url = reverse("grading:override_propose", args=[graded["c_th"].customer_code])
    response = client.post(url, {"month": f"{MONTH:%Y-%m-%d}", "grade": "2", "reason": "Bigger"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(graded["c_th"]) + "?tab=grade-value#grading"
    override = GradeOverride.objects.get()
    assert (override.grade, override.computed_grade, override.proposed_by) == (
        2,
        3,
        graded["sup_th"],
    )
    html = client.get(response["Location"]).content.decode()
    assert "The override was proposed." in html


def test_propose_errors_are_shown_as_messages(client, graded):
    client.force_login(graded["sup_th"])
    url = reverse("grading:override_propose", args=[graded["c_th"].customer_code])
    response = client.post(
        url, {"month": f"{MONTH:%Y-%m-%d}", "grade": "3", "reason": "x"}, follow=True
    )
    assert "That is the computed grade already." in response.content.decode()
    response = client.post(url, {"month": "", "grade": "2", "reason": "x"}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(graded["c_th"]) + "?tab=grade-value#grading"
    assert "Grade month" in response.content.decode()
    assert not GradeOverride.objects.exists()


def test_an_account_manager_cannot_propose_through_the_page(client, graded):
    client.force_login(graded["am_th"])
    url = reverse("grading:override_propose", args=[graded["c_th"].customer_code])
    response = client.post(url, {"month": f"{MONTH:%Y-%m-%d}", "grade": "2", "reason": "x"})
    assert response.status_code == 302
    assert not GradeOverride.objects.exists()


def test_out_of_scope_customers_and_overrides_are_404(client, graded):
    override = propose(graded)
    client.force_login(graded["sup_yx"])
    code = graded["c_th"].customer_code
    data = {"month": f"{MONTH:%Y-%m-%d}", "grade": "2", "reason": "x", "score": "50"}
    assert client.post(reverse("grading:override_propose", args=[code]), data).status_code == 404
    assert client.post(reverse("grading:assessment", args=[code]), data).status_code == 404
    assert client.post(decide_url(override, "approve")).status_code == 404
    client.force_login(graded["am_th2"])
    assert client.post(reverse("grading:assessment", args=[code]), data).status_code == 404
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED


def test_approve_posts_and_changes_the_grade(client, graded):
    override = propose(graded)
    client.force_login(graded["sup_th2"])
    response = client.post(decide_url(override, "approve"), follow=True)
    assert response.redirect_chain[0][0] == detail_url(graded["c_th"]) + "?tab=grade-value#grading"
    assert "grade 2 is now in force" in response.content.decode()
    assert GradeResult.objects.get(customer=graded["c_th"], month=MONTH).grade == 2


def test_reject_without_a_note_is_refused_with_a_message(client, graded):
    override = propose(graded)
    client.force_login(graded["sup_th2"])
    response = client.post(decide_url(override, "reject"), {"note": ""}, follow=True)
    assert "Say why the override is rejected." in response.content.decode()
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED
    client.post(decide_url(override, "reject"), {"note": "No evidence"})
    override.refresh_from_db()
    assert (override.status, override.decision_note) == (OverrideStatus.REJECTED, "No evidence")


def test_withdraw_and_revoke_through_the_page(client, graded):
    withdrawn = propose(graded)
    client.force_login(graded["sup_th"])
    client.post(decide_url(withdrawn, "withdraw"))
    withdrawn.refresh_from_db()
    assert withdrawn.status == OverrideStatus.WITHDRAWN

    approved = propose(graded, grade=4)
    services.override_approve(override=approved, actor=actor(graded["sup_th2"]))
    client.post(decide_url(approved, "revoke"), {"note": "Shop shrank"})
    approved.refresh_from_db()
    assert approved.status == OverrideStatus.REVOKED
    assert GradeResult.objects.get(customer=graded["c_th"], month=MONTH).grade == 3


def test_decide_goes_back_to_a_local_next_only(client, graded):
    override = propose(graded)
    client.force_login(graded["sup_th2"])
    queue = reverse("grading:overrides") + "?status=waiting"
    response = client.post(decide_url(override, "approve"), {"next": queue})
    assert response["Location"] == queue
    other = propose(graded, "c_th2")
    response = client.post(decide_url(other, "approve"), {"next": "https://evil.example/"})
    assert response["Location"] == detail_url(graded["c_th2"]) + "?tab=grade-value#grading"


def test_decide_refuses_unknown_actions_and_get(client, graded):
    override = propose(graded)
    client.force_login(graded["sup_th2"])
    assert client.post(decide_url(override, "delete")).status_code == 404
    assert client.get(decide_url(override, "approve")).status_code == 405


def test_assessment_posts_creates_and_updates(client, graded):
    client.force_login(graded["am_th"])
    url = reverse("grading:assessment", args=[graded["c_th"].customer_code])
    response = client.post(url, {"score": "85", "note": "Tidy shop"})
    assert response["Location"] == detail_url(graded["c_th"]) + "?tab=grade-value#grading"
    assessment = GradeAssessment.objects.get()
    assert (assessment.month, assessment.score, assessment.note) == (MONTH, 85, "Tidy shop")
    client.force_login(graded["sup_th"])
    html = client.post(url, {"score": "70", "note": ""}, follow=True).content.decode()
    assert GradeAssessment.objects.get().score == 70
    assert "The assessment was saved." in html
    assert 'data-testid="current-assessment"' in html
    assert 'value="70"' in html


def test_assessment_out_of_range_is_a_message(client, graded):
    client.force_login(graded["am_th"])
    url = reverse("grading:assessment", args=[graded["c_th"].customer_code])
    response = client.post(url, {"score": "150"}, follow=True)
    assert response.status_code == 200
    assert "Assessment:" in response.content.decode()
    assert not GradeAssessment.objects.exists()


def test_a_licence_officer_cannot_assess(client, graded):
    client.force_login(graded["lo_th"])
    url = reverse("grading:assessment", args=[graded["c_th"].customer_code])
    assert client.post(url, {"score": "50"}).status_code == 403
    assert not GradeAssessment.objects.exists()


def test_anonymous_posts_go_to_the_login_page(client, graded):
    url = reverse("grading:assessment", args=[graded["c_th"].customer_code])
    response = client.post(url, {"score": "50"})
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- the queue ------------------------------------------------------------------------------


@pytest.fixture
def queue(graded):
    """A waiting override on c_th, an approved one on c_th2 (both TH), and a rejected one on
    c_yx (proposed by an administrator, as c_yx's YX supervisor)."""
    waiting = propose(graded)
    approved = propose(graded, "c_th2", by="sup_th2", grade=5)
    services.override_approve(override=approved, actor=actor(graded["sup_th"]))
    rejected = propose(graded, "c_yx", by="admin", grade=1)
    services.override_reject(override=rejected, note="No", actor=actor(graded["sup_yx"]))
    return {**graded, "waiting": waiting, "approved": approved, "rejected": rejected}


def listed(response) -> list[int]:
    return [row["override"].pk for row in response.context["rows"]]


def test_queue_tabs_filter_by_status_with_counts(client, queue):
    client.force_login(queue["admin"])
    url = reverse("grading:overrides")
    response = client.get(url)
    assert listed(response) == [queue["waiting"].pk]
    counts = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {"waiting": 1, "approved": 1, "closed": 1, "all": 3}
    assert listed(client.get(url, {"status": "approved"})) == [queue["approved"].pk]
    assert listed(client.get(url, {"status": "closed"})) == [queue["rejected"].pk]
    assert set(listed(client.get(url, {"status": "all"}))) == {
        queue["waiting"].pk,
        queue["approved"].pk,
        queue["rejected"].pk,
    }
    assert listed(client.get(url, {"status": "nonsense"})) == [queue["waiting"].pk]


def test_queue_shows_the_row_and_decision_buttons_to_a_second_person(client, queue):
    client.force_login(queue["sup_th2"])
    html = client.get(reverse("grading:overrides")).content.decode()
    assert queue["c_th"].store_name in html
    assert detail_url(queue["c_th"]) in html
    assert "3 → <strong>2</strong>" in html
    assert "New shop front" in html
    assert decide_url(queue["waiting"], "approve") in html
    assert decide_url(queue["waiting"], "reject") in html
    assert 'data-testid="grading-tabs"' in html


def test_queue_hides_approve_from_the_proposer(client, queue):
    client.force_login(queue["sup_th"])
    html = client.get(reverse("grading:overrides")).content.decode()
    assert decide_url(queue["waiting"], "approve") not in html
    assert decide_url(queue["waiting"], "withdraw") in html


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_queue_is_read_only_for_account_managers_and_licence_officers(client, queue, who):
    client.force_login(queue[who])
    response = client.get(reverse("grading:overrides"), {"status": "all"})
    html = response.content.decode()
    # am_th owns c_th only; lo_th sees the whole TH area (c_th and c_th2)
    expected = {queue["waiting"].pk}
    if who == "lo_th":
        expected.add(queue["approved"].pk)
    assert set(listed(response)) == expected
    assert "/approve/" not in html
    assert "/reject/" not in html
    assert "read-only for you" in html


def test_queue_is_scoped(client, queue):
    client.force_login(queue["sup_yx"])
    response = client.get(reverse("grading:overrides"), {"status": "all"})
    assert listed(response) == [queue["rejected"].pk]
    counts = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {"waiting": 0, "approved": 0, "closed": 1, "all": 1}


def copy_result(world, customer) -> None:
    """Gives `customer` c_th's result of MONTH (so it can be overridden)."""
    result = GradeResult.objects.get(customer=world["c_th"], month=MONTH)
    result.pk, result.customer, result.override, result.grade = None, customer, None, 3
    result.save()


def test_queue_paginates(client, queue, areas):
    for _n in range(26):
        customer = make_customer(areas["TH"], queue["am_th"])
        copy_result(queue, customer)
        propose({**queue, "c": customer}, "c")
    client.force_login(queue["sup_th2"])
    url = reverse("grading:overrides")
    first = client.get(url)
    assert len(first.context["rows"]) == 25
    assert first.context["tabs"][0]["count"] == 27
    assert len(client.get(url, {"page": 2}).context["rows"]) == 2


def test_queue_query_count_is_pinned(client, queue, areas, django_assert_max_num_queries):
    client.force_login(queue["sup_th2"])
    url = reverse("grading:overrides")
    client.get(url)  # warm caches (content types, etc.)
    # session, user, notifications, scope areas (2), counts, page count, rows, the rows'
    # published months
    with django_assert_max_num_queries(9):
        response = client.get(url, {"status": "all"})
    assert len(response.context["rows"]) == 2
    for _n in range(10):
        customer = make_customer(areas["TH"], queue["am_th"])
        copy_result(queue, customer)
        propose({**queue, "c": customer}, "c")
    with django_assert_max_num_queries(9):
        response = client.get(url, {"status": "all"})
    assert len(response.context["rows"]) == 12


def test_queue_needs_a_signed_in_person(client):
    response = client.get(reverse("grading:overrides"))
    assert response.status_code == 302


def test_category_meaning_reads_the_national_code():
    assert category_meaning("XB3") == {
        "market": "Rural",
        "format": "Convenience store",
        "scale": "Small",
    }
    assert category_meaning("CZ0") is None
    assert category_meaning("") is None
    assert category_meaning("QQ1") is None


def test_a_published_month_offers_no_override_and_says_why(client, graded):
    # given a waiting override, then the month published
    waiting = propose(graded)
    services.grades_publish(month=MONTH, actor=actor(graded["admin"]))
    # then the second supervisor may only reject it (approving would change a locked grade),
    # and no new override is offered for the month
    html = card_html(client, graded["sup_th2"], graded["c_th"])
    assert f'action="{decide_url(waiting, "reject")}"' in html
    assert f'action="{decide_url(waiting, "approve")}"' not in html
    html = card_html(client, graded["sup_th"], graded["c_th2"])
    assert 'data-testid="override-propose-form"' not in html
    assert 'data-testid="override-locked"' in html


def test_the_queue_offers_only_reject_for_an_override_of_a_published_month(client, graded):
    waiting = propose(graded)
    services.grades_publish(month=MONTH, actor=actor(graded["admin"]))
    client.force_login(graded["sup_th2"])
    [row] = client.get(reverse("grading:overrides")).context["rows"]
    assert (row["override"], row["actions"]) == (waiting, ["reject"])
