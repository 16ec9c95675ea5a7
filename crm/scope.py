"""The row-level scope rule: who may see which rows. Decided here and nowhere else.

- administrators (and superusers) see everything;
- integration clients see everything through the API (they sync the whole company's data;
  what they may *write* is decided per endpoint);
- supervisors and licence officers see the rows of their areas and every area below them;
- account managers see the rows they own; for models without an owner (areas themselves),
  the rows of their areas;
- anyone else (anonymous, inactive, no role) sees nothing.

Every selector, page, export and API endpoint reaches rows through `visible_to(user)` on a
`ScopedQuerySet` (see `crm.querysets`), which calls `scope_q`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q

from crm.choices import Role

if TYPE_CHECKING:
    from crm.models import ScopePaths, User

NOTHING = Q(pk__in=[])
_CACHE_ATTR = "_crm_scope_area_ids"


def sees_everything(user: User | None) -> bool:
    """True for users whose scope is the whole company."""
    if not _is_live(user):
        return False
    return user.is_administrator or user.is_integration_client


def scope_q(user: User | None, paths: ScopePaths) -> Q:
    """A filter selecting the rows of a model with `paths` that `user` may see."""
    if not _is_live(user):
        return NOTHING
    if sees_everything(user):
        return Q()
    if user.role == Role.ACCOUNT_MANAGER and paths.owner is not None:
        return Q(**{paths.owner: user.pk})
    if user.role in (Role.SUPERVISOR, Role.LICENSE_OFFICER, Role.ACCOUNT_MANAGER):
        lookup = f"{paths.area}__in" if paths.area else "pk__in"
        return Q(**{lookup: area_ids_in_scope(user)})
    return NOTHING


def area_ids_in_scope(user: User) -> frozenset[int]:
    """The ids of the user's areas and of every area below them (cached on the user object,
    so one request computes it once)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        own = list(user.areas.values_list("pk", flat=True))
        cached = descendant_area_ids(own)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def descendant_area_ids(area_ids: Iterable[int]) -> frozenset[int]:
    """`area_ids` and every area below them. Reads the whole (small) area tree in one query."""
    from crm.models import Area

    roots = set(area_ids)
    if not roots:
        return frozenset()
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in Area.objects.values_list("pk", "parent_id"):
        if parent_id is not None:
            children[parent_id].append(pk)
    seen = set(roots)
    stack = list(roots)
    while stack:
        for child in children[stack.pop()]:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return frozenset(seen)


def ancestor_area_ids(area_ids: Iterable[int]) -> frozenset[int]:
    """`area_ids` and every area above them (who is in charge of an area, not what one sees)."""
    from crm.models import Area

    parents = dict(Area.objects.values_list("pk", "parent_id"))
    seen: set[int] = set()
    for pk in area_ids:
        node: int | None = pk
        while node is not None and node not in seen:
            seen.add(node)
            node = parents.get(node)
    return frozenset(seen)


def forget_cached_scope(user: User) -> None:
    """Drops the cached area ids (after the user's areas or the area tree changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _is_live(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)
