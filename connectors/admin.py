from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connectors import services
from connectors.config import config_cache_clear, connector_secret_set
from connectors.models import ConnectorConfig, SyncRun


class ConnectorConfigForm(forms.ModelForm):
    new_client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Leave blank to keep the current secret. It is stored encrypted and never shown."
        ),
    )
    clear_client_secret = forms.BooleanField(
        required=False, help_text=_("Use the secret from the environment again.")
    )

    class Meta:
        model = ConnectorConfig
        fields = (
            "source",
            "enabled",
            "sweep_interval_minutes",
            "base_url",
            "token_url",
            "client_id",
            "pin_case_sensitive",
        )


def _start_sweeps(
    request: HttpRequest, configs: QuerySet[ConnectorConfig], *, incremental: bool
) -> None:
    for config in configs:
        try:
            run = services.sweep_start(
                source=config.source, incremental=incremental, trigger=f"admin:{request.user.pk}"
            )
        except (services.SweepAlreadyRunning, services.SourceDisabled) as exc:
            messages.warning(request, str(exc))
        else:
            messages.info(
                request,
                gettext("%(source)s: sweep %(run)s %(status)s")
                % {"source": config.source, "run": run.pk, "status": run.get_status_display()},
            )


@admin.register(ConnectorConfig)
class ConnectorConfigAdmin(admin.ModelAdmin):
    form = ConnectorConfigForm
    list_display = ("source", "enabled", "sweep_interval_minutes", "base_url", "has_client_secret")
    actions = ["sync_now_incremental", "sync_now_full"]

    @admin.display(boolean=True, description=_("own secret"))
    def has_client_secret(self, obj: ConnectorConfig) -> bool:
        return bool(obj.client_secret_sealed)

    def save_model(
        self, request: HttpRequest, obj: ConnectorConfig, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("clear_client_secret"):
            connector_secret_set(config=obj, secret="")
        elif form.cleaned_data.get("new_client_secret"):
            connector_secret_set(config=obj, secret=form.cleaned_data["new_client_secret"])
        config_cache_clear()

    @admin.action(description=_("Sync now: incremental sweep"))
    def sync_now_incremental(
        self, request: HttpRequest, queryset: QuerySet[ConnectorConfig]
    ) -> None:
        _start_sweeps(request, queryset, incremental=True)

    @admin.action(description=_("Sync now: full sweep"))
    def sync_now_full(self, request: HttpRequest, queryset: QuerySet[ConnectorConfig]) -> None:
        _start_sweeps(request, queryset, incremental=False)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "source",
        "mode",
        "trigger",
        "status",
        "citizens",
        "created",
        "updated",
        "unchanged",
        "ended",
        "failed",
        "purged",
        "error_code",
    )
    list_filter = ("source", "mode", "status", "error_code")
    search_fields = ("=id", "trigger")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
