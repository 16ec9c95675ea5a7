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


# The statuses a plan may be given through the sync API (superseded is the system's own).
SYNC_STATUSES = (PlanStatus.DRAFT, PlanStatus.PUBLISHED, PlanStatus.CLOSED)


class ExceptionStatus(models.TextChoices):
    """An order that took a shop past its quota: open until a supervisor has looked at it."""

    OPEN = "open", _("Open")
    REVIEWED = "reviewed", _("Reviewed")
