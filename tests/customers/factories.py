"""Customers for tests, created through the service so every part exists and history is real."""

import itertools

from crm.choices import AuditSource
from crm.services import Actor
from customers.services import change_request_create, customer_create

_codes = itertools.count(1)
ACTOR = Actor.system("tests", AuditSource.COMMAND)


def make_customer(area, account_manager=None, **fields):
    """A valid customer in `area` (an Area or its code); any catalogue field may be given."""
    n = next(_codes)
    data = {
        "customer_code": f"4401{n:08d}",
        "store_name": f"测试商店{n}",
        "license_number": f"9901{n:08d}",
        "business_format": "Z",
        "market_type": "C",
        "area": getattr(area, "code", area),
    }
    if account_manager is not None:
        data["account_manager"] = getattr(account_manager, "username", account_manager)
    data.update(fields)
    return customer_create(data=data, actor=ACTOR)


def make_change_request(customer, user, *, attachment=None, store_name=None):
    """A change request of `user` renaming `customer` (an approval field), through the
    service; `attachment` an uploaded file."""
    return change_request_create(
        customer=customer,
        user=user,
        data={"store_name": store_name or f"{customer.store_name}（新）"},
        reason="new sign",
        attachment=attachment,
    )
