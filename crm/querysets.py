"""Querysets shared by every app: the scoped queryset every selector starts from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from crm.models import User


class ScopedQuerySet(models.QuerySet):
    """A queryset whose model declares `scope_paths`; `visible_to` applies the scope rule."""

    def visible_to(self, user: User | None) -> ScopedQuerySet:
        """Rows `user` may see, by the one scope rule in `crm.scope`."""
        from crm.scope import scope_q

        return self.filter(scope_q(user, self.model.scope_paths, self.model))


class AreaQuerySet(ScopedQuerySet):
    def with_member_counts(self) -> AreaQuerySet:
        """Annotates the number of active users per role in each area (one query)."""
        from crm.choices import Role

        return self.annotate(
            **{
                f"n_{role.value}": models.Count(
                    "members",
                    filter=models.Q(members__role=role, members__is_active=True),
                    distinct=True,
                )
                for role in Role.people()
            }
        )
