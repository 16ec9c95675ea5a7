"""Choices of products and orders."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PriceClass(models.IntegerChoices):
    """价类: a product's class by its wholesale price per carton (bands in OrdersConfig)."""

    CLASS_1 = 1, _("Class 1")
    CLASS_2 = 2, _("Class 2")
    CLASS_3 = 3, _("Class 3")
    CLASS_4 = 4, _("Class 4")
    CLASS_5 = 5, _("Class 5")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")

    @classmethod
    def counted(cls) -> list[str]:
        """Statuses whose orders count in sales figures (cancelled and returned ones do not)."""
        return [cls.PLACED.value, cls.DELIVERED.value]


class PaymentMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic settlement")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")
