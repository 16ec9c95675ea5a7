from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ValuationConfig(AppConfig):
    name = "valuation"
    verbose_name = _("Valuation")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from valuation import panels

        panels.register_all()
        # Declares valuation as a monthly result of the engine (crm.monthly), on import; and
        # its part of a customer merge (crm.merging).
        from valuation import merging, monthly  # noqa: F401

        merging.register_all()
