from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ValuationConfig(AppConfig):
    name = "valuation"
    verbose_name = _("Valuation")

    def ready(self) -> None:
        # Declares valuation as a monthly result of the engine (crm.monthly).
        from valuation import monthly  # noqa: F401
