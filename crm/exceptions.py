"""The one domain error type. Pages show it as a form error; the API as a 400 naming the field."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the business was broken; `message` is fit to show to the user as it is.

    `field` names the input at fault (None for the object as a whole). Several field errors
    can be raised at once through `errors`: {field or "__all__": [message, ...]}.
    """

    def __init__(
        self,
        message: str = "",
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        if errors is None:
            errors = {field or "__all__": [str(message)]}
        # Text stays the object given (a `crm.stored_text.Rendered` keeps its stored form);
        # anything else (a lazy translation) is rendered now.
        self.errors = {
            key: [m if isinstance(m, str) else str(m) for m in msgs] for key, msgs in errors.items()
        }
        self.field = field
        shown = message if isinstance(message, str) else str(message)
        self.message = shown or "; ".join(m for msgs in self.errors.values() for m in msgs)
        super().__init__(self.message)
