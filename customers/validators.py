"""Field validators. The code pattern is read at validation time, so operators can change it
(CRM_CODE_PATTERN) without a migration."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


def validate_code(value: str) -> None:
    """Customer codes and licence numbers: 12 digits by default (settings.CRM_CODE_PATTERN)."""
    pattern = settings.CRM_CODE_PATTERN
    if not re.fullmatch(pattern, value or ""):
        raise ValidationError(
            _("%(value)s does not have the required format (%(pattern)s)."),
            code="invalid_code",
            params={"value": value, "pattern": pattern},
        )


validate_phone = RegexValidator(
    r"^\+?[0-9][0-9 \-]{5,19}$",
    _("Enter a phone number: digits, optionally with +, spaces or dashes (6-20 characters)."),
)


def normalise_address(address: str) -> str:
    """A comparison key for addresses: no spaces or punctuation, case-folded, full-width
    digits and letters made half-width — so '天河路 1 号' and '天河路1号' match."""
    text = (
        (address or "")
        .translate({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)})
        .casefold()
    )
    return re.sub(r"[\s\W_]+", "", text)
