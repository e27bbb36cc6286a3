"""The library connector's configuration and its Sierra contract, against the simulator over
real HTTP."""

from __future__ import annotations

import pytest

from connectors import services
from connectors.config import config_cache_clear, effective_config
from connectors.library.services import library_card_link
from connectors.models import ConnectorConfig, SyncRun
from sandbox.demo import SOFIA, SOFIA_LIBRARY
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


def _citizen(sandbox, person):
    return citizen_get_or_create(issuer=sandbox.issuer, subject=str(person.sub))[0]


def _library_config(**fields):
    ConnectorConfig.objects.update_or_create(source="library", defaults=fields)
    config_cache_clear()


def test_an_admin_base_url_takes_its_token_from_the_same_library(sandbox, settings):
    # given: the environment names a URL with no library behind it (a 404 for every path), and
    # the admin's row points at the simulator, without a token URL of its own
    settings.LIBRARY_API_URL = f"{sandbox.base_url}/elsewhere/iii/sierra-api/v6/"
    _library_config(base_url=sandbox.library_base_url, token_url="")
    sofia = _citizen(sandbox, SOFIA)

    # when: the card is linked and the library synced (each asks the library for a token)
    library_card_link(citizen=sofia, barcode=SOFIA_LIBRARY.barcode, pin=SOFIA_LIBRARY.pin)
    [run] = services.citizen_sync(citizen=sofia, trigger="test", sources=["library"])

    # then: both went to the admin's library
    assert run.status == SyncRun.Status.SUCCEEDED, (run.error_code, run.errors)


def test_the_library_token_url_follows_the_effective_base_url(sandbox, settings):
    settings.LIBRARY_API_URL = f"{sandbox.base_url}/elsewhere/iii/sierra-api/v6/"
    _library_config(base_url=sandbox.library_base_url, token_url="")
    assert effective_config("library").token_url == sandbox.library_token_url
    # an admin's own token URL still wins; a blank row falls back to the environment's URLs
    _library_config(base_url=f"{sandbox.library_base_url}/", token_url="https://sso.example/t")
    assert effective_config("library").token_url == "https://sso.example/t"
    _library_config(base_url="", token_url="")
    assert effective_config("library").token_url == (
        f"{sandbox.base_url}/elsewhere/iii/sierra-api/v6/token"
    )
