"""Monthly sales facts for grading tests: a customer's purchases per month, by hand."""

import datetime as dt
from decimal import Decimal

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
