"""The visit settings page: administrators change every setting (audited), refused values are
shown on the form, the latest planning runs are listed and "Plan now" starts one."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from crm.models import AuditEntry
from visits.models import PlanRefresh, VisitsConfig

URL = "/visits/settings/"


def form_data(**changes):
    data = {
        "weekly_days": 7,
        "fortnightly_days": 14,
        "monthly_days": 30,
        "default_cycle": "monthly",
        "potential_shift": 1,
        "horizon_days": 14,
        "work_days": ["1", "2", "3", "4", "5"],
        "location_radius_m": 300,
        "photo_max_mb": 5,
    }
    data.update(changes)
    return data


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMINISTRATOR, username="admin_v")


def test_url_name(db):
    assert reverse("visits:settings") == URL


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER])
def test_settings_are_for_administrators(client, make_user, areas, role):
    client.force_login(make_user(role, [areas["TH"]]))
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(weekly_days=5)).status_code == 403
    assert client.post(URL, {"action": "plan"}).status_code == 403
    assert VisitsConfig.current().weekly_days == 7
    assert not PlanRefresh.objects.exists()


def test_page_shows_the_current_values(client, admin):
    client.force_login(admin)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    current = html[html.index('data-testid="current-settings"') :]
    assert "Monday, Tuesday, Wednesday, Thursday, Friday" in current
    assert "Never: the defaults apply" in current
    # Every setting is on the form; the working days are checkboxes, Monday to Sunday.
    form = response.context["form"]
    assert list(form.fields) == [
        "weekly_days",
        "fortnightly_days",
        "monthly_days",
        "default_cycle",
        "potential_shift",
        "horizon_days",
        "work_days",
        "location_radius_m",
        "photo_max_mb",
    ]
    for day in ("1", "5"):
        assert f'name="work_days" value="{day}" id="id_work_days_{int(day) - 1}" checked' in html
    assert 'name="work_days" value="7"' in html
    assert 'name="work_days" value="7" id="id_work_days_6" checked' not in html
    assert 'data-testid="no-runs"' in html


def test_a_valid_save_is_audited(client, admin):
    client.force_login(admin)
    response = client.post(
        URL, form_data(weekly_days=6, work_days=["6", "1", "2"], default_cycle="fortnightly")
    )
    assert response.status_code == 302
    config = VisitsConfig.current()
    assert (config.weekly_days, config.work_days, config.default_cycle) == (
        6,
        "126",
        "fortnightly",
    )
    assert config.updated_by == admin
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(VisitsConfig)
    )
    assert {entry.field for entry in entries} == {"weekly_days", "work_days", "default_cycle"}
    assert all(entry.actor == admin for entry in entries)
    html = client.get(URL).content.decode()
    assert "The visit settings were saved" in html
    changed = html[html.index('data-testid="settings-changed"') :]
    assert str(admin) in changed[: changed.index("</dd>")]
    assert "Monday, Tuesday, Saturday" in html


def test_cycles_that_do_not_get_longer_are_refused(client, admin):
    client.force_login(admin)
    response = client.post(URL, form_data(fortnightly_days=30, monthly_days=30))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["fortnightly_days"] == [
        "The cycles must get longer: weekly, then fortnightly, then monthly."
    ]
    assert "is-invalid" in form.fields["fortnightly_days"].widget.attrs["class"]
    html = response.content.decode()
    assert "The cycles must get longer" in html
    config = VisitsConfig.current()
    assert (config.fortnightly_days, config.monthly_days) == (14, 30)
    # The current values stay what was saved, not what was posted.
    assert response.context["current"][1][1] == "14"
    assert not AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(VisitsConfig)
    ).exists()


def test_a_model_limit_is_shown_on_its_field(client, admin):
    client.force_login(admin)
    response = client.post(URL, form_data(potential_shift=3))
    assert response.status_code == 200
    assert response.context["form"].errors["potential_shift"]
    assert VisitsConfig.current().potential_shift == 1


def test_at_least_one_working_day(client, admin):
    client.force_login(admin)
    data = form_data()
    del data["work_days"]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors["work_days"] == ["Choose at least one working day."]
    assert VisitsConfig.current().work_days == "12345"


def test_plan_now_runs_the_planning_job(client, admin, django_capture_on_commit_callbacks):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"action": "plan"})
    assert response.status_code == 302
    run = PlanRefresh.objects.get()
    assert run.finished_at is not None
    assert run.error == ""
    html = client.get(URL).content.decode()
    assert "Planning was started" in html
    runs = html[html.index('data-testid="plan-runs"') :]
    assert f'data-run="{run.pk}"' in runs
    assert 'data-testid="plan-now"' in runs


def test_runs_show_their_counts_and_errors(client, admin):
    now = timezone.now()
    done = PlanRefresh.objects.create(
        as_of=now.date(), customers=12, planned=5, withdrawn=2, missed=1, finished_at=now
    )
    PlanRefresh.objects.create(
        as_of=now.date(), finished_at=now, error="OperationalError: database is locked"
    )
    client.force_login(admin)
    html = client.get(URL).content.decode()
    runs = html[html.index('data-testid="plan-runs"') :]
    assert "OperationalError: database is locked" in runs
    row = runs[runs.index(f'data-run="{done.pk}"') :]
    cells = [c.split("<")[0] for c in row.split('<td class="text-end">')[1:5]]
    assert cells == ["12", "5", "2", "1"]


@pytest.mark.django_db(transaction=True)
def test_plan_now_without_a_broker_says_what_the_run_did(client, admin):
    """Eager Celery (the quick start): the planning has run when the page answers; the page
    says it finished, with its figures, not that it was started."""
    client.force_login(admin)
    html = client.post(URL, {"action": "plan"}, follow=True).content.decode()
    run = PlanRefresh.objects.get()
    assert run.finished_at is not None
    assert (
        f"Planning finished: {run.planned} visits planned, {run.withdrawn} withdrawn, "
        f"{run.missed} marked missed."
    ) in html
    assert "Planning was started" not in html
