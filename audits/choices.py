from django.db import models
from django.utils.translation import gettext_lazy as _


class FormStatus(models.TextChoices):
    """A form version's life: edited as a draft, active (one version of a code at a time),
    retired when a newer version is activated or the form is withdrawn."""

    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class Frequency(models.TextChoices):
    """How often a form is due at a shop."""

    EVERY_VISIT = "every_visit", _("Every visit")
    MONTHLY = "monthly", _("Once a month")
    ONCE = "once", _("Once")


class QuestionKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    NUMBER = "number", _("Number")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    TEXT = "text", _("Text")
    PHOTO = "photo", _("Photo")
    # Per-product questions: asked once for each of the question's products.
    PRODUCT_SHELF = "product_shelf", _("Product on the shelf (yes / no)")
    PRODUCT_PRICE = "product_price", _("Product retail price")
    PRODUCT_FACINGS = "product_facings", _("Product facings")


PRODUCT_KINDS = frozenset(
    {QuestionKind.PRODUCT_SHELF, QuestionKind.PRODUCT_PRICE, QuestionKind.PRODUCT_FACINGS}
)


class PriceUnit(models.TextChoices):
    """The unit a retail price question asks for; prices are stored per carton."""

    PACK = "pack", _("Per pack")
    CARTON = "carton", _("Per carton")


class ProductScope(models.TextChoices):
    """Which products a per-product question asks about."""

    LISTED = "listed", _("The products listed")
    ELIGIBLE = "eligible", _("The shop's eligible products")
