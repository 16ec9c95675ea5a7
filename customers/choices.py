"""Choices of customer fields. Codes are the national standard letters where one exists."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessFormat(models.TextChoices):
    """业态 — the first letter pair of the 42-category code."""

    GROCERY = "Z", _("Grocery store")
    CONVENIENCE = "B", _("Convenience store")
    SUPERMARKET = "S", _("Supermarket")
    DEPARTMENT_STORE = "N", _("Department store")
    TOBACCO_LIQUOR = "Y", _("Tobacco & liquor shop")
    ENTERTAINMENT = "F", _("Entertainment / service")
    OTHER = "Q", _("Other")


class MarketType(models.TextChoices):
    URBAN = "C", _("Urban")
    RURAL = "X", _("Rural")


class BusinessScale(models.TextChoices):
    """经营规模 within the shop's market type × format group; its digit ends the category code."""

    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")

    @property
    def digit(self) -> str:
        """1 large, 2 medium, 3 small: the last character of the 42-category code."""
        return str(list(BusinessScale).index(self) + 1)


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Premises(models.TextChoices):
    OWNED = "owned", _("Owned")
    RENTED = "rented", _("Rented")


class PaymentMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic settlement")
    CASH = "cash", _("Cash")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Cycle(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    FORTNIGHTLY = "fortnightly", _("Fortnightly")
    MONTHLY = "monthly", _("Monthly")


class OutletSize(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")


class TradeArea(models.TextChoices):
    """商圈环境."""

    COMMERCIAL = "commercial", _("Commercial district")
    RESIDENTIAL = "residential", _("Residential")
    TRANSPORT = "transport", _("Transport hub")
    SCHOOL = "school", _("Near schools")
    INDUSTRIAL = "industrial", _("Industrial")
    TOURIST = "tourist", _("Tourist area")
    VILLAGE = "village", _("Village / town centre")
    OTHER = "other", _("Other")


class OperatingStatus(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SEASONAL = "seasonal", _("Seasonal")
    DIFFICULT = "difficult", _("In difficulty")
    RENOVATING = "renovating", _("Renovating")


class CareNeed(models.TextChoices):
    """Why a shop's owner receives family service (亲情服务)."""

    ELDERLY = "elderly", _("Elderly owner")
    SPECIAL_NEED = "special_need", _("Special need or hardship")


class Cooperation(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class LicenseType(models.TextChoices):
    RETAIL = "retail", _("Tobacco retail licence")
    TEMPORARY = "temporary", _("Temporary retail licence")


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class ValueTier(models.TextChoices):
    VALUE = "value", _("Value customer")
    SECONDARY = "secondary", _("Secondary value customer")
    POTENTIAL = "potential", _("Potential value customer")
    LOW = "low", _("Low value customer")


# The Bootstrap colour each value tier is drawn with (value overview, home charts, badges).
TIER_COLOURS = {
    ValueTier.VALUE: "success",
    ValueTier.SECONDARY: "primary",
    ValueTier.POTENTIAL: "warning",
    ValueTier.LOW: "secondary",
}


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    STALE = "stale", _("Stale")


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked (dry run)")
    APPLYING = "applying", _("Importing")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


def category_code(market_type: str, business_format: str, business_scale: str) -> str:
    """The national 42-category code: market type + format + scale digit, e.g. "CZ1" (urban
    grocery, large) or "XB3" (rural convenience store, small). Empty while the scale is
    unknown. Raises ValueError for a letter or scale outside the standard."""
    if not (market_type and business_format and business_scale):
        return ""
    MarketType(market_type)
    BusinessFormat(business_format)
    return f"{market_type}{business_format}{BusinessScale(business_scale).digit}"


CATEGORY_CODES: tuple[str, ...] = tuple(
    category_code(m, f, s)
    for m in MarketType.values
    for f in BusinessFormat.values
    for s in BusinessScale.values
)


class OverridableMaintenance(models.TextChoices):
    """The maintenance classes an administrator may give a field (system stays system)."""

    STATIC = "static", _("Static")
    DYNAMIC = "dynamic", _("Dynamic")


class OverridablePolicy(models.TextChoices):
    """The change policies an administrator may give a field (system stays system)."""

    DIRECT = "direct", _("Edited directly by the assigned account manager")
    APPROVAL = "approval", _("Needs a supervisor's approval")
    SUPERVISOR = "supervisor", _("Set by a supervisor of the area")
