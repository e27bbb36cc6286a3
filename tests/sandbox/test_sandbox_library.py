"""The Sierra ILS simulator (REST v6), over real HTTP with tokens from its own endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.demo import (
    DELETED_LIBRARY_PATRONS,
    EERO_LIBRARY,
    SOFIA_LIBRARY,
    bench_is_patron,
    bench_modified_at,
    bench_patron_barcode,
    bench_patron_id,
    bench_patron_pin,
)
from sandbox.harness import Sandbox, start_sandbox
from sandbox.library.demo import LETTER_PIN_LIBRARY

TOKEN_SECONDS = 2  # short, so that expiry can be seen; every test takes a fresh token
ERROR_KEYS = {"code", "specificCode", "httpStatus", "name"}

Get = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(
        citizens=23,
        citizen_seed=7,
        extra_env={"SANDBOX_LIBRARY_TOKEN_SECONDS": str(TOKEN_SECONDS)},
    ) as running:
        yield running


@pytest.fixture
def token(sandbox: Sandbox) -> str:
    return str(sandbox.library_token()["access_token"])


@pytest.fixture
def get(sandbox: Sandbox, token: str) -> Get:
    def call(path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.get(
            f"{sandbox.library_base_url}/{path}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    return call


def _validate(sandbox: Sandbox, token: str, barcode: str, pin: str) -> httpx.Response:
    return httpx.post(
        f"{sandbox.library_base_url}/patrons/validate",
        json={"barcode": barcode, "pin": pin, "caseSensitivity": False},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _bench_patron_indexes(sandbox: Sandbox) -> list[int]:
    return [index for index in range(sandbox.citizens) if bench_is_patron(index)]


def _last_segment(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def test_token_is_a_bearer_token_for_an_hour_unless_configured(sandbox: Sandbox) -> None:
    body = sandbox.library_token()

    assert body["token_type"] == "bearer"
    assert body["expires_in"] == TOKEN_SECONDS
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize(
    ("auth", "data", "status", "code"),
    [
        (("wrong-key", "nope"), {"grant_type": "client_credentials"}, 401, 123),
        (None, {"grant_type": "client_credentials"}, 401, 123),
        ("client", {"grant_type": "password"}, 400, 108),
    ],
)
def test_token_refuses_bad_clients_and_grants(
    sandbox: Sandbox, auth: Any, data: dict[str, str], status: int, code: int
) -> None:
    if auth == "client":
        auth = (sandbox.library_client_key, sandbox.library_client_secret)

    response = httpx.post(sandbox.library_token_url, data=data, auth=auth, timeout=10)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["httpStatus"] == status


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
def test_api_without_a_valid_token_is_401_in_sierras_error_shape(
    sandbox: Sandbox, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    response = httpx.get(
        f"{sandbox.library_base_url}/patrons/{EERO_LIBRARY.patron_id}", headers=headers
    )

    assert response.status_code == 401
    body = response.json()
    assert set(body) >= ERROR_KEYS
    assert (body["code"], body["specificCode"], body["httpStatus"], body["name"]) == (
        123,
        0,
        401,
        "Unauthorized",
    )


def test_expired_token_is_401_and_a_new_one_works(sandbox: Sandbox, get: Get) -> None:
    assert get(f"patrons/{EERO_LIBRARY.patron_id}").status_code == 200

    deadline = time.monotonic() + TOKEN_SECONDS + 3
    while (response := get(f"patrons/{EERO_LIBRARY.patron_id}")).status_code == 200:
        assert time.monotonic() < deadline, "the token never expired"
        time.sleep(0.2)

    assert response.status_code == 401
    assert response.json()["description"] == "invalid_grant"
    fresh = sandbox.library_token()["access_token"]
    again = httpx.get(
        f"{sandbox.library_base_url}/patrons/{EERO_LIBRARY.patron_id}",
        headers={"Authorization": f"Bearer {fresh}"},
    )
    assert again.status_code == 200


def test_validate_answers_204_for_the_right_pin(sandbox: Sandbox, token: str) -> None:
    for patron in (EERO_LIBRARY, SOFIA_LIBRARY):
        response = _validate(sandbox, token, patron.barcode, patron.pin)

        assert response.status_code == 204
        assert response.content == b""


@pytest.mark.parametrize(
    ("barcode", "pin"),
    [
        (EERO_LIBRARY.barcode, "0000"),
        (EERO_LIBRARY.barcode, SOFIA_LIBRARY.pin),
        ("29999999999999", "1234"),
    ],
)
def test_validate_answers_400_for_a_wrong_barcode_or_pin(
    sandbox: Sandbox, token: str, barcode: str, pin: str
) -> None:
    response = _validate(sandbox, token, barcode, pin)

    assert response.status_code == 400
    assert response.json() == {
        "code": 108,
        "specificCode": 0,
        "httpStatus": 400,
        "name": "Invalid parameter",
        "description": "Invalid parameter : Invalid barcode or PIN",
    }


@pytest.mark.parametrize("case_sensitivity", [True, "absent"])  # absent: Sierra's default
def test_validate_compares_the_pin_as_typed_when_case_sensitive(
    sandbox: Sandbox, token: str, case_sensitivity: object
) -> None:
    card = LETTER_PIN_LIBRARY
    body = {"barcode": card.barcode}
    if case_sensitivity != "absent":
        body["caseSensitivity"] = case_sensitivity

    def validate(pin: str) -> int:
        return httpx.post(
            f"{sandbox.library_base_url}/patrons/validate",
            json={**body, "pin": pin},
            headers={"Authorization": f"Bearer {token}"},
        ).status_code

    assert validate(card.pin) == 204
    assert validate(card.pin.swapcase()) == 400
    assert validate(card.pin.lower()) == 400


def test_validate_ignores_the_pins_case_when_not_case_sensitive(
    sandbox: Sandbox, token: str
) -> None:
    card = LETTER_PIN_LIBRARY
    for pin in (card.pin, card.pin.swapcase(), card.pin.upper()):
        assert _validate(sandbox, token, card.barcode, pin).status_code == 204
    assert _validate(sandbox, token, card.barcode, "kirja8").status_code == 400


def test_validate_refuses_a_case_sensitivity_that_is_not_a_boolean(
    sandbox: Sandbox, token: str
) -> None:
    card = LETTER_PIN_LIBRARY
    response = httpx.post(
        f"{sandbox.library_base_url}/patrons/validate",
        json={"barcode": card.barcode, "pin": card.pin, "caseSensitivity": "no"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == 108


def test_bench_patrons_validate_with_their_derived_cards(sandbox: Sandbox, token: str) -> None:
    index = _bench_patron_indexes(sandbox)[-1]

    response = _validate(sandbox, token, bench_patron_barcode(index), bench_patron_pin(index))

    assert response.status_code == 204


def test_find_by_barcode_gives_one_patron(get: Get) -> None:
    response = get(
        "patrons/find",
        {"varFieldTag": "b", "varFieldContent": EERO_LIBRARY.barcode, "fields": "id,names"},
    )

    assert response.status_code == 200
    assert response.json() == {"id": EERO_LIBRARY.patron_id, "names": ["LAAKSONEN, Eero"]}


def test_find_unknown_barcode_is_404_record_not_found(get: Get) -> None:
    response = get("patrons/find", {"varFieldTag": "b", "varFieldContent": "29999999999999"})

    assert response.status_code == 404
    assert response.json() == {
        "code": 107,
        "specificCode": 0,
        "httpStatus": 404,
        "name": "Record not found",
    }


def test_patron_has_the_default_fields(get: Get) -> None:
    response = get(f"patrons/{EERO_LIBRARY.patron_id}")

    assert response.json() == {
        "id": EERO_LIBRARY.patron_id,
        "updatedDate": "2026-11-18T14:02:00Z",
        "createdDate": "2019-04-02T09:30:00Z",
        "deleted": False,
        "names": ["LAAKSONEN, Eero"],
        "barcodes": [EERO_LIBRARY.barcode],
        "expirationDate": "2028-03-31",
        "patronType": 0,
        "homeLibraryCode": "oodi",
        "moneyOwed": 2.4,
    }


def test_patron_honours_fields(get: Get) -> None:
    response = get(f"patrons/{SOFIA_LIBRARY.patron_id}", {"fields": "names,homeLibrary,moneyOwed"})

    assert response.json() == {
        "id": SOFIA_LIBRARY.patron_id,
        "names": ["LINDQVIST, Sofia"],
        "homeLibrary": {"code": "kallio", "name": "Kallion kirjasto"},
        "moneyOwed": 0.0,
    }


def test_unknown_field_is_400_invalid_parameter(get: Get) -> None:
    response = get(f"patrons/{EERO_LIBRARY.patron_id}", {"fields": "id,pin"})

    assert response.status_code == 400
    assert response.json()["code"] == 108


def test_unknown_patron_is_404_record_not_found(get: Get) -> None:
    response = get("patrons/1999999")

    assert response.status_code == 404
    assert response.json()["code"] == 107


def test_checkouts_have_url_ids_and_sierras_fields(sandbox: Sandbox, get: Get) -> None:
    body = get(f"patrons/{EERO_LIBRARY.patron_id}/checkouts").json()

    assert (body["total"], body["start"]) == (2, 0)
    first = body["entries"][0]
    loan = EERO_LIBRARY.checkouts[0]
    api = sandbox.library_base_url
    assert first == {
        "id": f"{api}/patrons/checkouts/{loan.id}",
        "patron": f"{api}/patrons/{EERO_LIBRARY.patron_id}",
        "item": f"{api}/items/{loan.item_id}",
        "barcode": loan.barcode,
        "dueDate": "2026-12-09T21:59:00Z",
        "callNumber": loan.call_number,
        "numberOfRenewals": 1,
        "outDate": "2026-10-21T15:12:00Z",
    }
    assert [_last_segment(entry["id"]) for entry in body["entries"]] == [
        checkout.id for checkout in EERO_LIBRARY.checkouts
    ]


def test_holds_have_status_and_pickup_location(sandbox: Sandbox, get: Get) -> None:
    body = get(f"patrons/{EERO_LIBRARY.patron_id}/holds").json()

    [entry] = body["entries"]
    hold = EERO_LIBRARY.holds[0]
    assert _last_segment(entry["id"]) == hold.id
    assert entry["patron"] == f"{sandbox.library_base_url}/patrons/{EERO_LIBRARY.patron_id}"
    assert entry["status"] == {"code": "b", "name": "Bib hold ready for pickup."}
    assert entry["pickupLocation"] == {"code": "kallio", "name": "Kallion kirjasto"}
    assert entry["placed"] == "2026-11-10"
    assert entry["notNeededAfterDate"] == "2027-05-10"
    assert entry["pickupByDate"] == "2026-12-01T21:59:00Z"
    assert entry["frozen"] is False


def test_fines_have_charge_type_and_amounts(get: Get) -> None:
    body = get(f"patrons/{EERO_LIBRARY.patron_id}/fines").json()

    [entry] = body["entries"]
    fine = EERO_LIBRARY.fines[0]
    assert _last_segment(entry["id"]) == fine.id
    assert entry["chargeType"] == {"code": "2", "display": "Overdue"}
    assert entry["assessedDate"] == "2026-09-30T08:00:00Z"
    assert (entry["itemCharge"], entry["processingFee"], entry["billingFee"]) == (2.4, 0, 0)
    assert entry["paidAmount"] == 0
    assert entry["description"] == fine.description


def test_sub_records_page_with_limit_and_offset(get: Get) -> None:
    second = get(f"patrons/{EERO_LIBRARY.patron_id}/checkouts", {"limit": 1, "offset": 1})

    body = second.json()
    assert (body["total"], body["start"]) == (1, 1)
    assert _last_segment(body["entries"][0]["id"]) == EERO_LIBRARY.checkouts[1].id


def test_sofia_has_one_checkout_and_nothing_else(get: Get) -> None:
    patron = SOFIA_LIBRARY.patron_id

    assert len(get(f"patrons/{patron}/checkouts").json()["entries"]) == 1
    assert get(f"patrons/{patron}/holds").json() == {"total": 0, "start": 0, "entries": []}
    assert get(f"patrons/{patron}/fines").json() == {"total": 0, "start": 0, "entries": []}


def test_updated_date_sweep_pages_until_a_short_page(sandbox: Sandbox, get: Get) -> None:
    since = "[2025-01-01T00:00:00Z,]"
    seen: list[dict[str, Any]] = []
    for offset in range(0, 100, 3):  # bounded
        page = get("patrons", {"updatedDate": since, "limit": 3, "offset": offset}).json()
        assert page["start"] == offset
        assert page["total"] == len(page["entries"])
        seen += page["entries"]
        if len(page["entries"]) < 3:
            break

    bench = [bench_patron_id(index) for index in _bench_patron_indexes(sandbox)]
    ids = [entry["id"] for entry in seen]
    assert ids == sorted([EERO_LIBRARY.patron_id, SOFIA_LIBRARY.patron_id, *bench])
    assert len(ids) % 3 != 0  # 10 patrons: the last page is short
    assert {"names", "barcodes", "updatedDate"} <= set(seen[0])


def test_updated_date_range_selects_by_time(sandbox: Sandbox, get: Get) -> None:
    # Bench patron 0's records changed at bench_modified_at(0), patron 3's five minutes x 3 later.
    start, end = bench_modified_at(0), bench_modified_at(3)
    window = f"[{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}]"

    page = get("patrons", {"updatedDate": window, "fields": "id,updatedDate"}).json()

    assert [entry["id"] for entry in page["entries"]] == [bench_patron_id(0), bench_patron_id(3)]
    assert page["entries"][1]["updatedDate"] == f"{end:%Y-%m-%dT%H:%M:%SZ}"


def test_empty_date_range_is_404_record_not_found(get: Get) -> None:
    response = get("patrons", {"updatedDate": "[2020-01-01T00:00:00Z,2020-12-31T00:00:00Z]"})

    assert response.status_code == 404
    assert response.json()["code"] == 107
    # As is a page past the end of a range.
    past = get("patrons", {"updatedDate": "[2025-01-01T00:00:00Z,]", "offset": 500})
    assert past.status_code == 404


def test_deleted_sweep_lists_deleted_patrons(get: Get) -> None:
    page = get("patrons", {"deleted": "true", "deletedDate": "[2026-10-01,2026-10-31]"}).json()

    assert page == {
        "total": 1,
        "start": 0,
        "entries": [{"id": 1000098, "deletedDate": "2026-10-15", "deleted": True}],
    }
    everything = get("patrons", {"deleted": "true", "deletedDate": "[2026-01-01,]"}).json()
    assert [entry["id"] for entry in everything["entries"]] == [
        deleted.patron_id for deleted in DELETED_LIBRARY_PATRONS
    ]


def test_patrons_by_id_list_live_and_deleted_alike_in_id_order(sandbox: Sandbox, get: Get) -> None:
    first, second = (bench_patron_id(i) for i in _bench_patron_indexes(sandbox)[:2])
    deleted = DELETED_LIBRARY_PATRONS[0].patron_id
    ids = f"{second},{deleted},{first},999"  # 999: no such patron, simply not listed

    page = get("patrons", {"id": ids, "fields": "id,barcodes", "limit": 4}).json()

    assert [entry["id"] for entry in page["entries"]] == [deleted, first, second]
    assert page["total"] == 3
    assert page["entries"][0] == {"id": deleted, "deletedDate": "2026-10-15", "deleted": True}
    assert page["entries"][1]["barcodes"] == [bench_patron_barcode(0)]
    live = get("patrons", {"id": ids, "deleted": "false"}).json()
    assert [entry["id"] for entry in live["entries"]] == [first, second]
    gone = get("patrons", {"id": ids, "deleted": "true"}).json()
    assert [entry["id"] for entry in gone["entries"]] == [deleted]


def test_patrons_by_id_range(sandbox: Sandbox, get: Get) -> None:
    ids = sorted(bench_patron_id(i) for i in _bench_patron_indexes(sandbox))
    page = get("patrons", {"id": f"[{ids[1]},{ids[3]}]", "deleted": "false"}).json()
    assert [entry["id"] for entry in page["entries"]] == ids[1:4]
    from_third = get("patrons", {"id": f"[{ids[2]},]", "deleted": "false", "limit": 100}).json()
    assert [entry["id"] for entry in from_third["entries"]] == ids[2:]


def test_patrons_by_id_with_none_of_them_is_404_and_a_bad_id_400(get: Get) -> None:
    nobody = get("patrons", {"id": "998,999"})
    assert (nobody.status_code, nobody.json()["code"]) == (404, 107)
    for bad in ("1,two", "[1,", ",", "[a,b]"):
        refused = get("patrons", {"id": bad})
        assert (refused.status_code, refused.json()["code"]) == (400, 108), bad


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 2001},
        {"limit": 0},
        {"offset": "x"},
        {"updatedDate": "[yesterday,]"},
        {"updatedDate": "[2025-01-01T00:00:00Z]"},
    ],
)
def test_bad_sweep_parameters_are_400_invalid_parameter(get: Get, params: dict[str, Any]) -> None:
    response = get("patrons", params)

    assert response.status_code == 400
    body = response.json()
    assert ERROR_KEYS | {"description"} == set(body)
    assert (body["code"], body["name"]) == (108, "Invalid parameter")


def test_the_largest_page_is_2000(get: Get) -> None:
    assert get("patrons", {"limit": 2000}).status_code == 200
