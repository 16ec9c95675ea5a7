"""The valuation runs page (administrators): starting a valuation, the run list, the status
poll, and the latest early-warning refreshes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role, RunStatus, RunTrigger
from valuation.models import ValuationRun, ValueResult, WarningRefresh
from valuation.services import scheme_active

URL = reverse("valuation:runs")
MAR = dt.date(2025, 3, 1)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def make_run(month=MAR, status=RunStatus.SUCCEEDED, trigger=RunTrigger.SCHEDULE, **fields):
    now = timezone.now()
    if status != RunStatus.QUEUED:
        fields.setdefault("started_at", now - dt.timedelta(seconds=75))
    if status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        fields.setdefault("finished_at", now)
    return ValuationRun.objects.create(
        month=month, status=status, trigger=trigger, scheme=scheme_active(), **fields
    )


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER])
def test_only_administrators_see_runs(client, make_user, areas, role):
    run = make_run()
    client.force_login(make_user(role, [areas["TH"]]))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"month": "2025-03"}).status_code == 403
    assert client.get(reverse("valuation:run_status", args=[run.pk])).status_code == 403
    assert ValuationRun.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_page_offers_this_month_and_names_the_active_scheme(client, customer_world):
    client.force_login(customer_world["admin"])
    html = client.get(URL).content.decode()
    assert f'value="{timezone.localdate():%Y-%m}"' in html
    assert "the first run uses the default one" in html  # no scheme was ever activated
    scheme = scheme_active()  # created on first use
    html = client.get(URL).content.decode()
    assert f"version {scheme.version} ({scheme.name})" in html
    assert 'data-testid="no-runs"' in html
    assert 'data-testid="no-refreshes"' in html
    assert "data-confirm=" in html  # a run replaces the month's stored tiers: asked first


def test_start_a_valuation(client, customer_world, django_capture_on_commit_callbacks):
    admin = customer_world["admin"]
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"month": "2025-03"})
    assert response.status_code == 302
    assert response["Location"] == URL
    run = ValuationRun.objects.get()
    assert (run.month, run.trigger, run.started_by) == (MAR, RunTrigger.PAGE, admin)
    assert run.status == RunStatus.SUCCEEDED  # the eager task ran after the commit
    assert run.customers == 3
    assert ValueResult.objects.filter(month=MAR).count() == 3
    # no purchases at all: every indicator takes the neutral score, so every customer is low
    assert run.counts == {"value": 0, "secondary": 0, "potential": 0, "low": 3}
    assert WarningRefresh.objects.count() == 1  # refreshed after the run
    page = client.get(URL)
    assert any("queued" in m for m in messages_of(page))
    html = page.content.decode()
    assert f'data-run="{run.pk}" data-status="succeeded"' in html
    assert 'data-tier="low"' in html
    assert 'hx-trigger="every 2s"' not in html  # nothing live, nothing polls
    assert 'data-testid="warning-refreshes"' in html and "data-refresh=" in html


def test_a_second_start_while_one_is_live_is_refused(client, customer_world):
    client.force_login(customer_world["admin"])
    client.post(URL, {"month": "2025-03"})  # on_commit never fires here: the run stays queued
    response = client.post(URL, {"month": "2025-03"}, follow=True)
    assert ValuationRun.objects.count() == 1
    assert any("already queued or running" in m for m in messages_of(response))
    assert 'hx-trigger="every 2s"' in response.content.decode()  # the live run polls


def test_a_start_without_a_month_is_refused(client, customer_world):
    client.force_login(customer_world["admin"])
    response = client.post(URL, {"month": "March"}, follow=True)
    assert ValuationRun.objects.count() == 0
    assert any("Choose a month" in m for m in messages_of(response))


def test_run_status_polls_while_live_and_stops_when_finished(client, customer_world, hold_month):
    client.force_login(customer_world["admin"])
    run = make_run(status=RunStatus.RUNNING)
    url = reverse("valuation:run_status", args=[run.pk])
    with hold_month(ValuationRun, MAR):  # its process is at work
        html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith(f'<tr id="run-{run.pk}"')
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 2s"' in html
    run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
    run.customers, run.core, run.problem = 12, 2, 3
    run.counts = {"low": 4, "value": 5, "secondary": 2, "potential": 1}
    run.save()
    done = client.get(url).content.decode()
    assert "hx-trigger" not in done
    assert 'data-status="succeeded"' in done
    # in tier order, whatever the order stored
    assert (
        done.index("Value customer: 5")
        < done.index("Secondary value customer: 2")
        < done.index("Potential value customer: 1")
        < done.index("Low value customer: 4")
    )
    assert 'data-core="2"' in done and 'data-problem="3"' in done
    assert client.get(reverse("valuation:run_status", args=[run.pk + 99])).status_code == 404


def test_the_chain_trigger_and_a_failed_run_error_are_shown(client, customer_world):
    client.force_login(customer_world["admin"])
    make_run(trigger=RunTrigger.CHAIN)
    make_run(month=dt.date(2025, 2, 1), status=RunStatus.FAILED, error="ValueError: " + "x" * 300)
    html = client.get(URL).content.decode()
    assert "After the grading run" in html
    assert "<details>" in html
    assert "x" * 300 in html  # the whole error, behind the truncated summary
    assert "1 min 15 s" in html  # the duration


def test_the_latest_warning_refreshes_are_listed(client, customer_world):
    client.force_login(customer_world["admin"])
    now = timezone.now()
    for n in range(12):
        WarningRefresh.objects.create(
            started_at=now - dt.timedelta(days=n, seconds=3),
            finished_at=now - dt.timedelta(days=n),
            as_of=(now - dt.timedelta(days=n)).date(),
            opened=n,
            updated=1,
            resolved=2,
        )
    WarningRefresh.objects.create(as_of=now.date(), error="OperationalError: the database is gone")
    html = client.get(URL).content.decode()
    assert html.count("data-refresh=") == 10
    assert "OperationalError: the database is gone" in html
    assert "3.0 s" in html


def test_run_list_paginates_with_a_fixed_number_of_queries(
    client, customer_world, django_assert_num_queries
):
    for i in range(30):
        make_run(month=dt.date(2023 + i // 12, i % 12 + 1, 1), started_by=customer_world["admin"])
    WarningRefresh.objects.create(as_of=MAR, finished_at=timezone.now())
    client.force_login(customer_world["admin"])
    # session, user, live runs (none here: nothing to mark failed), count, page of runs,
    # active scheme, refreshes, unread notifications
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert response.content.decode().count("data-run=") == 25
    assert response.context["paginator"].count == 30
    assert client.get(URL, {"page": "2"}).content.decode().count("data-run=") == 5
