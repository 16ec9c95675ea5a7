from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from visits import panels

        panels.register_all()
        # Its part of a customer merge (crm.merging).
        from visits import merging

        merging.register_all()
