"""The staff's sync pages: every source's state, "sync now", a run's counts, progress and
error samples. Thin: the reads are connectors.selectors', the writes connectors.services'."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from connectors import base, selectors, services
from connectors.models import SyncRun
from connectors.templatetags.connectors_staff import count_label, progress_text, run_status
from wallet.auth.oidc import SESSION_NAME_KEY
from wallet.auth.pages import sign_in_redirect
from wallet.i18n import localized

ALL_SOURCES = "all"


def staff_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only: anyone not signed in goes to sign in (and comes back); a signed-in citizen
    who is not staff gets a 403 page. Never stored by a cache."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return sign_in_redirect(request)
        if not request.user.is_staff:
            return render(request, "connectors/staff/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _staff_context(request: HttpRequest) -> dict[str, Any]:
    return {"staff_name": request.session.get(SESSION_NAME_KEY, "")}


class SyncNowForm(forms.Form):
    source = forms.ChoiceField()
    mode = forms.ChoiceField(choices=[("full", "full"), ("incremental", "incremental")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sources = [(c.source, c.source) for c in base.connectors()]
        source = self.fields["source"]
        assert isinstance(source, forms.ChoiceField)
        source.choices = [(ALL_SOURCES, ALL_SOURCES), *sources]


@staff_page
@require_GET
def sync_dashboard(request: HttpRequest) -> HttpResponse:
    rows = selectors.sync_dashboard(connectors=base.connectors())
    return render(
        request,
        "connectors/staff/dashboard.html",
        {
            **_staff_context(request),
            "rows": rows,
            "any_incremental": any(row.supports_incremental for row in rows),
            "now": timezone.now(),
        },
    )


def _label(source: str) -> str:
    return localized(base.connector_for(source).labels)


def _report(request: HttpRequest, outcome: services.SweepRequestOutcome) -> None:
    name = _label(outcome.source)
    if outcome.refused == "running":
        messages.warning(
            request,
            _("A sync of %(source)s is already running: follow its progress below.")
            % {"source": name},
        )
    elif outcome.refused == "disabled":
        messages.warning(
            request,
            _("%(source)s is switched off in the connector settings: nothing was started.")
            % {"source": name},
        )
    elif outcome.run is not None and outcome.run.status == SyncRun.Status.RUNNING:
        messages.info(request, _("A sync of %(source)s started.") % {"source": name})
    elif outcome.run is not None:
        level = (
            messages.SUCCESS if outcome.run.status == SyncRun.Status.SUCCEEDED else messages.WARNING
        )
        messages.add_message(
            request,
            level,
            _("The sync of %(source)s finished: %(status)s.")
            % {"source": name, "status": run_status(outcome.run.status)},
        )


@staff_page
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    """Start a sweep of one source or of all; the CSRF check is Django's middleware's."""
    form = SyncNowForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That sync cannot be started: choose a source and a mode."))
        return redirect("sync-dashboard")
    source = form.cleaned_data["source"]
    sources = [c.source for c in base.connectors()] if source == ALL_SOURCES else [source]
    outcomes = services.sweeps_request(
        sources=sources,
        incremental=form.cleaned_data["mode"] == "incremental",
        trigger=f"admin:{request.user.pk}",
    )
    for outcome in outcomes:
        _report(request, outcome)
    if len(outcomes) == 1:
        only = outcomes[0]
        run_id = only.run.pk if only.run is not None else only.running_run_id
        if run_id is not None:
            return redirect("sync-run", run_id=run_id)
    return redirect("sync-dashboard")


def _run_or_404(run_id: UUID) -> SyncRun:
    run = selectors.sync_run_get(run_id=run_id)
    if run is None:
        raise Http404
    return run


@staff_page
@require_GET
def sync_run(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = _run_or_404(run_id)
    progress = selectors.sweep_progress(run)
    end = run.finished_at or timezone.now()
    return render(
        request,
        "connectors/staff/run.html",
        {
            **_staff_context(request),
            "run": run,
            "source_label": _label(run.source) if run.source in _sources() else run.source,
            "progress": progress,
            "duration_seconds": max(int((end - run.started_at).total_seconds()), 0),
            "counts": [(count_label(name), name, getattr(run, name)) for name in run.counts],
            "progress_url": reverse("sync-run-progress", kwargs={"run_id": run.pk}),
        },
    )


def _sources() -> set[str]:
    return {c.source for c in base.connectors()}


@staff_page
@require_GET
def sync_run_progress(request: HttpRequest, run_id: UUID) -> HttpResponse:
    """A run's progress for the page's script to poll: never cached."""
    run = _run_or_404(run_id)
    progress = selectors.sweep_progress(run)
    return JsonResponse(
        {
            "id": str(run.pk),
            "source": run.source,
            "status": run.status,
            "statusLabel": str(run_status(run.status)),
            "running": run.status == SyncRun.Status.RUNNING,
            "chunksDone": progress.done,
            "chunksTotal": progress.total,
            "percent": progress.percent,
            "progressText": progress_text(progress),
            "counts": {name: getattr(run, name) for name in run.counts},
            "finishedAt": run.finished_at.isoformat() if run.finished_at else None,
        }
    )
