"""Fixtures shared by the whole suite."""

import pytest
from django.conf import settings

from crm.choices import AuditSource, Role
from crm.services import Actor
from tests.crm.factories import AreaFactory, UserFactory


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
