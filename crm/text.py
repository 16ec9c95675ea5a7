"""Text the database can store, checked once for every way data comes in.

PostgreSQL refuses a NUL character in text, and no UTF-8 encoder (psycopg's, SQLite's, the
JSON renderer's) can write an unpaired surrogate (`\\ud800`), which a JSON body may carry as an
escape. Either one reaching a query, an audit row or a response is a 500 that loses the whole
request, so the syncs and imports check each item here first and refuse only that item.

The other control characters are stored (PostgreSQL takes them); the spreadsheet exports drop
the ones a workbook cannot hold (`customers.io`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from crm.stored_text import rendered

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_error(value: str) -> str | None:
    """Why the database cannot store `value`, or None when it can."""
    if value.isascii() and "\x00" not in value:  # the usual case: no regular expression
        return None
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return rendered("crm.text.nul")
    return rendered("crm.text.surrogate", code=ord(match.group()))


def is_storable(value: Any) -> bool:
    """Whether `value` is not text, or text the database can store."""
    return not isinstance(value, str) or text_error(value) is None


def strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, keys included, in document order, as `(path, text)`: the
    dotted path of a value (`lines.0.product_code`), or for a key the path of the object
    holding it. What is under a key the database cannot store is skipped (the key is
    reported), so no path carries such text. Iterative: any depth is walked without
    recursion."""
    # (value, its path): a key comes right before its value.
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                if is_storable(key):
                    stack.append((child, f"{path}.{key}" if path else str(key)))
                stack.append((key, path))
        elif isinstance(item, list | tuple):
            stack.extend(
                (child, f"{path}.{index}" if path else str(index))
                for index, child in reversed(list(enumerate(item)))
            )


def unstorable_text(value: Any) -> dict[str, list[str]]:
    """Where a JSON value (a sync item, an imported row) holds text the database cannot store:
    `{path: [message]}`, `non_field_errors` for the item itself. Empty when all is storable.

    A key at fault is reported on the object holding it, never by its own text: a path or a
    message echoing the character would make the response unwritable too."""
    problems: dict[str, list[str]] = {}
    for path, text in strings(value):
        message = text_error(text)
        if message is not None:
            messages = problems.setdefault(path or "non_field_errors", [])
            if message not in messages:
                messages.append(message)
    return problems
