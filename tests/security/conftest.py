"""The security suite's world, built once per test module.

The world is created inside one transaction that is rolled back when the module ends; each
test (through pytest-django's `db`) runs in a savepoint inside it, so what a test's POST
changes is undone before the next test, and nothing is left for other modules.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import Client
from django.test.client import ClientHandler

from tests.security.world import PEOPLE, build_world


def _sign_in_everyone(world) -> None:
    """One session per person, made once: a test's client carries its cookie (cheaper than a
    force_login per request, and the same thing for the server)."""
    world["sessions"] = {}
    for key in PEOPLE:
        client = Client()
        client.force_login(world[key])
        world["sessions"][key] = client.cookies[settings.SESSION_COOKIE_NAME].value


# One request handler per CSRF mode, shared by every client of the suite: a new handler loads
# the middleware again, and WhiteNoise (finders on in tests) then scans every static file —
# most of the suite's time before it was shared. Clients keep their own cookies.
_HANDLERS: dict[bool, ClientHandler] = {}


def client_as(world, key: str | None, *, enforce_csrf_checks: bool = False, **defaults) -> Client:
    """A test client signed in as world[key] (None: nobody)."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks, **defaults)
    client.handler = _HANDLERS.setdefault(
        enforce_csrf_checks, ClientHandler(enforce_csrf_checks=enforce_csrf_checks)
    )
    if key is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][key]
    return client


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            _sign_in_everyone(built)
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()


@pytest.fixture
def w(world, db):
    """The world, inside the test's own savepoint."""
    return world
