from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "allocation"
    verbose_name = _("Supply allocation")

    def ready(self) -> None:
        # Quota take-up, a monthly result of the engine (crm.monthly), declared on import;
        # its panels of the customer page and the home pages (crm.panels).
        from allocation import monthly, panels  # noqa: F401

        panels.register_all()
        # Its part of a customer merge (crm.merging).
        from allocation import merging

        merging.register_all()
