from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "allocation"
    verbose_name = _("Supply allocation")

    def ready(self) -> None:
        # Declares quota take-up as a monthly result of the engine (crm.monthly).
        from allocation import monthly  # noqa: F401
