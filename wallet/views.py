"""The plain pages of the first version: a front page and the citizen's own data; and the
wallet's public signing keys."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from wallet import catalogue, hooks, signing
from wallet.assurance import field_visible
from wallet.auth.pages import citizen_page
from wallet.auth.principal import Principal, principal_from_session
from wallet.forms import ProfileForm
from wallet.i18n import localized
from wallet.selectors import RecordView, citizen_wallet
from wallet.services import SOURCE_CITIZEN, profile_update_by_citizen

WITHHELD = "Shown after a stronger login"


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(_display(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)


def record_rows(
    *, record: RecordView, kind: catalogue.RecordKind, loa: str | None
) -> list[tuple[str, str]]:
    """A record as (label, shown value) rows for a page: empty fields left out, sensitive ones
    replaced by a notice below the assurance they need."""
    rows = []
    for field in kind.fields:
        value = record.get(field.key)
        if value in (None, "", []):
            continue
        shown = _display(value) if field_visible(field, loa) else WITHHELD
        rows.append((field.labels.en, shown))
    return rows


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The profile, then the sections the apps register (wallet.hooks): the youth card, the
    latest syncs."""
    principal = principal_from_session(request)
    if principal is None:
        return render(request, "wallet/welcome.html")
    wallet = citizen_wallet(citizen=principal.citizen)
    sections: list[SafeString] = [
        render_to_string(section.template, section.context, request)
        for section in hooks.home_sections(principal=principal, wallet=wallet)
    ]
    context = {
        "profile": [
            (field.labels.en, wallet.profile[field.key])
            for field in catalogue.PROFILE.fields
            if field.key in wallet.profile
        ],
        "sections": sections,
    }
    return render(request, "wallet/home.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_page
def profile_edit(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The citizen corrects the profile: what they enter is theirs; where each value came from
    is shown beside it."""
    editable = [f for f in catalogue.PROFILE.fields if f.self_entered]
    profile = citizen_wallet(citizen=principal.citizen).profile
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            values = {f.key: form.cleaned_data.get(f.key) or "" for f in editable}
            changed = profile_update_by_citizen(citizen=principal.citizen, values=values)
            if changed:
                messages.success(request, _("Your changes were saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("profile")
    else:
        form = ProfileForm(initial={key: entry.value for key, entry in profile.items()})
    origins = {
        f.key: (
            (_("you") if profile[f.key].source == SOURCE_CITIZEN else _("your Helsinki login"))
            if f.key in profile
            else None
        )
        for f in editable
    }
    rows = [(form[f.key], origins[f.key], profile.get(f.key)) for f in editable]
    return render(
        request,
        "wallet/profile.html",
        {"form": form, "rows": rows, "title": localized(catalogue.PROFILE.labels)},
    )


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """The public keys consent receipts verify against: no login, cacheable by anyone."""
    response = JsonResponse(signing.jwks(), content_type="application/jwk-set+json")
    response["Cache-Control"] = "public, max-age=300"
    return response
