"""Writes on areas, users and API clients. Each service is atomic and writes its audit rows
in the same transaction (never through signals)."""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import (
    ApiToken,
    Area,
    AuditEntry,
    IdempotencyRecord,
    Notification,
    SettingsRow,
    User,
)
from crm.pgarrays import array_literal
from crm.scope import forget_cached_scope
from crm.stored_text import Text, columns, text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who or what makes a change: a user (person or API client) or a named job/command."""

    user: User | None
    source: AuditSource
    label: str

    @classmethod
    def of(cls, user: User, source: AuditSource) -> Actor:
        return cls(user=user, source=source, label=user.username)

    @classmethod
    def system(cls, label: str, source: AuditSource = AuditSource.COMMAND) -> Actor:
        return cls(user=None, source=source, label=label)


# --- audit -------------------------------------------------------------------------------


def audit_build(
    *,
    actor: Actor,
    obj: models.Model,
    action: AuditAction,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str | Text = "",
    snapshot: Mapping[str, Any] | None = None,
) -> list[AuditEntry]:
    """Unsaved audit rows for one object: one per changed field, or a single row for a create
    or delete (carrying `snapshot`, the object's values, when given). Bulk services collect
    these and `bulk_create` them. A `reason` the system words is a `crm.stored_text.Text`
    (shown in each reader's language); one a person typed is a string, kept as typed."""
    common = {
        "actor": actor.user,
        "actor_label": actor.label[:150],
        "source": actor.source,
        "content_type": ContentType.objects.get_for_model(obj),
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200],
        "action": action,
        **columns(reason, "reason"),
        "created_at": timezone.now(),
    }
    if not changes:
        return [AuditEntry(**common, new_value=dict(snapshot) if snapshot else None)]
    return [
        AuditEntry(**common, field=field, old_value=old, new_value=new)
        for field, (old, new) in changes.items()
    ]


def audit_record(
    *,
    actor: Actor,
    obj: models.Model,
    action: AuditAction,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str | Text = "",
    snapshot: Mapping[str, Any] | None = None,
) -> list[AuditEntry]:
    """Writes the audit rows of one change. Call inside the service's transaction."""
    return AuditEntry.objects.bulk_create(
        audit_build(
            actor=actor, obj=obj, action=action, changes=changes, reason=reason, snapshot=snapshot
        )
    )


# One audit row of `audit_insert_many`: object id, object repr, action, field, old, new.
AuditRow = tuple[str, str, AuditAction, str, Any, Any]
# The columns `audit_insert_many` writes, in this order: the actor's, the object type and
# the time are the same for every row; reason, reason key and parameters are empty.
_AUDIT_SHARED = ("actor_id", "actor_label", "source", "content_type_id", "created_at")
_AUDIT_VARYING = ("object_id", "object_repr", "action", "field", "old_value", "new_value")


def audit_insert_many(
    *, actor: Actor, model: type[models.Model], rows: Sequence[AuditRow], at: datetime
) -> None:
    """Writes many audit rows of one actor, about objects of one model, at one time `at`,
    with no reason: what `bulk_create` of `audit_build`'s rows writes, without a model
    instance and a value conversion per field. For a bulk path's hundreds of rows (an order
    sync replacing 250 orders spent ~15 ms of CPU on them). Call inside the service's
    transaction."""
    if not rows:
        return
    content_type = ContentType.objects.get_for_model(model)
    label = actor.label[:150]
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=actor.user,
                    actor_label=label,
                    source=actor.source,
                    content_type=content_type,
                    object_id=object_id,
                    object_repr=object_repr,
                    action=action,
                    field=field,
                    old_value=old,
                    new_value=new,
                    created_at=at,
                )
                for object_id, object_repr, action, field, old, new in rows
            ],
            batch_size=500,
        )
        return
    # One array per varying column (crm.pgarrays); the JSON values encoded as the field
    # encodes them (jsonb keeps the value, not the text).
    columns = list(zip(*rows, strict=True))
    encoder = AuditEntry._meta.get_field("old_value").encoder
    for at_json in (4, 5):
        columns[at_json] = [
            None if value is None else json.dumps(value, cls=encoder) for value in columns[at_json]
        ]
    kinds = ("text", "text", "text", "text", "jsonb", "jsonb")
    arrays = ", ".join(f"%s::{kind}[]" for kind in kinds)
    names = ", ".join((*_AUDIT_SHARED, *_AUDIT_VARYING, "reason", "reason_key", "reason_params"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEntry._meta.db_table} ({names}) "  # noqa: S608 - names are ours
            f"SELECT %s, %s, %s, %s, %s, v.*, '', '', '{{}}' FROM unnest({arrays}) AS v",
            [
                actor.user.pk if actor.user else None,
                label,
                str(actor.source),  # the choice's value (psycopg would write an enum's name)
                content_type.pk,
                at,
                *(array_literal(values, kind) for values, kind in zip(columns, kinds, strict=True)),
            ],
        )


# --- settings ----------------------------------------------------------------------------


def settings_update(
    *,
    model: type[SettingsRow],
    fields: Sequence[str],
    data: Mapping[str, Any],
    actor: Actor,
    check: Callable[[SettingsRow], None] | None = None,
) -> SettingsRow:
    """Changes an app's settings row: the `fields` present in `data`, validated by the model
    (and by `check`, which raises DomainError for rules across fields), saved and audited per
    changed field. Nothing is saved when anything is refused. The caller checks who may."""
    with transaction.atomic():
        config = model.objects.select_for_update().get(pk=model.current().pk)
        before = {name: getattr(config, name) for name in fields}
        for name in fields:
            if name in data:
                setattr(config, name, data[name])
        try:
            config.full_clean(exclude=["updated_by", "updated_at"])
        except ValidationError as exc:
            raise DomainError(
                _("Check the highlighted settings."), errors=exc.message_dict
            ) from exc
        if check is not None:
            check(config)
        changes = {
            name: (str(before[name]), str(getattr(config, name)))
            for name in fields
            if str(before[name]) != str(getattr(config, name))
        }
        if changes:
            config.updated_at, config.updated_by = timezone.now(), actor.user
            config.save()
            audit_record(actor=actor, obj=config, action=AuditAction.UPDATE, changes=changes)
        return config


# --- areas -------------------------------------------------------------------------------


@transaction.atomic
def area_upsert(*, code: str, name: str, parent_code: str | None = None, actor: Actor) -> Area:
    """Creates the area `code` or updates its name and parent. Refuses an unknown parent and
    a parent that would make a cycle."""
    parent = None
    if parent_code:
        parent = Area.objects.filter(code=parent_code).first()
        if parent is None:
            raise DomainError(
                _("There is no area with the code %(code)s.") % {"code": parent_code},
                field="parent",
            )
    area = Area.objects.select_for_update().filter(code=code).first()
    if area is None:
        area = Area(code=code, name=name, parent=parent)
        _full_clean(area)
        area.save()
        audit_record(
            actor=actor,
            obj=area,
            action=AuditAction.CREATE,
            changes={"code": (None, code), "name": (None, name), "parent": (None, parent_code)},
        )
        return area

    if parent is not None and _is_ancestor_or_self(area, parent):
        raise DomainError(
            _("Area %(parent)s is below %(code)s, so it cannot be its parent.")
            % {"parent": parent.code, "code": code},
            field="parent",
        )
    changes = {}
    if area.name != name:
        changes["name"] = (area.name, name)
        area.name = name
    if area.parent_id != (parent.pk if parent else None):
        changes["parent"] = (area.parent.code if area.parent else None, parent_code or None)
        area.parent = parent
    if changes:
        _full_clean(area)
        area.save()
        audit_record(actor=actor, obj=area, action=AuditAction.UPDATE, changes=changes)
    return area


def _is_ancestor_or_self(area: Area, candidate: Area) -> bool:
    """True if `candidate` is `area` or lies below it (walks up from the candidate)."""
    parents = dict(Area.objects.values_list("pk", "parent_id"))
    node: int | None = candidate.pk
    seen: set[int] = set()
    while node is not None and node not in seen:
        if node == area.pk:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


# --- users -------------------------------------------------------------------------------


def _areas_by_codes(codes: Sequence[str]) -> list[Area]:
    codes = list(dict.fromkeys(codes))
    areas = list(Area.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {a.code for a in areas})
    if missing:
        raise DomainError(
            _("Unknown area code(s): %(codes)s.") % {"codes": ", ".join(missing)}, field="areas"
        )
    return areas


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    actor: Actor,
    area_codes: Sequence[str] = (),
    password: str | None = None,
    name: str = "",
    email: str = "",
    check_password: bool = True,
) -> User:
    """Creates a person who signs in to pages. `password=None` leaves the account without a
    usable password (the operator sets one later). Integration clients are made by
    `api_client_create`."""
    if role not in [r.value for r in Role.people()]:
        raise DomainError(
            _("Unknown role %(role)s. Choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(r.value for r in Role.people())},
            field="role",
        )
    _ensure_username_free(username)
    areas = _areas_by_codes(area_codes)
    user = User(
        username=username,
        role=role,
        name=name,
        email=email,
        is_staff=role == Role.ADMINISTRATOR,
    )
    if password is None:
        user.set_unusable_password()
    else:
        if check_password:
            _validate_password(password, user)
        user.set_password(password)
    _full_clean(user, exclude=["password"])
    user.save()
    user.areas.set(areas)
    audit_record(
        actor=actor,
        obj=user,
        action=AuditAction.CREATE,
        changes={
            "username": (None, username),
            "role": (None, role),
            "areas": (None, sorted(a.code for a in areas)),
        },
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: Actor,
    role: str | None = None,
    area_codes: Sequence[str] | None = None,
    name: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Changes a person's role, areas, name or active flag; audits each changed field."""
    changes: dict[str, tuple[Any, Any]] = {}
    if role is not None and role != user.role:
        if role not in [r.value for r in Role.people()]:
            raise DomainError(_("Unknown role %(role)s.") % {"role": role}, field="role")
        changes["role"] = (user.role, role)
        user.role = role
        user.is_staff = role == Role.ADMINISTRATOR
    if name is not None and name != user.name:
        changes["name"] = (user.name, name)
        user.name = name
    if is_active is not None and is_active != user.is_active:
        changes["is_active"] = (user.is_active, is_active)
        user.is_active = is_active
    if changes:
        _full_clean(user, exclude=["password"])
        user.save()
    if area_codes is not None:
        areas = _areas_by_codes(area_codes)
        old = sorted(user.areas.values_list("code", flat=True))
        new = sorted(a.code for a in areas)
        if old != new:
            user.areas.set(areas)
            changes["areas"] = (old, new)
            forget_cached_scope(user)
    if changes:
        audit_record(actor=actor, obj=user, action=AuditAction.UPDATE, changes=changes)
    return user


@transaction.atomic
def user_set_password(
    *,
    user: User,
    password: str,
    actor: Actor,
    check_password: bool = True,
    reason: str | Text = "",
) -> User:
    """Sets a new password. The audit row says that it changed, never what it is. Every
    session of the user made with the old password ends at its next request (Django checks
    each session's password hash); the caller keeps its own with `update_session_auth_hash`."""
    if check_password:
        _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        obj=user,
        action=AuditAction.UPDATE,
        changes={"password": (None, None)},
        reason=reason,
    )
    return user


# --- password reset links ----------------------------------------------------------------


@dataclass(frozen=True)
class PasswordResetLink:
    """A one-time link to set a new password, as shown to the administrator who made it."""

    url: str
    expires_at: datetime
    emailed_to: str  # the address it was sent to; "" when it was not sent
    mail_failed: bool  # sending was tried and failed


def password_reset_link_refusal(*, user: User, by: User | None) -> str | None:
    """Why `by` may not create a password reset link for `user` (None: they may). Links are
    made by a person, an administrator: a job or command (`by` None) makes none."""
    if by is None or not by.is_administrator:
        return _("Only administrators create password reset links.")
    if user.is_integration_client:
        return _("%(name)s is an integration client: it uses API tokens and has no password.") % {
            "name": user.username
        }
    if not user.is_active:
        return _("%(name)s is deactivated: activate the account first.") % {"name": user.username}
    if user.is_superuser and not by.is_superuser:
        # As on the administration site, where only a superuser may make another.
        return _("Only a superuser may create a reset link for a superuser.")
    return None


def password_reset_link_create(
    *, user: User, actor: Actor, link_for: Callable[[str, str], str]
) -> PasswordResetLink:
    """Creates a one-time link with which `user` sets a new password (`link_for(uid, token)`
    makes it absolute), emails it when the user has an address and mail is configured, and
    audits who made a link for whom (never the token). The password itself does not change.

    The token is Django's `default_token_generator`: a signature over the user's password
    hash and last sign-in, so the link stops working once it was used, once the password
    changed by any other way, and after PASSWORD_RESET_TIMEOUT. Nothing is stored."""
    refusal = password_reset_link_refusal(user=user, by=actor.user)
    if refusal:
        raise DomainError(refusal)
    url = link_for(
        urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
    )
    expires_at = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    emailed_to, mail_failed = "", False
    if user.email and settings.EMAIL_ENABLED:
        try:
            _password_reset_mail(user=user, url=url, expires_at=expires_at)
            emailed_to = user.email
        except (smtplib.SMTPException, OSError):
            # The administrator still sees the link and is told to pass it on.
            logger.exception("The password reset link for %s could not be emailed", user.username)
            mail_failed = True
    with transaction.atomic():
        audit_record(
            actor=actor,
            obj=user,
            action=AuditAction.UPDATE,
            changes={
                "password_reset_link": (
                    None,
                    {"expires_at": expires_at.isoformat(), "emailed_to": emailed_to or None},
                )
            },
            reason=text("crm.password.reset_link"),
        )
    return PasswordResetLink(
        url=url, expires_at=expires_at, emailed_to=emailed_to, mail_failed=mail_failed
    )


def _password_reset_mail(*, user: User, url: str, expires_at: datetime) -> None:
    """The link by mail, in each of the site's languages: the user's own is not known."""
    languages = [code for code, _name in settings.LANGUAGES]
    subjects = []
    for code in languages:
        with translation.override(code):
            subjects.append(_("Set your CRM password"))
    body = render_to_string(
        "registration/password_reset_email.txt",
        {"user": user, "url": url, "expires_at": expires_at, "languages": languages},
    )
    send_mail(" / ".join(subjects), body, None, [user.email])


def password_reset_link_usable_by(user: User) -> bool:
    """Whether a reset link may set `user`'s password at all (whatever its token): a person
    whose account is active. Links are made for no one else (password_reset_link_refusal)."""
    return user.is_active and not user.is_integration_client


@transaction.atomic
def user_password_reset(*, user: User, token: str, password: str) -> User:
    """Sets `user`'s password with a reset link's token, checked again under a row lock so
    two submissions of one link set the password once. Lifts the account's sign-in lockout:
    its owner just proved they hold a link an administrator made for them."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    usable = password_reset_link_usable_by(locked)
    if not usable or not default_token_generator.check_token(locked, token):
        raise DomainError(
            _("This link has already been used or has expired. Ask an administrator for a new one.")
        )
    user_set_password(
        user=locked,
        password=password,
        actor=Actor.of(locked, AuditSource.PAGE),
        reason=text("crm.password.reset_done"),
    )
    AccessAttempt.objects.filter(username__iexact=locked.get_username()).delete()
    return locked


# --- integration clients and their tokens -----------------------------------------------


@transaction.atomic
def api_client_create(*, name: str, actor: Actor) -> tuple[User, str]:
    """Creates an integration client (a user that cannot sign in to pages) and issues its
    first token. Returns the client and the token key, which is not stored and cannot be
    shown again."""
    _ensure_username_free(name)
    client = User(username=name, role=Role.INTEGRATION_CLIENT, name=name)
    client.set_unusable_password()
    _full_clean(client, exclude=["password"])
    client.save()
    audit_record(
        actor=actor,
        obj=client,
        action=AuditAction.CREATE,
        changes={"username": (None, name), "role": (None, Role.INTEGRATION_CLIENT.value)},
    )
    return client, _token_issue(client=client, actor=actor)


@transaction.atomic
def api_token_rotate(*, client: User, actor: Actor) -> str:
    """Revokes every active token of `client` and issues a new one (returns its key)."""
    if not client.is_integration_client:
        raise DomainError(
            _("%(name)s is not an integration client.") % {"name": client.username},
            field="name",
        )
    now = timezone.now()
    for token in client.api_tokens.filter(revoked_at__isnull=True):
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, obj=token, action=AuditAction.UPDATE, changes={"revoked_at": (None, now)}
        )
    return _token_issue(client=client, actor=actor)


def _token_issue(*, client: User, actor: Actor) -> str:
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=client, prefix=key[:8], digest=ApiToken.digest_of(key))
    audit_record(actor=actor, obj=token, action=AuditAction.CREATE)
    return key


# Writing last_used_at on every request would turn each API read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def api_token_mark_used(*, token: ApiToken) -> None:
    """Records that the token was used now (at most once a minute; not audited: telemetry)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- helpers -----------------------------------------------------------------------------


def _ensure_username_free(username: str) -> None:
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(
            _("The name %(name)s is already taken.") % {"name": username}, field="username"
        )


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(errors={"password": list(exc.messages)}) from exc


def _full_clean(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    """Model validation as a DomainError (unique checks are left to database constraints)."""
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise DomainError(errors=exc.message_dict) from exc


# --- notifications -----------------------------------------------------------------------


def notification_build(*, user: User, message: str | Text, link: str = "") -> Notification:
    """An unsaved notification (bulk paths `bulk_create` them). The system's messages are a
    `crm.stored_text.Text`, read in each reader's language."""
    return Notification(user=user, link=link, **columns(message, "message"))


def notify(*, user: User, message: str | Text, link: str = "") -> Notification:
    """Leaves an in-app message for `user` (shown in the navigation bar and on /notifications/)."""
    notice = notification_build(user=user, message=message, link=link)
    notice.save()
    return notice


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Marks the user's notifications (all, or those in `ids`) as read; returns how many."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


# --- housekeeping ------------------------------------------------------------------------

# Sign-in logs are kept half a year: long enough to investigate an incident.
LOGIN_LOG_RETENTION = timedelta(days=183)


def system_healthcheck() -> dict[str, str]:
    """Checks that this process reaches the database and the cache."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    cache.set("crm:healthcheck", "ok", 30)
    return {"database": "ok", "cache": "ok" if cache.get("crm:healthcheck") == "ok" else "error"}


def sessions_clear_expired() -> int:
    """Deletes expired sessions; returns how many."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def login_records_prune() -> int:
    """Deletes failed-login attempts past the cool-off and sign-in logs past retention."""
    now = timezone.now()
    deleted = AccessAttempt.objects.filter(
        attempt_time__lt=now - settings.AXES_COOLOFF_TIME
    ).delete()[0]
    for model in (AccessLog, AccessFailureLog):
        deleted += model.objects.filter(attempt_time__lt=now - LOGIN_LOG_RETENTION).delete()[0]
    return deleted


def idempotency_records_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forgets the responses kept for `Idempotency-Key` retries once they are a day old."""
    deleted, _by_model = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
