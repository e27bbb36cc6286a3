"""Errors with the youth service's ``extensions.code`` values."""

from __future__ import annotations

from graphql import GraphQLError

GENERAL_ERROR = "GENERAL_ERROR"
PERMISSION_DENIED_ERROR = "PERMISSION_DENIED_ERROR"
TOKEN_EXPIRED_ERROR = "TOKEN_EXPIRED_ERROR"
OBJECT_DOES_NOT_EXIST_ERROR = "OBJECT_DOES_NOT_EXIST_ERROR"

_MESSAGES = {
    GENERAL_ERROR: "Something went wrong.",
    PERMISSION_DENIED_ERROR: "You do not have permission to perform this action",
    TOKEN_EXPIRED_ERROR: "Token has expired",
    OBJECT_DOES_NOT_EXIST_ERROR: "Object does not exist",
}


class YouthServiceError(GraphQLError):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES[code], extensions={"code": code})
