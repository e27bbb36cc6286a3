"""How the consent domain's errors become API errors."""

from __future__ import annotations

from typing import NoReturn

from consent.services import ConsentError
from wallet.graphql.errors import ApiError, Error, ErrorCode

CODES = {
    "INVALID": ErrorCode.INVALID,
    "NOT_FOUND": ErrorCode.NOT_FOUND,
    "CONFLICT": ErrorCode.CONFLICT,
    "PERMISSION_DENIED": ErrorCode.PERMISSION_DENIED,
    "INSUFFICIENT_ASSURANCE": ErrorCode.INSUFFICIENT_ASSURANCE,
    "RATE_LIMITED": ErrorCode.RATE_LIMITED,
    "CONSENT_WITHDRAWN": ErrorCode.CONSENT_WITHDRAWN,
}


def error_code(error: ConsentError) -> ErrorCode:
    return CODES.get(error.code, ErrorCode.INVALID)


def mutation_error(error: ConsentError) -> Error:
    return Error(field=error.field, message=error.message, code=error_code(error))


def raise_api_error(error: ConsentError) -> NoReturn:
    raise ApiError(error.message, error_code(error)) from error
