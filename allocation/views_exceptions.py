"""The exceptions list of supply allocation: orders that took a shop past its quota (the order
sync stores them all the same and keeps each here), and their review.

Supervisors (their areas) and administrators (everyone) review them, with a note saying what
was done. Account managers read their own shops' rows (an over-quota order is theirs to
explain), without the review form; licence officers have no business here (403).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from allocation import selectors, services
from allocation.choices import ExceptionStatus
from allocation.policies import can_read_exceptions, can_review_exceptions
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import list_query_context, people_allowed, redirect_back

EXCEPTIONS_PER_PAGE = 25
# The status filter: its values and names (the default first).
STATUS_TABS = {
    ExceptionStatus.OPEN: gettext_lazy("Open"),
    ExceptionStatus.REVIEWED: gettext_lazy("Reviewed"),
    "all": gettext_lazy("All"),
}


class ExceptionReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done about it?"),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say what was done about it.")},
    )


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", ExceptionStatus.OPEN)
    return status if status in STATUS_TABS else ExceptionStatus.OPEN


@method_decorator(people_allowed(can_read_exceptions), name="dispatch")
class ExceptionListView(ListView):
    """The exceptions in the user's scope, newest first: open ones by default, or reviewed, or
    all; each with its shop, plan and product, order, and how far it went past the quota."""

    template_name = "allocation/exception_list.html"
    context_object_name = "exceptions"
    paginate_by = EXCEPTIONS_PER_PAGE
    paginator_class = CappedPaginator

    def get_queryset(self):
        status = _status(self.request)
        return selectors.exception_list(
            user=self.request.user, status=None if status == "all" else status
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        status = _status(self.request)
        counts = selectors.exception_status_counts(user=self.request.user)
        ctx["status_tabs"] = [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "active": key == status,
                "query": f"status={key}",
            }
            for key, label in STATUS_TABS.items()
        ]
        ctx["status"] = status
        ctx["may_review"] = can_review_exceptions(self.request.user)
        ctx["next_url"] = self.request.get_full_path()
        return ctx


@require_POST
@people_allowed(can_review_exceptions)
def exception_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks an open exception reviewed, with the required note (what was done)."""
    exception = selectors.exception_list(user=request.user, status=None).filter(pk=pk).first()
    if exception is None:
        raise Http404
    form = ExceptionReviewForm(request.POST)
    errors = [str(m) for msgs in form.errors.values() for m in msgs]
    if not errors:
        try:
            services.exception_review(
                exception=exception,
                note=form.cleaned_data["note"],
                actor=Actor.of(request.user, AuditSource.PAGE),
            )
        except DomainError as exc:
            errors = [m for msgs in exc.errors.values() for m in msgs]
        else:
            messages.success(
                request,
                _("The exception of order %(order)s was marked reviewed.")
                % {"order": exception.order.external_id},
            )
    for message in errors:
        messages.error(request, message)
    return redirect_back(request, reverse("allocation:exceptions"))


urlpatterns = [
    path("exceptions/", ExceptionListView.as_view(), name="exceptions"),
    path("exceptions/<int:pk>/review/", exception_review, name="exception_review"),
]
