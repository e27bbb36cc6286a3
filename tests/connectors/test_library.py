"""The library connector's configuration and its Sierra contract, against the simulator over
real HTTP."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from connectors import services
from connectors.base import InvalidRecord
from connectors.config import config_cache_clear, effective_config
from connectors.library.client import PATRON_BATCH
from connectors.library.client import tokens as library_tokens
from connectors.library.connector import (
    LibraryConnector,
    barcode_index,
    parse_account,
    patron_index,
)
from connectors.library.services import LinkError, library_card_link
from connectors.models import LIBRARY_PATRON_ID, ConnectorConfig, LibraryLink, SyncRun
from sandbox.demo import (
    DELETED_LIBRARY_PATRONS,
    EERO,
    EERO_LIBRARY,
    SOFIA,
    SOFIA_LIBRARY,
)
from sandbox.library.demo import LETTER_PIN_LIBRARY
from tests.connector_settings import connector_settings
from tests.factories import CitizenFactory
from wallet.models import Citizen, CitizenKey, DataRecord
from wallet.selectors import citizen_wallet
from wallet.services import UpstreamRecord, citizen_get_or_create, records_upsert
from wallet.vault import citizen_writing

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


# --- Sweeps: patrons in batches ---------------------------------------------------------------


def _link(citizen: Citizen, patron_id: str) -> None:
    """A linked card without asking the library (as if linked earlier)."""
    with citizen_writing(citizen) as unit:
        LibraryLink.objects.create(
            citizen=citizen,
            patron_id_sealed=unit.seal_text(LIBRARY_PATRON_ID, row_id=citizen.pk, text=patron_id),
            patron_index=patron_index(patron_id),
            barcode_index=barcode_index(f"card-{patron_id}"),
        )


def _stranger(sandbox) -> Citizen:
    return citizen_get_or_create(issuer=sandbox.issuer, subject=str(uuid.uuid4()))[0]


def test_a_library_sweep_asks_for_patrons_in_batches_and_lists_per_patron(sandbox, settings):
    # given: eero and sofia with their cards, and 58 citizens whose patrons the library does
    # not have (any more): 60 patrons, two batches of at most PATRON_BATCH
    connector_settings(settings, "library", MAX_IN_FLIGHT=6, MAX_CALLS_PER_SECOND=1000.0)
    for person, card in ((EERO, EERO_LIBRARY), (SOFIA, SOFIA_LIBRARY)):
        library_card_link(citizen=_citizen(sandbox, person), barcode=card.barcode, pin=card.pin)
    for n in range(58):
        _link(_stranger(sandbox), str(3_000_000 + n))
    library_tokens.clear()
    sandbox.reset_traffic()

    run = services.sweep_start(source="library", incremental=False, trigger="test")

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.citizens == 60 and run.fetched > 2  # eero's and sofia's (synced when linked)
    owners = set(DataRecord.objects.filter(source="library").values_list("citizen", flat=True))
    assert owners == {_citizen(sandbox, EERO).pk, _citizen(sandbox, SOFIA).pk}
    # a token, two batches of patrons, and each live patron's checkouts, holds and fines
    assert PATRON_BATCH == 50
    assert sandbox.traffic()["library"]["requests"] == 1 + 2 + 2 * 3


def test_a_patron_deleted_or_unknown_in_the_batch_ends_its_records_and_no_other(sandbox):
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    deleted, unknown = _stranger(sandbox), _stranger(sandbox)
    _link(deleted, str(DELETED_LIBRARY_PATRONS[0].patron_id))
    _link(unknown, "3999999")
    for citizen, patron in ((deleted, "1000098"), (unknown, "3999999")):
        account = UpstreamRecord(kind="account", external_id=patron, payload={"barcode": "B"})
        records_upsert(citizen=citizen, source="library", records=[account])

    run = services.sweep_start(source="library", incremental=False, trigger="test")

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.ended == 2
    states = dict(
        DataRecord.objects.filter(source="library", kind="account").values_list("citizen", "state")
    )
    assert states == {
        deleted.pk: DataRecord.State.ENDED,
        unknown.pk: DataRecord.State.ENDED,
        eero.pk: DataRecord.State.ACTIVE,
    }


def test_a_batch_answer_naming_a_patron_not_asked_for_fails_the_batch_and_ends_nothing(
    sandbox,
):
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    services.sweep_start(source="library", incremental=False, trigger="test")
    before = set(DataRecord.objects.filter(source="library").values_list("pk", "state"))

    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=sandbox.library_token_url).pass_through()
        batch = mock.get(url__regex=r".*/patrons\?.*")
        batch.side_effect = lambda request: httpx.Response(
            200, json={"total": 1, "start": 0, "entries": [{"id": 42}]}
        )
        mock.route(url__startswith=sandbox.library_base_url).pass_through()
        run = services.sweep_start(source="library", incremental=False, trigger="test")

    assert run.status == SyncRun.Status.FAILED and run.error_code == "UPSTREAM_MALFORMED"
    assert set(DataRecord.objects.filter(source="library").values_list("pk", "state")) == before


def test_a_citizen_whose_patron_id_cannot_be_opened_fails_alone_in_a_batch_sweep(sandbox):
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    keyless = _stranger(sandbox)
    _link(keyless, "3000001")
    CitizenKey.objects.filter(citizen_id=keyless.pk).delete()  # as an erasure stopped half-way

    run = services.sweep_start(source="library", incremental=False, trigger="test")

    assert run.status == SyncRun.Status.PARTIAL  # the run is done, not stuck in its chunk
    assert (run.citizens, run.citizens_failed) == (2, 1)
    assert run.unchanged > 0  # eero's records, synced when his card was linked


def test_a_sweep_whose_fetching_breaks_off_fails_the_rest_and_still_finishes(sandbox, monkeypatch):
    """A connector whose fetching breaks off half-way (a bug of ours, which no upstream fault
    produces): the citizens it gave are stored, the others fail, and the run finishes."""
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    for n in range(3):
        _link(_stranger(sandbox), str(3_000_010 + n))
    fetch_citizens = LibraryConnector.fetch_citizens

    def breaking_off(self, **kwargs):
        fetched = fetch_citizens(self, **kwargs)
        yield next(fetched)
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(LibraryConnector, "fetch_citizens", breaking_off)
    run = services.sweep_start(source="library", incremental=False, trigger="test")

    assert (run.status, run.chunks_done, run.chunks_total) == (SyncRun.Status.PARTIAL, 1, 1)
    assert (run.citizens, run.citizens_failed, run.error_code) == (4, 3, "INTERNAL_ERROR")
