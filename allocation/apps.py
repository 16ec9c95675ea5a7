from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "allocation"
    verbose_name = _("Supply allocation")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from allocation import panels

        panels.register_all()
