from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from customers import panels

        panels.register_all()
