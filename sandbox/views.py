"""The sandbox's front page (what runs here, so a person trying `make run` can find it), the
fault switch that tests flip across the process boundary, and the upstreams' traffic counts and
latency."""

import ipaddress
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import traffic
from sandbox.demo import DEMO_USERS
from sandbox.faults import FaultSpecError, format_faults, parse_faults, state

SERVICES = [
    ("OpenID Connect provider (discovery)", "/idp/.well-known/openid-configuration"),
    ("JWKS", "/idp/.well-known/jwks.json"),
    ("Youth membership API (GraphQL, POST)", "/youth/graphql/"),
    ("Boat berths API (GraphQL, POST)", "/berths/graphql/"),
    ("Library API (Sierra REST v6, token first)", "/library/iii/sierra-api/v6/token"),
    ('Fault switch (GET shows, POST {"faults": "youth:500:0.2"} sets)', "/_faults/"),
    ('Traffic counts and latency (GET shows, POST {"latency_ms": 50} resets)', "/_traffic/"),
]


def index(request: HttpRequest) -> HttpResponse:
    base = settings.BASE_URL
    services = "".join(
        f'<li>{escape(name)}: <a href="{escape(base + path)}">{escape(base + path)}</a></li>'
        for name, path in SERVICES
    )
    users = "".join(f"<li><code>{escape(u.username)}</code></li>" for u in DEMO_USERS)
    html = (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>Sandbox</title>"
        "<h1>Sandbox: local stand-ins for the city's systems</h1>"
        f"<ul>{services}</ul>"
        f"<h2>Demo users (password <code>demo</code>)</h2><ul>{users}</ul></html>"
    )
    return HttpResponse(html)


def _faults_json() -> JsonResponse:
    return JsonResponse(
        {
            "faults": format_faults(state.faults),
            "active": [
                {"system": fault.system, "kind": fault.kind.value, "rate": fault.rate}
                for fault in state.faults
            ],
        }
    )


def _is_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@csrf_exempt
@require_http_methods(["GET", "POST"])
def faults(request: HttpRequest) -> HttpResponse:
    """The active fault spec; POST ``{"faults": "<spec>"}`` replaces it (``""`` clears) and
    restarts the request counters. Loopback callers only; no authentication (sandbox only)."""
    if not _is_loopback(request):
        return JsonResponse({"error": "the fault switch answers loopback callers only"}, status=403)
    if request.method == "POST":
        try:
            body = json.loads(request.body or b"{}")
            spec = body["faults"]
            if not isinstance(spec, str):
                raise TypeError(spec)
            state.replace(parse_faults(spec))
        except (ValueError, KeyError, TypeError) as exc:
            message = (
                str(exc) if isinstance(exc, FaultSpecError) else 'expected {"faults": "<spec>"}'
            )
            return JsonResponse({"error": message}, status=400)
    return _faults_json()


def _traffic_json() -> JsonResponse:
    return JsonResponse(
        {"latency_ms": traffic.state.latency_ms, "systems": traffic.state.snapshot()}
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def traffic_counts(request: HttpRequest) -> HttpResponse:
    """Per upstream system, the requests and the most in flight at once since the last reset,
    and the latency in force; POST resets the counts (``{"latency_ms": n}`` also sets the
    latency). Loopback callers only, like the fault switch."""
    if not _is_loopback(request):
        refused = {"error": "the traffic counts answer loopback callers only"}
        return JsonResponse(refused, status=403)
    if request.method == "POST":
        try:
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise traffic.LatencyError('expected {"latency_ms": <milliseconds>} or {}')
            latency = body.get("latency_ms")
            traffic.state.reset(
                latency_ms=None if latency is None else traffic.parse_latency(latency)
            )
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    return _traffic_json()
