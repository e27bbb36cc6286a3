"""Applies the latency and counts the traffic (:mod:`sandbox.traffic`) of the upstream
simulators, and the active faults (:mod:`sandbox.faults`) to their answers.

Latency and counts cover every upstream request, the library's token endpoint included. Faults
hit only the upstream APIs: never the OpenID provider (a connector cannot do anything
useful about a broken login), the library's token endpoint (so that a fault is always seen on
the call it was meant for, not on the token fetch before it), or the fault switch itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox import traffic
from sandbox.faults import BODY_KINDS, Fault, FaultKind, rewrite_body, state

FAULT_HEADER = "X-Sandbox-Fault"  # names the fault on every answer it touched (for debugging)

_PREFIXES = (
    ("/youth/", "youth"),
    ("/berths/", "berths"),
    ("/library/", "library"),
)
_EXEMPT_PATHS = ("/library/iii/sierra-api/v6/token",)


def upstream_for_path(path: str) -> str | None:
    """The upstream system a path belongs to, if any."""
    for prefix, system in _PREFIXES:
        if path.startswith(prefix):
            return system
    return None


def system_for_path(path: str) -> str | None:
    """The system whose faults apply to a path, if any."""
    if path.rstrip("/") in _EXEMPT_PATHS:
        return None
    return upstream_for_path(path)


class TrafficMiddleware:
    """Outermost: counts an upstream request in flight for all of its handling, and holds its
    answer back by the latency in force."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        system = upstream_for_path(request.path)
        if system is None:
            return self.get_response(request)
        with traffic.state.request(system):
            latency_ms = traffic.state.latency_ms
            if latency_ms:
                time.sleep(latency_ms / 1000)
            return self.get_response(request)


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
