"""Library-card linking attempts: counted per citizen and per card, before the library is asked.

The races run on PostgreSQL with real commits (`transaction=True`): every thread has its own
database connections and all of them start together at a barrier. What reached the library is
counted twice: on the way out of the wallet (at httpx's transport, so our own code is not
mocked) and in the library simulator's access log over real HTTP; the two must agree.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.db.models import F
from django.utils import timezone

from connectors.library.services import LinkError, library_card_link
from connectors.models import LibraryLink, LinkAttemptCounter
from sandbox.demo import SOFIA, SOFIA_LIBRARY
from tests.connector_settings import connector_settings
from tests.factories import CitizenFactory
from wallet.models import Citizen
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]

THREADS = 30
UNKNOWN_BARCODE = "29999999999999"
# The simulator's access log: the request line and the status, never a body (no PIN).
VALIDATE_LINE = re.compile(r'"POST /library/iii/sierra-api/v6/patrons/validate HTTP/1\.1" (\d{3})')
WRONG_OR_LOCKED = {"WRONG_CREDENTIALS", "RATE_LIMITED"}


class LibraryValidations:
    """`patrons/validate` calls: as sent by the wallet and as the library simulator logged them."""

    def __init__(self, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self._sandbox = sandbox
        self._logged_before = len(self._logged())
        self._lock = threading.Lock()
        self.sent = 0
        send = httpx.HTTPTransport.handle_request

        def counting(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/patrons/validate"):
                with self._lock:
                    self.sent += 1  # counted on the way out: a call that then times out counts
            return send(transport, request)

        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", counting)

    def _logged(self) -> list[str]:
        return VALIDATE_LINE.findall(self._sandbox.log())

    def answered(self) -> list[str]:
        """The statuses the library answered, once it has logged every call the wallet sent:
        its log line follows the response, so wait for it (bounded)."""
        deadline = time.monotonic() + 30
        while True:
            answered = self._logged()[self._logged_before :]
            if len(answered) >= self.sent or time.monotonic() > deadline:
                return answered
            time.sleep(0.05)


@pytest.fixture
def validations(sandbox, monkeypatch) -> LibraryValidations:  # type: ignore[no-untyped-def]
    return LibraryValidations(sandbox, monkeypatch)


def _sofia(sandbox) -> Citizen:  # type: ignore[no-untyped-def]
    return citizen_get_or_create(issuer=sandbox.issuer, subject=str(SOFIA.sub))[0]


def _answer(citizen: Citizen, barcode: str, pin: str) -> str:
    try:
        library_card_link(citizen=citizen, barcode=barcode, pin=pin)
    except LinkError as error:
        return error.code
    return "LINKED"


def _race(attempts: list[tuple[Citizen, str]], *, barcode: str) -> list[str]:
    """Each (citizen, pin) in a thread of its own, all released together; their answers."""
    barrier = threading.Barrier(len(attempts), timeout=60)

    def attempt(citizen: Citizen, pin: str) -> str:
        try:
            barrier.wait()
            return _answer(citizen, barcode, pin)
        except Exception as error:  # anything but a LinkError fails the test below, by name
            return type(error).__name__
        finally:
            connections.close_all()  # this thread's own connections

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = [pool.submit(attempt, citizen, pin) for citizen, pin in attempts]
        return [future.result(timeout=240) for future in futures]


def _window_end(kind: str, key: str) -> datetime:
    counter = LinkAttemptCounter.objects.get(kind=kind, key=key)
    return counter.window_start + timedelta(
        minutes=django_settings.CONNECTORS["library"]["LINK_WINDOW_MINUTES"]
    )


def _assert_says_when(
    message: str, *, window_end: datetime, asked: tuple[datetime, datetime]
) -> None:
    """The message names the minutes left of the window when the answer was made, some time
    between the two instants of `asked` (no assumption on how long the call took)."""
    match = re.fullmatch(r"Too many attempts\. Try again in (\d+) minutes?\.", message)
    assert match, message
    fewest, most = (math.ceil((window_end - t).total_seconds() / 60) for t in reversed(asked))
    assert fewest <= int(match[1]) <= most, (message, fewest, most)


def _end_the_windows() -> None:
    """Move every counter's window back by its length: as if that much time had passed."""
    window = timedelta(minutes=django_settings.CONNECTORS["library"]["LINK_WINDOW_MINUTES"])
    LinkAttemptCounter.objects.update(window_start=F("window_start") - window)


@pytest.mark.parametrize("citizens", [1, 6], ids=["one-citizen", "six-citizens"])
def test_parallel_wrong_pins_for_one_card_reach_the_library_at_most_the_limit(
    postgres, sandbox, settings, validations, citizens
):
    # given sofia and maybe others, each with a share of 30 wrong PINs for sofia's card
    limits = settings.CONNECTORS["library"]
    assert (limits["LINK_ATTEMPTS"], limits["LINK_WINDOW_MINUTES"]) == (5, 15)
    sofia = _sofia(sandbox)
    people = [sofia, *(CitizenFactory() for _ in range(citizens - 1))]
    attempts = [(people[n % citizens], f"{n:04d}") for n in range(THREADS)]
    assert SOFIA_LIBRARY.pin not in {pin for _, pin in attempts}

    # when all 30 try at once
    answers = _race(attempts, barcode=SOFIA_LIBRARY.barcode)

    # then at most the limit reached the library, each a wrong PIN; the rest were locked out
    answered = validations.answered()
    assert len(answered) == validations.sent, "the library saw what the wallet sent"
    assert validations.sent == limits["LINK_ATTEMPTS"]
    assert answered == ["400"] * limits["LINK_ATTEMPTS"]
    assert set(answers) <= WRONG_OR_LOCKED, answers
    assert answers.count("WRONG_CREDENTIALS") == limits["LINK_ATTEMPTS"]
    assert answers.count("RATE_LIMITED") == THREADS - limits["LINK_ATTEMPTS"]
    card = LinkAttemptCounter.objects.get(kind=LinkAttemptCounter.Kind.CARD)
    assert card.attempts == limits["LINK_ATTEMPTS"]

    # and the right PIN is refused too until the window ends, without asking the library
    assert _answer(sofia, SOFIA_LIBRARY.barcode, SOFIA_LIBRARY.pin) == "RATE_LIMITED"
    assert validations.sent == limits["LINK_ATTEMPTS"]

    # when the window has ended, the right PIN links
    _end_the_windows()
    assert _answer(sofia, SOFIA_LIBRARY.barcode, SOFIA_LIBRARY.pin) == "LINKED"
    assert LibraryLink.objects.filter(citizen=sofia).exists()
    assert validations.answered()[-1] == "204"
    # and the link cleared sofia's and the card's counters
    assert not LinkAttemptCounter.objects.filter(key=str(sofia.pk)).exists()
    assert not LinkAttemptCounter.objects.filter(kind=LinkAttemptCounter.Kind.CARD).exists()


def test_a_card_locked_by_others_refuses_even_the_right_pin_without_asking_the_library(
    sandbox, settings, validations
):
    connector_settings(settings, "library", LINK_ATTEMPTS=2)
    for _ in range(2):
        assert _answer(CitizenFactory(), SOFIA_LIBRARY.barcode, "0000") == "WRONG_CREDENTIALS"
    sofia = _sofia(sandbox)

    asked = timezone.now()
    with pytest.raises(LinkError) as locked:
        library_card_link(citizen=sofia, barcode=SOFIA_LIBRARY.barcode, pin=SOFIA_LIBRARY.pin)
    answered = timezone.now()

    assert locked.value.code == "RATE_LIMITED" and locked.value.field is None
    card_key = LinkAttemptCounter.objects.get(kind=LinkAttemptCounter.Kind.CARD).key
    window_end = _window_end(LinkAttemptCounter.Kind.CARD, card_key)
    assert locked.value.retry_at == window_end
    _assert_says_when(str(locked.value), window_end=window_end, asked=(asked, answered))
    assert validations.sent == 2
    # the card is matched whatever its letters' case and surrounding spaces
    lowered = f" {SOFIA_LIBRARY.barcode.lower()} "
    assert _answer(CitizenFactory(), lowered, SOFIA_LIBRARY.pin) == "RATE_LIMITED"
    # sofia's own counter took this attempt: she has one left for another card
    assert _answer(sofia, UNKNOWN_BARCODE, "0000") == "WRONG_CREDENTIALS"
    assert _answer(sofia, UNKNOWN_BARCODE, "0000") == "RATE_LIMITED"


def test_one_citizen_trying_many_cards_is_locked_out(sandbox, settings, validations):
    connector_settings(settings, "library", LINK_ATTEMPTS=3)
    sofia = _sofia(sandbox)
    for n in range(3):
        assert _answer(sofia, f"2999999999990{n}", "0000") == "WRONG_CREDENTIALS"

    assert _answer(sofia, SOFIA_LIBRARY.barcode, SOFIA_LIBRARY.pin) == "RATE_LIMITED"
    assert validations.sent == 3


def test_locking_out_says_the_same_whether_or_not_the_card_exists(sandbox, settings):
    connector_settings(settings, "library", LINK_ATTEMPTS=1)
    answers = {}
    for barcode in (SOFIA_LIBRARY.barcode, UNKNOWN_BARCODE):
        first, second = CitizenFactory(), CitizenFactory()
        assert _answer(first, barcode, "0000") == "WRONG_CREDENTIALS"
        with pytest.raises(LinkError) as locked:
            library_card_link(citizen=second, barcode=barcode, pin="0000")
        # the minutes left depend on the clock, not on the card
        message = re.sub(r"\d+", "N", str(locked.value))
        answers[barcode] = (locked.value.code, message, locked.value.field)
    assert answers[SOFIA_LIBRARY.barcode] == answers[UNKNOWN_BARCODE]


def test_a_link_clears_the_citizens_counter(sandbox, settings, validations):
    connector_settings(settings, "library", LINK_ATTEMPTS=3)
    sofia = _sofia(sandbox)
    for _ in range(2):
        assert _answer(sofia, SOFIA_LIBRARY.barcode, "0000") == "WRONG_CREDENTIALS"

    assert _answer(sofia, SOFIA_LIBRARY.barcode, SOFIA_LIBRARY.pin) == "LINKED"

    assert not LinkAttemptCounter.objects.exists()
    # her next action (linking again, say a new card) starts with the whole allowance
    for _ in range(3):
        assert _answer(sofia, UNKNOWN_BARCODE, "0000") == "WRONG_CREDENTIALS"
    assert _answer(sofia, UNKNOWN_BARCODE, "0000") == "RATE_LIMITED"
    assert validations.sent == 6


def test_ended_windows_start_again_and_are_cleaned_up(sandbox, settings):
    connector_settings(settings, "library", LINK_ATTEMPTS=1)
    sofia, other = _sofia(sandbox), CitizenFactory()
    assert _answer(sofia, SOFIA_LIBRARY.barcode, "0000") == "WRONG_CREDENTIALS"
    assert _answer(other, UNKNOWN_BARCODE, "0000") == "WRONG_CREDENTIALS"
    assert _answer(sofia, SOFIA_LIBRARY.barcode, "0000") == "RATE_LIMITED"
    _end_the_windows()

    assert _answer(sofia, SOFIA_LIBRARY.barcode, "0000") == "WRONG_CREDENTIALS"

    # sofia's and her card's windows started again; the other citizen's and card's are gone
    counters = LinkAttemptCounter.objects.values_list("kind", "key", "attempts")
    kinds = sorted((kind, attempts) for kind, _, attempts in counters)
    assert kinds == [("card", 1), ("citizen", 1)]
    assert str(other.pk) not in {key for _, key, _ in counters}


def test_counters_and_logs_hold_neither_barcode_nor_pin(sandbox, settings, caplog):
    connector_settings(settings, "library", LINK_ATTEMPTS=1)
    caplog.set_level(logging.DEBUG)
    sofia = _sofia(sandbox)
    pin = "0987"
    assert _answer(sofia, SOFIA_LIBRARY.barcode, pin) == "WRONG_CREDENTIALS"
    assert _answer(sofia, SOFIA_LIBRARY.barcode, pin) == "RATE_LIMITED"

    stored = " ".join(
        f"{kind} {key}" for kind, key in LinkAttemptCounter.objects.values_list("kind", "key")
    )
    for secret in (SOFIA_LIBRARY.barcode, SOFIA_LIBRARY.barcode.lower(), pin):
        assert secret not in stored
        assert secret not in caplog.text
    assert "library link refused" in caplog.text  # the refusal is logged, by citizen id only


def test_locked_out_mutation_says_when_to_try_again(sandbox, settings, client):
    connector_settings(settings, "library", LINK_ATTEMPTS=1)
    sofia = _sofia(sandbox)
    client.force_login(sofia)
    mutation = (
        "mutation($b: String!, $p: String!) { "
        "linkLibraryCard(barcode: $b, pin: $p) { linked errors { field code message } } }"
    )

    def link() -> dict:
        variables = {"b": SOFIA_LIBRARY.barcode, "p": "0000"}
        response = client.post(
            "/graphql/",
            {"query": mutation, "variables": variables},
            content_type="application/json",
        )
        return response.json()["data"]["linkLibraryCard"]

    assert link()["errors"][0]["code"] == "WRONG_CREDENTIALS"
    asked = timezone.now()
    locked = link()
    answered = timezone.now()

    assert locked["linked"] is False
    [error] = locked["errors"]
    assert (error["field"], error["code"]) == (None, "RATE_LIMITED")
    window_end = _window_end(LinkAttemptCounter.Kind.CITIZEN, str(sofia.pk))
    _assert_says_when(error["message"], window_end=window_end, asked=(asked, answered))


def test_every_link_error_code_has_its_api_code():
    from connectors.graphql.mutations import LINK_ERROR_CODES
    from connectors.library.services import LinkErrorCode

    assert set(LINK_ERROR_CODES) == set(LinkErrorCode)


def test_a_card_linked_while_the_data_key_rotates_is_sealed_under_the_new_key(
    postgres, sandbox, monkeypatch
):
    """The link seals the patron id in the citizen's unit of work (their row locked, the key
    generation read under the lock), so a rotation that finishes while the library is being
    asked does not leave it sealed under, or asking for, the retired key."""
    from connectors.library.client import SierraClient
    from connectors.library.connector import linked_patron_id
    from wallet import keys, services

    sofia = _sofia(sandbox)
    services.profile_update_from_claims(citizen=sofia, claims={"given_name": "Sofia"})
    find_by_barcode = SierraClient.find_by_barcode

    def rotate() -> int:
        try:
            return keys.data_key_rotate(citizen=Citizen.objects.get(pk=sofia.pk)).generation
        finally:
            connections.close_all()  # this thread's own connections

    def found_while_the_key_rotates(self, barcode):  # type: ignore[no-untyped-def]
        patron = find_by_barcode(self, barcode)
        with ThreadPoolExecutor(max_workers=1) as pool:  # a rotation in another connection
            assert pool.submit(rotate).result(timeout=60) == 2
        return patron

    monkeypatch.setattr(SierraClient, "find_by_barcode", found_while_the_key_rotates)

    # sofia as the request loaded her, before the rotation
    assert _answer(sofia, SOFIA_LIBRARY.barcode, SOFIA_LIBRARY.pin) == "LINKED"

    sofia.refresh_from_db()
    assert sofia.data_key_generation == 2
    assert linked_patron_id(sofia) == str(SOFIA_LIBRARY.patron_id)
