"""Start-up checks of the consent app's settings (settings.CONSENT, consent/conf.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from consent import conf


@checks.register(checks.Tags.compatibility)
def consent_settings_are_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    return [
        checks.Error(problem, id="consent.E001")
        for problem in conf.problems(getattr(settings, "CONSENT", {}))
    ]
