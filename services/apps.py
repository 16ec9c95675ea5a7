from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Customer services")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from services import panels

        panels.register_all()
        # Its part of a customer merge (crm.merging).
        from services import merging

        merging.register_all()
