from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from orders import panels

        panels.register_all()
        # Its part of a customer merge (crm.merging).
        from orders import merging

        merging.register_all()
