"""The project package: settings, URLs, the Celery app, and what every app shares —
areas, users and roles, the row-level scope rule, the audit log."""

from .celery import app as celery_app

__all__ = ["celery_app"]
