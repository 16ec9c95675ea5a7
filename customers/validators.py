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


# Traditional forms of characters common in addresses, made simplified for the comparison
# (a shop typed as 天河路1號 on one form and 天河路1号 on another is the same address).
_TRADITIONAL = str.maketrans(
    {
        "號": "号",
        "區": "区",
        "縣": "县",
        "鎮": "镇",
        "鄉": "乡",
        "樓": "楼",
        "層": "层",
        "棟": "栋",
        "單": "单",
        "門": "门",
        "東": "东",
        "廣": "广",
        "場": "场",
        "灣": "湾",
        "濱": "滨",
        "園": "园",
        "莊": "庄",
        "龍": "龙",
        "興": "兴",
        "華": "华",
        "豐": "丰",
        "陽": "阳",
        "進": "进",
        "與": "与",
        "館": "馆",
        "貿": "贸",
        "衛": "卫",
        "體": "体",
        "綫": "线",
        "線": "线",
    }
)
# Full-width ASCII (！ to ～) to half-width, and the ideographic space to a space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalise_address(address: str) -> str:
    """A comparison key for addresses: no spaces or punctuation, case-folded, full-width
    digits and letters made half-width, common traditional characters made simplified — so
    '天河路 1 号', '天河路1号', '天河路１號' and '天河路，1号' match."""
    text = (address or "").translate(_FULL_WIDTH).translate(_TRADITIONAL).casefold()
    return re.sub(r"[\s\W_]+", "", text)


# Country calling codes written before a national number ("+86 139…", "0086 139…"), and the
# trunk prefix a national number is dialled with at home (Korea's "010-…", China's "020-…";
# a Chinese mobile number, 11 digits from 1, has none).
_COUNTRY_CODES = ("86", "852", "853", "886", "82")


def normalise_phone(phone: str) -> str:
    """A comparison key for phone numbers: digits only (full-width ones too), the country
    prefix taken off and the trunk 0 put back where the number is dialled with one at home.
    "+86 139-0000-0001", "0086 13900000001", "8613900000001" and "139 0000 0001" all give
    "13900000001"; "+86 20 8888 0000" gives "02088880000"; "+82 10-1234-5678" gives
    "01012345678". "" for a value with no digit."""
    text = (phone or "").translate(_FULL_WIDTH).strip()
    international = text.startswith("+")
    digits = re.sub(r"\D+", "", text)
    if digits.startswith("00"):
        international, digits = True, digits[2:]
    elif not international and len(digits) == 13 and digits.startswith("861"):
        # 86 written without + before a Chinese mobile number
        return digits[2:]
    if not international:
        return digits
    for code in sorted(_COUNTRY_CODES, key=len, reverse=True):
        if digits.startswith(code) and len(digits) > len(code) + 4:
            national = digits[len(code) :].lstrip("0")
            if code == "86" and len(national) == 11 and national.startswith("1"):
                return national
            return "0" + national
    return digits
