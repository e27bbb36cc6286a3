"""Forms of the citizen's pages. Validation messages are written for the citizen, translated."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from wallet import catalogue
from wallet.i18n import localized

PHONE = RegexValidator(
    r"^\+?[0-9][0-9 ()-]{4,19}$",
    _("Enter a phone number with digits only, for example +358 40 123 4567."),
)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> None:
    if CONTROL_CHARACTERS.search(value):
        raise forms.ValidationError(_("Remove the line breaks and special characters."))


class ProfileForm(forms.Form):
    """The self-entered profile fields of the catalogue; labels from the catalogue, in the page's
    language (set when the form is made)."""

    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    nickname = forms.CharField(required=False, max_length=100)
    email = forms.EmailField(
        required=False,
        max_length=254,
        error_messages={"invalid": _("Enter an email address like name@example.com.")},
    )
    phone = forms.CharField(required=False, max_length=20, validators=[PHONE])
    address = forms.CharField(required=False, max_length=200)
    preferred_language = forms.ChoiceField(
        required=False, choices=[("", _("No preference")), *settings.LANGUAGES]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for entry in catalogue.PROFILE.fields:
            if entry.self_entered and entry.key in self.fields:
                self.fields[entry.key].label = localized(entry.labels)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and not isinstance(field, forms.EmailField):
                field.validators.append(_no_control_characters)
            field.error_messages.setdefault(
                "max_length", _("Shorten this to at most %(limit_value)d characters.")
            )
            field.widget.attrs.setdefault("class", "hds-text-input__input")
            field.widget.attrs["aria-describedby"] = f"id_{name}-origin"
            field.widget.attrs.setdefault("autocomplete", AUTOCOMPLETE.get(name, "off"))

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error id_{name}-origin"


AUTOCOMPLETE = {
    "first_name": "given-name",
    "last_name": "family-name",
    "nickname": "nickname",
    "email": "email",
    "phone": "tel",
    "address": "street-address",
    "preferred_language": "language",
}


class ErasureForm(forms.Form):
    """The citizen confirms that they want everything erased."""

    confirm = forms.BooleanField(
        required=True,
        label=_("I understand that my data will be erased and cannot be recovered."),
        error_messages={"required": _("Tick the box to confirm that you want your data erased.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attrs = self.fields["confirm"].widget.attrs
        attrs["class"] = "hds-checkbox__input"

    def full_clean(self) -> None:
        super().full_clean()
        if "confirm" in self.errors:
            attrs = self.fields["confirm"].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = "id_confirm-error"
