"""Operator commands: create_user, create_api_client, seed_demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import Role
from crm.models import AuditEntry, User
from crm.services import Actor, user_set_password, user_update


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_user_with_role_areas_and_password(areas):
    output = run(
        "create_user",
        "zhangwei",
        "--role",
        "account_manager",
        "--area",
        "TH",
        "--area",
        "YX",
        "--password",
        "Strong-pass-2026",
        "--name",
        "张伟",
    )
    user = User.objects.get(username="zhangwei")
    assert user.role == Role.ACCOUNT_MANAGER
    assert sorted(user.areas.values_list("code", flat=True)) == ["TH", "YX"]
    assert user.check_password("Strong-pass-2026")
    assert not user.is_staff
    assert "Created zhangwei" in output
    assert AuditEntry.objects.filter(object_id=str(user.pk), field="role").exists()


def test_create_user_generates_a_password_when_none_given(db):
    output = run("create_user", "boss", "--role", "administrator")
    password = output.strip().splitlines()[-1].removeprefix("Password: ")
    user = User.objects.get(username="boss")
    assert user.check_password(password)
    assert user.is_staff


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "Unknown role boss"),
        (["--role", "integration_client"], "Unknown role integration_client"),
        (["--role", "supervisor", "--area", "TH", "--area", "NOPE"], "Unknown area code(s): NOPE"),
        (["--role", "supervisor", "--password", "123"], "too short"),
    ],
)
def test_create_user_refuses_bad_input_clearly_and_creates_nothing(areas, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("create_user", "newbie", *args)
    assert not User.objects.filter(username="newbie").exists()


def test_create_user_refuses_a_taken_name_in_any_case(make_user):
    make_user(username="taken")
    with pytest.raises(CommandError, match="already taken"):
        run("create_user", "TAKEN", "--role", "supervisor")


def test_create_api_client_prints_a_working_token_last(db):
    output = run("create_api_client", "ordering")
    token = output.strip().splitlines()[-1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(reverse("api:me")).json()["role"] == "integration_client"


def test_create_api_client_twice_is_an_error_and_rotate_replaces_the_token(db):
    first = run("create_api_client", "ordering").strip().splitlines()[-1]
    with pytest.raises(CommandError, match="--rotate"):
        run("create_api_client", "ordering")
    second = run("create_api_client", "ordering", "--rotate").strip().splitlines()[-1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get(reverse("api:me")).status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api.get(reverse("api:me")).status_code == 200


def test_rotate_needs_an_existing_client(make_user):
    make_user(username="person")
    with pytest.raises(CommandError, match="no integration client"):
        run("create_api_client", "ghost", "--rotate")
    with pytest.raises(CommandError, match="not an integration client"):
        run("create_api_client", "person", "--rotate")


def test_seed_demo_creates_every_role_and_is_idempotent(db, settings):
    settings.DEBUG = True
    first = run("seed_demo")
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    audit_rows = AuditEntry.objects.count()
    second = run("seed_demo")
    assert AuditEntry.objects.count() == audit_rows  # nothing changed the second time
    assert "admin" in first and "crm-demo" in first
    assert "token (shown once)" in first and "exists" in second
    assert User.objects.get(username="am_zhang").check_password("crm-demo")


def test_seed_demo_leaves_a_changed_demo_user_as_it_is(db, settings):
    # given: an administrator changed a demo user's role and deactivated another; one
    # changed their password
    settings.DEBUG = True
    run("seed_demo", "--customers", "50", "--months", "1")
    admin = Actor.of(User.objects.get(username="admin"), "page")
    am = User.objects.get(username="am_zhang")
    user_update(user=am, role=Role.SUPERVISOR, actor=admin)
    user_set_password(user=am, password="something-else-42", check_password=False, actor=admin)  # noqa: S106
    user_update(user=User.objects.get(username="lo_sun"), is_active=False, actor=admin)

    # when
    second = run("seed_demo", "--customers", "50", "--months", "1")

    # then: the demo resets nothing, and its logins say so
    am.refresh_from_db()
    assert am.role == Role.SUPERVISOR
    assert am.check_password("something-else-42")
    assert not User.objects.get(username="lo_sun").is_active
    logins = {line.split()[0]: line for line in second.splitlines() if line.startswith("  ")}
    assert "(own password)" in logins["am_zhang"] and "Supervisor" in logins["am_zhang"]
    assert "(deactivated)" in logins["lo_sun"]
    assert "crm-demo" in logins["am_liu"]


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run("seed_demo")
    assert not User.objects.exists()
