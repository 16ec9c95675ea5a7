"""A third monthly result is a declaration plus its pure computation (`crm.monthly`): a tiny
"allocation" rule set, declared here over the valuation tables, gets its scheme, run and
overview pages from the engine without a template or view of its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from django import forms
from django.urls import include, path, reverse

from crm import forms as crm_forms
from crm import jobs, monthly, versioning
from crm.choices import RunStatus, SchemeStatus
from crm.exceptions import DomainError
from crm.monthly import MonthlyRules, MonthlyTexts, Transitions
from crm.monthly_views import MonthlyPages
from crm.urls import urlpatterns as site_urlpatterns
from customers.choices import ValueTier
from tests.customers.factories import make_customer
from tests.valuation.test_overview_pages import value
from valuation.models import ValuationRun, ValuationScheme, ValueResult
from valuation.selectors.overview import tier_transitions

FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)

# --- the third result: its pure computation, services and declaration ----------------------


def allocate(avg_cartons: pd.Series, *, share: float) -> pd.Series:
    """The pure rule: each shop may buy `share` of its monthly average, in whole cartons."""
    return (avg_cartons * share).floordiv(1).astype(int)


def validate_parameters(scheme: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    share = parameters.get("share")
    if not isinstance(share, int | float) or not 0 < share <= 1:
        raise DomainError("The share is a number above 0, at most 1.", field="share")
    return {"share": float(share)}


SCHEMES = versioning.SchemeServices(
    model=ValuationScheme,
    validate=validate_parameters,
    defaults=lambda: {"share": 1.0},
    default_active=lambda: {"name": "All", "parameters": {"share": 1.0}},
    refusal="No allocation scheme is active.",
)


class Services:
    """The app's scheme services: the engine's, with the allocation rules."""

    scheme_create_draft = SCHEMES.create_draft
    scheme_update_draft = SCHEMES.update_draft
    scheme_copy = SCHEMES.copy
    scheme_activate = SCHEMES.activate
    scheme_delete_draft = SCHEMES.delete_draft


def run_start(*, month, trigger, actor):
    """Queues a run of `month` (a worker would allocate with `allocate` and write)."""
    jobs.month_check(month)
    return ValuationRun.objects.create(
        month=month,
        trigger=trigger,
        started_by=actor.user,
        scheme=versioning.scheme_active_or_none(ValuationScheme),
    )


class CreateForm(forms.Form):
    name = forms.CharField(max_length=100)


class SchemeForm(crm_forms.SchemeForm):
    share = forms.FloatField()

    def parameters(self) -> dict[str, Any]:
        return {"share": (self.cleaned_data if hasattr(self, "cleaned_data") else {}).get("share")}

    def error_place(self, path: str) -> str | None:
        return path if path in self.fields else None


def _scheme_form(scheme, data):
    initial = {"name": scheme.name, "note": scheme.note, **scheme.parameters}
    return SchemeForm(data=data, initial=initial)


RULES = MonthlyRules(
    namespace="allocation",
    label="Allocation",
    icon="box-seam",
    testid="allocation",
    scheme_model=ValuationScheme,
    run_model=ValuationRun,
    result_model=ValueResult,
    services=Services,
    run_start=run_start,
    validate_parameters=validate_parameters,
    scheme_create_form=CreateForm,
    scheme_form=_scheme_form,
    overview_context=lambda request, month: {
        "overview": tier_transitions(user=request.user, month=month)
    },
    transitions=Transitions(
        categories=lambda summary: [(tier.value, tier.label) for tier in ValueTier],
        movement=lambda before, after: (
            "new" if before is None else "same" if before == after else "across"
        ),
        title="Allocation changes",
        note="Rows: %(before)s; columns: %(after)s.",
        none_label="none",
        testid="allocation-matrix",
    ),
    texts=MonthlyTexts(
        schemes_title="Allocation schemes",
        scheme_title="Allocation scheme v%(v)s",
        new_draft_help="A draft allocates all of the average.",
        activate_confirm="Activating retires version %(v)s.",
        retired="Version %(v)d is active; version %(old)d is retired.",
        no_active_scheme="No allocation scheme is active.",
        runs_title="Allocation runs",
        run_month_label="Month to allocate",
        run_button="Allocate",
        run_confirm="Allocate this month again?",
        run_default_scheme="The first run uses the default.",
        no_runs="No allocation run yet.",
        choose_month="Choose a month to allocate.",
        run_queued="The allocation of %(m)s is queued.",
        overview_title="Allocations",
        no_results="No month has been allocated yet.",
        no_results_howto="Allocate a month on the runs page.",
        no_results_button="Allocate a month",
        no_results_later="Allocations appear after the monthly run.",
        unknown_month="There are no allocations for “%(m)s”.",
        choose_known_month="Choose one of the allocated months above.",
    ),
)

urlpatterns = [
    path("allocation/", include((MonthlyPages(RULES).urlpatterns(), "allocation"))),
    *site_urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def admin_client(client, customer_world):
    client.force_login(customer_world["admin"])
    return client


@pytest.fixture(autouse=True)
def declared():
    monthly.register(RULES)
    yield
    monthly.unregister(RULES.namespace)


# --- the pure computation -------------------------------------------------------------------


def test_allocate_gives_the_share_in_whole_cartons():
    assert allocate(pd.Series([10.0, 3.0, 0.0]), share=0.5).tolist() == [5, 1, 0]


# --- the pages the engine serves ------------------------------------------------------------


def test_the_scheme_pages_create_edit_and_activate_a_draft(admin_client):
    # given no version: the list says so
    response = admin_client.get(reverse("allocation:schemes"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Allocation schemes" in html
    assert 'data-testid="allocation-tabs"' in html
    assert 'data-testid="no-active-scheme"' in html
    # when a draft is created
    response = admin_client.post(reverse("allocation:schemes"), {"name": "Half"})
    scheme = ValuationScheme.objects.get(name="Half")
    assert response.url == reverse("allocation:scheme", args=[scheme.pk])
    page = admin_client.get(response.url)
    assert page.status_code == 200
    assert 'data-testid="scheme-form"' in page.content.decode()
    # then the rules refuse a share above 1 beside its field, and save a half
    refused = admin_client.post(response.url, {"name": "Half", "note": "", "share": "2"})
    assert 'data-error-for="share"' in refused.content.decode()
    admin_client.post(response.url, {"name": "Half", "note": "", "share": "0.5"})
    scheme.refresh_from_db()
    assert scheme.parameters == {"share": 0.5}
    admin_client.post(reverse("allocation:scheme_activate", args=[scheme.pk]))
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.ACTIVE
    shown = admin_client.get(reverse("allocation:scheme", args=[scheme.pk])).content.decode()
    assert 'data-testid="scheme-parameters"' in shown
    assert "0.5" in shown


def test_the_runs_page_queues_a_run_and_polls_its_row(admin_client):
    # when a month is started
    response = admin_client.post(reverse("allocation:runs"), {"month": "2025-03"})
    # then it is queued, listed, and its row answers the poll
    run = ValuationRun.objects.get(month=MAR)
    assert response.url == reverse("allocation:runs")
    assert run.status == RunStatus.QUEUED
    html = admin_client.get(reverse("allocation:runs")).content.decode()
    assert "Allocation runs" in html
    assert f'id="run-{run.pk}"' in html
    row = admin_client.get(reverse("allocation:run_status", args=[run.pk]))
    assert row.status_code == 200
    assert reverse("allocation:run_status", args=[run.pk]) in row.content.decode()


def test_the_overview_shows_the_month_and_its_transition_matrix(admin_client, areas):
    client = admin_client
    # given no month: the empty state
    empty = client.get(reverse("allocation:overview")).content.decode()
    assert 'data-testid="no-allocations"' in empty
    # given two months of results
    shop = make_customer(area=areas["TH"])
    value(shop, FEB, ValueTier.LOW)
    value(shop, MAR, ValueTier.VALUE)
    response = client.get(reverse("allocation:overview"))
    html = response.content.decode()
    # then the latest month shows, with the move from low to value
    assert 'data-testid="allocation-month">2025-03<' in html
    assert 'data-testid="allocation-matrix"' in html
    rows = {row["value"]: row for row in response.context["transitions"]["rows"]}
    assert next(c["n"] for c in rows["low"]["cells"] if c["value"] == "value") == 1
    assert client.get(reverse("allocation:overview"), {"month": "2024-01"}).status_code == 200
