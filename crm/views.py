"""Pages shared by the whole product: sign-in, the role-fitted home page, areas & team."""

from __future__ import annotations

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from crm import selectors, services
from crm.exceptions import DomainError
from crm.filtersets import AreaFilterSet
from crm.forms import LoginForm, form_domain_error  # noqa: F401 (views import it from here)
from crm.paginators import CappedPaginator

logger = logging.getLogger(__name__)


def people_only(view):
    """Pages are for signed-in people: anonymous users go to the login page; an integration
    client's session (should one exist) is refused."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.is_integration_client:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def heat_shade(n: int, peak: int) -> int:
    """The shade of a matrix cell counting `n` customers when the fullest counts `peak`: 0 for
    an empty cell, else 1 (faint) to 9. A cell carries it as the class `heat-<shade>` of
    static/css/crm.css (a class: the Content-Security-Policy refuses style attributes)."""
    if not n or not peak:
        return 0
    return max(1, min(9, round(1.2 + 7.8 * n / peak)))


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def safe_next(request: HttpRequest, target: str) -> str:
    """`target` (a `next` a form or link names) if it is a page of this site, else ""."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """To the page the form named in `next` (same site only), else to `default`."""
    return redirect(safe_next(request, request.POST.get("next", "")) or default)


class PeopleOnlyMixin:
    """`people_only` for class-based views."""

    @method_decorator(people_only)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)


def people_allowed(check):
    """`people_only`, then 403 for anyone `check(user)` (a policy) refuses. A decorator
    factory: `@people_allowed(policies.can_watch_coverage)`."""

    def decorator(view):
        @people_only
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def version_actions(*, guard, get, page: str, listing: str, key: str):
    """A factory of POST-only views acting on one version of a versioned object (a plan, an
    audit form): `make(act, done)` gives a view that loads the object (`get(pk=…)`), runs
    `act(obj, request)` (a service call) and says what happened with `done` % {key: the
    version it returns}, then goes to that version's `page` (to the `listing` when it returns
    none); a DomainError goes back to the object's page as a message. `guard` decides who
    may (a decorator such as `people_allowed(policy)`)."""

    def make(act, done):
        @guard
        @require_POST
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            obj = get(pk=pk)
            try:
                result = act(obj, request)
            except DomainError as exc:
                messages.error(request, exc.message)
                return redirect(page, obj.pk)
            messages.success(request, str(done) % {key: result or obj})
            if result is None:
                return redirect(listing)
            return redirect(page, result.pk)

        return view

    return make


def administrators_only(view):
    """`people_only`, then 403 for anyone but administrators."""
    return people_allowed(lambda user: user.is_administrator)(view)


class AdministratorsOnlyMixin:
    """`administrators_only` for class-based views."""

    @method_decorator(administrators_only)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class AreaListView(PeopleOnlyMixin, ListView):
    """The areas the user sees, with their supervisors, account managers and licence officers."""

    template_name = "crm/area_list.html"
    context_object_name = "areas"
    paginate_by = 25
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.area_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["filter"] = AreaFilterSet(self.request.GET)
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx["query_string"] = query.urlencode()
        return ctx


@people_only
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's in-app notifications; POST marks them all read."""
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("notifications")
    return render(
        request,
        "crm/notification_list.html",
        {"notifications": selectors.notification_list(user=request.user)[:100]},
    )


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and docker compose."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": "ok"})
    except Exception:  # any failure means "not healthy": report it as 503
        logger.exception("Health check: the database is unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)


def int_choice_param(request: HttpRequest, name: str, choices, default: int) -> int:
    """The query parameter `name` when it is one of the whole numbers `choices`, else `default`
    (a page's period or month count: a bad value shows the default, not an error)."""
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return value if value in choices else default


def page_context(page) -> dict[str, object]:
    """What templates/crm/inc/pagination.html reads, from a Paginator's page."""
    return {"page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages()}


def list_query_context(request: HttpRequest) -> dict[str, str]:
    """What a paged, sortable list page needs to build its links: the query string without
    `page` (pagination links), without `page` and `ordering` (sort links), and the ordering."""
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("ordering", None)
    return {
        "query_string": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "current_ordering": request.GET.get("ordering", ""),
    }
