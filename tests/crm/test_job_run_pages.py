"""What the grading and valuation runs pages share (`crm.monthly_views`): a run whose process died
shows failed, with the reason, on the list and in its row's poll; a month that has not begun
cannot be started."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import RunStatus, RunTrigger
from grading import services as grading_services
from grading.models import GradingRun
from valuation import services as valuation_services
from valuation.models import ValuationRun

PAGES = [
    pytest.param("grading", GradingRun, grading_services.scheme_active, id="grading"),
    pytest.param("valuation", ValuationRun, valuation_services.scheme_active, id="valuation"),
]


def running(model, scheme_active, month: dt.date):
    """A run left "running" by a process that was killed: nothing holds its month."""
    return model.objects.create(
        month=month,
        status=RunStatus.RUNNING,
        trigger=RunTrigger.SCHEDULE,
        scheme=scheme_active(),
        started_at=timezone.now() - dt.timedelta(minutes=3),
    )


@pytest.mark.parametrize(("namespace", "model", "scheme_active"), PAGES)
def test_a_run_whose_process_died_shows_failed_with_the_reason(
    client, customer_world, namespace, model, scheme_active
):
    client.force_login(customer_world["admin"])
    polled = running(model, scheme_active, dt.date(2025, 3, 1))
    listed = running(model, scheme_active, dt.date(2025, 4, 1))

    # when the live row polls its status, and when an administrator opens the runs page
    row = client.get(reverse(f"{namespace}:run_status", args=[polled.pk])).content.decode()
    html = client.get(reverse(f"{namespace}:runs")).content.decode()

    # then both runs are failed, say why, and no longer poll
    for run in (polled, listed):
        run.refresh_from_db()
        assert run.status == RunStatus.FAILED
        assert "the process running it stopped before it finished" in run.error
    assert 'data-status="failed"' in row and "hx-trigger" not in row
    assert html.count('data-status="failed"') == 2 and "hx-trigger" not in html
    assert "the process running it stopped before it finished" in html


@pytest.mark.parametrize(("namespace", "model", "scheme_active"), PAGES)
def test_a_month_that_has_not_begun_cannot_be_started(
    client, customer_world, namespace, model, scheme_active
):
    client.force_login(customer_world["admin"])
    url = reverse(f"{namespace}:runs")
    assert f'max="{timezone.localdate():%Y-%m}"' in client.get(url).content.decode()
    for month in ("2099-01", "9999-11"):
        response = client.post(url, {"month": month}, follow=True)
        messages = [str(m) for m in response.context["messages"]]
        assert any("has not begun yet" in m for m in messages), month
    assert not model.objects.exists()
