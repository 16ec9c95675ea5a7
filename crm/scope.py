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

A scope that covers every area (a supervisor of every root area) filters on no area at all:
`area_id IN (every area)` is true of every row whose area path is not null, yet PostgreSQL had
to read all 200,000 shops (and join them to orders, visits …) to check it. The rows seen are
the same; a root area added later is outside that supervisor's areas, so his scope stops
covering every area and the area filter comes back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from django.db.models import Model, Q

from crm.choices import Role

if TYPE_CHECKING:
    from crm.models import ScopePaths, User

NOTHING = Q(pk__in=[])
_CACHE_ATTR = "_crm_scope_area_ids"
_COVERS_ALL_ATTR = "_crm_scope_covers_all"


def sees_everything(user: User | None) -> bool:
    """True for users whose scope is the whole company."""
    if not _is_live(user):
        return False
    return user.is_administrator or user.is_integration_client


def scope_q(user: User | None, paths: ScopePaths, model: type[Model] | None = None) -> Q:
    """A filter selecting the rows of `model` (whose scope paths are `paths`) that `user` may
    see. `model` lets a scope covering every area skip the area filter where the area path
    cannot be null; without it such a scope still filters on the area not being null."""
    if not _is_live(user):
        return NOTHING
    if sees_everything(user):
        return Q()
    if user.role == Role.ACCOUNT_MANAGER and paths.owner is not None:
        return Q(**{paths.owner: user.pk})
    if user.role in (Role.SUPERVISOR, Role.LICENSE_OFFICER, Role.ACCOUNT_MANAGER):
        area_ids = area_ids_in_scope(user)
        if getattr(user, _COVERS_ALL_ATTR, False):
            return _any_area_q(paths.area, model)
        lookup = f"{paths.area}__in" if paths.area else "pk__in"
        return Q(**{lookup: area_ids})
    return NOTHING


def _any_area_q(area_path: str, model: type[Model] | None) -> Q:
    """The rows of any area: every row, unless a step of the area path may be null (a row
    without an area was outside `area IN (…)` and stays outside)."""
    if not area_path or (model is not None and _path_never_null(model, area_path)):
        return Q()
    return Q(**{f"{area_path}__isnull": False})


@cache
def _path_never_null(model: type[Model], path: str) -> bool:
    """Whether every foreign key along `path` (from `model`) is NOT NULL."""
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.null or field.related_model is None:
            return False
        model = field.related_model
    return True


def area_ids_in_scope(user: User) -> frozenset[int]:
    """The ids of the user's areas and of every area below them (cached on the user object,
    so one request computes it once, with whether they are every area there is)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        own = list(user.areas.values_list("pk", flat=True))
        cached, every = _descendants(own)
        setattr(user, _CACHE_ATTR, cached)
        setattr(user, _COVERS_ALL_ATTR, bool(cached) and every <= cached)
    return cached


def descendant_area_ids(area_ids: Iterable[int]) -> frozenset[int]:
    """`area_ids` and every area below them. Reads the whole (small) area tree in one query."""
    return _descendants(area_ids)[0]


def _descendants(area_ids: Iterable[int]) -> tuple[frozenset[int], frozenset[int]]:
    """`area_ids` and every area below them, and every area there is (one query)."""
    from crm.models import Area

    roots = set(area_ids)
    if not roots:
        return frozenset(), frozenset()
    children: dict[int, list[int]] = defaultdict(list)
    every: set[int] = set()
    for pk, parent_id in Area.objects.values_list("pk", "parent_id"):
        every.add(pk)
        if parent_id is not None:
            children[parent_id].append(pk)
    seen = set(roots)
    stack = list(roots)
    while stack:
        for child in children[stack.pop()]:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return frozenset(seen), frozenset(every)


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
    for attr in (_CACHE_ATTR, _COVERS_ALL_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def _is_live(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)
