"""Valuation scheme pages through Django's test client: the versions (administrators only), a
draft's edit form covering every parameter with the rules' refusals beside their fields,
activation, copies, deletion, and the readable rules of active and retired versions."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.choices import AuditAction, SchemeStatus
from crm.models import AuditEntry
from tests.orders.factories import integration_client
from valuation import computations, services
from valuation.forms import SchemeForm
from valuation.models import ValuationScheme

SCHEMES = reverse("valuation:schemes")


def page(pk: int) -> str:
    return reverse("valuation:scheme", args=[pk])


@pytest.fixture
def active(db):
    """The active scheme: the brief's defaults, created on first use."""
    return services.scheme_active()


@pytest.fixture
def admin_client(client, customer_world, active):
    client.force_login(customer_world["admin"])
    return client


def draft_of(system_actor, name="Draft"):
    return services.scheme_create_draft(name=name, actor=system_actor)


def form_data(scheme: ValuationScheme, **changes) -> dict[str, str]:
    """What the edit form posts for `scheme` as saved, with `changes` (field → text)."""
    initial = SchemeForm.initial_for(
        name=scheme.name, note=scheme.note, parameters=scheme.parameters
    )
    data = {
        name: str(initial[name]) for name in SchemeForm().fields if initial.get(name) is not None
    }
    data.update({key: str(value) for key, value in changes.items()})
    return data


def update_entries(scheme):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ValuationScheme),
        object_id=str(scheme.pk),
        action=AuditAction.UPDATE,
    )


# --- who may see the pages ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sup_th", "am_th", "sup_gz", "lo_th"])
def test_the_pages_are_for_administrators_only(client, customer_world, active, who, system_actor):
    draft = draft_of(system_actor)
    client.force_login(customer_world[who])
    for url in (SCHEMES, page(draft.pk)):
        assert client.get(url).status_code == 403, url
    posts = [
        SCHEMES,
        page(draft.pk),
        reverse("valuation:scheme_activate", args=[draft.pk]),
        reverse("valuation:scheme_copy", args=[active.pk]),
        reverse("valuation:scheme_delete", args=[draft.pk]),
    ]
    for url in posts:
        assert client.post(url, form_data(draft, name="x")).status_code == 403, url
    draft.refresh_from_db()
    assert (draft.status, draft.name) == (SchemeStatus.DRAFT, "Draft")
    assert ValuationScheme.objects.count() == 2


def test_integration_clients_and_anonymous_visitors_get_no_page(client, db, active):
    _api, machine = integration_client()
    response = client.get(SCHEMES)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    client.force_login(machine)
    assert client.get(SCHEMES).status_code == 403
    assert client.get(page(active.pk)).status_code == 403


# --- the list -------------------------------------------------------------------------------


def test_the_list_highlights_the_active_scheme_and_pages_the_others(
    admin_client, active, system_actor, django_assert_num_queries
):
    for n in range(27):
        draft_of(system_actor, name=f"草稿 {n}")
    # session, user, active, count, page, unread notifications
    with django_assert_num_queries(6):
        response = admin_client.get(SCHEMES)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="active-scheme"' in html
    assert f"v{active.version} {active.name}" in html
    assert "High current value from 50, high potential value from 50" in html
    assert len(response.context["versions"]) == 25
    assert response.context["paginator"].count == 27
    assert "Page 1 of 2" in html
    assert len(admin_client.get(SCHEMES, {"page": "2"}).context["versions"]) == 2


def test_before_any_valuation_the_list_says_the_default_comes_first(client, customer_world):
    client.force_login(customer_world["admin"])
    html = client.get(SCHEMES).content.decode()
    assert 'data-testid="no-active-scheme"' in html
    assert not ValuationScheme.objects.exists()  # the page does not create one


def test_a_new_draft_starts_from_the_defaults(admin_client):
    response = admin_client.post(SCHEMES, {"name": "试行方案"})
    draft = ValuationScheme.objects.get(name="试行方案")
    assert response.status_code == 302
    assert response["Location"] == page(draft.pk)
    assert draft.status == SchemeStatus.DRAFT
    assert draft.parameters == computations.validate_parameters(computations.default_parameters())
    assert AuditEntry.objects.filter(object_id=str(draft.pk), action=AuditAction.CREATE).exists()
    html = admin_client.get(response["Location"]).content.decode()
    assert 'data-testid="scheme-form"' in html and 'data-testid="draft-actions"' in html


def test_a_new_draft_needs_a_name(admin_client):
    response = admin_client.post(SCHEMES, {"name": ""})
    assert response.status_code == 200
    assert "name" in response.context["create_form"].errors
    assert ValuationScheme.objects.count() == 1


# --- the edit form --------------------------------------------------------------------------


def test_the_form_covers_every_parameter(admin_client, system_actor, django_assert_num_queries):
    draft = draft_of(system_actor)
    # session, user, the scheme, the active scheme, unread notifications
    with django_assert_num_queries(5):
        response = admin_client.get(page(draft.pk))
    form = response.context["form"]
    bound = SchemeForm(data=form_data(draft), initial=form.initial)
    assert bound.is_valid(), bound.errors
    # what the form gives back is the scheme's parameters, every one of them
    assert computations.validate_parameters(bound.parameters()) == draft.parameters
    html = response.content.decode()
    for text in (
        "Monthly average amount",
        "On-time payment rate",
        "Points per answer",
        "Commercial district",
        "Neutral score",
        "Top share of current value (percent)",
        "Order cycle when unknown",
    ):
        assert text in html, text


def test_a_draft_saves_valid_values_and_audits_them(admin_client, system_actor):
    draft = draft_of(system_actor)
    data = form_data(
        draft,
        name="严格版",
        note="试行",
        window_months=3,
        group_by="company",
        inputs_on_time_rate_weight="0.7",
        inputs_e_settlement_rate_weight="0.3",
        inputs_avg_amount_method="scale",
        inputs_avg_amount_full="50000",
        inputs_outlet_size_points_small="20",
        values_current_contribution="0.4",
        values_current_credit="0.4",
        tiers_current_from="60",
        problem_credit_below="35",
        core_top_percent="5",
        warnings_default_order_cycle="monthly",
        warnings_drop_percent="25",
    )
    response = admin_client.post(page(draft.pk), data)
    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    p = draft.parameters
    assert (draft.name, draft.note) == ("严格版", "试行")
    assert p["window"] == {"months": 3}
    assert p["group_by"] == "company"
    assert p["inputs"]["on_time_rate"]["weight"] == 0.7
    assert p["inputs"]["avg_amount"] == {"weight": 1.0, "method": "scale", "full": 50000.0}
    assert p["inputs"]["outlet_size"]["points"]["small"] == 20
    assert p["values"]["current"] == {"contribution": 0.4, "support": 0.2, "credit": 0.4}
    assert p["tiers"]["current_from"] == 60
    assert p["problem"]["credit_below"] == 35
    assert p["core"]["top_percent"] == 5
    assert p["warnings"]["default_order_cycle"] == "monthly"
    assert p["warnings"]["drop_percent"] == 25
    assert {e.field for e in update_entries(draft)} == {"name", "note", "parameters"}
    html = admin_client.get(response["Location"]).content.decode()
    assert 'value="50000"' in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"inputs_on_time_rate_full": "0"}, "inputs_on_time_rate_full", "more than 0"),
        ({"inputs_e_settlement_rate_full": ""}, "inputs_e_settlement_rate_full", "Enter a number"),
        ({"neutral_score": "120"}, "neutral_score", "at most 100"),
        ({"window_months": "13"}, "window_months", "from 1 to 12"),
        ({"window_months": "three"}, "window_months", "Enter a whole number."),
        ({"growth_min_months": "13"}, "growth_min_months", "At most the months"),
        ({"inputs_trade_area_points_school": "101"}, "inputs_trade_area_points_school", "100"),
        ({"tiers_potential_from": "-1"}, "tiers_potential_from", "at least 0"),
        ({"core_top_percent": "0"}, "core_top_percent", "above 0"),
        ({"warnings_drop_months": "7"}, "warnings_drop_months", "from 1 to 6"),
        ({"group_by": ""}, "group_by", "Choose a percentile group."),
        ({"inputs_avg_amount_method": ""}, "inputs_avg_amount_method", "percentile or scale"),
        ({"name": ""}, "name", "Give the scheme a name."),
    ],
)
def test_invalid_values_show_beside_their_field_and_save_nothing(
    admin_client, system_actor, changes, field, message
):
    draft = draft_of(system_actor)
    before = draft.parameters
    response = admin_client.post(page(draft.pk), form_data(draft, **changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    html = response.content.decode()
    assert f'data-error-for="{field}"' in html
    assert "Nothing was saved" in html
    draft.refresh_from_db()
    assert draft.parameters == before and draft.name == "Draft"
    assert not update_entries(draft).exists()


def test_weights_not_adding_up_show_under_their_group(admin_client, system_actor):
    draft = draft_of(system_actor)
    before = draft.parameters
    response = admin_client.post(
        page(draft.pk),
        form_data(
            draft,
            inputs_on_time_rate_weight="0.9",  # credit inputs: 0.5 + 0.9
            values_potential_growth="0.5",  # potential: 0.5 + 0.4
        ),
    )
    form = response.context["form"]
    assert form.group_errors["indicators.credit"] == [
        "The weights of the Credit inputs must add up to 1 (they add up to 1.4)."
    ]
    assert form.group_errors["values.potential"] == [
        "The weights must add up to 1 (they add up to 0.9)."
    ]
    html = response.content.decode()
    assert 'data-error-for="indicators.credit"' in html
    assert 'data-error-for="values.potential"' in html
    draft.refresh_from_db()
    assert draft.parameters == before


def test_an_unreadable_number_keeps_only_its_own_message(admin_client, system_actor):
    draft = draft_of(system_actor)
    response = admin_client.post(page(draft.pk), form_data(draft, credit_violation_penalty="lots"))
    assert response.context["form"].errors["credit_violation_penalty"] == ["Enter a number."]


@pytest.mark.parametrize("status", ["active", "retired"])
def test_active_and_retired_versions_read_as_tables_and_cannot_be_edited(
    admin_client, active, system_actor, status
):
    if status == "retired":
        services.scheme_activate(scheme=draft_of(system_actor), actor=system_actor)
        active.refresh_from_db()
        assert active.status == SchemeStatus.RETIRED
    response = admin_client.get(page(active.pk))
    assert response.context["form"] is None
    html = response.content.decode()
    assert 'data-testid="scheme-form"' not in html and 'data-testid="scheme-parameters"' in html
    shown = response.context["shown"]
    credit = next(s for s in shown["indicators"] if s["indicator"] == "credit")
    assert credit["value_weight"] == 0.3
    on_time = next(r for r in credit["inputs"] if r["name"] == "on_time_rate")
    assert (on_time["label"], on_time["weight"], on_time["full"]) == (
        "On-time payment rate",
        0.5,
        1,
    )
    assert str(on_time["method"]) == "Share of a full value (capped at 100)"
    influence = next(s for s in shown["indicators"] if s["indicator"] == "influence")
    outlet = next(r for r in influence["inputs"] if r["name"] == "outlet_size")
    assert outlet["points"] == [("Large", 100), ("Medium", 60), ("Small", 30)]
    for text in (
        "Customers of the same market type",
        "0.5 × Contribution + 0.2 × Support + 0.3 × Credit",
        "0.6 × Growth + 0.4 × Influence",
        "Large: 100",
        "Credit score below",
        "Weekly",
    ):
        assert text in html, text
    before = active.parameters
    response = admin_client.post(
        page(active.pk), form_data(active, name="改", tiers_current_from=70), follow=True
    )
    assert "is no longer a draft: copy it to change the rules." in response.content.decode()
    active.refresh_from_db()
    assert active.parameters == before and active.name != "改"
    assert (
        admin_client.post(reverse("valuation:scheme_delete", args=[active.pk])).status_code == 302
    )
    assert ValuationScheme.objects.filter(pk=active.pk).exists()


# --- activate, copy, delete -----------------------------------------------------------------


def test_activating_retires_the_active_version(admin_client, active, system_actor):
    draft = draft_of(system_actor)
    html = admin_client.get(page(draft.pk)).content.decode()
    assert f"Activating retires version {active.version}" in html  # asked first
    response = admin_client.post(reverse("valuation:scheme_activate", args=[draft.pk]), follow=True)
    assert f"Version {draft.version} is active; version {active.version} is retired." in (
        response.content.decode()
    )
    draft.refresh_from_db()
    active.refresh_from_db()
    assert draft.status == SchemeStatus.ACTIVE and draft.activated_by.username == "admin_x"
    assert active.status == SchemeStatus.RETIRED
    assert services.scheme_active() == draft


def test_a_copy_is_a_new_draft_with_the_same_rules(admin_client, active):
    response = admin_client.post(reverse("valuation:scheme_copy", args=[active.pk]))
    copy = ValuationScheme.objects.get(version=active.version + 1)
    assert response["Location"] == page(copy.pk)
    assert copy.status == SchemeStatus.DRAFT
    assert copy.parameters == active.parameters
    assert f"Copied from version {active.version}." in copy.note


def test_a_draft_can_be_deleted(admin_client, system_actor):
    draft = draft_of(system_actor)
    html = admin_client.get(page(draft.pk)).content.decode()
    assert f"Delete draft version {draft.version}?" in html  # asked first
    response = admin_client.post(reverse("valuation:scheme_delete", args=[draft.pk]))
    assert response["Location"] == SCHEMES
    assert not ValuationScheme.objects.filter(pk=draft.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(draft.pk), action=AuditAction.DELETE).exists()
    assert admin_client.get(page(draft.pk)).status_code == 404


def test_the_actions_take_posts_only(admin_client, active):
    for name in ("scheme_activate", "scheme_copy", "scheme_delete"):
        assert admin_client.get(reverse(f"valuation:{name}", args=[active.pk])).status_code == 405


def test_the_form_shows_and_takes_the_display_compliance_weight(admin_client, system_actor):
    draft = draft_of(system_actor)
    html = admin_client.get(page(draft.pk)).content.decode()
    assert "Display compliance" in html
    assert 'name="inputs_display_compliance_weight"' in html

    # the weight moved from the shares to display compliance (0.4 + 0.2 + 0.4 = 1)
    data = form_data(
        draft,
        inputs_key_brand_share_weight="0.4",
        inputs_new_product_share_weight="0.2",
        inputs_display_compliance_weight="0.4",
        inputs_display_compliance_full="0.9",
    )
    response = admin_client.post(page(draft.pk), data)
    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    assert draft.parameters["inputs"]["display_compliance"] == {
        "weight": 0.4,
        "method": "scale",
        "full": 0.9,
    }


def test_the_migration_gives_stored_schemes_display_compliance_with_weight_zero(db):
    # given a scheme stored before the input existed (the shares weigh 0.6 and 0.4)
    from importlib import import_module

    from django.apps import apps

    migration = import_module("valuation.migrations.0008_scheme_display_compliance")
    parameters = computations.default_parameters()
    del parameters["inputs"]["display_compliance"]
    parameters["inputs"]["key_brand_share"]["weight"] = 0.6
    parameters["inputs"]["new_product_share"]["weight"] = 0.4
    ValuationScheme.objects.all().delete()
    old = ValuationScheme.objects.create(name="Old", version=1, parameters=parameters)

    # when
    migration.add_input(apps, None)

    # then: valid, and the support indicator weighs what it weighed
    old.refresh_from_db()
    assert old.parameters["inputs"]["display_compliance"] == {
        "weight": 0,
        "method": "scale",
        "full": 1,
    }
    assert computations.validate_parameters(old.parameters) == old.parameters
    migration.remove_input(apps, None)
    old.refresh_from_db()
    assert "display_compliance" not in old.parameters["inputs"]
