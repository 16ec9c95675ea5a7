"""Choices shared across the project."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class SchemeStatus(models.TextChoices):
    """The life of a versioned configuration (grading schemes, valuation schemes)."""

    DRAFT = "draft", _("Draft")
    ACTIVE = "active", pgettext_lazy("grading scheme", "Active")
    RETIRED = "retired", _("Retired")


class RunStatus(models.TextChoices):
    """The life of a recorded job run (grading, valuation)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", pgettext_lazy("job run", "Failed")

    @classmethod
    def live(cls) -> list["RunStatus"]:
        return [cls.QUEUED, cls.RUNNING]


class RunTrigger(models.TextChoices):
    COMMAND = "command", _("Management command")
    SCHEDULE = "schedule", _("Monthly schedule")
    PAGE = "page", _("Started from the page")
    CHAIN = "chain", _("After the grading run")
