"""Fixtures shared by the whole suite."""

import os
import threading
from contextlib import contextmanager

import pytest
from django.conf import settings

from crm.choices import AuditSource, Role
from crm.services import Actor
from tests.crm.factories import AreaFactory, UserFactory
from tests.orders.factories import integration_client

# With pytest-xdist (.ci/run: `-n 2 --dist loadgroup`) each worker has its own test database
# (pytest-django's gw0/gw1 suffix), live server and browser, but the Redis broker, the
# machine's processes and its CPUs are shared: the tests that start a real Celery worker, kill
# processes or race threads against the real services run one after another on one worker.
SERIAL_GROUP = "real-services"
SERIAL_MARKERS = ("services", "chaos")
SERIAL_FIXTURES = ("real_broker",)


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if any(item.get_closest_marker(name) for name in SERIAL_MARKERS) or any(
            name in getattr(item, "fixturenames", ()) for name in SERIAL_FIXTURES
        ):
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))


@pytest.fixture(autouse=True)
def _catalogue_cache():
    """The effective field catalogue's cache (customers.catalogue.effective) starts each test
    as a fresh test database is, with no active version (so pinned query counts need no warm
    request), and is dropped after: a rolled-back activation must not outlive its test."""
    from django.core.cache import cache

    from customers.catalogue import cache_key

    cache.set(cache_key(), {"id": 0, "overrides": {}})
    yield
    cache.delete(cache_key())


@pytest.fixture
def areas(db):
    """A small tree: city GZ above districts TH and YX; SZ stands apart."""
    gz = AreaFactory(code="GZ", name="广州市")
    return {
        "GZ": gz,
        "TH": AreaFactory(code="TH", name="天河区", parent=gz),
        "YX": AreaFactory(code="YX", name="越秀区", parent=gz),
        "SZ": AreaFactory(code="SZ", name="深圳市"),
    }


@pytest.fixture
def make_user(db):
    def make(role: Role = Role.ACCOUNT_MANAGER, areas=(), **kwargs):
        return UserFactory(role=role, areas=list(areas), **kwargs)

    return make


@pytest.fixture
def system_actor(db):
    return Actor.system("tests", AuditSource.COMMAND)


@pytest.fixture
def require_services():
    """Whether a test that needs PostgreSQL/Redis must fail (CI) rather than skip."""
    return settings.CRM_REQUIRE_SERVICES


@pytest.fixture
def postgres(require_services):
    """The test runs on PostgreSQL: skipped on SQLite, failed in CI (which runs it there)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (DATABASE_URL)"
        if require_services:
            pytest.fail(message)
        pytest.skip(message + "; CI runs this test against the real database")


@pytest.fixture
def real_broker(require_services):
    """Celery talks to the real Redis for this test (tasks go through a worker the test
    starts); skipped without Redis, failed in CI."""
    from crm.celery import app as celery_app

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        message = "CELERY_BROKER_URL does not point at Redis"
        if require_services:
            pytest.fail(message)
        pytest.skip(message + " (CI runs this test against the real Redis)")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield broker
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def customer_world(areas, make_user):
    """Two account managers in TH (one customer each), one in YX, their supervisors, an admin."""
    from tests.customers.factories import make_customer

    people = {
        "am_th": make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_th"),
        "am_th2": make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_th2"),
        "am_yx": make_user(Role.ACCOUNT_MANAGER, [areas["YX"]], username="am_yx"),
        "sup_th": make_user(Role.SUPERVISOR, [areas["TH"]], username="sup_th"),
        "sup_th2": make_user(Role.SUPERVISOR, [areas["TH"]], username="sup_th2"),
        "sup_yx": make_user(Role.SUPERVISOR, [areas["YX"]], username="sup_yx"),
        "sup_gz": make_user(Role.SUPERVISOR, [areas["GZ"]], username="sup_gz"),
        "admin": make_user(Role.ADMINISTRATOR, username="admin_x"),
        "lo_th": make_user(Role.LICENSE_OFFICER, [areas["TH"]], username="lo_th"),
    }
    customers = {
        "th": make_customer(
            areas["TH"], people["am_th"], store_name="天河一号店", phone="13800000001"
        ),
        "th2": make_customer(areas["TH"], people["am_th2"], store_name="天河二号店"),
        "yx": make_customer(areas["YX"], people["am_yx"], store_name="越秀店"),
    }
    return {**people, **{f"c_{k}": v for k, v in customers.items()}}


@pytest.fixture
def hold_month(db):
    """`with hold_month(GradingRun, month):` holds a run model's month the way another process
    running it does (`crm.jobs.month_lease`: its own PostgreSQL session, or its own file
    descriptor of the lock file), from a thread of its own, for the block."""
    from crm import jobs

    @contextmanager
    def hold(model, month):
        holding, release = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        def run():
            try:
                with jobs.month_lease(model, month):
                    holding.set()
                    release.wait(60)
            except BaseException as error:  # noqa: BLE001 (reported to the test below)
                failures.append(error)
                holding.set()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        holding.wait(30)
        assert not failures, failures
        try:
            yield
        finally:
            release.set()
            thread.join(30)

    return hold


@pytest.fixture
def erp(db):
    """The integration client "erp", authenticated with its API token (the syncs' caller)."""
    api, _user = integration_client("erp")
    return api
