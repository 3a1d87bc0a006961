from rest_framework import authentication, exceptions

from .tokens import user_for_key


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` against our hashed API tokens."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        user = user_for_key(raw)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return (user, raw)

    def authenticate_header(self, request):
        return self.keyword
