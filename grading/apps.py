from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = _("Grading")

    def ready(self) -> None:
        # Its panels of the customer page and the home pages (crm.panels).
        from grading import panels

        panels.register_all()
        # Declares grading as a monthly result of the engine (crm.monthly), on import; and
        # its part of a customer merge (crm.merging).
        from grading import merging, monthly  # noqa: F401

        merging.register_all()
