from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # Registers the check of the uploads' fast-path setting (CRM_MEDIA_ACCEL) and the
        # OpenAPI description of our token authentication.
        from crm import uploads  # noqa: F401
        from crm.api import schema  # noqa: F401
