"""The connectors' settings: each source's entry in settings.CONNECTORS, read from the
environment variables its package declares and checked at start-up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from connectors import base, conf
from connectors.checks import connector_settings_messages
from tests.wallet.test_settings import _manage


def _problems(**entries: dict[str, object]) -> list[str]:
    return [p.message for p in conf.problems(entries)]


def test_the_settings_entries_are_read_from_the_declared_environment_names(settings):
    library = conf.resolved("library", settings.CONNECTORS)
    assert library["BASE_URL"].endswith("/iii/sierra-api/v6/")
    assert (library["LINK_ATTEMPTS"], library["LINK_WINDOW_MINUTES"]) == (5, 15)
    assert conf.resolved("youth", settings.CONNECTORS)["SCOPE"] == "youth"
    assert conf.problems(settings.CONNECTORS) == []


def test_an_entry_is_refused_for_unknown_keys_wrong_types_and_a_wrong_package():
    problems = _problems(
        library={
            "PACKAGE": "connectors.library",
            "CLIENT_KEY": "k",
            "CLIENT_SECRET": "s",
            "LINK_ATTEMPT": 3,
            "LINK_WINDOW_MINUTES": "15",
        },
        youth={"PACKAGE": "connectors.berths"},
        nothing={"PACKAGE": "connectors.models"},
        missing={"BASE_URL": "x"},
    )
    assert any("unknown setting 'LINK_ATTEMPT'" in p and "LINK_ATTEMPTS" in p for p in problems)
    assert "CONNECTORS['library']['LINK_WINDOW_MINUTES'] must be int, got str" in problems
    assert "CONNECTORS['youth']: the package connectors.berths is the 'berths' source" in problems
    assert any(
        p.startswith("CONNECTORS['nothing']") and "declares no CONNECTOR" in p for p in problems
    )
    assert "CONNECTORS['missing'] must be a dict naming its PACKAGE" in problems


def test_a_missing_secret_is_an_error_in_production_and_a_warning_in_development(settings):
    settings.CONNECTORS = {
        **settings.CONNECTORS,
        "library": {"PACKAGE": "connectors.library", "CLIENT_SECRET": "s"},
    }
    settings.DEBUG = False
    [error] = connector_settings_messages()
    assert error.id == "connectors.E001" and error.is_serious()
    assert error.msg == (
        "CONNECTORS['library']['CLIENT_KEY'] is not set "
        "(environment: LIBRARY_CLIENT_KEY or LIBRARY_CLIENT_KEY_FILE)"
    )
    settings.DEBUG = True
    [warning] = connector_settings_messages()
    assert warning.id == "connectors.W001" and not warning.is_serious()


def test_the_registry_refuses_a_wrong_entry(settings):
    settings.CONNECTORS = {
        **settings.CONNECTORS,
        "library": {**settings.CONNECTORS["library"], "BASE_URI": "http://x/"},
    }
    with pytest.raises(ImproperlyConfigured, match="unknown setting 'BASE_URI'"):
        base.connectors()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LIBRARY_CLIENT_KEY": ""},
            "CONNECTORS['library']['CLIENT_KEY'] is not set (environment: LIBRARY_CLIENT_KEY",
        ),
        ({"LIBRARY_LINK_ATTEMPTS": "many"}, "LIBRARY_LINK_ATTEMPTS must be a number, got 'many'"),
    ],
)
def test_bad_connector_settings_stop_start_up(env, message):
    result = _manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout


def test_development_starts_without_a_source_s_secret_and_warns():
    result = _manage("check", DJANGO_DEBUG="true", LIBRARY_CLIENT_KEY="")
    assert result.returncode == 0, result.stderr
    assert "connectors.W001" in result.stderr + result.stdout


def test_every_source_has_an_upstream_budget_read_from_its_own_variables(settings):
    assert {
        source: (values["MAX_IN_FLIGHT"], values["MAX_CALLS_PER_SECOND"])
        for source in ("youth", "berths", "library")
        if (values := conf.resolved(source, settings.CONNECTORS))
    } == {"youth": (8, 25.0), "berths": (8, 25.0), "library": (8, 25.0)}
    problems = _problems(
        youth={"PACKAGE": "connectors.youth", "MAX_IN_FLIGHT": 0},
        berths={"PACKAGE": "connectors.berths", "MAX_CALLS_PER_SECOND": 0.0},
    )
    assert any(
        p.startswith("CONNECTORS['youth']['MAX_IN_FLIGHT'] must be at least 1")
        and "YOUTH_MAX_IN_FLIGHT" in p
        for p in problems
    )
    assert any(
        p.startswith("CONNECTORS['berths']['MAX_CALLS_PER_SECOND'] must be at least 0.1")
        for p in problems
    )


def test_a_budget_of_no_calls_stops_start_up():
    result = _manage("check", LIBRARY_MAX_IN_FLIGHT="0")
    assert result.returncode != 0
    assert "CONNECTORS['library']['MAX_IN_FLIGHT'] must be at least 1" in (
        result.stderr + result.stdout
    )
