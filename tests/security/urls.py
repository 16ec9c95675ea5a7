"""Every URL pattern of the product, and how to build a concrete URL for it from the world.

`url_patterns()` walks the root resolver (includes and namespaces too); `build_url()` fills a
pattern's arguments from the tables below: by argument name (`code`, `username`, ...), and
for `pk` by the URL's name (a `pk` means a different row on every URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


@dataclass(frozen=True)
class Pattern:
    name: str  # namespaced ("customers:detail"), or the route when a pattern has no name
    route: str  # the full route, for messages
    kwargs: tuple[str, ...]


def url_patterns() -> list[Pattern]:
    """Every pattern reachable from ROOT_URLCONF, with its namespaced name and arguments."""
    found: list[Pattern] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                ns = f"{namespace}{item.namespace}:" if item.namespace else namespace
                walk(item, prefix + str(item.pattern), ns)
            elif isinstance(item, URLPattern):
                route = prefix + str(item.pattern)
                name = f"{namespace}{item.name}" if item.name else route
                kwargs = tuple(getattr(item.pattern, "converters", {}))
                found.append(Pattern(name=name, route=route, kwargs=kwargs))

    walk(get_resolver(), "", "")
    return found


# URL patterns the matrix leaves out, and why: the admin site's own pages are Django's,
# behind is_staff (only administrators are staff); its index is in the matrix.
NOT_IN_MATRIX_ROUTES = ("admin/",)
NOT_IN_MATRIX_EXCEPT = {"admin:index"}

# The query a URL needs to show what it is for (not its 404 for a missing parameter).
QUERIES = {
    "valuation:export": "?list=core",
    "audits_api:price_monitoring": "?month=2026-11",
    # a day ahead without htmx: an account manager's goes to that day's agenda; anyone else
    # names no account manager (?am=), so whose day is it: 404
    "visits:agenda_coming_day": "?day=2099-01-04",
}


# Which world row a `pk` names, per URL name (the YX variant reads `<row>_yx`).
PK_ROWS = {
    "crm:user_password_reset": "am_th",
    "customers:import_detail": "import",
    "customers:change_request_decide": "change_request",
    "customers:change_request_attachment": "change_request",
    "orders:detail": "order",
    "grading:run_status": "grading_run",
    "grading:scheme": "grading_scheme",
    "grading:scheme_preview": "grading_scheme",
    "grading:scheme_activate": "grading_scheme",
    "grading:scheme_copy": "grading_scheme",
    "grading:scheme_delete": "grading_scheme",
    "grading:peak_month_delete": "peak_month",
    "grading:override_decide": "override",
    "valuation:run_status": "valuation_run",
    "valuation:scheme": "valuation_scheme",
    "valuation:scheme_activate": "valuation_scheme",
    "valuation:scheme_copy": "valuation_scheme",
    "valuation:scheme_delete": "valuation_scheme",
    "valuation:warning_acknowledge": "warning",
    "valuation:warning_resolve": "warning",
    "valuation:compliance_void": "compliance",
    "allocation:run_status": "allocation_run",
    "allocation:scheme": "allocation_scheme",
    "allocation:scheme_activate": "allocation_scheme",
    "allocation:scheme_copy": "allocation_scheme",
    "allocation:scheme_delete": "allocation_scheme",
    "visits:plan_reschedule": "plan",
    "visits:plan_skip": "plan",
    "visits:follow_up_done": "follow_up",
    "visits:detail": "visit",
    "visits:photo": "visit",
    "audits:answer_photo": "audit_answer",
    "services:request_detail": "service_request",
    "services:request_assign": "service_request",
    "services:request_act": "service_request",
    "services:training_detail": "training",
    "services:holiday_delete": "holiday",
    "allocation:plan": "allocation_plan",
    "allocation:plan_edit": "allocation_draft",
    "allocation:plan_preview": "allocation_draft",
    "allocation:plan_publish": "allocation_draft",
    "allocation:plan_delete": "allocation_draft",
    "allocation:plan_close": "allocation_plan",
    "allocation:plan_new_version": "allocation_plan",
    "allocation:plan_export": "allocation_plan",
    "visits_api:visit_detail": "visit",
    "services_api:service_request_detail": "service_request",
    "allocation:exception_review": "allocation_exception",
    "audits:form": "audit_form",
    "audits:form_edit": "audit_form_draft",
    "audits:question_create": "audit_form_draft",
    "audits:form_activate": "audit_form_draft",
    "audits:form_delete": "audit_form_draft",
    "audits:form_new_version": "audit_form",
    "audits:form_retire": "audit_form",
    "audits:question_edit": "audit_question",
    "audits:question_delete": "audit_question",
    "audits:question_move": "audit_question",
}

# The other arguments, by name: (TH value, YX value) from the world.
KWARG_VALUES = {
    "code": lambda w, yx: w["c_yx" if yx else "c_th"].customer_code,
    "customer_code": lambda w, yx: w["c_yx" if yx else "c_th"].customer_code,
    "username": lambda w, yx: w["am_yx" if yx else "am_th"].username,
    "kind": lambda w, yx: "full",
    # A tab of the customer page (asked for without htmx: the page with that tab open).
    "tab": lambda w, yx: "visits",
    "product_code": lambda w, yx: w["audit_product"].code,
    # A valid password reset link of am_th (the page takes it from the URL to the session).
    "uidb64": lambda w, yx: urlsafe_base64_encode(force_bytes(w["am_th"].pk)),
    "token": lambda w, yx: default_token_generator.make_token(w["am_th"]),
}
# `action` differs per URL: a real action of that URL.
ACTIONS = {
    "grading:override_decide": "approve",
    "grading:publication": "publish",
    "services:request_act": "start",
}


def build_kwargs(pattern: Pattern, world: dict[str, Any], *, yx: bool = False) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name in pattern.kwargs:
        if name == "pk":
            row = PK_ROWS[pattern.name] + ("_yx" if yx else "")
            kwargs[name] = world[row].pk
        elif name == "action":
            kwargs[name] = ACTIONS[pattern.name]
        else:
            kwargs[name] = KWARG_VALUES[name](world, yx)
    return kwargs


def build_url(pattern: Pattern, world: dict[str, Any], *, yx: bool = False) -> str:
    return reverse(pattern.name, kwargs=build_kwargs(pattern, world, yx=yx))
