"""Sierra's error JSON: ``{code, specificCode, httpStatus, name, description}``.

The codes are Sierra's own: 107 "Record not found" (404, also for an empty date range), 108
"Invalid parameter" (400, also a wrong barcode or PIN on ``patrons/validate``), 123
"Unauthorized" (401, a missing, unknown or expired token, or a bad client key on ``token``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import JsonResponse


@dataclass(frozen=True)
class SierraErrorCode:
    code: int
    http_status: int
    name: str


RECORD_NOT_FOUND = SierraErrorCode(107, 404, "Record not found")
INVALID_PARAMETER = SierraErrorCode(108, 400, "Invalid parameter")
UNAUTHORIZED = SierraErrorCode(123, 401, "Unauthorized")


class SierraError(Exception):
    def __init__(self, error: SierraErrorCode, description: str | None = None) -> None:
        super().__init__(description or error.name)
        self.error = error
        self.description = description

    def response(self) -> JsonResponse:
        body: dict[str, object] = {
            "code": self.error.code,
            "specificCode": 0,
            "httpStatus": self.error.http_status,
            "name": self.error.name,
        }
        if self.description is not None:
            body["description"] = self.description
        return JsonResponse(body, status=self.error.http_status)


def invalid_parameter(detail: str) -> SierraError:
    return SierraError(INVALID_PARAMETER, f"Invalid parameter : {detail}")
