"""Administrators' overrides of the field catalogue (customers.services_catalogue): each kind of
override changes what the services and pages do, pending change requests keep the policy they
were made under, unsafe changes are refused, activation is audited, and only administrators
reach the settings pages."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.urls import reverse

from crm.choices import AuditAction, AuditSource, SchemeStatus
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.services import Actor
from customers import policies
from customers.catalogue import CATALOGUE, Maintenance, Policy, cache_key, effective, spec
from customers.choices import ChangeRequestStatus
from customers.models import CatalogueOverride, CatalogueVersion, Customer
from customers.services import (
    change_request_approve,
    customer_create,
    customer_propose,
    customer_upsert_many,
)
from customers.services_catalogue import (
    catalogue_activate,
    catalogue_draft_discard,
    catalogue_draft_start,
    catalogue_draft_update,
    catalogue_version_diff,
    is_needed,
)

NEW_SHOP = {
    "customer_code": "310100000009",
    "store_name": "天河新店",
    "license_number": "310106000009",
    "business_format": "B",
    "market_type": "C",
    "area": "TH",
}


def admin_actor(world):
    return Actor.of(world["admin"], AuditSource.PAGE)


def activate(world, note="", **settings):
    """Drafts `settings` (name -> (maintenance, policy, required)) and activates them."""
    actor = admin_actor(world)
    draft = catalogue_draft_start(actor=actor)
    catalogue_draft_update(version=draft, settings=settings, note=note, actor=actor)
    return catalogue_activate(version=draft, actor=actor)


def reload(customer):
    return Customer.objects.with_parts().get(pk=customer.pk)


# --- each override changes behaviour ------------------------------------------------------


def test_a_direct_field_made_approval_turns_the_managers_edit_into_a_change_request(
    customer_world,
):
    # given contact_person, edited directly by default, now needs approval
    activate(customer_world, contact_person=("dynamic", "approval", False))
    shop = customer_world["c_th"]

    # when its account manager changes it
    outcome = customer_propose(
        customer=shop,
        user=customer_world["am_th"],
        data={"contact_person": "王五"},
        reason="New owner",
    )

    # then nothing is applied and a request waits for approval
    assert outcome.applied == {}
    assert outcome.change_request.fields == ["contact_person"]
    assert reload(shop).dynamic.contact_person != "王五"


def test_an_approval_field_made_direct_is_saved_at_once(customer_world):
    activate(customer_world, store_name=("static", "direct", True))
    shop = customer_world["c_th"]

    outcome = customer_propose(
        customer=shop, user=customer_world["am_th"], data={"store_name": "天河改名店"}
    )

    assert outcome.change_request is None
    assert reload(shop).store_name == "天河改名店"


def test_a_field_made_supervisor_set_is_refused_to_the_manager_and_open_to_the_supervisor(
    customer_world,
):
    activate(customer_world, visit_batch=("dynamic", "supervisor", False))
    shop = customer_world["c_th"]

    with pytest.raises(DomainError) as exc:
        customer_propose(customer=shop, user=customer_world["am_th"], data={"visit_batch": "B2"})
    assert set(exc.value.errors) == {"visit_batch"}

    customer_propose(customer=shop, user=customer_world["sup_th"], data={"visit_batch": "B2"})
    assert reload(shop).dynamic.visit_batch == "B2"


def test_a_field_made_required_is_needed_to_create_and_to_sync(customer_world, system_actor):
    activate(customer_world, phone=("dynamic", "direct", True))

    with pytest.raises(DomainError) as exc:
        customer_create(data=NEW_SHOP, actor=system_actor)
    assert exc.value.errors == {"phone": ["This field is required."]}

    report = customer_upsert_many(rows=[NEW_SHOP], actor=system_actor)
    assert report.counts()["errors"] == 1
    assert not Customer.objects.filter(customer_code=NEW_SHOP["customer_code"]).exists()


def test_a_required_field_made_optional_again_is_accepted(customer_world, system_actor):
    # given phone required in version 1, then optional again in version 2
    activate(customer_world, phone=("dynamic", "direct", True))
    version = activate(customer_world, phone=("dynamic", "direct", False))

    customer = customer_create(data=NEW_SHOP, actor=system_actor)

    assert customer.dynamic.phone == ""
    # back to the default: the version stores no row for it
    assert not version.overrides.exists()


def test_a_field_made_dynamic_is_on_the_managers_in_place_form_and_badged_dynamic(
    client, customer_world
):
    activate(customer_world, store_name=("dynamic", "direct", True))
    shop = customer_world["c_th"]
    client.force_login(customer_world["am_th"])

    form = client.get(reverse("customers:dynamic_edit", args=[shop.customer_code]))
    assert "store_name" in form.context["form"].fields

    page = client.get(
        reverse("customers:tab", args=[shop.customer_code, "information"]), HTTP_HX_REQUEST="true"
    )
    html = page.content.decode()
    label = html[: html.index('data-field="store_name"')].rsplit("<dt", 1)[1]
    assert 'title="dynamic"' in label


def test_the_change_form_marks_a_field_needing_approval_by_the_effective_policy(
    client, customer_world
):
    activate(customer_world, contact_person=("dynamic", "approval", False))
    shop = customer_world["c_th"]
    client.force_login(customer_world["am_th"])

    response = client.get(
        reverse("customers:change", args=[shop.customer_code]), {"field": "contact_person"}
    )

    specs = {s.name: s for s in policies.changeable_fields(customer_world["am_th"], shop)}
    assert specs["contact_person"].policy == Policy.APPROVAL
    assert response.status_code == 200


# --- pending requests ----------------------------------------------------------------------


def test_a_request_made_under_approval_is_still_approved_after_the_field_became_direct(
    customer_world,
):
    shop = customer_world["c_th"]
    request = customer_propose(
        customer=shop,
        user=customer_world["am_th"],
        data={"store_name": "审批中的店名"},
        reason="Renamed",
    ).change_request

    activate(customer_world, store_name=("static", "direct", True))
    change_request_approve(change_request=request, user=customer_world["sup_th"])

    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED
    assert reload(shop).store_name == "审批中的店名"


# --- refused unsafe changes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "setting", "message"),
    [
        ("grade", ("dynamic", "direct", False), "A system-generated field cannot be changed"),
        ("compliance_flag", ("static", "approval", False), "A system-generated field"),
        ("store_name", ("static", "approval", False), "it must stay required"),
        ("area", ("static", "supervisor", False), "it must stay required"),
        ("phone", ("dynamic", "system", False), "Choose direct, approval or supervisor."),
        ("phone", ("system", "direct", False), "Choose static or dynamic."),
        ("no_such_field", ("static", "direct", False), "not in the catalogue"),
    ],
)
def test_unsafe_overrides_are_refused_and_nothing_is_saved(customer_world, name, setting, message):
    actor = admin_actor(customer_world)
    draft = catalogue_draft_start(actor=actor)

    with pytest.raises(DomainError) as exc:
        catalogue_draft_update(
            version=draft,
            settings={"contact_person": ("dynamic", "approval", False), name: setting},
            note="",
            actor=actor,
        )

    assert list(exc.value.errors) == [name]
    assert message in exc.value.errors[name][0]
    assert not CatalogueOverride.objects.exists()


def test_the_needed_fields_are_read_from_the_models():
    needed = {name for name, s in CATALOGUE.items() if not s.is_system and is_needed(s)}
    assert needed == {
        "customer_code",
        "store_name",
        "license_number",
        "business_format",
        "market_type",
        "area",
    }


def test_the_refusal_reads_in_chinese(customer_world):
    from django.utils import translation

    actor = admin_actor(customer_world)
    draft = catalogue_draft_start(actor=actor)
    with translation.override("zh-hans"), pytest.raises(DomainError) as exc:
        catalogue_draft_update(
            version=draft, settings={"grade": ("dynamic", "direct", False)}, note="", actor=actor
        )
    assert exc.value.errors["grade"] == ["系统生成的字段不能更改：只有系统会写入它。"]


# --- versions: draft, preview, activation, audit -------------------------------------------


def test_activation_retires_the_previous_version_and_is_audited(customer_world):
    first = activate(customer_world, contact_person=("dynamic", "approval", False))
    actor = admin_actor(customer_world)
    draft = catalogue_draft_start(actor=actor)
    # the draft starts from the active version
    assert set(draft.overrides.values_list("field", flat=True)) == {"contact_person"}
    catalogue_draft_update(
        version=draft,
        settings={"store_name": ("static", "supervisor", True)},
        note="Names by supervisors",
        actor=actor,
    )

    assert [
        (d.spec.name, d.before.policy, d.spec.policy) for d in catalogue_version_diff(version=draft)
    ] == [("store_name", Policy.APPROVAL, Policy.SUPERVISOR)]
    second = catalogue_activate(version=draft, actor=actor)

    first.refresh_from_db()
    assert (first.status, second.status) == (SchemeStatus.RETIRED, SchemeStatus.ACTIVE)
    assert second.activated_by == customer_world["admin"]
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(CatalogueVersion), object_id=str(second.pk)
    )
    changes = {(e.action, e.field): (e.old_value, e.new_value) for e in rows}
    assert changes[(AuditAction.UPDATE, "store_name")] == (
        ["static", "approval", True],
        ["static", "supervisor", True],
    )
    assert changes[(AuditAction.UPDATE, "status")] == ("draft", "active")
    assert (AuditAction.CREATE, "") in changes
    assert AuditEntry.objects.filter(
        object_id=str(first.pk), field="status", new_value="retired"
    ).exists()
    assert spec("store_name").policy == Policy.SUPERVISOR
    assert spec("contact_person").policy == Policy.APPROVAL


def test_a_discarded_draft_leaves_the_active_catalogue_and_is_audited(customer_world):
    actor = admin_actor(customer_world)
    draft = catalogue_draft_start(actor=actor)
    catalogue_draft_update(
        version=draft, settings={"phone": ("dynamic", "approval", False)}, note="", actor=actor
    )

    catalogue_draft_discard(version=draft, actor=actor)

    assert not CatalogueVersion.objects.exists()
    assert spec("phone").policy == Policy.DIRECT
    assert AuditEntry.objects.filter(object_id=str(draft.pk), action=AuditAction.DELETE).exists()


def test_an_active_version_cannot_be_edited(customer_world):
    version = activate(customer_world, phone=("dynamic", "approval", False))
    with pytest.raises(DomainError):
        catalogue_draft_update(
            version=version,
            settings={"phone": ("dynamic", "direct", False)},
            note="",
            actor=admin_actor(customer_world),
        )


def test_the_effective_catalogue_is_read_from_the_cache_without_a_query(
    customer_world, django_assert_num_queries
):
    activate(customer_world, phone=("dynamic", "approval", False))
    effective()  # loads the new state once
    with django_assert_num_queries(0):
        assert effective()["phone"].policy == Policy.APPROVAL

    # another process's view: a cold cache loads the active version in one query
    cache.delete(cache_key())
    with django_assert_num_queries(1):
        assert effective()["phone"].policy == Policy.APPROVAL
    # storage never changes
    assert effective()["phone"].part == "dynamic"
    assert effective()["grade"].maintenance == Maintenance.SYSTEM


# --- pages ---------------------------------------------------------------------------------


def test_an_administrator_drafts_previews_and_activates_from_the_pages(client, customer_world):
    client.force_login(customer_world["admin"])
    form = client.get(reverse("customers:catalogue_draft")).context["form"]
    data = {name: form[name].value() for name in form.fields if not form.fields[name].disabled}
    data = {k: v for k, v in data.items() if v not in (False, None)}
    data["contact_person__policy"] = "approval"
    data["note"] = "Contacts by approval"

    saved = client.post(reverse("customers:catalogue_draft"), data)
    assert saved.url == reverse("customers:catalogue_preview")

    preview = client.get(saved.url)
    assert [d.spec.name for d in preview.context["diff"]] == ["contact_person"]
    assert 'data-field="contact_person"' in preview.content.decode()

    client.post(reverse("customers:catalogue_activate"))
    page = client.get(reverse("customers:catalogue"))
    html = page.content.decode()
    assert spec("contact_person").policy == Policy.APPROVAL
    assert 'data-field="contact_person" class="table-warning"' in html
    assert "Contacts by approval" in html


def test_the_draft_page_shows_a_refusal_and_saves_nothing(client, customer_world):
    client.force_login(customer_world["admin"])
    form = client.get(reverse("customers:catalogue_draft")).context["form"]
    data = {name: form[name].value() for name in form.fields if not form.fields[name].disabled}
    data = {k: v for k, v in data.items() if v not in (False, None)}
    data["phone__policy"] = "system"

    response = client.post(reverse("customers:catalogue_draft"), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not CatalogueVersion.objects.exists()


def test_discarding_asks_first(client, customer_world):
    actor = admin_actor(customer_world)
    catalogue_draft_start(actor=actor)
    client.force_login(customer_world["admin"])

    confirm = client.get(reverse("customers:catalogue_discard"))
    assert 'data-testid="confirm-discard"' in confirm.content.decode()
    assert CatalogueVersion.objects.exists()

    client.post(reverse("customers:catalogue_discard"))
    assert not CatalogueVersion.objects.exists()


@pytest.mark.parametrize("who", ["sup_th", "am_th", "lo_th"])
def test_only_administrators_reach_the_catalogue_pages(client, customer_world, who):
    client.force_login(customer_world[who])
    for name in ("catalogue", "catalogue_draft", "catalogue_preview", "catalogue_discard"):
        assert client.get(reverse(f"customers:{name}")).status_code == 403
    assert client.post(reverse("customers:catalogue_activate")).status_code == 403
    assert not CatalogueVersion.objects.exists()


# --- the demo ------------------------------------------------------------------------------


def test_seed_demo_activates_a_catalogue_version_once(db, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", "--customers", "50", "--months", "2", stdout=StringIO())
    [version] = CatalogueVersion.objects.all()
    assert version.status == SchemeStatus.ACTIVE
    assert spec("visit_batch").policy == Policy.SUPERVISOR
    assert spec("order_cycle").policy == Policy.APPROVAL

    call_command("seed_demo", "--customers", "50", "--months", "2", stdout=StringIO())
    assert CatalogueVersion.objects.count() == 1


# --- the API -------------------------------------------------------------------------------


def test_the_sync_api_refuses_an_item_missing_a_field_made_required(erp, customer_world):
    activate(customer_world, phone=("dynamic", "direct", True))

    report = erp.post(
        reverse("customers_api:customer_sync"), {"customers": [NEW_SHOP]}, format="json"
    ).json()

    assert report["created"] == 0
    [error] = report["errors"]
    assert list(error["errors"]) == ["phone"]


# --- query counts --------------------------------------------------------------------------


def test_an_active_version_adds_no_query_to_the_customer_pages(client, customer_world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    shop = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    urls = [
        reverse("customers:list"),
        reverse("customers:detail", args=[shop.customer_code]),
        reverse("customers:tab", args=[shop.customer_code, "information"]),
        reverse("customers:change", args=[shop.customer_code]),
    ]
    htmx = {"HTTP_HX_REQUEST": "true"}

    def counts():
        for url in urls:
            client.get(url, **htmx)  # warm up: content types, the catalogue's cache
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, **htmx).status_code == 200
            result.append(len(queries))
        return result

    before = counts()
    activate(customer_world, contact_person=("dynamic", "approval", False))
    assert counts() == before
