"""Order pages: the product list and the order settings (administrators), the order list and
an order's lines (everyone, within their scope). Views are thin: selectors read, services write.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.generic import ListView

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator, DeepPagePaginator
from crm.services import Actor
from crm.views import (
    AdministratorsOnlyMixin,
    PeopleOnlyMixin,
    administrators_only,
    form_domain_error,
    list_query_context,
    people_only,
)
from orders import selectors, services
from orders.choices import OrderStatus, PriceClass
from orders.filtersets import OrderFilterSet, ProductFilterSet
from orders.forms import OrdersConfigForm
from orders.models import OrdersConfig, Product

PRODUCT_COLUMNS = [
    ("code", True),
    ("name", True),
    ("brand", True),
    ("manufacturer", False),
    ("wholesale_price", True),
    ("suggested_retail_price", True),
    ("price_class", True),
    ("tar_mg", False),
]


class ProductListView(AdministratorsOnlyMixin, ListView):
    template_name = "orders/product_list.html"
    context_object_name = "products"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.product_list(filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        ctx["filter"] = ProductFilterSet(self.request.GET)
        ctx["price_classes"] = PriceClass.choices
        ctx["columns"] = [
            (name, capfirst(Product._meta.get_field(name).verbose_name), sortable)
            for name, sortable in PRODUCT_COLUMNS
        ]
        ctx["flag_filters"] = [
            (name, label, self.request.GET.get(name, "").lower())
            for name, label in (
                ("is_key_brand", _("Key brand")),
                ("is_new_product", _("New product")),
                ("active", _("Active")),
            )
        ]
        return ctx


def _bands(config: OrdersConfig) -> list[dict]:
    """The five price classes with their wholesale-price range per carton."""
    mins = [config.class_1_min, config.class_2_min, config.class_3_min, config.class_4_min]
    return [
        {
            "label": price_class.label,
            "from": mins[i] if i < 4 else None,
            "below": mins[i - 1] if i > 0 else None,
        }
        for i, price_class in enumerate(PriceClass)
    ]


@administrators_only
def orders_config_edit(request: HttpRequest) -> HttpResponse:
    """The order settings: price-class bands, low-tar limit, purchase window."""
    config = OrdersConfig.current()
    form = OrdersConfigForm.for_config(config, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.orders_config_update(
                data=form.service_data(), actor=Actor.of(request.user, AuditSource.PAGE)
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The order settings were saved. Product price classes and the monthly "
                    "sales figures are being updated in the background."
                ),
            )
            return redirect("orders:settings")
    return render(
        request,
        "orders/ordersconfig_form.html",
        {"config": config, "form": form, "bands": _bands(config)},
    )


class OrderListView(PeopleOnlyMixin, ListView):
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 50
    paginator_class = DeepPagePaginator

    def get_queryset(self):
        return selectors.order_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        ctx["filter"] = OrderFilterSet(self.request.GET)
        ctx["statuses"] = OrderStatus.choices
        return ctx


@people_only
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One order and its lines; 404 outside the user's scope."""
    order = selectors.order_get(user=request.user, pk=pk)
    return render(
        request,
        "orders/order_detail.html",
        {"order": order, "lines": selectors.order_lines(order=order)},
    )
