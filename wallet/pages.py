"""The access log page: who read the citizen's data, what, when and under which consent.

Personal, like every page with `citizen_page` (wallet.auth.pages): a visitor is sent to sign in
and brought back; never cached (the middleware adds no-store to every signed-in response too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from wallet import access_log
from wallet.auth.pages import citizen_page
from wallet.auth.principal import Principal
from wallet.catalogue import Labels, field_by_id
from wallet.i18n import localized

ACCESS_LOG_PAGE_SIZE = 20


@dataclass(frozen=True)
class LogEntryShown:
    seq: int
    created_at: datetime
    service_name: str
    fields: list[Labels]
    withheld: list[Labels]
    consent_references: list[str]


def _labels(field_id: str) -> Labels:
    try:
        return field_by_id(field_id).labels
    except KeyError:  # a kind no longer in the catalogue: its id is all there is
        return Labels(field_id, field_id, field_id)


def _service_name(service: dict[str, Any]) -> str:
    """In the page's language when the entry holds the three names (reads since they were
    kept), else the English name of older entries, else the slug."""
    names = service.get("names")
    if isinstance(names, dict) and all(
        isinstance(names.get(code), str) for code in ("fi", "sv", "en")
    ):
        return localized(Labels(names["fi"], names["sv"], names["en"]))
    return str(service.get("name") or service.get("slug") or "")


def access_log_entry_shown(item: access_log.AccessLogItem) -> LogEntryShown:
    """An entry in plain language: the service's name as it was at the read (its snapshot in
    the sealed details), the fields by their catalogue labels, the consents by short reference
    (as the consents page shows them)."""
    details: dict[str, Any] = item.details
    service = details.get("service") or {}
    return LogEntryShown(
        seq=item.seq,
        created_at=item.created_at,
        service_name=_service_name(service) or str(item.service_id),
        fields=[_labels(f) for f in details.get("fields", [])],
        withheld=[_labels(f) for f in details.get("withheld", [])],
        consent_references=[str(c)[:8] for c in item.consent_ids],
    )


def _before(request: HttpRequest) -> int | None:
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        return None
    return before if before > 0 else None


@never_cache
@require_safe
@citizen_page
def access_log_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Who read what, when, under which consent: newest first, a page at a time (`?before=`
    the oldest sequence number shown)."""
    before = _before(request)
    page = access_log.access_log_page(
        citizen=principal.citizen, first=ACCESS_LOG_PAGE_SIZE, before_seq=before
    )
    entries = [access_log_entry_shown(item) for item in page.items]
    context = {
        "entries": entries,
        "older": entries[-1].seq if page.has_next_page and entries else None,
        "is_first_page": before is None,
    }
    return render(request, "wallet/access_log.html", context)
