"""The berths and library connectors against their simulators over real HTTP, library-card
linking, and eero's data through `me`."""

from decimal import Decimal

import httpx
import pytest

from connectors import services
from connectors.library.connector import linked_patron_id
from connectors.library.services import LinkError, library_card_link
from connectors.models import LibraryLink, LinkAttempt, SyncRun
from sandbox.demo import EERO, EERO_BOAT, EERO_LEASE, EERO_LIBRARY, SOFIA, SOFIA_LIBRARY
from tests.connector_settings import connector_settings
from wallet.models import DataRecord
from wallet.selectors import citizen_wallet
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]

ME_EERO = """{ me {
  berthLeases { harbor pier berthNumber berthWidth status startDate endDate isActive price paidAt }
  boats { registrationNumber name boatType length width draught }
  libraryAccount {
    barcode homeLibrary expirationDate moneyOwed
    loans { callNumber dueDate renewals } holds { status pickupLocation pickupByDate }
    fines { chargeType amountOwed assessedDate }
  }
  sources { name status lastSyncedAt controller lawfulBasis }
} }"""


def _citizen(sandbox, person):
    return citizen_get_or_create(issuer=sandbox.issuer, subject=str(person.sub))[0]


def _records(citizen, source, kind):
    return citizen_wallet(citizen=citizen).records(source=source, kind=kind)


def test_berths_sync_brings_eero_lease_and_boat(sandbox):
    eero = _citizen(sandbox, EERO)
    [run] = services.citizen_sync(citizen=eero, trigger="test", sources=["berths"])
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.created == 2
    [lease] = _records(eero, "berths", "lease")
    assert lease.payload["harbor"] == EERO_LEASE.harbor
    assert lease.payload["berth_number"] == EERO_LEASE.berth_number
    assert Decimal(lease.payload["price"]) == EERO_LEASE.total_price
    assert lease.payload["start_date"] == EERO_LEASE.start_date.isoformat()
    [boat] = _records(eero, "berths", "boat")
    assert boat.payload["registration_number"] == EERO_BOAT.registration_number
    assert Decimal(boat.payload["length"]) == EERO_BOAT.length
    [again] = services.citizen_sync(citizen=eero, trigger="test", sources=["berths"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_linking_a_library_card_stores_the_patron_id_sealed_and_never_the_pin(sandbox):
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    link = LibraryLink.objects.get(citizen=eero)
    raw = bytes(link.patron_id_sealed)
    assert str(EERO_LIBRARY.patron_id).encode() not in raw
    for column in (link.patron_index, link.barcode_index):
        assert EERO_LIBRARY.barcode not in column and str(EERO_LIBRARY.patron_id) not in column
    assert linked_patron_id(eero) == str(EERO_LIBRARY.patron_id)
    # the login-time style sync ran after linking (in-process here): loans are in
    assert len(_records(eero, "library", "loan")) == len(EERO_LIBRARY.checkouts)


def test_wrong_pin_is_a_clear_error_and_attempts_are_limited(sandbox, settings):
    connector_settings(settings, "library", LINK_ATTEMPTS=3)
    sofia = _citizen(sandbox, SOFIA)
    for _ in range(3):
        with pytest.raises(LinkError) as wrong:
            library_card_link(citizen=sofia, barcode=SOFIA_LIBRARY.barcode, pin="0000")
        assert wrong.value.code == "WRONG_CREDENTIALS"
    with pytest.raises(LinkError) as limited:
        library_card_link(citizen=sofia, barcode=SOFIA_LIBRARY.barcode, pin=SOFIA_LIBRARY.pin)
    assert limited.value.code == "RATE_LIMITED"
    assert not LibraryLink.objects.exists()
    assert LinkAttempt.objects.filter(citizen=sofia).count() == 3


def test_a_card_cannot_be_linked_to_two_accounts(sandbox):
    eero, sofia = _citizen(sandbox, EERO), _citizen(sandbox, SOFIA)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    with pytest.raises(LinkError) as taken:
        library_card_link(citizen=sofia, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    assert taken.value.code == "ALREADY_LINKED"


def test_library_sync_brings_account_loans_holds_and_fines(sandbox):
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    [run] = services.citizen_sync(citizen=eero, trigger="test", sources=["library"])
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    [account] = _records(eero, "library", "account")
    assert account.payload["home_library"] == EERO_LIBRARY.home_library_name
    assert account.payload["home_library_code"] == EERO_LIBRARY.home_library_code
    assert Decimal(account.payload["money_owed"]) == EERO_LIBRARY.money_owed
    loans = sorted(r.payload["call_number"] for r in _records(eero, "library", "loan"))
    assert loans == sorted(c.call_number for c in EERO_LIBRARY.checkouts)
    [fine] = _records(eero, "library", "fine")
    assert Decimal(fine.payload["amount_owed"]) == EERO_LIBRARY.fines[0].amount_owed
    assert len(_records(eero, "library", "hold")) == 1
    # linking already synced (in-process here): this run found everything unchanged
    assert (run.created, run.unchanged) == (0, 5)


def test_library_sweep_covers_linked_citizens_only(sandbox):
    eero, sofia = _citizen(sandbox, EERO), _citizen(sandbox, SOFIA)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    run = services.sweep_start(source="library", incremental=False, trigger="test")
    assert run.status == SyncRun.Status.SUCCEEDED and run.citizens == 1
    assert not DataRecord.objects.filter(citizen=sofia).exists()
    incremental = services.sweep_start(source="library", incremental=True, trigger="test")
    assert incremental.status == SyncRun.Status.SUCCEEDED
    assert (incremental.created, incremental.updated) == (0, 0)


def test_eero_sees_his_lease_boat_and_library_loans_through_me(live_server, sandbox):
    token = sandbox.password_token("eero")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def gql(query, variables=None):
        return httpx.post(
            f"{live_server.url}/graphql/",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        ).json()

    linked = gql(
        "mutation($b: String!, $p: String!) { "
        "linkLibraryCard(barcode: $b, pin: $p) { linked errors { code } } }",
        {"b": EERO_LIBRARY.barcode, "p": EERO_LIBRARY.pin},
    )["data"]["linkLibraryCard"]
    assert linked == {"linked": True, "errors": []}
    sync = gql("mutation { syncMyData { sources { source status } } }")["data"]["syncMyData"]
    assert {s["source"]: s["status"] for s in sync["sources"]} == {
        "youth": "SUCCEEDED",
        "berths": "SUCCEEDED",
        "library": "SUCCEEDED",
    }
    me = gql(ME_EERO)["data"]["me"]
    [lease] = me["berthLeases"]
    assert lease["harbor"] == EERO_LEASE.harbor and lease["status"] == "PAID"
    assert lease["startDate"] == EERO_LEASE.start_date.isoformat()
    [boat] = me["boats"]
    assert boat["name"] == EERO_BOAT.name and Decimal(boat["length"]) == EERO_BOAT.length
    account = me["libraryAccount"]
    assert len(account["loans"]) == 2 and account["homeLibrary"] == EERO_LIBRARY.home_library_name
    assert account["barcode"] == EERO_LIBRARY.barcode  # eero's login is `high`: sensitive shown
    assert {s["name"] for s in me["sources"]} == {"youth", "berths", "library"}
    assert all(s["lastSyncedAt"] for s in me["sources"])
    wrong = gql(
        'mutation { linkLibraryCard(barcode: "21000000000039", pin: "9999") { '
        "linked errors { code } } }"
    )["data"]["linkLibraryCard"]
    assert wrong == {"linked": False, "errors": [{"code": "WRONG_CREDENTIALS"}]}
