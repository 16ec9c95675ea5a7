"""Scheme administration pages through Django's test client: the versions and peak months
(administrators only), a draft's edit form with the service's refusals on its fields,
activation, copies, deletion, and the preview on a hand-made case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.choices import AuditAction
from crm.models import AuditEntry
from grading import selectors, services
from grading.choices import SchemeKind, SchemeStatus
from grading.forms import SchemeForm
from grading.models import GradeResult, GradingScheme, PeakMonth
from tests.grading.factories import make_fact
from tests.orders.factories import integration_client

GRADE_MONTH = dt.date(2026, 4, 1)
WINDOW = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]


@pytest.fixture
def active(db, system_actor):
    """The active scheme: the brief's default thresholds (a migration may have made it)."""
    scheme = selectors.scheme_active_or_none()
    if scheme is None:
        draft = services.scheme_create_draft(
            kind=SchemeKind.THRESHOLDS, name="Default", actor=system_actor
        )
        scheme = services.scheme_activate(scheme=draft, actor=system_actor)
    return scheme


@pytest.fixture
def admin_client(client, customer_world, active):
    client.force_login(customer_world["admin"])
    return client


def draft_of(kind, system_actor, name="Draft"):
    return services.scheme_create_draft(kind=kind, name=name, actor=system_actor)


def form_data(scheme: GradingScheme, **changes) -> dict[str, str]:
    """What the edit form posts for `scheme` as saved, with `changes` (field → text)."""
    initial = SchemeForm.initial_for(
        name=scheme.name, note=scheme.note, parameters=scheme.parameters
    )
    form = SchemeForm(kind=scheme.kind, initial=initial)
    data = {}
    for name in form.fields:
        value = initial.get(name)
        if name == "exclude_peak_months":
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    data.update({key: str(value) for key, value in changes.items()})
    return {key: value for key, value in data.items() if value != "None"}


def update_entries(scheme):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(GradingScheme),
        object_id=str(scheme.pk),
        action=AuditAction.UPDATE,
    )


def fact(customer, month, cartons, price=200):
    return make_fact(customer, month, cartons, price, first_order_date=WINDOW[0])


@pytest.fixture
def graded_month(customer_world, active, system_actor):
    """Three customers buying 600, 120 and 40 cartons every month of the window, graded
    and stored for GRADE_MONTH under the default thresholds: grades 3, 6 and 8."""
    for customer, cartons in (
        (customer_world["c_th"], 600),
        (customer_world["c_th2"], 120),
        (customer_world["c_yx"], 40),
    ):
        for month in WINDOW:
            fact(customer, month, cartons)
    services.grading_recompute(month=GRADE_MONTH, actor=system_actor)
    stored = dict(GradeResult.objects.values_list("customer__store_name", "grade"))
    assert stored == {"天河一号店": 3, "天河二号店": 6, "越秀店": 8}
    return GRADE_MONTH


def results_snapshot():
    return list(
        GradeResult.objects.order_by("pk").values_list(
            "pk", "customer_id", "month", "grade", "computed_grade", "scheme_id", "computed_at"
        )
    )


# --- who may see the pages ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sup_th", "am_th", "sup_gz", "lo_th"])
def test_the_pages_are_for_administrators_only(client, customer_world, active, who, system_actor):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    peak = services.peak_month_flag(month=dt.date(2026, 2, 1), label="春节", actor=system_actor)
    client.force_login(customer_world[who])
    gets = [reverse("grading:schemes"), reverse("grading:scheme", args=[draft.pk])]
    posts = [
        reverse("grading:schemes"),
        reverse("grading:scheme", args=[draft.pk]),
        reverse("grading:scheme_preview", args=[draft.pk]),
        reverse("grading:scheme_activate", args=[draft.pk]),
        reverse("grading:scheme_copy", args=[active.pk]),
        reverse("grading:scheme_delete", args=[draft.pk]),
        reverse("grading:peak_month_add"),
        reverse("grading:peak_month_delete", args=[peak.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, {"kind": "thresholds", "name": "x"}).status_code == 403, url
    draft.refresh_from_db()
    assert draft.status == SchemeStatus.DRAFT
    assert PeakMonth.objects.filter(pk=peak.pk).exists()
    assert GradingScheme.objects.count() == 2


def test_integration_clients_and_anonymous_visitors_get_no_page(client, db, active):
    _api, machine = integration_client()
    url = reverse("grading:schemes")
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    client.force_login(machine)
    assert client.get(url).status_code == 403
    assert client.get(reverse("grading:scheme", args=[active.pk])).status_code == 403


# --- the list -------------------------------------------------------------------------------


def test_the_list_highlights_the_active_scheme_and_pages_the_others(
    admin_client, active, system_actor, django_assert_max_num_queries
):
    for n in range(27):
        draft_of(SchemeKind.THRESHOLDS, system_actor, name=f"草稿 {n}")
    services.peak_month_flag(month=dt.date(2026, 2, 1), label="Spring Festival", actor=system_actor)
    with django_assert_max_num_queries(7):
        response = admin_client.get(reverse("grading:schemes"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="active-scheme"' in page
    assert f"v{active.version}" in page
    assert "Spring Festival" in page and "2026-02" in page
    assert len(response.context["versions"]) == 25
    assert response.context["paginator"].count == 27
    assert "Page 1 of 2" in page
    second = admin_client.get(reverse("grading:schemes") + "?page=2")
    assert len(second.context["versions"]) == 2


@pytest.mark.parametrize("kind", SchemeKind.values)
def test_a_new_draft_of_each_kind_starts_from_the_defaults(admin_client, kind):
    response = admin_client.post(reverse("grading:schemes"), {"kind": kind, "name": f"新 {kind}"})
    draft = GradingScheme.objects.get(name=f"新 {kind}")
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:scheme", args=[draft.pk])
    assert draft.status == SchemeStatus.DRAFT and draft.kind == kind
    page = admin_client.get(response["Location"]).content.decode()
    assert 'data-testid="scheme-form"' in page
    expected = {"thresholds": 8, "matrix": 30, "score": 10}[kind]
    assert draft.grade_count == expected
    assert AuditEntry.objects.filter(object_id=str(draft.pk), action=AuditAction.CREATE).exists()


def test_a_new_draft_needs_a_name_and_a_kind(admin_client):
    response = admin_client.post(reverse("grading:schemes"), {"kind": "nonsense", "name": ""})
    assert response.status_code == 200
    errors = response.context["create_form"].errors
    assert "kind" in errors and "name" in errors
    assert GradingScheme.objects.count() == 1


# --- reading a version ----------------------------------------------------------------------


def test_an_active_version_reads_as_tables(admin_client, active):
    response = admin_client.get(reverse("grading:scheme", args=[active.pk]))
    page = response.content.decode()
    assert response.context["form"] is None
    assert 'data-testid="scheme-form"' not in page
    shown = response.context["shown"]
    assert shown["thresholds"][0] == {"grade": 1, "range": "≥ 1500", "from": 1500}
    assert shown["thresholds"][1]["range"] == "1000–1500"
    assert shown["thresholds"][-1] == {"grade": 8, "range": "< 50", "from": 0}
    assert shown["structure"]["labels"] == ["≥ 250", "180–250", "130–180", "90–130", "< 90"]
    assert [row["classes"] for row in shown["structure"]["rows"]] == [
        [1, 2, 4, 6, 8],
        [2, 3, 5, 7, 9],
        [3, 4, 6, 8, 10],
    ]
    for text in ("≥ 250", "180–250", "&lt; 90", "≤ 50 m²", "Large"):
        assert text in page


def test_a_matrix_and_a_score_version_read_as_grids(admin_client, system_actor):
    matrix = services.scheme_activate(
        scheme=draft_of(SchemeKind.MATRIX, system_actor), actor=system_actor
    )
    shown = admin_client.get(reverse("grading:scheme", args=[matrix.pk])).context["shown"]
    assert shown["matrix"]["price_labels"] == ["≥ 180", "100–180", "< 100"]
    assert shown["matrix"]["rows"][0] == {"label": "≥ 1500", "grades": [1, 2, 3]}
    assert shown["matrix"]["rows"][-1] == {"label": "< 20", "grades": [28, 29, 30]}
    score = services.scheme_activate(
        scheme=draft_of(SchemeKind.SCORE, system_actor), actor=system_actor
    )
    response = admin_client.get(reverse("grading:scheme", args=[score.pk]))
    shown = response.context["shown"]["score"]
    assert [w["percent"] for w in shown["weights"]] == [20, 70, 10, 0]
    assert shown["bands"][0] == {"grade": 1, "share": 2, "top": 2}
    assert shown["bands"][-1]["top"] == 100
    assert "Low-tar share" in response.content.decode()


# --- editing a draft ------------------------------------------------------------------------


def test_a_draft_saves_valid_values_and_audits_them(admin_client, system_actor):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    data = form_data(
        draft,
        name="四档",
        note="试行",
        thresholds="1000, 300，100 0",
        window_months=6,
        structure_large_0=2,
        # four grades now: the new customers' grades must fit
        initial_C_up_to=3,
        initial_C_above=2,
        initial_X_up_to=4,
        initial_X_above=3,
    )
    data.pop("exclude_peak_months", None)
    response = admin_client.post(reverse("grading:scheme", args=[draft.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    assert draft.name == "四档" and draft.note == "试行"
    assert draft.parameters["grades"]["thresholds"] == [1000, 300, 100, 0]
    assert draft.parameters["window"] == {"months": 6, "exclude_peak_months": False}
    assert draft.parameters["structure"]["matrix"]["large"][0] == 2
    assert {e.field for e in update_entries(draft)} == {"name", "note", "parameters"}
    page = admin_client.get(response["Location"]).content.decode()
    assert "1000, 300, 100, 0" in page


def test_a_score_draft_saves_weights_and_bands(admin_client, system_actor):
    draft = draft_of(SchemeKind.SCORE, system_actor)
    data = form_data(
        draft,
        weight_quantity="0.3",
        weight_amount="0.5",
        weight_structure="0",
        weight_assessment="0.2",
        bands="10, 20, 30, 40",
        initial_C_up_to=4,
        initial_C_above=3,
        initial_X_up_to=4,
        initial_X_above=4,
        structure_metric="key_brand",
    )
    response = admin_client.post(reverse("grading:scheme", args=[draft.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    grades = draft.parameters["grades"]
    assert grades["weights"] == {"quantity": 0.3, "amount": 0.5, "structure": 0, "assessment": 0.2}
    assert grades["bands"] == [10, 20, 30, 40]
    assert grades["structure_metric"] == "key_brand"
    assert draft.grade_count == 4


@pytest.mark.parametrize(
    ("kind", "changes", "field", "message"),
    [
        (
            SchemeKind.THRESHOLDS,
            {"thresholds": "1500, 1500, 200, 0"},
            "thresholds",
            "Each value must be lower than the one before it.",
        ),
        (
            SchemeKind.SCORE,
            {"bands": "10, 20, 30"},
            "bands",
            "The bands must add up to 100%",
        ),
        (
            SchemeKind.MATRIX,
            {"price": "100, 180, 0"},
            "price",
            "Each value must be lower than the one before it.",
        ),
        (SchemeKind.THRESHOLDS, {"window_months": 13}, "window_months", "from 1 to 12"),
        (SchemeKind.THRESHOLDS, {"initial_C_up_to": 9}, "initial_C_up_to", "from 1 to 8"),
    ],
)
def test_invalid_values_show_on_their_field_and_save_nothing(
    admin_client, system_actor, kind, changes, field, message
):
    draft = draft_of(kind, system_actor)
    before = draft.parameters
    response = admin_client.post(
        reverse("grading:scheme", args=[draft.pk]), form_data(draft, **changes)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    page = response.content.decode()
    assert f'data-error-for="{field}"' in page
    assert "Nothing was saved" in page
    draft.refresh_from_db()
    assert draft.parameters == before
    assert not update_entries(draft).exists()


def test_weights_not_adding_up_to_one_show_under_the_weights(admin_client, system_actor):
    draft = draft_of(SchemeKind.SCORE, system_actor)
    before = draft.parameters
    response = admin_client.post(
        reverse("grading:scheme", args=[draft.pk]),
        form_data(draft, weight_quantity="0.5", weight_amount="0.7"),
    )
    form = response.context["form"]
    assert form.group_errors["weights"] == ["The weights must add up to 1 (they add up to 1.3)."]
    assert 'data-error-for="weights"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.parameters == before


def test_group_errors_land_on_scale_and_structure_rows(admin_client, system_actor):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    response = admin_client.post(
        reverse("grading:scheme", args=[draft.pk]),
        form_data(draft, scale_large=30, structure_small_4=11, name=""),
    )
    form = response.context["form"]
    assert "add up to 100%" in form.group_errors["scale"][0]
    assert form.group_errors["structure.matrix.small"] == [
        "Each class must be a whole number from 1 to 10."
    ]
    assert form.errors["name"] == ["Give the scheme a name."]
    draft.refresh_from_db()
    assert draft.name == "Draft"


def test_a_word_in_a_number_list_is_a_form_error(admin_client, system_actor):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    response = admin_client.post(
        reverse("grading:scheme", args=[draft.pk]),
        form_data(draft, thresholds="1500, lots, 0", window_months="three"),
    )
    form = response.context["form"]
    assert form.errors["thresholds"] == [
        "“lots” is not a number. Separate the numbers with commas."
    ]
    assert form.errors["window_months"] == ["Enter a whole number."]
    assert not update_entries(draft).exists()


def test_an_added_price_band_adds_a_column_to_fill_in(admin_client, system_actor):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    response = admin_client.post(
        reverse("grading:scheme", args=[draft.pk]),
        form_data(draft, price_bands="300, 250, 180, 130, 90"),
    )
    form = response.context["form"]
    assert form.column_labels[0] == "≥ 300" and len(form.column_labels) == 6
    assert "structure_large_5" in form.fields
    assert "Give one class per price band (6)." not in str(form.errors)
    assert form.group_errors["structure.matrix.large"] == [
        "Each class must be a whole number from 1 to 10."
    ]


@pytest.mark.parametrize("status", ["active", "retired"])
def test_active_and_retired_versions_cannot_be_edited(admin_client, active, system_actor, status):
    if status == "retired":
        services.scheme_activate(
            scheme=draft_of(SchemeKind.THRESHOLDS, system_actor), actor=system_actor
        )
        active.refresh_from_db()
        assert active.status == SchemeStatus.RETIRED
    before = active.parameters
    response = admin_client.post(
        reverse("grading:scheme", args=[active.pk]),
        form_data(active, thresholds="100, 0", name="改"),
        follow=True,
    )
    assert "is no longer a draft: copy it to change the rules." in response.content.decode()
    active.refresh_from_db()
    assert active.parameters == before and active.name != "改"
    assert admin_client.post(reverse("grading:scheme_delete", args=[active.pk])).status_code == 302
    assert GradingScheme.objects.filter(pk=active.pk).exists()


# --- activate, copy, delete -----------------------------------------------------------------


def test_activating_retires_the_active_version_and_keeps_stored_results(
    admin_client, active, graded_month, system_actor
):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    page = admin_client.get(reverse("grading:scheme", args=[draft.pk])).content.decode()
    assert f"Activating retires version {active.version}" in page
    before = results_snapshot()
    response = admin_client.post(reverse("grading:scheme_activate", args=[draft.pk]), follow=True)
    assert f"Version {draft.version} is active; version {active.version} is retired." in (
        response.content.decode()
    )
    draft.refresh_from_db()
    active.refresh_from_db()
    assert draft.status == SchemeStatus.ACTIVE and draft.activated_by.username == "admin_x"
    assert active.status == SchemeStatus.RETIRED
    assert results_snapshot() == before
    assert set(GradeResult.objects.values_list("scheme_id", flat=True)) == {active.pk}


def test_a_copy_is_a_new_draft_with_the_same_rules(admin_client, active):
    response = admin_client.post(reverse("grading:scheme_copy", args=[active.pk]))
    copy = GradingScheme.objects.get(version=active.version + 1)
    assert response["Location"] == reverse("grading:scheme", args=[copy.pk])
    assert copy.status == SchemeStatus.DRAFT
    assert copy.parameters == active.parameters and copy.kind == active.kind
    assert f"Copied from version {active.version}." in copy.note


def test_a_draft_can_be_deleted(admin_client, system_actor):
    draft = draft_of(SchemeKind.MATRIX, system_actor)
    response = admin_client.post(reverse("grading:scheme_delete", args=[draft.pk]))
    assert response["Location"] == reverse("grading:schemes")
    assert not GradingScheme.objects.filter(pk=draft.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(draft.pk), action=AuditAction.DELETE).exists()
    assert admin_client.get(reverse("grading:scheme", args=[draft.pk])).status_code == 404


def test_the_actions_take_posts_only(admin_client, active):
    for name in ("scheme_activate", "scheme_copy", "scheme_delete", "scheme_preview"):
        assert admin_client.get(reverse(f"grading:{name}", args=[active.pk])).status_code == 405


# --- peak months ----------------------------------------------------------------------------


def test_peak_months_are_added_refused_twice_and_removed(admin_client):
    url = reverse("grading:peak_month_add")
    response = admin_client.post(url, {"month": "2026-02", "label": "Spring Festival"})
    assert response["Location"] == reverse("grading:schemes")
    peak = PeakMonth.objects.get()
    assert peak.month == dt.date(2026, 2, 1) and peak.label == "Spring Festival"
    assert AuditEntry.objects.filter(object_id=str(peak.pk), action=AuditAction.CREATE).exists()

    again = admin_client.post(url, {"month": "2026-02", "label": "春节"})
    assert again.status_code == 200
    assert again.context["peak_form"].errors["month"] == ["2026-02 is already flagged."]
    assert PeakMonth.objects.count() == 1

    bad = admin_client.post(url, {"month": "February", "label": ""})
    assert set(bad.context["peak_form"].errors) == {"month", "label"}

    gone = admin_client.post(reverse("grading:peak_month_delete", args=[peak.pk]))
    assert gone["Location"] == reverse("grading:schemes")
    assert not PeakMonth.objects.exists()
    assert AuditEntry.objects.filter(object_id=str(peak.pk), action=AuditAction.DELETE).exists()
    missing = admin_client.post(reverse("grading:peak_month_delete", args=[peak.pk]))
    assert missing.status_code == 404


# --- the preview ----------------------------------------------------------------------------


def _rows(response):
    return {row["grade"]: (row["now"], row["draft"]) for row in response.context["preview"]["rows"]}


def test_the_preview_grades_the_latest_month_with_unsaved_values(
    admin_client, graded_month, system_actor
):
    # given a draft, and posted thresholds that differ from the saved ones:
    # 600 → grade 4 (≥ 400), 120 → 6 (≥ 110), 40 → 7 (≥ 30); stored: 3, 6 and 8.
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    saved = draft.parameters
    before = results_snapshot()
    data = form_data(draft, thresholds="2000, 1200, 700, 400, 150, 110, 30, 0", name="试算")
    # when
    response = admin_client.post(
        reverse("grading:scheme_preview", args=[draft.pk]), data, HTTP_HX_REQUEST="true"
    )
    # then
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "grading/inc/scheme_editor.html"
    preview = response.context["preview"]
    assert preview["month"] == graded_month and preview["graded"]
    assert preview["window"] == WINDOW
    assert _rows(response) == {
        1: (0, 0),
        2: (0, 0),
        3: (1, 0),
        4: (0, 1),
        5: (0, 0),
        6: (1, 1),
        7: (0, 1),
        8: (1, 0),
    }
    assert preview["movements"] == {"up": 1, "down": 1, "same": 1, "new": 0, "not_comparable": 0}
    assert preview["totals"] == {"now": 3, "draft": 3}
    page = response.content.decode()
    assert 'id="scheme-preview-data"' in page and "computed in" in page
    assert 'data-movement="down">1<' in page
    # nothing saved: the draft, the results
    draft.refresh_from_db()
    assert draft.parameters == saved and draft.name == "Draft"
    assert not update_entries(draft).exists()
    assert results_snapshot() == before


# The graded month's three customers against a draft on another scale: none compared.
THREE_NOT_COMPARABLE = {"up": 0, "down": 0, "same": 0, "new": 0, "not_comparable": 3}


def test_the_preview_without_htmx_shows_the_page_with_the_posted_values(
    admin_client, graded_month, system_actor
):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    response = admin_client.post(
        reverse("grading:scheme_preview", args=[draft.pk]),
        form_data(
            draft,
            thresholds="500, 100, 0",
            initial_C_up_to=3,
            initial_C_above=3,
            initial_X_up_to=3,
            initial_X_above=3,
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and 'value="500, 100, 0"' in page
    assert _rows(response) == {
        1: (0, 1),
        2: (0, 1),
        3: (1, 1),
        4: (0, 0),
        5: (0, 0),
        6: (1, 0),
        7: (0, 0),
        8: (1, 0),
    }
    # 3 grades against the stored 8: another scale, so no customer "moves up"
    assert response.context["preview"]["movements"] == THREE_NOT_COMPARABLE
    draft.refresh_from_db()
    assert draft.grade_count == 8


def test_the_preview_of_invalid_values_shows_the_errors_instead(
    admin_client, graded_month, system_actor
):
    draft = draft_of(SchemeKind.THRESHOLDS, system_actor)
    response = admin_client.post(
        reverse("grading:scheme_preview", args=[draft.pk]),
        form_data(draft, thresholds="100, 500, 0"),
        HTTP_HX_REQUEST="true",
    )
    assert response.context["preview"] is None
    assert "Each value must be lower" in response.context["form"].errors["thresholds"][0]


def test_the_preview_of_the_active_scheme_uses_its_stored_rules(admin_client, active, graded_month):
    response = admin_client.post(
        reverse("grading:scheme_preview", args=[active.pk]), HTTP_HX_REQUEST="true"
    )
    assert [t.name for t in response.templates][0] == "grading/inc/scheme_preview.html"
    assert response.context["preview"]["movements"] == {
        "up": 0,
        "down": 0,
        "same": 3,
        "new": 0,
        "not_comparable": 0,
    }
    assert all(now == draft for now, draft in _rows(response).values())


def test_the_preview_of_another_scale_compares_no_grade(admin_client, graded_month, system_actor):
    # given: the month graded with the 8 grades; a 30-grade matrix draft
    draft = draft_of(SchemeKind.MATRIX, system_actor)
    # when
    response = admin_client.post(
        reverse("grading:scheme_preview", args=[draft.pk]),
        form_data(draft),
        HTTP_HX_REQUEST="true",
    )
    # then: nobody "would move down" from grade 3 of 8 to grade 10 of 30
    assert response.context["preview"]["movements"] == THREE_NOT_COMPARABLE
    assert 'data-movement="not_comparable">3<' in response.content.decode()


def test_the_preview_before_any_month_is_graded(admin_client, customer_world, system_actor):
    draft = draft_of(SchemeKind.MATRIX, system_actor)
    response = admin_client.post(
        reverse("grading:scheme_preview", args=[draft.pk]), form_data(draft)
    )
    preview = response.context["preview"]
    assert not preview["graded"]
    # No facts: the three customers are new and get the initial grade (urban, unknown area).
    assert preview["movements"] == {"up": 0, "down": 0, "same": 0, "new": 3, "not_comparable": 0}
    assert _rows(response)[24] == (0, 3)
    assert "nothing to compare with" in response.content.decode()
    assert not GradeResult.objects.exists()
