"""A third monthly result is a declaration plus its pure computation (`crm.monthly`): a tiny
"rationing" rule set, declared here over the valuation tables, gets its scheme, run and
overview pages from the engine without a template or view of its own, and its runs — created,
executed, recorded, recomputed in process — from `crm.monthly_runs` through its declared
`compute` and `write`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
from celery import shared_task
from django import forms
from django.urls import include, path, reverse

from crm import forms as crm_forms
from crm import monthly, monthly_runs, versioning
from crm.choices import RunStatus, RunTrigger, SchemeStatus
from crm.dates import add_months
from crm.exceptions import DomainError
from crm.monthly import MonthlyRules, MonthlyTexts, Transitions
from crm.monthly_views import MonthlyPages
from crm.services import Actor
from crm.urls import urlpatterns as site_urlpatterns
from customers.choices import ValueTier
from tests.customers.factories import make_customer
from tests.valuation.test_overview_pages import value
from valuation.models import ValuationRun, ValuationScheme, ValueResult
from valuation.selectors.overview import tier_transitions

FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)

# --- the third result: its pure computation, services and declaration ----------------------


def ration(avg_cartons: pd.Series, *, share: float) -> pd.Series:
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
    refusal="No rationing scheme is active.",
)


class Services:
    """The app's scheme services: the engine's, with the rationing rules."""

    scheme_active = SCHEMES.active
    scheme_create_draft = SCHEMES.create_draft
    scheme_update_draft = SCHEMES.update_draft
    scheme_copy = SCHEMES.copy
    scheme_activate = SCHEMES.activate
    scheme_delete_draft = SCHEMES.delete_draft


@dataclass
class Rationing:
    """What an rationing of a month found (saved or, dry, not)."""

    month: dt.date
    scheme: Any
    results: pd.DataFrame  # customer_id, average, rationing
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def customers(self) -> int:
        return len(self.results)


def compute(*, month: dt.date, scheme: Any, context: Any) -> Rationing:
    """Rations `month` from each shop's average of the month before (its value result): one
    read and the pure rule. Refused when the month before has no results."""
    before = add_months(month, -1)
    rows = ValueResult.objects.filter(month=before).values_list("customer_id", "avg_amount")
    results = pd.DataFrame.from_records(list(rows), columns=["customer_id", "average"])
    if results.empty:
        raise DomainError(f"Nothing to allocate: {before:%Y-%m} has no results.")
    results["rationing"] = ration(
        results["average"].astype(float), share=scheme.parameters["share"]
    )
    return Rationing(month=month, scheme=scheme, results=results)


def write(*, outcome: Rationing, run: ValuationRun, stored: Any) -> None:
    """Stores the month's rationings (as the current value of copies of the month before's
    result rows)."""
    rationings = dict(outcome.results[["customer_id", "rationing"]].itertuples(index=False))
    rows = list(ValueResult.objects.filter(month=add_months(outcome.month, -1)))
    for row in rows:
        row.pk, row.month, row.run, row.scheme = None, outcome.month, run, outcome.scheme
        row.digest = None  # not the valuation's row any more
        row.current_value = rationings[row.customer_id]
    ValueResult.objects.filter(month=outcome.month).delete()
    ValueResult.objects.bulk_create(rows)


@shared_task(name="tests.crm.rationing_run_task")
def rationing_run_task(run_id: int) -> str:
    return monthly_runs.run_execute(RULES, run_id=run_id).status


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
    namespace="rationing",
    label="Rationing",
    icon="box-seam",
    testid="rationing",
    scheme_model=ValuationScheme,
    run_model=ValuationRun,
    result_model=ValueResult,
    services=Services,
    run_task=rationing_run_task,
    compute=compute,
    write=write,
    run_summary=lambda outcome, run: {"counts": {"rationed": int(outcome.results.rationing.sum())}},
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
        title="Rationing changes",
        note="Rows: %(before)s; columns: %(after)s.",
        none_label="none",
        testid="rationing-matrix",
    ),
    texts=MonthlyTexts(
        schemes_title="Rationing schemes",
        scheme_title="Rationing scheme v%(v)s",
        new_draft_help="A draft allocates all of the average.",
        activate_confirm="Activating retires version %(v)s.",
        retired="Version %(v)d is active; version %(old)d is retired.",
        no_active_scheme="No rationing scheme is active.",
        runs_title="Rationing runs",
        run_month_label="Month to allocate",
        run_button="Ration",
        run_confirm="Ration this month again?",
        run_default_scheme="The first run uses the default.",
        no_runs="No rationing run yet.",
        choose_month="Choose a month to allocate.",
        run_queued="The rationing of %(m)s is queued.",
        overview_title="Rationings",
        no_results="No month has been rationed yet.",
        no_results_howto="Ration a month on the runs page.",
        no_results_button="Ration a month",
        no_results_later="Rationings appear after the monthly run.",
        unknown_month="There are no rationings for “%(m)s”.",
        choose_known_month="Choose one of the rationed months above.",
    ),
)

urlpatterns = [
    path("rationing/", include((MonthlyPages(RULES).urlpatterns(), "rationing"))),
    *site_urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def admin_client(client, customer_world):
    client.force_login(customer_world["admin"])
    return client


@pytest.fixture(autouse=True)
def declared():
    # A stand-in of its own namespace: allocation's real declaration (quota take-up) stays.
    monthly.register(RULES)
    yield
    monthly.unregister(RULES.namespace)


# --- the pure computation -------------------------------------------------------------------


def test_allocate_gives_the_share_in_whole_cartons():
    assert ration(pd.Series([10.0, 3.0, 0.0]), share=0.5).tolist() == [5, 1, 0]


# --- the pages the engine serves ------------------------------------------------------------


def test_the_scheme_pages_create_edit_and_activate_a_draft(admin_client):
    # given no version: the list says so
    response = admin_client.get(reverse("rationing:schemes"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rationing schemes" in html
    assert 'data-testid="rationing-tabs"' in html
    assert 'data-testid="no-active-scheme"' in html
    # when a draft is created
    response = admin_client.post(reverse("rationing:schemes"), {"name": "Half"})
    scheme = ValuationScheme.objects.get(name="Half")
    assert response.url == reverse("rationing:scheme", args=[scheme.pk])
    page = admin_client.get(response.url)
    assert page.status_code == 200
    assert 'data-testid="scheme-form"' in page.content.decode()
    # then the rules refuse a share above 1 beside its field, and save a half
    refused = admin_client.post(response.url, {"name": "Half", "note": "", "share": "2"})
    assert 'data-error-for="share"' in refused.content.decode()
    admin_client.post(response.url, {"name": "Half", "note": "", "share": "0.5"})
    scheme.refresh_from_db()
    assert scheme.parameters == {"share": 0.5}
    admin_client.post(reverse("rationing:scheme_activate", args=[scheme.pk]))
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.ACTIVE
    shown = admin_client.get(reverse("rationing:scheme", args=[scheme.pk])).content.decode()
    assert 'data-testid="scheme-parameters"' in shown
    assert "0.5" in shown


def test_the_runs_page_queues_a_run_and_polls_its_row(admin_client):
    # when a month is started
    response = admin_client.post(reverse("rationing:runs"), {"month": "2025-03"})
    # then it is queued, listed, and its row answers the poll
    run = ValuationRun.objects.get(month=MAR)
    assert response.url == reverse("rationing:runs")
    assert run.status == RunStatus.QUEUED
    html = admin_client.get(reverse("rationing:runs")).content.decode()
    assert "Rationing runs" in html
    assert f'id="run-{run.pk}"' in html
    row = admin_client.get(reverse("rationing:run_status", args=[run.pk]))
    assert row.status_code == 200
    assert reverse("rationing:run_status", args=[run.pk]) in row.content.decode()


def test_the_overview_shows_the_month_and_its_transition_matrix(admin_client, areas):
    client = admin_client
    # given no month: the empty state
    empty = client.get(reverse("rationing:overview")).content.decode()
    assert 'data-testid="no-rationings"' in empty
    # given two months of results
    shop = make_customer(area=areas["TH"])
    value(shop, FEB, ValueTier.LOW)
    value(shop, MAR, ValueTier.VALUE)
    response = client.get(reverse("rationing:overview"))
    html = response.content.decode()
    # then the latest month shows, with the move from low to value
    assert 'data-testid="rationing-month">2025-03<' in html
    assert 'data-testid="rationing-matrix"' in html
    rows = {row["value"]: row for row in response.context["transitions"]["rows"]}
    assert next(c["n"] for c in rows["low"]["cells"] if c["value"] == "value") == 1
    assert client.get(reverse("rationing:overview"), {"month": "2024-01"}).status_code == 200


# --- the runs the engine executes through the declared compute and write --------------------


@pytest.fixture
def half(db):
    """The active rationing scheme: half of the average."""
    actor = Actor.system("test")
    draft = SCHEMES.create_draft(name="Half", actor=actor, parameters={"share": 0.5})
    return SCHEMES.activate(scheme=draft, actor=actor)


def test_a_run_allocates_the_month_through_the_declared_compute_and_write(
    half, areas, django_capture_on_commit_callbacks
):
    # given two shops valued in February, averaging 100 and 45 CNY a month
    big, small = make_customer(area=areas["TH"]), make_customer(area=areas["TH"])
    value(big, FEB, ValueTier.VALUE, amount="600")
    value(small, FEB, ValueTier.LOW, amount="270")
    # when March is started (its task enqueued after commit) and a worker executes it
    with django_capture_on_commit_callbacks() as enqueued:
        run = monthly_runs.run_start(RULES, month=MAR, trigger=RunTrigger.PAGE)
    assert (run.status, run.scheme, len(enqueued)) == (RunStatus.QUEUED, half, 1)
    executed = monthly_runs.run_execute(RULES, run_id=run.pk)
    # then the run succeeded with its customers and summary, and the rationings are
    # stored: half of 100 and of 45, in whole cartons
    assert executed.status == RunStatus.SUCCEEDED
    assert (executed.customers, executed.counts) == (2, {"rationed": 72})
    stored = ValueResult.objects.filter(month=MAR, run=run)
    assert {r.customer_id: r.current_value for r in stored} == {big.pk: 50, small.pk: 22}
    # and a redelivered task leaves the finished run as it is
    assert monthly_runs.run_execute(RULES, run_id=run.pk).finished_at == executed.finished_at
    # and while a run of the month is live a second one is refused
    monthly_runs.run_start(RULES, month=MAR, trigger=RunTrigger.PAGE)
    with pytest.raises(DomainError, match="already queued or running"):
        monthly_runs.run_start(RULES, month=MAR, trigger=RunTrigger.PAGE)


def test_a_run_whose_computation_fails_is_recorded_failed(half):
    # given no month before March to allocate from
    run = monthly_runs.run_start(RULES, month=MAR, trigger=RunTrigger.PAGE)
    # when a worker executes it, the error is recorded on the run and raised again
    with pytest.raises(DomainError):
        monthly_runs.run_execute(RULES, run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "DomainError: Nothing to allocate: 2025-02 has no results."
    assert run.finished_at is not None
    assert not ValueResult.objects.filter(month=MAR).exists()


def test_the_recompute_allocates_in_process_and_dry(half, areas):
    shop = make_customer(area=areas["TH"])
    value(shop, FEB, ValueTier.VALUE, amount="600")
    # a dry run computes without recording a run or storing a result
    dry = monthly_runs.recompute(RULES, month=MAR, dry_run=True)
    assert dry.results["rationing"].tolist() == [50]
    assert not ValuationRun.objects.exists()
    assert not ValueResult.objects.filter(month=MAR).exists()
    # a real one records a run by the command and stores the month
    outcome = monthly_runs.recompute(RULES, month=MAR, actor=Actor.system("test"))
    run = ValuationRun.objects.get(month=MAR)
    assert (run.trigger, run.status, run.customers) == (
        RunTrigger.COMMAND,
        RunStatus.SUCCEEDED,
        1,
    )
    assert ValueResult.objects.get(month=MAR).current_value == 50
    assert "compare" in outcome.seconds


def test_a_month_the_declaration_refuses_gets_no_run_but_a_dry_run(half, areas):
    # given a declaration that refuses March (as grading refuses a published month)
    refusing = dataclasses.replace(
        RULES, run_refusal=lambda month: "March is locked." if month == MAR else None
    )
    shop = make_customer(area=areas["TH"])
    value(shop, FEB, ValueTier.VALUE, amount="600")
    # then no run of March is made, from a page or in process; the dry run still computes
    with pytest.raises(DomainError, match="March is locked."):
        monthly_runs.run_start(refusing, month=MAR, trigger=RunTrigger.PAGE)
    with pytest.raises(DomainError, match="March is locked."):
        monthly_runs.recompute(refusing, month=MAR, actor=Actor.system("test"))
    assert not ValuationRun.objects.exists()
    assert monthly_runs.recompute(refusing, month=MAR, dry_run=True).results[
        "rationing"
    ].tolist() == [50]
