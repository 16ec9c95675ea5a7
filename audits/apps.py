from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Retail audits")

    def ready(self) -> None:
        # The customer page's audits panel (crm.panels).
        from audits import panels

        panels.register_all()
        # Its part of a customer merge (crm.merging).
        from audits import merging

        merging.register_all()
