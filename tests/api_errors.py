"""The one error shape of the API (crm.api.exceptions), asserted the same way by every test."""

from __future__ import annotations

import json


def api_error(response, status: int, code: str | None = None) -> dict:
    """The body of an error response, checked to be the API's one shape: `status`, JSON, and
    exactly `{"detail": str, "code": str, "errors": {path: [str, ...]}}`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["errors"], dict), body
    for path, messages in body["errors"].items():
        assert isinstance(path, str) and path, body
        assert messages and all(isinstance(m, str) and m for m in messages), body
    if code is not None:
        assert body["code"] == code, body
    return body


def field_errors(response, status: int = 400, code: str | None = None) -> dict[str, list[str]]:
    """The `errors` of an error response (checked as `api_error` does)."""
    return api_error(response, status, code)["errors"]
