"""Demo data for the organisation: areas and a user of every role.

`seed_demo` runs the seeders listed in `DEMO_SEEDERS` in order; each later app adds its own
(customers, products and orders, visits, services) so the demo shows every feature.
Every seeder is idempotent: running the command again changes nothing that is already right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.module_loading import import_string

from crm.choices import AuditSource, Role
from crm.models import User
from crm.services import (
    Actor,
    api_client_create,
    area_upsert,
    user_create,
    user_set_password,
    user_update,
)

# Local demo only: seed_demo refuses to run outside DEBUG unless forced.
DEMO_PASSWORD = "crm-demo"  # noqa: S105

DEMO_AREAS = [
    # code, name, parent
    ("GZ", "广州市", None),
    ("GZ-TH", "天河区", "GZ"),
    ("GZ-YX", "越秀区", "GZ"),
    ("GZ-BY", "白云区", "GZ"),
]

DEMO_USERS = [
    # username, role, areas, name
    ("admin", Role.ADMINISTRATOR, [], "王敏"),
    ("sup_city", Role.SUPERVISOR, ["GZ"], "陈静"),
    ("sup_tianhe", Role.SUPERVISOR, ["GZ-TH"], "李强"),
    ("am_zhang", Role.ACCOUNT_MANAGER, ["GZ-TH"], "张伟"),
    ("am_liu", Role.ACCOUNT_MANAGER, ["GZ-TH"], "刘洋"),
    ("am_zhao", Role.ACCOUNT_MANAGER, ["GZ-YX"], "赵磊"),
    ("am_huang", Role.ACCOUNT_MANAGER, ["GZ-BY"], "黄芳"),
    ("lo_sun", Role.LICENSE_OFFICER, ["GZ-TH", "GZ-YX"], "孙丽"),
]

DEMO_API_CLIENT = "ordering-system"


@dataclass
class SeedReport:
    """What the seeders did, for the command to print."""

    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def seed_organisation(report: SeedReport, *, actor: Actor) -> None:
    """Demo areas, one or more users of every role, and the ordering system's API client."""
    for code, name, parent in DEMO_AREAS:
        area_upsert(code=code, name=name, parent_code=parent, actor=actor)

    for username, role, areas, name in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                role=role,
                area_codes=areas,
                name=name,
                password=DEMO_PASSWORD,
                check_password=False,
                actor=actor,
            )
        else:
            user_update(
                user=user, role=role, area_codes=areas, name=name, is_active=True, actor=actor
            )
            if not user.check_password(DEMO_PASSWORD):
                user_set_password(
                    user=user, password=DEMO_PASSWORD, check_password=False, actor=actor
                )
        report.logins.append((username, DEMO_PASSWORD, Role(role).label, ", ".join(areas) or "*"))

    if User.objects.filter(username=DEMO_API_CLIENT).exists():
        report.lines.append(
            f"API client '{DEMO_API_CLIENT}' exists "
            f"(new token: manage.py create_api_client {DEMO_API_CLIENT} --rotate)."
        )
    else:
        _client, key = api_client_create(name=DEMO_API_CLIENT, actor=actor)
        report.lines.append(f"API client '{DEMO_API_CLIENT}' token (shown once): {key}")


# Dotted paths, so crm (which every app depends on) imports no app of its own.
DEMO_SEEDERS = [
    "crm.demo.seed_organisation",
    "customers.demo.seed_customers",
    "orders.demo.seed_orders",
    "grading.demo.seed_grading",
    "valuation.demo.seed_valuation",
    "visits.demo.seed_visits",
    "services.demo.seed_services",
]


def seed_all() -> SeedReport:
    report = SeedReport()
    actor = Actor.system("seed_demo", AuditSource.COMMAND)
    for path in DEMO_SEEDERS:
        import_string(path)(report, actor=actor)
    return report
