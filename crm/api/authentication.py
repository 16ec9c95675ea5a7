"""`Authorization: Token <key>` for integration clients, checked against stored digests."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from crm.models import ApiToken
from crm.services import api_token_mark_used


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: use 'Authorization: Token <key>'.")
            )
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        api_token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
