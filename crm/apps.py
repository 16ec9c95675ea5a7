from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # Registers the OpenAPI description of our token authentication.
        from crm.api import schema  # noqa: F401
