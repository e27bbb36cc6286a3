"""Applies the active faults (:mod:`sandbox.faults`) to the upstream simulators' answers.

Only the upstream APIs are hit: never the OpenID provider (a connector cannot do anything
useful about a broken login), the library's token endpoint (so that a fault is always seen on
the call it was meant for, not on the token fetch before it), or the fault switch itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox.faults import BODY_KINDS, Fault, FaultKind, rewrite_body, state

FAULT_HEADER = "X-Sandbox-Fault"  # names the fault on every answer it touched (for debugging)

_PREFIXES = (
    ("/youth/", "youth"),
    ("/berths/", "berths"),
    ("/library/", "library"),
)
_EXEMPT_PATHS = ("/library/iii/sierra-api/v6/token",)


def system_for_path(path: str) -> str | None:
    if path.rstrip("/") in _EXEMPT_PATHS:
        return None
    for prefix, system in _PREFIXES:
        if path.startswith(prefix):
            return system
    return None


def _marked(response: HttpResponse, fault: Fault) -> HttpResponse:
    response[FAULT_HEADER] = str(fault)
    return response


def _short_circuit(fault: Fault) -> HttpResponse | None:
    if fault.kind == FaultKind.SERVER_ERROR:
        return HttpResponse("Internal Server Error", status=500, content_type="text/plain")
    if fault.kind == FaultKind.RATE_LIMITED:
        response = HttpResponse("Too Many Requests", status=429, content_type="text/plain")
        response["Retry-After"] = "1"
        return response
    if fault.kind == FaultKind.MALFORMED:
        # Cut off mid-document, as a dropped connection behind a proxy leaves it.
        return HttpResponse('{"data": {"entries": [{"id": ', content_type="application/json")
    return None


def _rewritten(response: HttpResponse, fault: Fault) -> HttpResponse:
    if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
        return response
    try:
        body = json.loads(response.content)
    except ValueError:
        return response
    faulty = rewrite_body(body, system=fault.system, kind=fault.kind)
    response.content = json.dumps(faulty).encode()
    return response


class FaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        system = system_for_path(request.path)
        fault = state.draw(system) if system else None
        if fault is None:
            return self.get_response(request)
        replaced = _short_circuit(fault)
        if replaced is not None:
            return _marked(replaced, fault)
        if fault.kind == FaultKind.TIMEOUT:
            time.sleep(settings.FAULT_TIMEOUT_SECONDS)
            return _marked(self.get_response(request), fault)
        response = self.get_response(request)
        if fault.kind in BODY_KINDS:
            response = _rewritten(response, fault)
        return _marked(response, fault)
