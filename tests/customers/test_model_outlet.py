"""The model-outlet flag has three states, yes / no / unknown (issue 19): a flag nobody entered
is unknown everywhere (page, API, import) rather than a "no", and the migration that made the
column nullable turned the stored "no"s that were never answers into unknown."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from crm.services import Actor
from customers.catalogue import display
from customers.models import Customer
from customers.services import customer_update

migration = importlib.import_module("customers.migrations.0008_model_outlet_unknown")


def field_shown(html: str, name: str) -> str:
    return html.split(f'data-field="{name}">')[1].split("</dd>")[0].strip()


def test_a_new_customer_without_the_flag_is_unknown_on_the_page_and_in_the_api(
    client, customer_world
):
    c_th = customer_world["c_th"]
    assert c_th.is_model_outlet is None
    client.force_login(customer_world["am_th"])

    url = reverse("customers:detail", args=[c_th.customer_code]) + "?tab=information"
    html = client.get(url).content.decode()
    api = APIClient()
    api.force_login(customer_world["am_th"])
    body = api.get(reverse("customers_api:customer_detail", args=[c_th.customer_code])).json()

    assert field_shown(html, "is_model_outlet") == "Unknown"
    assert body["static"]["is_model_outlet"] is None


def test_yes_no_and_unknown_read_as_such():
    assert display("is_model_outlet", True) == "Yes"
    assert display("is_model_outlet", False) == "No"
    assert display("is_model_outlet", None) == "Unknown"
    assert display("compliance_flag", None) == "—"  # a system flag not computed yet


def test_an_answer_can_be_cleared_back_to_unknown(customer_world, system_actor):
    c_th = customer_world["c_th"]
    customer_update(customer=c_th, data={"is_model_outlet": "no"}, actor=system_actor)
    c_th.refresh_from_db()
    assert c_th.is_model_outlet is False

    changes = customer_update(customer=c_th, data={"is_model_outlet": ""}, actor=system_actor)

    c_th.refresh_from_db()
    assert c_th.is_model_outlet is None
    assert changes == {"is_model_outlet": (False, None)}


def test_the_migration_turns_unanswered_noes_into_unknown(customer_world, system_actor):
    # given: the states the old column could hold. c_th: False by default (never answered);
    #        c_th2: turned from yes to no by a person (audited); c_yx: yes
    w = customer_world
    person = Actor.of(w["sup_th"], system_actor.source)
    customer_update(customer=w["c_th2"], data={"is_model_outlet": "yes"}, actor=person)
    customer_update(customer=w["c_th2"], data={"is_model_outlet": "no"}, actor=person)
    customer_update(customer=w["c_yx"], data={"is_model_outlet": "yes"}, actor=person)
    Customer.objects.filter(pk=w["c_th"].pk).update(is_model_outlet=False)

    # when
    migration.false_to_unknown(apps, None)

    # then
    flags = dict(Customer.objects.values_list("customer_code", "is_model_outlet"))
    assert flags[w["c_th"].customer_code] is None
    assert flags[w["c_th2"].customer_code] is False
    assert flags[w["c_yx"].customer_code] is True
