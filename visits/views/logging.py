"""Logging a visit (the phone-first form), the visit list, a visit's page and its photo.

The visit form posts like any form without JavaScript. With JavaScript (static/js/visit_form.js)
it keeps a draft in the browser and sends the form with fetch(), marked by the
`X-Requested-With: fetch` header; such a request is answered in JSON: `{"status": "saved" |
"duplicate", "redirect": url}`, or, when the service refuses a field, 400 with
`{"status": "invalid", "errors": {field: [message]}, "html": the form's fields re-rendered}`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import ListView

from audits import due as audits_due
from audits import fields as audit_fields
from audits.visit_audits import visit_audits
from crm import uploads
from crm.choices import AuditSource, Role
from crm.exceptions import DomainError
from crm.middleware import browser_features
from crm.paginators import DeepPagePaginator
from crm.services import Actor
from crm.views import PeopleOnlyMixin, list_query_context, people_only
from customers import policies as customer_policies
from customers import selectors as customer_selectors
from customers.catalogue import Category
from customers.models import Customer
from services import policies as service_policies
from visits import policies, selectors, services
from visits.choices import VisitType
from visits.filtersets import VisitFilterSet
from visits.forms import (
    VisitForm,
    customer_picker_context,
    follow_up_forms,
    show_visit_error,
)
from visits.models import PlannedVisit, VisitsConfig

# Customers the picker shows at once: enough to scroll on a phone, few enough to read.
FETCH_HEADER = "fetch"


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == FETCH_HEADER


# --- logging -------------------------------------------------------------------------------


# The only page that reads the phone's position and takes a photo (static/js/visit_form.js).
@browser_features("geolocation", "camera")
@people_only
def visit_log_view(request: HttpRequest) -> HttpResponse:
    """The visit form for ?customer=CODE (optionally started from the planned visit ?plan=ID);
    without a customer, a picker among the user's customers."""
    code = request.GET.get("customer", "").strip()
    if not code:
        return _customer_picker(request)
    customer = customer_selectors.customer_get(user=request.user, code=code)
    if not policies.can_log_visit(request.user, customer):
        raise PermissionDenied
    plan = _plan_of(request, customer)
    owners = list(selectors.follow_up_owners(customer=customer))
    default_owner = _default_owner(request.user, customer, owners)
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES)
        rows = follow_up_forms(request.POST, owners=owners, default_owner=default_owner)
    else:
        form = VisitForm()
        rows = follow_up_forms(None, owners=owners, default_owner=default_owner)
    follow_up_errors: list[str] = []
    audit_errors: dict[str, list[str]] = {}
    valid = request.method == "POST" and form.is_valid() and all(r.is_valid() for r in rows)
    blocks = _audit_blocks(request, customer, form if valid else None, plan)
    if valid:
        posted = audit_fields.audit_post(blocks, request.FILES)
        try:
            visit = services.visit_log(
                customer=customer,
                data=form.service_data(),
                actor=Actor.of(request.user, AuditSource.PAGE),
                follow_ups=[item for row in rows if (item := row.item()) is not None],
                photo=form.cleaned_data.get("photo"),
                plan=plan,
                client_id=form.cleaned_data.get("client_id"),
                audits=posted.raw,
                audit_photos=posted.photos,
            )
        except services.DuplicateVisit as exc:
            return _answer_saved(request, exc.visit, duplicate=True)
        except DomainError as exc:
            visit_errors, audit_errors = audit_fields.show_audit_errors(blocks, posted, exc.errors)
            follow_up_errors = show_visit_error(form, DomainError(exc.message, errors=visit_errors))
        else:
            return _answer_saved(request, visit, duplicate=False)
    context = _form_context(request, customer, plan, form, rows, follow_up_errors)
    context["audit_blocks"] = blocks
    context["audit_errors"] = audit_errors
    if request.method == "POST" and _is_fetch(request):
        errors = {key: [str(m) for m in msgs] for key, msgs in form.errors.items()}
        for index, row in enumerate(rows):
            for key, msgs in row.errors.items():
                errors[f"fu{index}-{key}"] = [str(m) for m in msgs]
        if follow_up_errors:
            errors["follow_ups"] = follow_up_errors
        errors.update(audit_errors)
        return JsonResponse(
            {
                "status": "invalid",
                "errors": errors,
                "html": render_to_string("visits/inc/visit_form_body.html", context, request),
            },
            status=400,
        )
    return render(request, "visits/visit_form.html", context)


def _audit_blocks(
    request: HttpRequest, customer: Customer, form: VisitForm | None, plan: PlannedVisit | None
) -> list:
    """The audit forms of the page: those due at the shop (on the day of the plan the form is
    started from, when later: the phone keeps tomorrow's forms for the road); on a post, also
    those a visit sent late was filled in with (accepted at its time, though not due now)."""
    today = timezone.localdate()
    on = max(today, plan.planned_for) if plan is not None and request.method != "POST" else today
    due = audits_due.forms_due(customer=customer, on=on)
    if request.method != "POST":
        return audit_fields.audit_blocks(due)
    at = (form.cleaned_data.get("visited_at") if form is not None else None) or timezone.now()
    due_ids = {df.form.id for df in due}
    accepted = audits_due.forms_accepted(customer=customer, at=at)
    accepted_ids = {df.form.id for df in accepted}
    forms = [*accepted, *(df for df in due if df.form.id not in accepted_ids)]
    blocks = audit_fields.audit_blocks(forms, request.POST, request.FILES)
    return [b for b in blocks if b.form.id in due_ids or b.answered]


def _answer_saved(request: HttpRequest, visit, *, duplicate: bool) -> HttpResponse:
    url = reverse("visits:detail", args=[visit.pk])
    if duplicate:
        messages.info(request, _("This visit was saved already; here it is."))
    else:
        messages.success(request, _("The visit was saved."))
    if _is_fetch(request):
        return JsonResponse({"status": "duplicate" if duplicate else "saved", "redirect": url})
    return redirect(url)


def _plan_of(request: HttpRequest, customer: Customer) -> PlannedVisit | None:
    """The planned visit the form was started from (?plan=), which must be this customer's."""
    raw = request.GET.get("plan", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    plan = selectors.planned_visit_get(user=request.user, pk=int(raw))
    if plan.customer_id != customer.pk:
        raise Http404
    return plan


def _default_owner(user, customer: Customer, owners):
    """Follow-ups are the user's by default; the customer's account manager's when the user
    cannot own one (an administrator or licence officer logging the visit)."""
    candidates = {owner.pk: owner for owner in owners}
    return candidates.get(user.pk) or candidates.get(customer.account_manager_id)


def _form_context(request, customer, plan, form, rows, follow_up_errors) -> dict:
    config = VisitsConfig.current()
    dynamic = getattr(customer, "dynamic", None)
    today = timezone.localdate()
    return {
        "customer": customer,
        "plan": plan,
        "form": form,
        "follow_up_rows": rows,
        "follow_up_errors": follow_up_errors,
        "radius_m": config.location_radius_m,
        "photo_max_mb": config.photo_max_mb,
        "shop_latitude": dynamic.latitude if dynamic else None,
        "shop_longitude": dynamic.longitude if dynamic else None,
        "changeable_groups": _by_category(
            customer_policies.changeable_fields(request.user, customer)
        ),
        "wrong_reason": _("Seen on the visit of %(day)s: ") % {"day": today.isoformat()},
        "draft_key": f"crm-visit-draft:{request.user.pk}:{customer.customer_code}",
        # For the check-in / check-out buttons: the fields are wall-clock time of this zone.
        "utc_offset_minutes": int(timezone.localtime().utcoffset().total_seconds() // 60),
        "form_action": request.get_full_path(),
        "js_text": _js_text(),
    }


def _by_category(specs) -> list[dict]:
    """The fields of the "which information is wrong" list, by catalogue category (in the
    catalogue's order), each category's sorted by label in the reader's language."""
    groups = []
    for category in Category:
        fields = sorted(
            (spec for spec in specs if spec.category == category),
            key=lambda spec: spec.label.casefold(),
        )
        if fields:
            groups.append({"label": category.label, "fields": fields})
    return groups


def _js_text() -> dict[str, str]:
    """What static/js/visit_form.js says, translated (`%(m)s` stands for a distance the
    script writes with "metres" or "kilometres", `%(n)s` for a number, `%(time)s` for a time)."""
    return {
        "metres": _("%(m)s m"),
        "kilometres": _("%(km)s km"),
        "locating": _("Finding your position…"),
        "accuracy": _("Your position is known to within %(d)s."),
        "distance": _("Distance to the shop: %(d)s."),
        "far": _("That is farther than %(d)s from the shop: the visit will be flagged."),
        "no_shop": _("The shop has no recorded position: the distance cannot be checked."),
        "denied": _("Location not shared: the visit is saved without it."),
        "unavailable": _("Your position could not be found."),
        "unsupported": _("This browser cannot share its position."),
        "sending": _("Sending…"),
        "offline": _("Not sent: no connection. It will be sent when the connection returns."),
        "server": _(
            "Not sent: the server did not take the visit (are you still signed in?). "
            "The draft is kept on this phone and will be sent again."
        ),
        "photo_again": _("The photo is not kept with the draft: choose it again."),
        "queued": _(
            "No connection: the visit is kept on this phone (with its photo) and will be sent "
            "when the connection returns. You can go on to the next shop."
        ),
        "sent": _("The visit was sent once the connection returned."),
        "see_visit": _("See the visit"),
        "checked_in": _("Checked in at %(time)s."),
        "checked_out": _("Checked out at %(time)s."),
    }


def _customer_picker(request: HttpRequest) -> HttpResponse:
    """The customers the user may log a visit for, searched by code or name (the scope rule
    gives account managers their own customers, the others those of their areas)."""
    return render(request, "visits/visit_form.html", customer_picker_context(request))


# --- reading visits ------------------------------------------------------------------------


class VisitPaginator(DeepPagePaginator):
    """Every page by its keys, the first too (visits_visit_cust_seen_idx gives an account
    manager's visit keys in order)."""

    first_page_too = True


class VisitListView(PeopleOnlyMixin, ListView):
    """Every visit the user may see, newest first, filtered by VisitFilterSet."""

    template_name = "visits/visit_list.html"
    context_object_name = "visits"
    paginate_by = 50
    paginator_class = VisitPaginator

    def get_queryset(self):
        return selectors.visit_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        ctx["filter"] = VisitFilterSet(self.request.GET)
        ctx["visit_types"] = VisitType.choices
        return ctx


@people_only
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything recorded on one visit, with its follow-ups; 404 outside the user's scope."""
    visit = selectors.visit_get(user=request.user, pk=pk)
    follow_ups = list(visit.follow_ups.all())
    for follow_up in follow_ups:
        # The policy reads the follow-up's customer: it is the visit's, already loaded.
        follow_up.customer = visit.customer
    plan = getattr(visit, "plan", None)
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "plan": plan,
            "plan_url": _agenda_url(request.user, visit.customer, plan.planned_for) if plan else "",
            "follow_up_rows": [
                {"follow_up": f, "may_complete": policies.can_complete_follow_up(request.user, f)}
                for f in follow_ups
            ],
            "radius_m": VisitsConfig.current().location_radius_m,
            "today": timezone.localdate(),
            "next_url": request.get_full_path(),
            "may_log": policies.can_log_visit(request.user, visit.customer),
            # Raising a service request or logging a care service on this visit.
            "may_serve": service_policies.can_serve(request.user, visit.customer),
            "audits": visit_audits(visit=visit),
        },
    )


def _agenda_url(user, customer: Customer, day) -> str:
    """The agenda of the customer's account manager on `day`, as `user` opens it."""
    query = {"day": day.isoformat()}
    if user.role != Role.ACCOUNT_MANAGER and customer.account_manager_id:
        query["am"] = customer.account_manager.username
    return f"{reverse('visits:agenda')}?{urlencode(query)}"


PHOTO_KINDS = {"full": "photo", "thumb": "photo_thumbnail"}


@people_only
def visit_photo(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A visit's photo or thumbnail, after the visit's scope check: photos have no public
    address (crm.uploads.file_response: inline, nosniff, private)."""
    if kind not in PHOTO_KINDS:
        raise Http404
    visit = selectors.visit_get(user=request.user, pk=pk)
    return uploads.file_response(
        getattr(visit, PHOTO_KINDS[kind]), download_name=f"visit-{visit.pk}-{kind}"
    )
