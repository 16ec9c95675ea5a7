"""The audits app's panel (crm.panels): on the customer page, the shop's latest audit of each
form (answers, photos as thumbnails) and its retail prices by month per product beside the
suggested retail price (a chart and a table). Registered by AuditsConfig.ready."""

from __future__ import annotations

from typing import Any

from audits import selectors
from crm.panels import Panel, Surface, Tab, register


def _chart(prices: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The price chart's series (json_script): the months observed, oldest first, and per
    product its price per carton in each (None where not seen) and its suggested price."""
    months = sorted({m["month"] for row in prices for m in row["months"]})
    if not months:
        return None
    return {
        "months": [f"{m:%Y-%m}" for m in months],
        "products": [
            {
                "name": row["product"].name,
                "srp": None if row["srp"] is None else float(row["srp"]),
                "prices": [
                    None
                    if (p := {m["month"]: m["price"] for m in row["months"]}.get(m)) is None
                    else float(p)
                    for m in months
                ],
            }
            for row in prices
        ],
    }


def customer_audits_context(request, customer) -> dict[str, Any] | None:
    """The latest audits and the price history (three queries); left out for a shop never
    audited."""
    audits = selectors.latest_audits(customer=customer, user=request.user)
    if not audits:
        return None
    prices = selectors.price_history(customer=customer, user=request.user)
    return {"audit_panel": {"audits": audits, "prices": prices, "chart": _chart(prices)}}


def register_all() -> None:
    register(
        Panel(
            key="audits",
            surface=Surface.CUSTOMER,
            # Beside the visits the audits were filled in on.
            tab=Tab.VISITS,
            template="audits/inc/customer_audits.html",
            context=customer_audits_context,
            order=65,
        ),
    )
