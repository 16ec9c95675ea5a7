"""Choices of the grading app."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# Shared with valuation: crm owns the versioned-scheme and job-run shapes. Re-exported here.
from crm.choices import RunStatus, RunTrigger, SchemeStatus  # noqa: F401


class SchemeKind(models.TextChoices):
    """How a scheme turns a customer's window figures into a grade (1 is the highest)."""

    THRESHOLDS = "thresholds", _("Thresholds on monthly average cartons")
    MATRIX = "matrix", _("Volume segments × price-per-carton intervals")
    SCORE = "score", _("Weighted score ranked into bands")


class GradeBasis(models.TextChoices):
    """Where a customer's grade came from."""

    WINDOW = "window", _("Reference window")
    INITIAL = "initial", _("New customer: market type and floor area")


class StructureMetric(models.TextChoices):
    """The "structure" input of the score scheme: a share of the window's cartons."""

    LOW_TAR = "low_tar", _("Low-tar share")
    HIGH_CLASS = "high_class", _("Class 1 and 2 share")
    KEY_BRAND = "key_brand", _("Key-brand share")
    NEW_PRODUCT = "new_product", _("New-product share")


class OverrideStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REVOKED = "revoked", _("Revoked")


class PublicationStatus(models.TextChoices):
    """Where a grade month's publication stands. A published month is locked: not recomputed
    and read by supply allocation; unlocking it takes a reason and a second person."""

    PUBLISHED = "published", _("Published")
    UNLOCK_REQUESTED = "unlock_req", _("Unlock requested")
    UNLOCKED = "unlocked", _("Unlocked")
