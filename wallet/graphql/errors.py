"""Error codes the API returns, and how domain errors become them."""

from __future__ import annotations

from enum import StrEnum

import graphene
from graphql import GraphQLError


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    INSUFFICIENT_ASSURANCE = "INSUFFICIENT_ASSURANCE"
    INVALID = "INVALID"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    WRONG_CREDENTIALS = "WRONG_CREDENTIALS"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    INTERNAL_ERROR = "INTERNAL_ERROR"


ErrorCodeEnum = graphene.Enum.from_enum(ErrorCode, name="ErrorCode")


class Error(graphene.ObjectType):
    """A typed mutation error: which input field (if any), a readable message, a stable code."""

    field = graphene.String()
    message = graphene.String(required=True)
    code = graphene.Field(ErrorCodeEnum, required=True)


class ApiError(GraphQLError):
    """An error whose message is written for the client; `extensions.code` is stable."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message, extensions={"code": code.value})
