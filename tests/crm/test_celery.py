"""Celery: the eager path (no broker) and a real worker against Redis."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from crm.celery import app as celery_app
from crm.schedules import BEAT_SCHEDULE
from crm.tasks import sessions_clear_expired_task, system_healthcheck_task


def test_tasks_run_in_process_when_eager(db):
    result = system_healthcheck_task.delay()
    assert result.get(timeout=1) == {"database": "ok", "cache": "ok"}


def test_every_scheduled_job_names_a_registered_task():
    celery_app.loader.import_default_modules()
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in celery_app.tasks, name


def test_expired_sessions_are_cleared(db):
    live, dead = SessionStore(), SessionStore()
    live.create()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    assert sessions_clear_expired_task.delay().get() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_through_redis(real_broker):
    from celery.contrib.testing.worker import start_worker

    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        result = system_healthcheck_task.delay()
        assert result.get(timeout=60) == {"database": "ok", "cache": "ok"}
    assert result.backend.__class__.__name__ == "RedisBackend"
