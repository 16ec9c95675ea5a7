"""The grading runs page (administrators): starting a run, the run list, the status poll."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from grading.choices import RunStatus, RunTrigger
from grading.models import GradeResult, GradingRun
from grading.services import scheme_active
from tests.grading.factories import buy_monthly

URL = reverse("grading:runs")
MAR = dt.date(2025, 3, 1)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def make_run(month=MAR, status=RunStatus.SUCCEEDED, **fields):
    now = timezone.now()
    if status != RunStatus.QUEUED:
        fields.setdefault("started_at", now - dt.timedelta(seconds=75))
    if status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        fields.setdefault("finished_at", now)
    return GradingRun.objects.create(
        month=month, status=status, trigger=RunTrigger.SCHEDULE, scheme=scheme_active(), **fields
    )


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER])
def test_only_administrators_see_runs(client, make_user, areas, role):
    run = make_run()
    client.force_login(make_user(role, [areas["TH"]]))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"month": "2025-03"}).status_code == 403
    assert client.get(reverse("grading:run_status", args=[run.pk])).status_code == 403
    assert GradingRun.objects.count() == 1


def test_the_page_offers_this_month_and_names_the_active_scheme(client, customer_world):
    client.force_login(customer_world["admin"])
    html = client.get(URL).content.decode()
    assert f'value="{timezone.localdate():%Y-%m}"' in html
    assert "the first run uses the default one" in html  # no scheme was ever activated
    scheme = scheme_active()  # created on first use
    html = client.get(URL).content.decode()
    assert f"version {scheme.version} ({scheme.name})" in html
    assert 'data-testid="no-runs"' in html
    assert "data-confirm=" in html  # a run replaces the month's stored grades: asked first


def test_start_a_run(client, customer_world, django_capture_on_commit_callbacks):
    admin = customer_world["admin"]
    # c_th bought 600 cartons a month in the window (Dec–Feb): grade 3 (≥ 500) for March
    buy_monthly(customer_world["c_th"], ["2024-12", "2025-01", "2025-02"], 600)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"month": "2025-03"})
    assert response.status_code == 302
    assert response["Location"] == URL
    run = GradingRun.objects.get()
    assert (run.month, run.trigger, run.started_by) == (MAR, RunTrigger.PAGE, admin)
    assert run.status == RunStatus.SUCCEEDED  # the eager task ran after the commit
    assert run.customers == 3
    assert GradeResult.objects.filter(month=MAR).count() == 3
    assert GradeResult.objects.get(month=MAR, customer=customer_world["c_th"]).grade == 3
    assert run.counts.get("3") == 1
    page = client.get(URL)
    assert any("queued" in m for m in messages_of(page))
    html = page.content.decode()
    assert f'data-run="{run.pk}" data-status="succeeded"' in html
    assert 'hx-trigger="every 2s"' not in html  # nothing live, nothing polls


def test_a_second_start_while_one_is_live_is_refused(client, customer_world):
    client.force_login(customer_world["admin"])
    client.post(URL, {"month": "2025-03"})  # on_commit never fires here: the run stays queued
    response = client.post(URL, {"month": "2025-03"}, follow=True)
    assert GradingRun.objects.count() == 1
    assert any("already queued or running" in m for m in messages_of(response))
    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html  # the live run polls its status


def test_a_start_without_a_month_is_refused(client, customer_world):
    client.force_login(customer_world["admin"])
    response = client.post(URL, {"month": "March"}, follow=True)
    assert GradingRun.objects.count() == 0
    assert any("Choose a month" in m for m in messages_of(response))


def test_run_status_polls_while_live_and_stops_when_finished(client, customer_world):
    client.force_login(customer_world["admin"])
    # a split run: one of its four parts has reported, the others wait for workers
    run = make_run(
        status=RunStatus.RUNNING, parts_total=4, parts_done=1, heartbeat_at=timezone.now()
    )
    url = reverse("grading:run_status", args=[run.pk])
    live = client.get(url, headers={"HX-Request": "true"})
    html = live.content.decode()
    assert html.lstrip().startswith(f'<tr id="run-{run.pk}"')
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 2s"' in html
    assert "1 / 4" in html
    assert 'aria-valuenow="25"' in html
    run.status, run.finished_at, run.parts_done = RunStatus.SUCCEEDED, timezone.now(), 4
    run.customers, run.counts = 12, {"2": 5, "10": 1, "1": 6}
    run.save()
    done = client.get(url).content.decode()
    assert "hx-trigger" not in done
    assert 'data-status="succeeded"' in done
    assert done.index("1: 6") < done.index("2: 5") < done.index("10: 1")  # by grade
    assert client.get(reverse("grading:run_status", args=[run.pk + 99])).status_code == 404


def test_run_list_shows_a_failed_run_error(client, customer_world):
    client.force_login(customer_world["admin"])
    make_run(status=RunStatus.FAILED, error="ValueError: " + "x" * 300)
    html = client.get(URL).content.decode()
    assert "<details>" in html
    assert "x" * 300 in html  # the whole error, behind the truncated summary
    assert "1 min 15 s" in html  # the duration


def test_run_list_paginates_with_a_fixed_number_of_queries(
    client, customer_world, django_assert_max_num_queries
):
    for i in range(30):
        make_run(month=dt.date(2023 + i // 12, i % 12 + 1, 1), started_by=customer_world["admin"])
    client.force_login(customer_world["admin"])
    # session, user, live runs (none here), count, page of runs, active scheme, unread
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.content.decode().count("data-run=") == 25
    assert response.context["paginator"].count == 30
    assert client.get(URL, {"page": "2"}).content.decode().count("data-run=") == 5


@pytest.mark.django_db(transaction=True)
def test_a_run_started_without_a_broker_says_it_finished(client, customer_world):
    """Without a broker (eager Celery: the quick start) the run has run when the page answers:
    the page says it finished, with its result, not that it is queued."""
    buy_monthly(customer_world["c_th"], ["2024-12", "2025-01", "2025-02"], 600)
    client.force_login(customer_world["admin"])
    page = client.post(URL, {"month": "2025-03"}, follow=True)
    assert GradingRun.objects.get().status == RunStatus.SUCCEEDED
    [message] = messages_of(page)
    assert message.startswith("The run of 2025-03 finished: 3 customers graded in "), message
    assert "queued" not in message
