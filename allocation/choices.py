"""Choices of the allocation app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    """A plan's lifecycle: a draft is edited and previewed, publishing stores every eligible
    shop's quota, a newer version supersedes a published one (its quotas stay visible), and a
    closed plan is no longer in force."""

    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Replaced by a newer version")
    CLOSED = "closed", _("Closed")


class PlanSyncStatus(models.TextChoices):
    """The statuses a plan may be given through the sync API (superseded is the system's
    own): PlanStatus's, less that one."""

    DRAFT = PlanStatus.DRAFT.value, PlanStatus.DRAFT.label
    PUBLISHED = PlanStatus.PUBLISHED.value, PlanStatus.PUBLISHED.label
    CLOSED = PlanStatus.CLOSED.value, PlanStatus.CLOSED.label


SYNC_STATUSES = tuple(PlanSyncStatus.values)


class ExceptionStatus(models.TextChoices):
    """An order that took a shop past its quota: open until a supervisor has looked at it."""

    OPEN = "open", _("Open")
    REVIEWED = "reviewed", _("Reviewed")


class TakeUpStatus(models.TextChoices):
    """How much of its quotas a shop used in a month (`allocation.computations.takeup_frame`):
    nothing ordered, below the scheme's low share, between the two shares, at or above the
    full share, or beyond a quota. In the order of the take-up cards and the transition
    matrix."""

    NONE = "none", _("Nothing ordered")
    LOW = "low", _("Low take-up")
    PARTIAL = "partial", _("Partial take-up")
    FULL = "full", _("Full take-up")
    OVER = "over", _("Over the quota")
