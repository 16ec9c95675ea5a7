from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """The home page of each role: a loop over the home panels of the registry (crm.panels)."""

    name = "home"
    verbose_name = _("Home")

    def ready(self) -> None:
        # The panels made of several apps' data (administrators' jobs and configuration, the
        # supervisors' movements, the account managers' customer mix).
        from home import panels

        panels.register_all()
