"""Looking a customer up by its code from another app's API (a visit or a service request
names its customer by `customer_code`)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound

from crm.models import User
from customers.models import Customer
from customers.selectors import customer_get


def customer_by_code(user: User, code: str) -> Customer:
    """The customer `code` names, if `user` sees it; NotFound (404) naming `customer_code`
    otherwise. Unknown and out of scope read the same: the API does not tell which codes
    exist."""
    try:
        return customer_get(user=user, code=code.strip())
    except Http404:
        raise NotFound(
            {"customer_code": [_("No customer with this code in your scope.")]}
        ) from None
