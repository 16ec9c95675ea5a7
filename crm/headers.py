"""The security policies' header values, built from their settings (pure: no Django import,
so settings can use `csp_extend` too). Sent by crm.middleware.SecurityHeadersMiddleware."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Policy = Mapping[str, "Iterable[str] | bool"]


def csp_header_value(policy: Policy) -> str:
    """`{"script-src": ["'self'"], "upgrade-insecure-requests": True}` → the header's value.
    A directive whose value is True is sent without sources; False, None or an empty list
    leaves it out."""
    parts = []
    for directive, sources in policy.items():
        if sources is True:
            parts.append(directive)
        elif sources:
            parts.append(" ".join([directive, *sources]))
    return "; ".join(parts)


def csp_extend(policy: Policy, extra: str) -> dict[str, list[str] | bool]:
    """The policy with the directives of `extra` (a header value, e.g. "img-src
    https://tiles.example.com; report-uri /csp") added: their sources after the directive's
    own (a directive the policy lacks is added as written; a directive without sources, such
    as upgrade-insecure-requests, is switched on).

    A directive the policy lacks falls back to default-src in the browser: it is added with
    the policy's default-src sources first, so naming it widens it rather than narrowing it."""
    extended: dict[str, list[str] | bool] = {
        name: sources if isinstance(sources, bool) else list(sources)
        for name, sources in policy.items()
    }
    for part in extra.split(";"):
        words = part.split()
        if not words:
            continue
        name, sources = words[0].lower(), words[1:]
        if not sources:
            extended[name] = True
            continue
        current = extended.get(name)
        if not isinstance(current, list):
            fetch = name.endswith("-src") and name != "default-src"
            current = list(extended.get("default-src") or []) if fetch else []
        extended[name] = current + [s for s in sources if s not in current]
    return extended


def permissions_policy_value(
    policy: Mapping[str, Iterable[str]], allowed: Iterable[str] = ()
) -> str:
    """`{"camera": [], "geolocation": []}` with `allowed={"camera"}` → `camera=(self),
    geolocation=()`. A feature the page allows is allowed for this origin (and for the origins
    the policy already lists for it)."""
    allowed = set(allowed)
    parts = []
    for feature, origins in policy.items():
        allowlist = list(origins)
        if feature in allowed and "self" not in allowlist:
            allowlist.insert(0, "self")
        parts.append(f"{feature}=({' '.join(allowlist)})")
    return ", ".join(parts)
