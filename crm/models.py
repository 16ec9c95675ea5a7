"""Areas, users and roles, API tokens and the audit log: what every app shares."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import stored_text
from crm.choices import AuditAction, AuditSource, Role, RunStatus, RunTrigger, SchemeStatus
from crm.querysets import AreaQuerySet


@dataclass(frozen=True)
class ScopePaths:
    """Where a scoped model keeps the two facts the scope rule reads.

    `area`: lookup path to the row's Area (e.g. "area", "customer__area"); empty when the model
    *is* the area. `owner`: lookup path to the account manager who owns the row, or None when
    rows have no owner (account managers then see the rows of their own areas).
    """

    area: str
    owner: str | None = None


area_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$",
    _("Use 1-20 letters, digits, '-' or '_', starting with a letter or digit."),
)


class SettingsRow(models.Model):
    """The one row of an app's settings (pk=1) that administrators change: who changed it last
    and when, and `current()`. Changed through `crm.services.settings_update`."""

    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls):
        """The settings row, created with the defaults the first time it is read."""
        config, _created = cls.objects.get_or_create(pk=1)
        return config


class Area(models.Model):
    """A management area (管理区域): the unit supervisors own and customers belong to.

    Areas may nest (a city above its districts); a supervisor of a parent area sees every
    area below it.
    """

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[area_code_validator])
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = AreaQuerySet.as_manager()
    scope_paths = ScopePaths(area="")

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="crm_area_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CrmUserManager(UserManager):
    def get_by_natural_key(self, username: str) -> User:
        # Usernames are unique case-insensitively (see the constraint on User).
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person who signs in, or an integration client (a machine with an API token).

    One role per user; areas say where a supervisor, account manager or licence officer works.
    """

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    name = models.CharField(_("name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    areas = models.ManyToManyField(
        Area, verbose_name=_("areas"), related_name="members", blank=True
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    objects = CrmUserManager()

    REQUIRED_FIELDS = ["email", "role"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="crm_user_username_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="crm_user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or self.username

    def get_short_name(self) -> str:
        return self.name or self.username

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else ""

    @property
    def is_integration_client(self) -> bool:
        return self.role == Role.INTEGRATION_CLIENT

    @property
    def is_administrator(self) -> bool:
        """Administrators by role, and superusers (who count as administrators everywhere)."""
        return self.is_superuser or self.role == Role.ADMINISTRATOR


class ApiToken(models.Model):
    """An API token of an integration client. Only a SHA-256 digest of the key is stored:
    the key itself is shown once, when it is issued."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(_("prefix"), max_length=12, help_text=_("Shown to tell keys apart."))
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    KEY_BYTES = 32

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user.username} {self.prefix}…"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        return secrets.token_urlsafe(cls.KEY_BYTES)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Notification(models.Model):
    """An in-app message to one user (e.g. "your change request was rejected")."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    # The system's notifications are a catalogue key and its parameters, rendered in the
    # reader's language (`text`); `message` keeps their English rendering, or the text as
    # stored when it has no key (rows older than the keys that were not recognised).
    message = models.TextField(_("message"))
    message_key = models.CharField(_("message key"), max_length=100, blank=True)
    message_params = models.JSONField(
        _("message parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="crm_notification_unread_idx")]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def text(self) -> str:
        """The message in the active (the reader's) language."""
        return stored_text.shown(self.message_key, self.message_params, self.message)


class AuditEntry(models.Model):
    """One changed field (or one created / deleted object) and who or what changed it.

    Written by services in the same transaction as the change, bulk paths included; never
    by signals. `actor` is the person or API client; `actor_label` names a job or command
    when no person acted.
    """

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("who (label)"), max_length=150)
    source = models.CharField(_("source"), max_length=16, choices=AuditSource.choices)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("object type"), on_delete=models.PROTECT
    )
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    field = models.CharField(_("field"), max_length=100, blank=True)
    old_value = models.JSONField(_("old value"), null=True, blank=True, encoder=DjangoJSONEncoder)
    new_value = models.JSONField(_("new value"), null=True, blank=True, encoder=DjangoJSONEncoder)
    # A reason a person typed is kept as typed in `reason`; one the system writes is a
    # catalogue key and its parameters (`reason_text` renders it in the reader's language).
    reason = models.TextField(_("reason"), blank=True)
    reason_key = models.CharField(_("reason key"), max_length=100, blank=True)
    reason_params = models.JSONField(
        _("reason parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="crm_audit_object_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
        )

    @property
    def reason_text(self) -> str:
        """The reason in the active (the reader's) language; a typed one as typed."""
        return stored_text.shown(self.reason_key, self.reason_params, self.reason)

    @property
    def field_label(self) -> str:
        """The changed field's label in the active language: the model's own
        `audit_field_label(name)` when it has one (a customer's fields live on several
        models), else the field's verbose name; the raw name when neither knows it."""
        if not self.field:
            return ""
        # Through the content-type cache: no query per row of a history.
        model = ContentType.objects.get_for_id(self.content_type_id).model_class()
        if model is None:
            return self.field
        own = getattr(model, "audit_field_label", None)
        if own is not None:
            return str(own(self.field))
        try:
            return str(model._meta.get_field(self.field).verbose_name)
        except Exception:  # noqa: BLE001 (FieldDoesNotExist, or a relation without one)
            return self.field


class IdempotencyRecord(models.Model):
    """The first response to an API request sent with an `Idempotency-Key` header.

    A retry with the same key (same client, same body) gets this response back instead of
    being processed again; the same key with another body is refused. Pruned after a day.
    """

    client = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The rendered JSON, as text: a JSONB column would reorder the keys of the replay.
    response = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "endpoint", "key"], name="crm_idempotency_client_key_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.endpoint} {self.key}"


class VersionedScheme(models.Model):
    """The shape of a versioned configuration that administrators edit (grading schemes,
    valuation schemes): drafts are edited and previewed; activating one retires the active
    one; active and retired versions are never edited again, because results name the
    version that made them. `crm.versioning` holds the services every such model shares."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    # The default scheme's name and note (and a copy's note) are catalogue keys, shown in the
    # reader's language (`label`, `note_text`) until an administrator types others; `name`
    # and `note` keep the English rendering (or the typed text).
    name_key = models.CharField(_("name key"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT
    )
    parameters = models.JSONField(_("parameters"), encoder=DjangoJSONEncoder)
    note = models.TextField(_("note"), blank=True)
    note_key = models.CharField(_("note key"), max_length=100, blank=True)
    note_params = models.JSONField(
        _("note parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    activated_by = models.ForeignKey(
        User,
        verbose_name=_("activated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.label}"

    @property
    def label(self) -> str:
        """The name in the active (the reader's) language; a typed one as typed."""
        return stored_text.shown(self.name_key, {}, self.name)

    @property
    def note_text(self) -> str:
        return stored_text.shown(self.note_key, self.note_params, self.note)


class JobRun(models.Model):
    """The shape of a recorded job run (a grading or valuation recompute): who or what
    started it, when, how it went. `crm.jobs` holds the claim / fail / abandon steps every
    such model shares, including how a run whose process died is recognised."""

    status = models.CharField(
        _("status"), max_length=9, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    trigger = models.CharField(_("started by"), max_length=8, choices=RunTrigger.choices)
    started_by = models.ForeignKey(
        User,
        verbose_name=_("person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # An error the system words itself (a run abandoned) is a catalogue key, rendered in the
    # reader's language (`error_text`); an exception's own text stays in `error`.
    error = models.TextField(_("error"), blank=True)
    error_key = models.CharField(_("error key"), max_length=100, blank=True)
    # A run split over several workers (the grading chord) reports here when it is claimed and
    # when each part starts and ends; see crm.jobs (how a run whose process died is found).
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def duration_seconds(self) -> float | None:
        if not (self.started_at and self.finished_at):
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def is_live(self) -> bool:
        return self.status in RunStatus.live()

    @property
    def error_text(self) -> str:
        return stored_text.shown(self.error_key, {}, self.error)


class DemoSeedStep(models.Model):
    """A part of the demo data `seed_demo` made once (a stage's history, the pending change
    requests, a draft scheme, a peak month…), recorded in the same transaction as the part:
    a later run leaves that part as people left it — changed, decided or deleted — instead of
    making it again. `crm.demo.seed_once` reads and writes these rows."""

    key = models.CharField(_("part"), max_length=100, unique=True)
    done_at = models.DateTimeField(_("made at"), default=timezone.now)

    class Meta:
        verbose_name = _("demo data part")
        verbose_name_plural = _("demo data parts")

    def __str__(self) -> str:
        return self.key
