"""The core's pages: the front page (the citizen's data, with the apps' sections), the profile,
the record of processing, the citizen's data export, erasing everything; and the wallet's public
signing keys and export schema."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib import auth, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from wallet import catalogue, hooks, processing, signing
from wallet.auth.oidc import provider_logout_url
from wallet.auth.pages import citizen_page
from wallet.auth.principal import Principal, principal_from_session
from wallet.display import record_rows
from wallet.erasure import citizen_erase
from wallet.export import citizen_export, export_filename, export_text, schema_path
from wallet.forms import ErasureForm, ProfileForm
from wallet.i18n import localized
from wallet.selectors import citizen_wallet
from wallet.services import SOURCE_CITIZEN, profile_update_by_citizen

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The citizen's data: the profile, then the sections the apps register (wallet.hooks):
    every source's records, consents. A visitor sees what the wallet is, and signs in."""
    principal = principal_from_session(request)
    if principal is None:
        return render(request, "wallet/welcome.html")
    wallet = citizen_wallet(citizen=principal.citizen)
    sections = hooks.home_sections(principal=principal, wallet=wallet)
    rendered: list[SafeString] = [
        render_to_string(section.template, section.context, request) for section in sections
    ]
    context = {
        "profile": [
            (localized(field.labels), wallet.profile[field.key])
            for field in catalogue.PROFILE.fields
            if field.key in wallet.profile
        ],
        "sections": rendered,
        "scripts": list(dict.fromkeys(path for s in sections for path in s.scripts)),
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
        {"form": form, "rows": rows, "title": _("Profile")},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_page
def erase(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Erase my data: what happens, a confirmation, then the erasure; the citizen is signed out
    of the wallet and of the Helsinki login, and comes back to the "data erased" page."""
    if request.method == "POST":
        form = ErasureForm(request.POST)
        if form.is_valid():
            try:
                citizen_erase(citizen=principal.citizen)
            except Exception:
                # before the commit point: nothing changed (after it, erasing does not raise)
                logger.exception("erasing citizen %s failed", principal.citizen.pk)
                messages.error(
                    request,
                    _("Your data could not be erased just now. Nothing was changed: try again."),
                )
                return redirect("erase")
            end_session = provider_logout_url(request, back_to=reverse("erased"))
            auth.logout(request)  # this session; the citizen's others went with the erasure
            return redirect(end_session)
    else:
        form = ErasureForm()
    return render(request, "wallet/erase.html", {"form": form, "title": _("Erase my data")})


@never_cache
@require_safe
def erased(request: HttpRequest) -> HttpResponse:
    """Where the Helsinki login sends the browser back after an erasure."""
    return render(request, "wallet/erased.html", {"title": _("Your data has been erased")})


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """The public keys consent receipts verify against: no login, cacheable by anyone."""
    response = JsonResponse(signing.jwks(), content_type="application/jwk-set+json")
    response["Cache-Control"] = "public, max-age=300"
    return response


@never_cache
@require_GET
@citizen_page
def export_download(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Everything the wallet holds about the citizen, as a signed JSON file (docs/export.md)."""
    document = citizen_export(citizen=principal.citizen)
    response = HttpResponse(export_text(document), content_type="application/json; charset=utf-8")
    exported_at = datetime.fromisoformat(document["exportedAt"])
    response["Content-Disposition"] = f'attachment; filename="{export_filename(exported_at)}"'
    return response


@require_safe
def export_schema(request: HttpRequest, version: int) -> HttpResponse:
    """The JSON Schema of one version of the export format: public, like the JWKS."""
    path = schema_path(version)
    if not path.is_file():
        raise Http404("No such version of the export format.")
    response = HttpResponse(path.read_bytes(), content_type="application/schema+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


# `?format=` wins; without it, the Accept header chooses (a browser gets the page).
PROCESSING_FORMATS = {"html": "text/html", "json": "application/json"}


def _processing_format(request: HttpRequest) -> str | None:
    chosen = request.GET.get("format")
    if chosen is not None:
        return chosen if chosen in PROCESSING_FORMATS else None
    preferred = request.get_preferred_type(list(PROCESSING_FORMATS.values()))
    return "json" if preferred == PROCESSING_FORMATS["json"] else "html"


@require_safe
def processing_record_view(request: HttpRequest) -> HttpResponse:
    """The record of processing (GDPR article 30): public, no personal data. JSON with
    `?format=json` or `Accept: application/json`, else the page, in the page's language."""
    wanted = _processing_format(request)
    if wanted is None:
        return HttpResponseBadRequest(
            "Unknown format: ask for ?format=json or ?format=html.", content_type="text/plain"
        )
    record = processing.processing_record()
    if wanted == "json":
        response: HttpResponse = JsonResponse(
            processing.processing_record_json(record), json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(request, "wallet/processing.html", {"record": record})
    patch_vary_headers(response, ("Accept",))
    patch_cache_control(response, public=True, max_age=300)
    return response


__all__ = ["record_rows"]  # the apps' page sections show their records with it
