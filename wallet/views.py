"""The plain pages of the first version: a front page and the citizen's own data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from connectors.models import SyncRun
from wallet import catalogue
from wallet.models import Citizen
from wallet.selectors import citizen_wallet


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not isinstance(request.user, Citizen):
        return render(request, "wallet/welcome.html")
    wallet = citizen_wallet(citizen=request.user)
    youth_kind = catalogue.kind("youth.membership")
    memberships = wallet.records(source="youth", kind="membership")
    context = {
        "profile": [
            (field.labels.en, wallet.profile.get(field.key))
            for field in catalogue.PROFILE.fields
            if field.key in wallet.profile
        ],
        "youth": [
            [
                (youth_kind.field(key).labels.en, record.get(key))
                for key in youth_kind.field_keys()
                if record.get(key)
            ]
            for record in memberships
        ],
        "youth_fetched_at": memberships[0].fetched_at if memberships else None,
        "last_runs": SyncRun.objects.filter(citizen=request.user).order_by("-started_at")[:3],
    }
    return render(request, "wallet/home.html", context)
