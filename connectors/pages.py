"""The connectors' parts of the citizen's pages: every source's records on the front page with
their freshness and why the city holds them, "refresh my data" and its progress, and linking a
library card. Staff pages are in connectors/views.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors import base
from connectors.errors import UpstreamError
from connectors.library.services import LinkError, LinkErrorCode, library_card_link
from connectors.models import LibraryLink, SyncRun
from connectors.selectors import citizen_newest_own_runs, citizen_sources
from connectors.tasks import citizen_sync_enqueue
from wallet.auth.pages import citizen_page
from wallet.auth.principal import Principal
from wallet.catalogue import Labels
from wallet.display import record_rows
from wallet.hooks import HomeSection
from wallet.i18n import localized
from wallet.selectors import CitizenWallet

REFRESH_REASON = "refresh"


@dataclass
class KindOnPage:
    label: str
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SourceOnPage:
    name: str
    label: str
    last_synced_at: datetime | None
    status: str | None
    error_code: str | None
    info: base.SourceInfo
    retention: Labels  # the retention in force, in words (info.retention with its days)
    kinds: list[KindOnPage]
    needs_link: bool = False

    @property
    def empty(self) -> bool:
        return not any(kind.records for kind in self.kinds)


def _status_text(status: str | None) -> str:
    return str(STATUS_TEXT[status]) if status in STATUS_TEXT else ""


STATUS_TEXT: dict[str, Any] = {
    SyncRun.Status.RUNNING: gettext_lazy("Updating…"),
    SyncRun.Status.SUCCEEDED: gettext_lazy("Up to date"),
    SyncRun.Status.PARTIAL: gettext_lazy("Partly updated"),
    SyncRun.Status.FAILED: gettext_lazy("Update failed"),
    SyncRun.Status.ABANDONED: gettext_lazy("Update interrupted"),
}


def sources_home_section(principal: Principal, wallet: CitizenWallet) -> HomeSection:
    """Each source: its records by kind (sensitive fields held back below the assurance they
    need), when they last came through, and why the city holds them."""
    connectors = base.connectors()
    statuses = {
        s.name: s for s in citizen_sources(citizen=principal.citizen, connectors=connectors)
    }
    sources = []
    for connector in connectors:
        status = statuses[connector.source]
        kinds = []
        for kind in connector.kinds:
            assert kind.kind is not None
            records = [
                {
                    "rows": record_rows(record=record, kind=kind, loa=principal.loa),
                    "fetched_at": record.fetched_at,
                }
                for record in wallet.records(source=connector.source, kind=kind.kind)
            ]
            kinds.append(KindOnPage(label=localized(kind.labels), records=records))
        sources.append(
            SourceOnPage(
                name=connector.source,
                label=localized(connector.labels),
                last_synced_at=status.last_synced_at,
                status=_status_text(status.status),
                error_code=status.error_code,
                info=connector.info,
                retention=connector.retention_text,
                kinds=kinds,
                needs_link=connector.needs_citizen_link(principal.citizen),
            )
        )
    return HomeSection(
        "connectors/sources_section.html",
        {"sources": sources},
        scripts=("connectors/refresh.js",),
    )


# --- Refresh my data -------------------------------------------------------------------------


@require_POST
@citizen_page
def refresh(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Sync the citizen's sources: in the background when a broker is configured (the page does
    not wait), else right after this request's commit."""
    request.session["refresh_started_at"] = timezone.now().isoformat()
    citizen_sync_enqueue(citizen_id=principal.citizen.pk, reason=REFRESH_REASON)
    messages.info(request, _("Your data is being updated from the city's systems."))
    return redirect(f"{reverse('home')}?refreshing=1")


@never_cache
@require_GET
@citizen_page
def refresh_status(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The refresh's progress, for the front page's script: per source, the newest run of the
    citizen's own since the refresh started."""
    started = request.session.get("refresh_started_at")
    since = datetime.fromisoformat(started) if started else None
    newest = citizen_newest_own_runs(citizen=principal.citizen, since=since)
    sources = []
    for connector in base.connectors():
        latest = newest.get(connector.source)
        sources.append(
            {
                "source": connector.source,
                "label": localized(connector.labels),
                "status": latest.status if latest else None,
                "text": _status_text(latest.status) if latest else str(_("Waiting")),
                "fetched": latest.fetched if latest else 0,
            }
        )
    done = all(s["status"] not in (None, SyncRun.Status.RUNNING) for s in sources)
    return JsonResponse({"done": done, "sources": sources})


# --- Linking a library card ------------------------------------------------------------------


class LibraryCardForm(forms.Form):
    barcode = forms.CharField(
        label=gettext_lazy("Library card number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "hds-text-input__input", "autocomplete": "off", "inputmode": "numeric"}
        ),
    )
    pin = forms.CharField(
        label=gettext_lazy("PIN"),
        max_length=32,
        widget=forms.PasswordInput(
            attrs={"class": "hds-text-input__input", "autocomplete": "current-password"}
        ),
    )


def _link_error_text(error: LinkError) -> str:
    if error.code == LinkErrorCode.RATE_LIMITED:
        minutes = 1
        if error.retry_at is not None:
            seconds = (error.retry_at - timezone.now()).total_seconds()
            minutes = max(1, math.ceil(seconds / 60))
        return ngettext(
            "Too many attempts with this card or from your account. To protect the card, the "
            "next try is possible in %(minutes)d minute.",
            "Too many attempts with this card or from your account. To protect the card, the "
            "next try is possible in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    texts = {
        LinkErrorCode.INVALID: _("Check the card number and the PIN."),
        LinkErrorCode.WRONG_CREDENTIALS: _(
            "The card number or the PIN is wrong. After a few wrong tries, linking is paused "
            "for a while to protect the card."
        ),
        LinkErrorCode.ALREADY_LINKED: _("This card is already linked to another account."),
    }
    return texts[error.code]


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_page
def library_link(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = LibraryCardForm(request.POST or None)
    linked = LibraryLink.objects.filter(citizen=principal.citizen).exists()
    if request.method == "POST" and form.is_valid():
        try:
            library_card_link(
                citizen=principal.citizen,
                barcode=form.cleaned_data["barcode"],
                pin=form.cleaned_data["pin"],
            )
        except LinkError as error:
            form.add_error(
                error.field if error.field in form.fields else None, _link_error_text(error)
            )
        except UpstreamError:
            form.add_error(None, _("The library cannot be reached right now. Try again later."))
        else:
            messages.success(
                request, _("Your library card is linked. Your loans and holds are on their way.")
            )
            return redirect("home")
    return render(request, "connectors/library_link.html", {"form": form, "linked": linked})
