"""The citizen's consent pages: the approval page a service sends the browser to, the pending
requests, the consents given (withdrawal, receipts). Thin: the reads are consent.selectors', the
writes consent.services'. `wallet.auth.pages.citizen_page` signs the visitor in first; no page
is cached."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from consent import iso27560, selectors
from consent.services import ConsentError, consent_request_decide, consent_request_open
from consent.services import consent_withdraw as consent_withdraw_service
from wallet.assurance import SENSITIVE_MIN_LOA, loa_at_least
from wallet.auth.pages import citizen_page
from wallet.auth.principal import Principal
from wallet.i18n import localized

# The domain's errors (consent.services) in the page's language; by code when the text is new.
_ERROR_TEXTS = {
    "No such consent request.": gettext_lazy("There is no such consent request for you."),
    "The request has expired; ask the service again.": gettext_lazy(
        "The request has expired. Ask the service to send you a new one."
    ),
    "The request has already been decided.": gettext_lazy(
        "You have already answered this request."
    ),
    "The service is no longer registered for these fields.": gettext_lazy(
        "The service may no longer ask for these data, so they cannot be shared."
    ),
    "No such consent.": gettext_lazy("There is no such consent."),
    "The consent has expired.": gettext_lazy("The consent has already expired."),
    "The consent is no longer in force.": gettext_lazy("The consent is no longer in force."),
}
_ERROR_BY_CODE = {
    "NOT_FOUND": gettext_lazy("There is no such consent request for you."),
    "CONFLICT": gettext_lazy("This request can no longer be answered."),
    "INSUFFICIENT_ASSURANCE": gettext_lazy(
        "Some of these data are sensitive: sign in with strong authentication to share them."
    ),
}
_ERROR_STATUS = {"NOT_FOUND": 404, "CONFLICT": 409}


def _error_text(error: ConsentError) -> str:
    text = _ERROR_TEXTS.get(error.message) or _ERROR_BY_CODE.get(error.code)
    return str(text or gettext("The request could not be handled."))


def _strong_login(principal: Principal) -> bool:
    return loa_at_least(principal.loa, SENSITIVE_MIN_LOA)


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_page
def consent_request_page(
    request: HttpRequest, principal: Principal, request_id: str
) -> HttpResponse:
    """The approval page: who asks, what, why and until when; share or not, then back to the
    service (the redirect URI was checked against its registration when it asked)."""
    try:
        if request.method == "POST":
            decision = consent_request_decide(
                citizen=principal.citizen,
                loa=principal.loa,
                request_id=request_id,
                approve=request.POST.get("decision") == "approve",
            )
            return HttpResponseRedirect(decision.redirect_url)
        consent_request = consent_request_open(citizen=principal.citizen, request_id=request_id)
    except ConsentError as error:
        status = _ERROR_STATUS.get(error.code, 400)
        return render(request, "consent/error.html", {"message": _error_text(error)}, status=status)
    context = {
        "asked": selectors.request_shown(consent_request),
        "strong_login": _strong_login(principal),
    }
    response = render(request, "consent/request.html", context)
    # The answer goes back to the service: the CSP's form-action must allow that one origin
    # (browsers apply it to the form's redirect too), and only on this page.
    response._csp_update = {"form-action": [_origin(consent_request.redirect_uri)]}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@never_cache
@require_safe
@citizen_page
def consent_requests(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The requests waiting for the citizen's answer."""
    context = {
        "requests": selectors.consent_requests_pending_shown(citizen=principal.citizen),
        "strong_login": _strong_login(principal),
    }
    return render(request, "consent/requests.html", context)


@never_cache
@require_POST
@citizen_page
def consent_request_answer(
    request: HttpRequest, principal: Principal, request_id: str
) -> HttpResponse:
    """Share or not from the requests page: the answer is confirmed here, in the wallet."""
    approve = request.POST.get("decision") == "approve"
    try:
        decision = consent_request_decide(
            citizen=principal.citizen, loa=principal.loa, request_id=request_id, approve=approve
        )
    except ConsentError as error:
        if error.code == "NOT_FOUND":
            raise Http404 from error
        messages.error(request, _error_text(error))
        return redirect("consent-requests")
    name = localized(selectors.service_name(decision.request.service))
    if approve:
        messages.success(
            request, gettext("You shared the data with %(service)s.") % {"service": name}
        )
        return redirect("consents")
    messages.success(
        request, gettext("You did not share anything with %(service)s.") % {"service": name}
    )
    return redirect("consent-requests")


@never_cache
@require_safe
@citizen_page
def consents(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The consents given: those in force, with one-click withdrawal, and the past ones."""
    shown = selectors.citizen_consents_shown(citizen=principal.citizen)
    context = {
        "active": [c for c in shown if c.in_force],
        "past": [c for c in shown if not c.in_force],
    }
    return render(request, "consent/consents.html", context)


@never_cache
@require_POST
@citizen_page
def consent_withdraw(
    request: HttpRequest, principal: Principal, consent_id: uuid.UUID
) -> HttpResponse:
    """Withdraw in one click: the service's very next read gets nothing."""
    try:
        consent_withdraw_service(citizen=principal.citizen, consent_id=consent_id)
    except ConsentError as error:
        if error.code == "NOT_FOUND":
            raise Http404 from error
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            gettext("You withdrew the consent. The service gets none of these data any more."),
        )
    return redirect("consents")


@never_cache
@require_safe
@citizen_page
def consent_receipt(
    request: HttpRequest, principal: Principal, consent_id: uuid.UUID
) -> HttpResponse:
    """The consent's signed receipt (a compact JWS) as a file: the citizen's own only."""
    receipt = selectors.consent_receipt(citizen=principal.citizen, consent_id=consent_id)
    if receipt is None:
        raise Http404
    response = HttpResponse(receipt, content_type="application/jose")
    response["Content-Disposition"] = f'attachment; filename="consent-receipt-{consent_id}.jws"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_safe
@citizen_page
def consent_record(
    request: HttpRequest, principal: Principal, consent_id: uuid.UUID
) -> HttpResponse:
    """The consent as an ISO/IEC TS 27560 consent record (JSON-LD) as a file: the citizen's own
    only, for another operator to import."""
    record = iso27560.consent_record(citizen=principal.citizen, consent_id=consent_id)
    if record is None:
        raise Http404
    response = JsonResponse(
        record,
        content_type="application/ld+json",
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    response["Content-Disposition"] = f'attachment; filename="consent-record-{consent_id}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
