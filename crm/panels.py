"""The panel registry: how a page that shows many apps' data is composed without importing them.

Each app declares its panels in its own `panels.py` (a `Panel` per card) and registers them with
`register(...)` from its `AppConfig.ready`; the customer page and the home pages loop over
`panels_for(...)`. So a new feature adds a card by adding one declaration in its own app, and no
page imports another app's views or selectors to draw its card (NetBox's template extensions and
dashboard widgets are the model; we need no plugin system, only the registry and the loop).

A panel is drawn by including its `template` with the page's context, into which its `context`
function's result has been merged (the card templates read their data under the names they
always did: `sales`, `grading`, `valuation`, ...). Scope and role checks stay in each panel:
`roles` and `visible` say who sees it, the context function reads through scoped selectors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from django.http import HttpRequest


class Surface(StrEnum):
    """Where a panel is drawn."""

    # A card of the customer page, in one of its tabs (`Panel.tab`).
    CUSTOMER = "customer"
    # A panel of the home page of the roles in `Panel.roles`.
    HOME = "home"


class Tab(StrEnum):
    """The customer page's tabs, in the order they are shown (labels in customers/panels.py:
    the page's owner names its tabs)."""

    OVERVIEW = "overview"
    INFORMATION = "information"
    SALES = "sales"
    GRADE_VALUE = "grade-value"
    VISITS = "visits"
    SERVICES = "services"
    HISTORY = "history"


# A context function: (request, **page data) → the names the panel's template reads, or None
# when the panel has nothing to show to this user (it is then left out).
ContextFunction = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    """One card of a composed page, declared by the app that owns its data."""

    # Unique per surface; also the panel's `data-panel` attribute on the page.
    key: str
    surface: Surface
    template: str
    context: ContextFunction | None = None
    # Who sees it: the roles (crm.choices.Role values; administrators count as their role) and
    # an extra predicate on the user. Empty roles means every person who signs in.
    roles: frozenset[str] = frozenset()
    visible: Callable[[Any], bool] | None = None
    # Place on wide screens (lower first) and on a phone (lower first, on the same scale;
    # defaults to the wide-screen place).
    order: int = 100
    phone_priority: int | None = None
    # A role's own place, where a panel comes earlier for one role than for another (the
    # change requests come first for supervisors, who decide them).
    order_for: dict[str, int] = field(default_factory=dict)
    # The customer page's tab holding the card, and the element ids in the card that a link may
    # name as its #fragment (empty: the card's key): a link to one opens the tab, loading it.
    tab: Tab | None = None
    anchors: tuple[str, ...] = ()
    # Customer page: the panel's facts in the summary header and its primary actions there
    # (templates drawn with the same context, after every panel's context is gathered).
    summary_template: str | None = None
    actions_template: str | None = None
    # Customer page: what those two templates read when the card itself is not drawn with the
    # page (the page draws its open tab and loads the others on demand): the same names as
    # `context`, holding only what the summary and the actions show, so it costs a query or two
    # rather than the card's. None: `context` is run for them. May answer None, as `context`.
    summary: ContextFunction | None = None
    # Home page: the Bootstrap column classes of its cell in the panels' row.
    width: str = "col-12"

    def shown_to(self, user) -> bool:
        if self.roles and _role_of(user) not in self.roles:
            return False
        return self.visible is None or bool(self.visible(user))

    def order_of(self, user) -> int:
        return self.order_for.get(_role_of(user), self.order)


def _role_of(user) -> str:
    from crm.choices import Role

    return Role.ADMINISTRATOR if user.is_administrator else user.role


# The narrow-screen order classes crm.css has (panel-phone-1 … panel-phone-12).
PHONE_RANKS = 12

_REGISTRY: dict[Surface, dict[str, Panel]] = {surface: {} for surface in Surface}


def register(*panels: Panel) -> None:
    """Adds panels to the registry (from an app's `AppConfig.ready`). A second panel with the
    same key on the same surface is a mistake, not an override."""
    for panel in panels:
        existing = _REGISTRY[panel.surface].get(panel.key)
        if existing is not None and existing != panel:
            raise ValueError(f"two {panel.surface} panels are called {panel.key!r}")
        _REGISTRY[panel.surface][panel.key] = panel


def unregister(surface: Surface, key: str) -> None:
    """Removes a panel (tests that add one of their own take it away again)."""
    _REGISTRY[surface].pop(key, None)


def registered(surface: Surface) -> list[Panel]:
    """Every panel of `surface`, whoever sees it."""
    return list(_REGISTRY[surface].values())


def panels_for(surface: Surface, user) -> list[Panel]:
    """The panels of `surface` this user sees, in their wide-screen order."""
    return sorted(
        (panel for panel in _REGISTRY[surface].values() if panel.shown_to(user)),
        key=lambda panel: (panel.order_of(user), panel.key),
    )


@dataclass
class Drawn:
    """A panel with its context for one request: what a composed page's template loops over."""

    panel: Panel
    context: dict[str, Any]
    # Its place among the drawn panels on a narrow screen, 1-12 (crm.css has an order class
    # for each: panel-phone-N).
    phone_rank: int = 1
    # Not drawn with this page (`gather`'s `deferred`): `context` holds only what its summary
    # and actions templates read; the card is drawn by a request of its own.
    deferred: bool = False

    @property
    def key(self) -> str:
        return self.panel.key


def gather(
    surface: Surface,
    request: HttpRequest,
    *,
    only: Callable[[Panel], bool] | None = None,
    deferred: Callable[[Panel], bool] | None = None,
    **data: Any,
) -> tuple[list[Drawn], dict[str, Any]]:
    """Runs the context function of each panel `request.user` sees, in order. Returns the
    drawn panels (those whose function did not answer None) and every panel's names merged into
    one dict: the page's context, so the card templates read their data under their own names
    and a summary or action template may read another panel's data.

    `only` leaves out the panels it answers False for (a tab loaded on its own). A panel that
    `deferred` answers True for is not drawn with the page: only what its summary and actions
    templates read is gathered (`Panel.summary`, else its `context`; nothing for a panel with
    neither template), and it comes back marked `deferred`."""
    drawn: list[Drawn] = []
    merged: dict[str, Any] = {}
    for panel in panels_for(surface, request.user):
        if only is not None and not only(panel):
            continue
        later = deferred is not None and deferred(panel)
        function = panel.context
        if later:
            has_header = panel.summary_template or panel.actions_template
            function = (panel.summary or panel.context) if has_header else None
        ctx = function(request, **data) if function is not None else {}
        if ctx is None:
            continue
        merged.update(ctx)
        drawn.append(Drawn(panel, ctx, deferred=later))
    user = request.user
    by_phone = sorted(
        drawn,
        key=lambda item: (
            item.panel.phone_priority
            if item.panel.phone_priority is not None
            else item.panel.order_of(user)
        ),
    )
    for rank, item in enumerate(by_phone, start=1):
        item.phone_rank = min(rank, PHONE_RANKS)
    return drawn, merged


T = TypeVar("T")


def shared(request: HttpRequest, key: str, compute: Callable[[], T]) -> T:
    """What several panels of one page read, read once for the request: the first panel to
    ask runs `compute`, the others get its result (the account manager's home counts his
    customers by grade, tier, core and problem once for the customer mix and the value
    panels). Lives as long as the request, so no page shows another's figures."""
    memo = request.__dict__.setdefault("_panels_shared", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def keys(panels: Iterable[Panel | Drawn]) -> list[str]:
    """The keys of `panels`, in order (tests and the tabs read them)."""
    return [panel.key for panel in panels]
