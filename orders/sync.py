"""Checking one order or product of a sync: plain Python, no queries, no serializers.

A sync of 1,000 orders × 20 lines checks 20,000 lines per request; DRF serializers cost
~50 µs per field, so each item is checked here by hand against lookups loaded once per batch
(customer and product codes → ids). Messages are keyed like DRF's (`lines.2.quantity`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.text import text_error
from orders.choices import OrderStatus, PaymentMethod

MAX_LINES_PER_ORDER = 500
MAX_QUANTITY = 1_000_000  # cartons per line; far above any real order, below integer overflow
MAX_PRICE = Decimal("99999999.99")  # fits DecimalField(max_digits=10, decimal_places=2)
MAX_AMOUNT = Decimal("999999999999.99")  # fits DecimalField(max_digits=14, decimal_places=2)

_STATUSES = frozenset(OrderStatus.values)
_METHODS = frozenset(PaymentMethod.values)
_CENT = Decimal("0.01")
_REQUIRED = _("This field is required.")
_UNKNOWN = gettext_lazy("Unknown field.")
# The fields of an order besides its number and its lines (also the columns of
# `import_orders`' file that must agree on every row of one order).
ORDER_FIELDS = (
    "customer_code",
    "order_date",
    "status",
    "payment_method",
    "paid_on_time",
    "payment_date",
)
# The keys an order and a line may hold; any other is refused, naming it (a mistyped
# `quantiy` must not be dropped without a word).
ORDER_KEYS = frozenset({"external_id", *ORDER_FIELDS, "lines"})
LINE_KEYS = frozenset({"product_code", "quantity", "unit_price", "amount"})
_USUAL_LINE_KEYS = frozenset({"product_code", "quantity", "unit_price"})

# The first and the last day an order (or its payment) may be dated:
# `OrdersConfig.order_date_range`.
DateRange = tuple[dt.date, dt.date]


class ItemError(Exception):
    """The item cannot be stored; `errors` maps field keys to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass(slots=True)
class CleanOrder:
    """One checked order, ready to store."""

    index: int
    external_id: str
    customer_id: int
    order_date: dt.date
    month: dt.date
    status: str
    payment_method: str
    paid_on_time: bool | None
    payment_date: dt.date | None
    # (product_id, cartons, unit_price, amount), in the order sent
    lines: list[tuple[int, int, Decimal, Decimal]] = field(default_factory=list)
    cartons: int = 0
    amount: Decimal = Decimal("0.00")
    content_hash: str = ""
    # `sent_hash` of the item as received and this content; "" when it has none.
    sent_hash: str = ""


def text(value: Any, *, max_length: int, required: bool = True) -> str:
    """A stripped string of at most `max_length` characters (numbers are accepted as text)
    that the database can store."""
    if value is None or value == "":
        if required:
            raise ValueError(_REQUIRED)
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(_("Expected text."))
    value = str(value).strip()
    problem = text_error(value)
    if problem is not None:
        raise ValueError(problem)
    if required and not value:
        raise ValueError(_REQUIRED)
    if len(value) > max_length:
        raise ValueError(_("At most %(n)d characters.") % {"n": max_length})
    return value


def money(value: Any, *, maximum: Decimal = MAX_PRICE, places: int = 2) -> Decimal:
    """A non-negative decimal with at most `places` decimals, from a string or a JSON number."""
    if value is None or value == "":
        raise ValueError(_REQUIRED)
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(_("Expected a number."))
    try:
        # str() of a float is its shortest exact-looking form: 230.1 -> "230.1", not 230.0999…
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(_("Expected a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Expected a number."))
    if number < 0:
        raise ValueError(_("Must not be negative."))
    if number.as_tuple().exponent < -places and number != number.quantize(
        Decimal(1).scaleb(-places)
    ):
        raise ValueError(_("At most %(n)d decimal places.") % {"n": places})
    if number > maximum:
        raise ValueError(_("At most %(max)s.") % {"max": maximum})
    return number.quantize(Decimal(1).scaleb(-places))


def iso_date(
    value: Any, *, required: bool = True, within: DateRange | None = None
) -> dt.date | None:
    """A date as YYYY-MM-DD, in `within` (first and last day accepted) when given."""
    if value is None or value == "":
        if required:
            raise ValueError(_REQUIRED)
        return None
    if not isinstance(value, str):
        raise ValueError(_("Expected a date as YYYY-MM-DD."))
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_("Expected a date as YYYY-MM-DD.")) from None
    if within is not None and not within[0] <= day <= within[1]:
        raise ValueError(
            _("Must be between %(earliest)s and %(latest)s (the order settings).")
            % {"earliest": within[0].isoformat(), "latest": within[1].isoformat()}
        )
    return day


def optional_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(_("Expected true, false or null."))


class Seen:
    """What one batch has already found valid, so that the thousands of lines sharing a few
    product codes, prices and dates are checked once each (a `Decimal` parsed per price was
    most of a batch's checking time): raw value -> checked value. Only values that passed are
    kept; anything else goes through the full checks, which word the errors."""

    __slots__ = ("amounts", "codes", "dates", "lines", "prices")

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}  # product code as sent -> product id
        self.prices: dict[str, tuple[Decimal, str]] = {}  # unit price as sent -> (price, text)
        self.amounts: dict[tuple[str, int], tuple[Decimal, str]] = {}  # (price, cartons)
        self.dates: dict[str, dt.date] = {}  # order date as sent -> date (in range)
        # A usual line as sent (product code, cartons: an int, unit price) -> its checked
        # line and its text in the content hash: one look-up for a line seen before.
        self.lines: dict[tuple[str, int, str], tuple[tuple, tuple[int, str]]] = {}


def clean_order(
    raw: Any,
    *,
    index: int,
    customers: Mapping[str, int],
    products: Mapping[str, int],
    dates: DateRange,
    seen: Seen | None = None,
) -> CleanOrder:
    """Checks one order of a sync; raises ItemError with every problem found. Its order and
    payment dates must fall in `dates` (`OrdersConfig.order_date_range`). `seen`, shared by
    the orders of one batch, spares checking a value again."""
    if seen is None:
        seen = Seen()
    if not isinstance(raw, Mapping):
        raise ItemError({"non_field_errors": [_("Each order must be a JSON object.")]})
    errors = unknown_fields(raw, ORDER_KEYS)

    def read(key: str, parse, *args, **kwargs):
        try:
            return parse(raw.get(key), *args, **kwargs)
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))
            return None

    # The usual value (plain text, a valid choice, a boolean) is taken at once; any other
    # goes through its check, which words the error.
    external_id = _plain_text(raw.get("external_id"), 64) or read(
        "external_id", text, max_length=64
    )
    customer_code = _plain_text(raw.get("customer_code"), 32) or read(
        "customer_code", text, max_length=32
    )
    customer_id = customers.get(customer_code) if customer_code else None
    if customer_code and customer_id is None:
        errors["customer_code"] = [
            _("No customer has the code “%(code)s”.") % {"code": customer_code}
        ]
    raw_date, raw_payment_date = raw.get("order_date"), raw.get("payment_date")
    order_date = seen.dates.get(raw_date) if type(raw_date) is str else None
    if order_date is None:
        order_date = read("order_date", iso_date, within=dates)
        if order_date is not None:
            seen.dates[raw_date] = order_date
    status = raw.get("status")
    if type(status) is not str or status not in _STATUSES:
        status = read("status", _choice, _STATUSES)
    payment_method = raw.get("payment_method")
    if type(payment_method) is not str or payment_method not in _METHODS:
        payment_method = read("payment_method", _choice, _METHODS)
    paid_on_time = raw.get("paid_on_time")
    if paid_on_time is not None and type(paid_on_time) is not bool:
        paid_on_time = read("paid_on_time", optional_bool)
    payment_date = seen.dates.get(raw_payment_date) if type(raw_payment_date) is str else None
    if payment_date is None:
        payment_date = read("payment_date", iso_date, required=False, within=dates)

    lines = raw.get("lines")
    clean_lines: list[tuple[int, int, Decimal, Decimal]] = []
    # (product id, "product:cartons:price:amount") per line, for the content hash
    hashed: list[tuple[int, str]] = []
    if not isinstance(lines, list) or not lines:
        errors["lines"] = [_("An order needs a non-empty list of lines.")]
    elif len(lines) > MAX_LINES_PER_ORDER:
        errors["lines"] = [_("An order has at most %(n)d lines.") % {"n": MAX_LINES_PER_ORDER}]
    else:
        in_order: set[int] = set()
        codes, prices, amounts, usual = seen.codes, seen.prices, seen.amounts, seen.lines
        for number, line in enumerate(lines):
            # A usual line seen before in this batch (the same code, cartons and price, no
            # amount; three keys, each of the right type, are exactly the usual keys) is
            # one look-up; the cartons are typed first (5.0 and True equal 5 and 1).
            if (
                type(line) is dict
                and len(line) == 3
                and type(quantity := line.get("quantity")) is int
                and type(raw_code := line.get("product_code")) is str
                and type(raw_price := line.get("unit_price")) is str
            ):
                known = usual.get((raw_code, quantity, raw_price))
                if known is not None and known[0][0] not in in_order:
                    in_order.add(known[0][0])
                    clean_lines.append(known[0])
                    hashed.append(known[1])
                    continue
            # The usual line (a known code, whole cartons in range, a price seen before, no
            # amount) costs dictionary look-ups; any other goes through every check.
            if (
                type(line) is dict
                and line.keys() <= _USUAL_LINE_KEYS
                and type(raw_code := line.get("product_code")) is str
                and type(raw_price := line.get("unit_price")) is str
            ):
                product_id = codes.get(raw_code)
                quantity = line.get("quantity")
                price = prices.get(raw_price)
                if (
                    product_id is not None
                    and price is not None
                    and type(quantity) is int
                    and 0 < quantity <= MAX_QUANTITY
                    and product_id not in in_order
                ):
                    in_order.add(product_id)
                    amount = amounts.get((raw_price, quantity))
                    if amount is None:
                        value = (price[0] * quantity).quantize(_CENT)
                        if value > MAX_AMOUNT:
                            errors[f"lines.{number}.quantity"] = [
                                _("The line's amount is too large.")
                            ]
                            continue
                        amount = amounts[(raw_price, quantity)] = (value, str(value))
                    clean = (product_id, quantity, price[0], amount[0])
                    hashed_line = (product_id, f"{product_id}:{quantity}:{price[1]}:{amount[1]}")
                    if type(quantity) is int and len(line) == 3:
                        usual[(raw_code, quantity, raw_price)] = (clean, hashed_line)
                    clean_lines.append(clean)
                    hashed.append(hashed_line)
                    continue
            parsed = _clean_line(line, number, products, in_order, errors)
            if parsed is not None:
                product_id, quantity, unit_price, amount = parsed
                clean_lines.append(parsed)
                hashed.append((product_id, f"{product_id}:{quantity}:{unit_price}:{amount}"))
                if type(code := line.get("product_code")) is str:
                    codes[code] = product_id
                if type(price_text := line.get("unit_price")) is str:
                    prices[price_text] = (unit_price, str(unit_price))
    if errors:
        raise ItemError(errors)

    order = CleanOrder(
        index=index,
        external_id=external_id,
        customer_id=customer_id,
        order_date=order_date,
        month=order_date.replace(day=1),
        status=status,
        payment_method=payment_method,
        paid_on_time=paid_on_time,
        payment_date=payment_date,
        lines=clean_lines,
        cartons=sum(line[1] for line in clean_lines),
        amount=sum((line[3] for line in clean_lines), Decimal("0.00")),
    )
    if order.amount > MAX_AMOUNT:
        raise ItemError({"lines": [_("The order's amount is too large.")]})
    hashed.sort()  # by product id, unique in an order: the order content_hash sorts lines in
    order.content_hash = _digest(order, [line for _product_id, line in hashed])
    return order


def _plain_text(value: Any, max_length: int) -> str | None:
    """`text(value, max_length=…)` of the usual value (ASCII text, no NUL, not blank, not
    too long), or None for any other, which `text` checks (and words the error of)."""
    if type(value) is str and value.isascii() and "\x00" not in value:
        value = value.strip()
        if value and len(value) <= max_length:
            return value
    return None


def _clean_line(line, number, products, seen, errors) -> tuple[int, int, Decimal, Decimal] | None:
    prefix = f"lines.{number}."
    if not isinstance(line, Mapping):
        errors[f"lines.{number}"] = [_("Each line must be a JSON object.")]
        return None
    unknown = unknown_fields(line, LINE_KEYS)
    problems = {key: msgs[0] for key, msgs in unknown.items()} if unknown else {}
    product_id = None
    code = line.get("product_code")
    try:
        code = text(code, max_length=32)
    except ValueError as exc:
        problems["product_code"] = str(exc)
    else:
        product_id = products.get(code)
        if product_id is None:
            problems["product_code"] = _("No product has the code “%(code)s”.") % {"code": code}
        elif product_id in seen:
            problems["product_code"] = _(
                "Product “%(code)s” is on another line of this order; send one line per product."
            ) % {"code": code}
        else:
            seen.add(product_id)
    quantity = line.get("quantity")
    if quantity is None:
        problems["quantity"] = _REQUIRED
    elif isinstance(quantity, bool) or not isinstance(quantity, int):
        problems["quantity"] = _("Expected a whole number of cartons.")
    elif quantity <= 0:
        problems["quantity"] = _("Must be more than 0 cartons.")
    elif quantity > MAX_QUANTITY:
        problems["quantity"] = _("At most %(max)d cartons.") % {"max": MAX_QUANTITY}
    unit_price = amount = None
    try:
        unit_price = money(line.get("unit_price"))
    except ValueError as exc:
        problems["unit_price"] = str(exc)
    if line.get("amount") not in (None, ""):
        try:
            amount = money(line.get("amount"), maximum=MAX_AMOUNT)
        except ValueError as exc:
            problems["amount"] = str(exc)
    if problems:
        for key, message in problems.items():
            errors[prefix + key] = [message]
        return None
    if amount is None:
        amount = (unit_price * quantity).quantize(_CENT)
        if amount > MAX_AMOUNT:
            errors[prefix + "quantity"] = [_("The line's amount is too large.")]
            return None
    return (product_id, quantity, unit_price, amount)


def unknown_fields(item: Mapping, known: AbstractSet[str]) -> dict[str, list[str]]:
    """`{key: ["Unknown field."]}` for each key of the item that is not one of `known`."""
    if item.keys() <= known:  # the usual case, one set comparison (21,000 per 1,000 orders)
        return {}
    return {str(key): [str(_UNKNOWN)] for key in item if key not in known}


def _choice(value: Any, allowed: frozenset[str]) -> str:
    if value is None or value == "":
        raise ValueError(_REQUIRED)
    if isinstance(value, str) and text_error(value) is not None:  # not to be echoed
        raise ValueError(text_error(value))
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            _("“%(value)s” is not one of: %(allowed)s.")
            % {"value": value, "allowed": ", ".join(sorted(allowed))}
        )
    return value


# Bump when the checks of `clean_order` change what they accept: digests stored before no
# longer match, so an order sent again after the change is checked again.
_SENT_DIGEST_PERSON = b"crm-order-sent-1"
# Types a strict JSON decoder never gives go to `default` (none here: the digest fails);
# UUIDs and enums aside, orjson would write them like the text they stand for.
_SENT_DIGEST_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def sent_digest(raw: Any) -> str | None:
    """A digest of one order item exactly as sent (decoded JSON: objects, arrays, strings,
    numbers, booleans, null): its canonical JSON (keys sorted) hashed. Equal digests mean the
    same item — the same text, numbers as they were written (`5`, `5.0` and `"5"` differ) —
    whatever order its keys came in. None for an item it cannot be taken of (not an object;
    a lone surrogate, an integer beyond 64 bits, a non-JSON value): that item is checked in
    full. (orjson writes NaN and infinities as null: a strict decoder, the API's, gives
    neither.) About 3 µs per 10-line order (`json.dumps(sort_keys=True)` took five times that)."""
    if type(raw) is not dict:
        return None
    try:
        dumped = orjson.dumps(raw, option=_SENT_DIGEST_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None
    return hashlib.blake2b(dumped, digest_size=16, person=_SENT_DIGEST_PERSON).hexdigest()


def sent_hash(digest: str | None, content: str) -> str:
    """What an order stores of the text it was sent as (`Order.sent_hash`): the item's
    `sent_digest` bound to the `content_hash` stored from it, so that a writer which changes
    an order's content without knowing of this digest (an older version of this code, a
    bulk load) leaves a digest that no longer matches. "" for an item without a digest."""
    if digest is None:
        return ""
    return hashlib.blake2b(
        f"{digest}:{content}".encode(), digest_size=16, person=_SENT_DIGEST_PERSON
    ).hexdigest()


def content_hash(order: CleanOrder) -> str:
    """A digest of everything stored from the order: equal digests mean a replay."""
    return _digest(order, [f"{p}:{c}:{u}:{a}" for p, c, u, a in sorted(order.lines)])


def _digest(order: CleanOrder, lines: list[str]) -> str:
    """`content_hash` of the order whose lines, sorted, read `lines`."""
    parts = [
        str(order.customer_id),
        order.order_date.isoformat(),
        order.status,
        order.payment_method,
        repr(order.paid_on_time),
        order.payment_date.isoformat() if order.payment_date else "",
        *lines,
    ]
    return hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()
