"""The library connector's configuration and its Sierra contract, against the simulator over
real HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors import services
from connectors.base import InvalidRecord
from connectors.config import config_cache_clear, effective_config
from connectors.library.connector import parse_account
from connectors.library.services import LinkError, library_card_link
from connectors.models import ConnectorConfig, SyncRun
from sandbox.demo import SOFIA, SOFIA_LIBRARY
from sandbox.library.demo import LETTER_PIN_LIBRARY
from tests.connector_settings import connector_settings
from tests.factories import CitizenFactory
from wallet.models import Citizen
from wallet.selectors import citizen_wallet
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


@pytest.fixture
def case_sensitivity_sent(monkeypatch) -> list[object]:
    """`caseSensitivity` of each `patrons/validate` body, as it left the wallet (at httpx's
    transport, so our own code is not mocked)."""
    sent: list[object] = []
    send = httpx.HTTPTransport.handle_request

    def capturing(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/patrons/validate"):
            sent.append(json.loads(request.read()).get("caseSensitivity", "absent"))
        return send(transport, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", capturing)
    return sent


def test_an_admin_base_url_takes_its_token_from_the_same_library(sandbox, settings):
    # given: the environment names a URL with no library behind it (a 404 for every path), and
    # the admin's row points at the simulator, without a token URL of its own
    connector_settings(
        settings, "library", BASE_URL=f"{sandbox.base_url}/elsewhere/iii/sierra-api/v6/"
    )
    _library_config(base_url=sandbox.library_base_url, token_url="")
    sofia = _citizen(sandbox, SOFIA)

    # when: the card is linked and the library synced (each asks the library for a token)
    library_card_link(citizen=sofia, barcode=SOFIA_LIBRARY.barcode, pin=SOFIA_LIBRARY.pin)
    [run] = services.citizen_sync(citizen=sofia, trigger="test", sources=["library"])

    # then: both went to the admin's library
    assert run.status == SyncRun.Status.SUCCEEDED, (run.error_code, run.errors)


def test_the_library_token_url_follows_the_effective_base_url(sandbox, settings):
    connector_settings(
        settings, "library", BASE_URL=f"{sandbox.base_url}/elsewhere/iii/sierra-api/v6/"
    )
    _library_config(base_url=sandbox.library_base_url, token_url="")
    assert effective_config("library").token_url == sandbox.library_token_url
    # an admin's own token URL still wins; a blank row falls back to the environment's URLs
    _library_config(base_url=f"{sandbox.library_base_url}/", token_url="https://sso.example/t")
    assert effective_config("library").token_url == "https://sso.example/t"
    _library_config(base_url="", token_url="")
    assert effective_config("library").token_url == (
        f"{sandbox.base_url}/elsewhere/iii/sierra-api/v6/token"
    )


def test_the_account_keeps_the_home_librarys_name_and_its_code(sandbox):
    # given: a linked card (linking syncs the library in-process here)
    sofia = _citizen(sandbox, SOFIA)
    library_card_link(citizen=sofia, barcode=SOFIA_LIBRARY.barcode, pin=SOFIA_LIBRARY.pin)
    # when
    [account] = citizen_wallet(citizen=sofia).records(source="library", kind="account")
    # then: "Kallion kirjasto", not "kallio"
    assert account.payload["home_library"] == SOFIA_LIBRARY.home_library_name
    assert account.payload["home_library_code"] == SOFIA_LIBRARY.home_library_code


@pytest.mark.parametrize(
    ("patron", "shown", "code"),
    [
        ({"homeLibrary": {"code": "h01", "name": "Helsinki Main"}}, "Helsinki Main", "h01"),
        ({"homeLibrary": {"code": "h01"}}, "h01", "h01"),  # no name: the code, not nothing
        ({"homeLibraryCode": "h01"}, "h01", "h01"),  # a library that only sends the code
        ({}, None, None),
    ],
)
def test_home_library_is_the_name_with_the_code_as_fallback(patron, shown, code):
    record = parse_account({"id": 7, "barcodes": ["2100"], **patron})
    assert (record.payload["home_library"], record.payload["home_library_code"]) == (shown, code)


def test_a_home_library_of_the_wrong_shape_is_refused_naming_the_field():
    with pytest.raises(InvalidRecord, match="homeLibrary is not an object"):
        parse_account({"id": 7, "homeLibrary": "h01"})


def test_pins_are_case_sensitive_by_default_as_in_sierra(sandbox, case_sensitivity_sent):
    # given: the library connector as installed (no admin change); a card whose PIN has letters
    citizen = CitizenFactory(issuer=sandbox.issuer)
    card = LETTER_PIN_LIBRARY
    # when: the PIN is typed in the wrong case
    with pytest.raises(LinkError) as wrong:
        library_card_link(citizen=citizen, barcode=card.barcode, pin=card.pin.swapcase())
    # then: the library compared it as typed, and refused it; the right case links
    assert wrong.value.code == "WRONG_CREDENTIALS"
    library_card_link(citizen=citizen, barcode=card.barcode, pin=card.pin)
    assert case_sensitivity_sent == [True, True]


def test_a_library_with_case_insensitive_pins_accepts_any_case(sandbox, case_sensitivity_sent):
    # given: an admin set the library's PINs case-insensitive
    _library_config(pin_case_sensitive=False)
    citizen = CitizenFactory(issuer=sandbox.issuer)
    card = LETTER_PIN_LIBRARY
    # when / then: a wrong PIN is still wrong, the right one in another case links
    with pytest.raises(LinkError) as wrong:
        library_card_link(citizen=citizen, barcode=card.barcode, pin="Kirja8")
    assert wrong.value.code == "WRONG_CREDENTIALS"
    link = library_card_link(citizen=citizen, barcode=card.barcode, pin=card.pin.upper())
    assert link.citizen == citizen
    assert case_sensitivity_sent == [False, False]


def test_an_admin_sets_the_library_pin_case_sensitivity(client):
    admin = Citizen.objects.create(issuer="x", subject="admin-1", is_staff=True, is_superuser=True)
    client.force_login(admin)
    config, _ = ConnectorConfig.objects.get_or_create(source="library")
    form = {"source": "library", "enabled": "on", "sweep_interval_minutes": "0"}
    page = client.get(f"/admin/connectors/connectorconfig/{config.pk}/change/").content.decode()
    assert 'name="pin_case_sensitive"' in page
    # an unticked checkbox is absent from the form: case-insensitive
    response = client.post(f"/admin/connectors/connectorconfig/{config.pk}/change/", form)
    assert response.status_code == 302, response.content[:500]
    assert effective_config("library").pin_case_sensitive is False
    form["pin_case_sensitive"] = "on"
    client.post(f"/admin/connectors/connectorconfig/{config.pk}/change/", form)
    assert effective_config("library").pin_case_sensitive is True
