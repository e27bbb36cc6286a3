"""The plain pages of the first version: a front page and the citizen's own data; and the
wallet's public signing keys."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from connectors.models import SyncRun
from wallet import catalogue, signing
from wallet.assurance import field_visible
from wallet.auth.principal import principal_from_session
from wallet.selectors import citizen_wallet

WITHHELD = "Shown after a stronger login"


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(_display(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    principal = principal_from_session(request)
    if principal is None:
        return render(request, "wallet/welcome.html")
    wallet = citizen_wallet(citizen=principal.citizen)
    youth_kind = catalogue.kind("youth.membership")
    memberships = wallet.records(source="youth", kind="membership")
    cards = []
    for record in memberships:
        rows = []
        for field in youth_kind.fields:
            value = record.get(field.key)
            if value in (None, "", []):
                continue
            shown = _display(value) if field_visible(field, principal.loa) else WITHHELD
            rows.append((field.labels.en, shown))
        cards.append({"rows": rows, "fetched_at": record.fetched_at})
    context = {
        "profile": [
            (field.labels.en, wallet.profile[field.key])
            for field in catalogue.PROFILE.fields
            if field.key in wallet.profile
        ],
        "youth_cards": cards,
        "last_runs": SyncRun.objects.filter(citizen=principal.citizen).order_by("-started_at")[:3],
    }
    return render(request, "wallet/home.html", context)


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """The public keys consent receipts verify against: no login, cacheable by anyone."""
    response = JsonResponse(signing.jwks(), content_type="application/jwk-set+json")
    response["Cache-Control"] = "public, max-age=300"
    return response
