"""Sierra ILS REST API v6 endpoints (plain JSON views).

Every endpoint but ``token`` wants ``Authorization: Bearer <token from POST token>``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox.library import selectors, services
from sandbox.library.errors import (
    RECORD_NOT_FOUND,
    UNAUTHORIZED,
    SierraError,
    invalid_parameter,
)
from sandbox.library.models import Patron
from sandbox.library.params import (
    date_range,
    datetime_range,
    fields_param,
    id_param,
    page_params,
)
from sandbox.library.representations import (
    CHECKOUT_FIELDS,
    FINE_FIELDS,
    HOLD_FIELDS,
    PATRON_DEFAULT_FIELDS,
    PATRON_FIELDS,
    deleted_patron_json,
    page_json,
    record_json,
)

View = Callable[..., HttpResponse]


def sierra_errors(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except SierraError as error:
            return error.response()

    return wrapper


def bearer_required(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SierraError(UNAUTHORIZED, "invalid_request")
        if not services.access_token_is_valid(token=token.strip()):
            # Sierra says the same for an unknown and an expired token: renew and retry once.
            raise SierraError(UNAUTHORIZED, "invalid_grant")
        return view(request, *args, **kwargs)

    return wrapper


def api_view(view: View) -> View:
    return csrf_exempt(sierra_errors(bearer_required(view)))


def _basic_auth(request: HttpRequest) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key, colon, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if colon else None


@csrf_exempt
@require_POST
@sierra_errors
def token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("grant_type") != "client_credentials":
        raise invalid_parameter("grant_type must be client_credentials")
    credentials = _basic_auth(request)
    issued = (
        services.access_token_issue(key=credentials[0], secret=credentials[1])
        if credentials
        else None
    )
    if issued is None:
        raise SierraError(UNAUTHORIZED, "invalid_client")
    return JsonResponse(
        {
            "access_token": issued,
            "token_type": "bearer",
            "expires_in": settings.LIBRARY_TOKEN_SECONDS,
        }
    )


def _patron_or_404(patron_id: int) -> Patron:
    patron = selectors.patron_get(patron_id=patron_id)
    if patron is None:
        raise SierraError(RECORD_NOT_FOUND)
    return patron


def _patron_fields(request: HttpRequest) -> list[str]:
    return fields_param(request.GET, available=PATRON_FIELDS, default=PATRON_DEFAULT_FIELDS)


@api_view
@require_POST
def patron_validate(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise invalid_parameter("the body must be JSON") from None
    barcode, pin = body.get("barcode"), body.get("pin")
    if not isinstance(barcode, str) or not isinstance(pin, str):
        raise invalid_parameter("barcode and pin are required")
    # caseSensitivity (default true) is about the PIN: false ignores the case of its letters.
    case_sensitive = body.get("caseSensitivity", True)
    if not isinstance(case_sensitive, bool):
        raise invalid_parameter("caseSensitivity must be true or false")
    patron = selectors.patron_find_by_barcode(barcode=barcode)
    if patron is None or not services.patron_pin_matches(
        patron=patron, pin=pin, case_sensitive=case_sensitive
    ):
        raise invalid_parameter("Invalid barcode or PIN")
    return HttpResponse(status=204)


@api_view
@require_GET
def patron_find(request: HttpRequest) -> HttpResponse:
    if request.GET.get("varFieldTag") != "b":
        raise invalid_parameter("only varFieldTag=b (barcode) is searchable here")
    content = request.GET.get("varFieldContent", "")
    fields = _patron_fields(request)
    patron = selectors.patron_find_by_barcode(barcode=content)
    if patron is None:
        raise SierraError(RECORD_NOT_FOUND)
    return JsonResponse(record_json(patron, PATRON_FIELDS, fields))


@api_view
@require_GET
def patron_detail(request: HttpRequest, patron_id: int) -> HttpResponse:
    fields = _patron_fields(request)
    return JsonResponse(record_json(_patron_or_404(patron_id), PATRON_FIELDS, fields))


@api_view
@require_GET
def patron_list(request: HttpRequest) -> HttpResponse:
    """Patrons by id, for sweeps: ``updatedDate=[from,to]``; the deleted ones:
    ``deleted=true&deletedDate=[from,to]``; or those of ``id=1,2,3`` / ``id=[from,to]``, live
    and deleted alike unless ``deleted`` says which. A date range or an id selection with
    nothing in it answers 404 (107)."""
    limit, offset = page_params(request.GET)
    ids = id_param(request.GET)
    deleted_flag = request.GET.get("deleted")
    if deleted_flag not in (None, "true", "false"):
        raise invalid_parameter("deleted must be true or false")
    if ids is not None:
        fields = _patron_fields(request)
        rows: list[dict[str, Any]] = []
        if deleted_flag != "true":
            updated = datetime_range(request.GET, "updatedDate")
            live = selectors.patron_list(updated=updated, ids=ids)
            rows += [record_json(patron, PATRON_FIELDS, fields) for patron in live]
        if deleted_flag != "false":
            deleted = date_range(request.GET, "deletedDate")
            gone = selectors.deleted_patron_list(deleted=deleted, ids=ids)
            rows += [deleted_patron_json(patron) for patron in gone]
        entries = sorted(rows, key=lambda row: row["id"])[offset : offset + limit]
        ranged = True
    elif deleted_flag == "true":
        deleted = date_range(request.GET, "deletedDate")
        gone = selectors.deleted_patron_list(deleted=deleted)[offset : offset + limit]
        entries = [deleted_patron_json(patron) for patron in gone]
        ranged = deleted is not None
    else:
        updated = datetime_range(request.GET, "updatedDate")
        fields = _patron_fields(request)
        patrons = selectors.patron_list(updated=updated)[offset : offset + limit]
        entries = [record_json(patron, PATRON_FIELDS, fields) for patron in patrons]
        ranged = updated is not None
    if ranged and not entries:
        raise SierraError(RECORD_NOT_FOUND)
    return JsonResponse(page_json(entries, start=offset))


def _sub_records(
    request: HttpRequest, patron_id: int, select: Callable[..., Any], table: dict[str, Any]
) -> HttpResponse:
    limit, offset = page_params(request.GET)
    fields = fields_param(request.GET, available=table, default=tuple(table))
    rows = select(patron=_patron_or_404(patron_id))[offset : offset + limit]
    return JsonResponse(page_json([record_json(row, table, fields) for row in rows], start=offset))


@api_view
@require_GET
def patron_checkouts(request: HttpRequest, patron_id: int) -> HttpResponse:
    return _sub_records(request, patron_id, selectors.checkout_list, CHECKOUT_FIELDS)


@api_view
@require_GET
def patron_holds(request: HttpRequest, patron_id: int) -> HttpResponse:
    return _sub_records(request, patron_id, selectors.hold_list, HOLD_FIELDS)


@api_view
@require_GET
def patron_fines(request: HttpRequest, patron_id: int) -> HttpResponse:
    return _sub_records(request, patron_id, selectors.fine_list, FINE_FIELDS)
