"""The grading app's panels (crm.panels): the customer page's grading card, and the grade and
structure class in its summary header. Registered by GradingConfig.ready."""

from __future__ import annotations

from typing import Any

from crm.panels import Panel, Surface, Tab, register
from grading import selectors


def grading_context(request, customer) -> dict[str, Any]:
    return {"grading": selectors.customer_grading_card(customer=customer, user=request.user)}


def grading_summary(request, customer) -> dict[str, Any]:
    """The summary header's grade and structure class, when the grading card is not drawn: the
    latest result (one query)."""
    return {"grading": {"result": selectors.customer_grade_summary(customer=customer)}}


def register_all() -> None:
    register(
        Panel(
            key="grading",
            surface=Surface.CUSTOMER,
            tab=Tab.GRADE_VALUE,
            template="grading/inc/customer_grading.html",
            summary_template="grading/inc/customer_summary.html",
            context=grading_context,
            summary=grading_summary,
            order=40,
        )
    )
