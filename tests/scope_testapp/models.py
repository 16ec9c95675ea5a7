"""A stand-in for customers in the scope rule's tests: a row with an area and an owner."""

from django.conf import settings
from django.db import models

from crm.models import ScopePaths
from crm.querysets import ScopedQuerySet


class Shop(models.Model):
    name = models.CharField(max_length=50)
    area = models.ForeignKey("crm.Area", on_delete=models.CASCADE)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="area", owner="account_manager")

    class Meta:
        app_label = "scope_testapp"

    def __str__(self) -> str:
        return self.name


class ShopNote(models.Model):
    """Reaches its scope through the shop, like a visit through its customer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    text = models.CharField(max_length=50)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="shop__area", owner="shop__account_manager")

    class Meta:
        app_label = "scope_testapp"

    def __str__(self) -> str:
        return self.text
