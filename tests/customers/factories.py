"""Customers for tests, created through the service so every part exists and history is real."""

import itertools

from crm.choices import AuditSource
from crm.services import Actor
from customers.services import customer_create

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
