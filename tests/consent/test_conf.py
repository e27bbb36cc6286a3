"""The consent app's settings: one entry (settings.CONSENT), checked at start-up."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from consent import checks, conf


def test_the_running_settings_are_valid_and_complete():
    from django.conf import settings

    assert conf.problems(settings.CONSENT) == []
    assert set(settings.CONSENT) == set(conf.BY_KEY)
    assert checks.consent_settings_are_valid() == []


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"MAX_DAYS": "730"}, "CONSENT['MAX_DAYS'] (WALLET_CONSENT_MAX_DAYS) must be int"),
        ({"MAX_DAYS": 0}, "CONSENT['MAX_DAYS'] (WALLET_CONSENT_MAX_DAYS) must be at least 1"),
        ({"MAX_PENDING_PER_CITIZEN": True}, "must be int"),
        ({"SERVICE_CACHE_SECONDS": -1.0}, "must be at least 0"),
        ({"JURISDICTION": " "}, "WALLET_CONSENT_JURISDICTION) must not be empty"),
        ({"MAX_DAY": 30}, "CONSENT has no setting 'MAX_DAY'"),
    ],
)
def test_a_wrong_setting_is_named_with_its_environment_variable(entry, problem):
    assert any(problem in found for found in conf.problems(entry)), conf.problems(entry)


def test_a_wrong_setting_stops_start_up(settings):
    settings.CONSENT = {**settings.CONSENT, "REQUEST_TTL_HOURS": 0}
    assert [error.id for error in checks.consent_settings_are_valid()] == ["consent.E001"]
    with pytest.raises(ImproperlyConfigured, match="REQUEST_TTL_HOURS"):
        apps.get_app_config("consent").ready()


def test_a_key_left_out_takes_its_default(settings):
    settings.CONSENT = {}
    assert conf.consent_setting("MAX_DAYS") == 730
