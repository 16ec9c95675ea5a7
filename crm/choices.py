"""Choices shared across the project."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person (or machine) does in the product; decides navigation and scope."""

    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")
    LICENSE_OFFICER = "license_officer", _("License officer")
    INTEGRATION_CLIENT = "integration_client", _("Integration client")

    @classmethod
    def people(cls) -> list["Role"]:
        """Roles that sign in to pages (integration clients only use the API)."""
        return [r for r in cls if r is not cls.INTEGRATION_CLIENT]


class AuditSource(models.TextChoices):
    """Through which door a change came in."""

    PAGE = "page", _("Web page")
    API = "api", _("REST API")
    JOB = "job", _("Scheduled job")
    COMMAND = "command", _("Management command")
    ADMIN = "admin", _("Administration site")
    IMPORT = "import", _("File import")
    APPROVAL = "approval", _("Approved change request")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
