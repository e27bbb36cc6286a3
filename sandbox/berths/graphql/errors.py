"""Errors with ``extensions.type``, the berth service's convention.

The real service types its own errors ``VENEPAIKKA_ERROR`` (and ``VENEPAIKKA_WARNING``); its
authentication errors come from graphql_jwt untyped, with one message for "no token" and "not
allowed". The simulator keeps ``VENEPAIKKA_ERROR`` for business errors and types the rest, so
that a client can tell "renew the token" from "this is forbidden":

- ``NOT_AUTHENTICATED``: no bearer token, or one that is not a valid token for this service
  (bad signature, issuer or audience);
- ``TOKEN_EXPIRED``: a valid token past its ``exp``: renew it and try again;
- ``PERMISSION_DENIED``: a valid token that may not do this (a citizen's token listing all
  leases or reading someone else's profile);
- ``VENEPAIKKA_ERROR``: the request itself is wrong (a malformed id, an unknown ``orderBy``,
  a page size over the limit);
- ``GENERAL_ERROR``: anything unexpected inside the service.
"""

from __future__ import annotations

from graphql import GraphQLError

NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
TOKEN_EXPIRED = "TOKEN_EXPIRED"
PERMISSION_DENIED = "PERMISSION_DENIED"
VENEPAIKKA_ERROR = "VENEPAIKKA_ERROR"
GENERAL_ERROR = "GENERAL_ERROR"

_MESSAGES = {
    NOT_AUTHENTICATED: "Authentication credentials were not provided or are not valid",
    TOKEN_EXPIRED: "Signature has expired",
    PERMISSION_DENIED: "You do not have permission to perform this action.",
    VENEPAIKKA_ERROR: "Invalid request",
    GENERAL_ERROR: "Something went wrong.",
}


class BerthServiceError(GraphQLError):
    def __init__(self, error_type: str, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES[error_type], extensions={"type": error_type})
