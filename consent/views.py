"""The approval page a service sends the citizen's browser to: what is asked, by whom, why;
approve or refuse; back to the service. A plain page until the full web UI arrives."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from consent.selectors import request_effective_state
from consent.services import ConsentError, consent_request_decide, consent_request_open
from wallet import catalogue
from wallet.assurance import SENSITIVE_MIN_LOA, loa_at_least
from wallet.auth.principal import principal_from_session


@never_cache
@require_http_methods(["GET", "POST"])
def consent_request_page(request: HttpRequest, request_id: str) -> HttpResponse:
    principal = principal_from_session(request)
    if principal is None:
        login = reverse("oidc_authentication_init")
        return redirect(f"{login}?{urlencode({'next': request.path})}")
    try:
        if request.method == "POST":
            decision = consent_request_decide(
                citizen=principal.citizen,
                loa=principal.loa,
                request_id=request_id,
                approve=request.POST.get("decision") == "approve",
            )
            # The redirect URI was checked against the service's registration when it asked.
            return HttpResponseRedirect(decision.redirect_url)
        consent_request = consent_request_open(citizen=principal.citizen, request_id=request_id)
    except ConsentError as error:
        status = 404 if error.code == "NOT_FOUND" else 409 if error.code == "CONFLICT" else 400
        return render(request, "consent/error.html", {"message": error.message}, status=status)
    fields = [catalogue.field_by_id(field_id) for field_id in consent_request.fields]
    context = {
        "consent_request": consent_request,
        "state": request_effective_state(consent_request),
        "service": consent_request.service,
        "purpose": consent_request.purpose,
        "fields": [(f.labels.en, f.sensitive) for f in fields],
        "needs_stronger_login": any(f.sensitive for f in fields)
        and not loa_at_least(principal.loa, SENSITIVE_MIN_LOA),
    }
    return render(request, "consent/request.html", context)
