"""Choices of the valuation app."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The value tiers are a customer field (CustomerSystem.value_tier), so customers owns them.
from customers.choices import ValueTier  # noqa: F401


class Indicator(models.TextChoices):
    """The five evaluation indicators of the seed, each scored 0-100."""

    CONTRIBUTION = "contribution", _("Contribution")
    SUPPORT = "support", _("Support")
    CREDIT = "credit", _("Credit")
    GROWTH = "growth", _("Growth")
    INFLUENCE = "influence", _("Influence")


class PercentileGroup(models.TextChoices):
    """Among whom a percentile is ranked."""

    MARKET_TYPE = "market_type", _("Customers of the same market type")
    MARKET_FORMAT = "market_format", _("Customers of the same market type and format")
    COMPANY = "company", _("All customers")


class ScoreMethod(models.TextChoices):
    """How an input's raw value becomes a 0-100 score."""

    PERCENTILE = "percentile", _("Percentile in its group")
    SCALE = "scale", _("Share of a full value (capped at 100)")
    POINTS = "points", _("Points per answer")


class RecordType(models.TextChoices):
    """A licence officer's compliance record: a violation, or a clean inspection."""

    COUNTERFEIT = "counterfeit", _("Selling counterfeit cigarettes")
    SMUGGLED = "smuggled", _("Selling smuggled or non-local cigarettes")
    MINORS = "minors", _("Selling to minors")
    PRICE = "price", _("Retail price violation")
    LICENCE = "licence", _("Licence violation (lending, relocating, expired)")
    OTHER_VIOLATION = "other", _("Other violation")
    INSPECTION_PASSED = "passed", _("Inspection passed")

    @classmethod
    def violations(cls) -> list["RecordType"]:
        return [t for t in cls if t is not cls.INSPECTION_PASSED]


class WarningKind(models.TextChoices):
    """Churn signs worth an alert to the account manager (seed 003)."""

    NO_ORDERS = "no_orders", _("No order in the last order cycles")
    AMOUNT_DROP = "amount_drop", _("Purchase amount down")
    DOWNGRADE = "downgrade", _("Grade dropped")


class WarningStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")

    @classmethod
    def unresolved(cls) -> list["WarningStatus"]:
        return [cls.OPEN, cls.ACKNOWLEDGED]
