"""Monthly sales facts for grading tests: a customer's purchases per month, by hand; and
stored grades, for the apps that read them (valuation, supply allocation)."""

import datetime as dt
from decimal import Decimal

from grading import services as grading_services
from grading.models import GradeResult
from orders.models import MonthlySalesFact


def make_fact(customer, month: str | dt.date, cartons: int, price: str | int = "200.00", **fields):
    """The fact of `customer` for `month` ("YYYY-MM" or its first day): `cartons` at `price`
    per carton, ordered on the 5th (unless `first_order_date` is given)."""
    start = month if isinstance(month, dt.date) else dt.date.fromisoformat(f"{month}-01")
    values = {
        "cartons": cartons,
        "amount": Decimal(str(price)) * cartons,
        "orders": 4,
        "lines": 20,
        "class_1_cartons": 0,
        "class_2_cartons": 0,
        "class_3_cartons": cartons,
        "class_4_cartons": 0,
        "class_5_cartons": 0,
        "key_brand_cartons": 0,
        "new_product_cartons": 0,
        "low_tar_cartons": 0,
        "electronic_orders": 0,
        "electronic_amount": Decimal("0.00"),
        "first_order_date": start.replace(day=5),
        "last_order_date": start.replace(day=25),
    }
    values.update(fields)
    return MonthlySalesFact.objects.create(customer=customer, month=start, **values)


def buy_monthly(customer, months: list[str], cartons: int, price: str = "200.00") -> None:
    for month in months:
        make_fact(customer, month, cartons, price)


def make_grade(customer, month: dt.date, value: int, structure_class: int = 5) -> GradeResult:
    """A stored grade of `customer` for `month`: its grade and structure class as given (what
    the apps reading grades use), the other figures placeholders."""
    return GradeResult.objects.create(
        customer=customer,
        month=month,
        scheme=grading_services.scheme_active(),
        basis="window",
        months_used=3,
        avg_cartons=100,
        avg_amount=20000,
        quantity_pct=50,
        amount_pct=50,
        scale_score=50,
        group_size=3,
        computed_grade=value,
        grade=value,
        business_scale="medium",
        category_code="CZ2",
        price_band=3,
        structure_class=structure_class,
    )
