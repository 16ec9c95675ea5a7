"""Reads on areas, users and API clients, scoped to the user asking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.db.models import Count, Max, Prefetch, Q, QuerySet

from crm.choices import Role, SchemeStatus
from crm.filtersets import AreaFilterSet
from crm.models import Area, AuditEntry, JobRun, Notification, SettingsRow, User, VersionedScheme
from crm.scope import ancestor_area_ids, area_ids_in_scope, sees_everything


def area_list(
    *, user: User, filters: Mapping[str, Any] | None = None, with_members: bool = True
) -> QuerySet[Area]:
    """Areas `user` may see, with their parent; `with_members` adds member counts per role
    and the active people of each area (the page shows them, the API does not)."""
    qs = Area.objects.visible_to(user).select_related("parent").order_by("code")
    if with_members:
        people = User.objects.filter(is_active=True, role__in=Role.people()).order_by("username")
        qs = qs.with_member_counts().prefetch_related(
            Prefetch("members", queryset=people, to_attr="active_members")
        )
    return AreaFilterSet(filters or {}, queryset=qs).qs


def colleague_list(*, user: User, roles: list[Role] | None = None) -> QuerySet[User]:
    """People working in the areas `user` sees (everyone for administrators), with their areas."""
    qs = User.objects.filter(is_active=True, role__in=roles or Role.people())
    if not sees_everything(user):
        qs = qs.filter(areas__in=area_ids_in_scope(user)).distinct()
    return qs.prefetch_related(Prefetch("areas", queryset=Area.objects.order_by("code")))


def supervisor_list(*, user: User) -> QuerySet[User]:
    """The supervisors in charge of `user`: those of the user's areas and of every area above."""
    own = user.areas.values_list("pk", flat=True)
    return (
        User.objects.filter(is_active=True, role=Role.SUPERVISOR, areas__in=ancestor_area_ids(own))
        .distinct()
        .prefetch_related(Prefetch("areas", queryset=Area.objects.order_by("code")))
    )


def user_counts_by_role() -> dict[str, int]:
    """Active users per role (administrators' home page)."""
    rows = User.objects.filter(is_active=True).values("role").annotate(n=Count("pk"))
    counts = {row["role"]: row["n"] for row in rows}
    return {role.value: counts.get(role.value, 0) for role in Role}


def api_client_list() -> QuerySet[User]:
    """Integration clients with their number of active tokens and the last time one was used."""
    return (
        User.objects.filter(role=Role.INTEGRATION_CLIENT)
        .annotate(
            active_tokens=Count("api_tokens", filter=Q(api_tokens__revoked_at__isnull=True)),
            last_used_at=Max("api_tokens__last_used_at"),
        )
        .order_by("username")
    )


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first (each renders in the reader's language)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def audit_recent(*, user: User, limit: int = 10) -> QuerySet[AuditEntry]:
    """The latest audit rows; only administrators read the whole log."""
    if not sees_everything(user) or user.is_integration_client:
        return AuditEntry.objects.none()
    return AuditEntry.objects.select_related("content_type")[:limit]


# --- administrators' home page: jobs and configuration -------------------------------------------
# Found by their shared base (crm.models.JobRun / VersionedScheme / SettingsRow), so an app that
# adds a run, scheme or settings model shows on the home page without a change here.


def _concrete_models(base: type) -> list[type]:
    """The installed concrete models built on `base`, in INSTALLED_APPS order."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, base) and not model._meta.abstract and not model._meta.proxy
    ]


def job_runs_latest(*, limit: int = 3) -> list[dict[str, Any]]:
    """Per kind of recorded job run (grading, valuation…): its model and its latest `limit`
    runs, newest first, with who started them. One query per kind."""
    return [
        {
            "model": model,
            "runs": list(
                model.objects.select_related("started_by").order_by("-created_at", "-id")[:limit]
            ),
        }
        for model in _concrete_models(JobRun)
    ]


def scheme_versions() -> list[dict[str, Any]]:
    """Per kind of versioned configuration (grading schemes, valuation schemes): the active
    version and the drafts waiting, newest first. One query per kind."""
    out = []
    for model in _concrete_models(VersionedScheme):
        rows = list(
            model.objects.filter(status__in=[SchemeStatus.ACTIVE, SchemeStatus.DRAFT])
            .select_related("created_by", "activated_by")
            .order_by("-version")
        )
        out.append(
            {
                "model": model,
                "active": next((s for s in rows if s.status == SchemeStatus.ACTIVE), None),
                "drafts": [s for s in rows if s.status == SchemeStatus.DRAFT],
            }
        )
    return out


def settings_rows() -> list[dict[str, Any]]:
    """Per app's settings row (orders, visits, services…): the row with who changed it last,
    or None while it holds the defaults and was never saved. Read, never created. One query
    per app."""
    return [
        {"model": model, "row": model.objects.select_related("updated_by").filter(pk=1).first()}
        for model in _concrete_models(SettingsRow)
    ]


def area_choices(*, user: User) -> list[tuple[str, str]]:
    """The areas `user` may filter by (the scope rule's: their areas and those below, every
    area for administrators), as (code, "code name") in code order: an area filter's choices."""
    return [
        (code, f"{code} {name}")
        for code, name in Area.objects.visible_to(user).order_by("code").values_list("code", "name")
    ]


def person_choices(*, user: User, roles: list[Role] | None = None) -> list[tuple[str, str]]:
    """The active people (of `roles`, every role by default) working in the areas `user` sees,
    as (username, "name (username)") in username order: a person filter's choices."""
    people = colleague_list(user=user, roles=roles).prefetch_related(None).order_by("username")
    return [_person_choice(p) for p in people.only("username", "name")]


def account_manager_choices(*, user: User) -> list[tuple[str, str]]:
    """The account managers whose customers `user` may see: an account-manager filter's
    choices. An account manager sees only their own customers, so their one choice is
    themselves; others get the account managers of their areas (everyone's for administrators)."""
    if user.role == Role.ACCOUNT_MANAGER and not sees_everything(user):
        return [_person_choice(user)]
    return person_choices(user=user, roles=[Role.ACCOUNT_MANAGER])


def _person_choice(person: User) -> tuple[str, str]:
    return person.username, f"{person.name} ({person.username})" if person.name else person.username
