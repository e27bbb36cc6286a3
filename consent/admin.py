"""Admin pages of the service registry. Consents themselves are not shown: their contents are
the citizens' and are sealed under their keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from consent.models import Service, ServiceClient, ServicePurpose
from consent.selectors import service_cache_clear
from wallet import catalogue


def _field_choices() -> list[tuple[str, str]]:
    return [
        (field_id, f"{field_id} — {catalogue.field_by_id(field_id).labels.en}")
        for field_id in catalogue.field_ids()
    ]


class ServiceForm(forms.ModelForm):
    allowed_fields = forms.MultipleChoiceField(
        choices=_field_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The fields this service may ask citizens for."),
    )

    class Meta:
        model = Service
        fields = (
            "slug",
            "is_active",
            "name_fi",
            "name_sv",
            "name_en",
            "description_fi",
            "description_sv",
            "description_en",
            "privacy_policy_url",
            "controller_name",
            "controller_contact",
            "controller_address",
            "controller_email",
            "controller_phone",
            "allowed_fields",
            "redirect_uris",
        )

    def clean_redirect_uris(self) -> str:
        text: str = self.cleaned_data["redirect_uris"]
        validate = URLValidator(schemes=["https", "http"])
        for line in (line.strip() for line in text.splitlines()):
            if not line:
                continue
            try:
                validate(line)
            except ValidationError:
                raise ValidationError(_("Not a URL: %(url)s") % {"url": line}) from None
            if "#" in line:
                raise ValidationError(
                    _("A redirect URI cannot have a fragment: %(url)s") % {"url": line}
                )
        return text


class ServiceClientInline(admin.TabularInline):
    model = ServiceClient
    fields = ("client_id",)
    extra = 1


class ServicePurposeInline(admin.StackedInline):
    model = ServicePurpose
    fields = (
        "code",
        "category",
        "third_party_disclosure",
        "description_fi",
        "description_sv",
        "description_en",
    )
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceForm
    inlines = (ServiceClientInline, ServicePurposeInline)
    list_display = ("slug", "name_en", "is_active", "client_ids", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("slug", "name_fi", "name_sv", "name_en", "clients__client_id")

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).prefetch_related("clients")

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        service_cache_clear()  # this process at once; the others within the cache's lifetime

    @admin.display(description=_("OIDC client ids"))
    def client_ids(self, service: Service) -> str:
        return ", ".join(client.client_id for client in service.clients.all())
