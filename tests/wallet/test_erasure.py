"""Erasure (wallet.erasure): one commit point, then a completion that a rerun finishes.

A failure injected at each point of the erasure leaves the citizen either fully present (data
readable, consents in force, can sign in) or fully erased for every observer (services told the
consents were withdrawn, tokens from before refused, writes refused); a rerun completes it.
Then: tokens around an erasure, the access-log verifier, the markers' lifetime, the dry run, the
sessions, the pages, and a sync or a read racing an erasure.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO

import httpx
import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connectors import services as sync_engine
from connectors.base import connector_for
from consent.demo import demo_services_seed
from consent.models import (
    Consent,
    ConsentRequest,
    ConsentState,
    ErasedConsent,
    RequestState,
)
from consent.selectors import consent_request_for_service, consent_state
from consent.services import ConsentError, citizen_data_read, consent_request_create
from sandbox.demo import SOFIA, WALLET_CLI_CLIENT_ID
from tests.consent.test_queries import FIELDS, _consent, _read
from wallet import checks, erasure, hooks, keys
from wallet.access_log import access_log_append, access_log_erased, access_log_verify
from wallet.auth.oidc import CitizenOIDCBackend
from wallet.erasure import (
    IssuedBeforeErasure,
    citizen_erase,
    erasure_markers_purge,
    erasures_complete,
)
from wallet.models import (
    AccessLogEntry,
    AccessLogHead,
    AccessLogTombstone,
    Citizen,
    CitizenKey,
    CitizenSession,
    DataRecord,
    Erasure,
    Profile,
)
from wallet.selectors import citizen_wallet
from wallet.services import (
    UpstreamRecord,
    citizen_get_or_create,
    profile_update_from_claims,
    records_upsert,
)
from wallet.vault import CitizenClosed

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


class InjectedFault(Exception):
    """A crash at a chosen point of the erasure."""


@pytest.fixture
def erasure_hook() -> Iterator[Callable[[hooks.ErasureCallback], None]]:
    """Register a `before_erasure` callback for one test (after the apps' own)."""
    added: list[hooks.ErasureCallback] = []

    def register(callback: hooks.ErasureCallback) -> None:
        hooks.before_erasure(callback)
        added.append(callback)

    yield register
    for callback in added:
        hooks._before_erasure.remove(callback)


def _citizen() -> Citizen:
    """A citizen with a profile and a youth card (a card number of their own)."""
    citizen, _ = citizen_get_or_create(issuer=settings.OIDC_ISSUER, subject=str(uuid.uuid4()))
    profile_update_from_claims(citizen=citizen, claims={"email": "q@example.com"})
    card = UpstreamRecord(kind="membership", external_id=str(uuid.uuid4()), payload={"s": "A"})
    records_upsert(citizen=citizen, source="youth", records=[card])
    return citizen


class Scene:
    """A citizen with a profile, a youth card, a consent to demo-service (read once, so their
    access log has an entry) and a request of demo-service-2 hinted to them, still waiting."""

    def __init__(self) -> None:
        self.service, self.other_service = demo_services_seed()[:2]
        self.citizen = _citizen()
        self.consent = _consent(self.citizen, self.service)
        self.pairwise = self.consent.subject.pairwise_id
        self.reads = 0  # entries in the citizen's access log
        assert self.service_read().granted_fields == FIELDS
        self.hinted = consent_request_create(
            service=self.other_service,
            field_ids=["profile.email"],
            purpose_code="harbour-notices",
            redirect_uri=self.other_service.redirect_uri_list()[0],
            citizen_hint=self.citizen.subject,
        )
        self.before = timezone.now()  # a token issued now is from before the erasure

    def citizen_row(self) -> Citizen | None:
        return Citizen.objects.filter(pk=self.citizen.pk).first()

    def service_read(self):
        read = citizen_data_read(
            service=self.service,
            pairwise_id=self.pairwise,
            request_id=str(uuid.uuid4()),
            field_ids=None,
        )
        self.reads += 1
        return read

    def sign_in(self, issued_at):
        return citizen_get_or_create(
            issuer=self.citizen.issuer, subject=self.citizen.subject, issued_at=issued_at
        )

    def assert_fully_present(self) -> None:
        row = self.citizen_row()
        assert row is not None and row.is_active
        assert not Erasure.objects.filter(citizen_id=row.pk).exists()
        assert not AccessLogTombstone.objects.filter(citizen_id=row.pk).exists()
        assert citizen_wallet(citizen=row).profile["email"].value == "q@example.com"
        assert consent_state(consent_id=self.consent.pk) == ConsentState.GIVEN
        assert self.service_read().granted_fields == FIELDS
        request = ConsentRequest.objects.get(pk=self.consent.request_id)
        assert request.citizen_id == row.pk and request.citizen_erased_at is None
        hinted = ConsentRequest.objects.get(pk=self.hinted.pk)
        assert hinted.state == RequestState.REQUESTED and hinted.citizen_hint_index
        assert not ErasedConsent.objects.exists()
        assert CitizenOIDCBackend().get_user(row.pk) == row  # sessions still sign them in
        assert self.sign_in(timezone.now()) == (row, False)
        assert list(access_log_verify()) == []

    def assert_erased_for_everyone(self) -> None:
        # the service is told, both ways it can ask
        with pytest.raises(ConsentError) as refused:
            self.service_read()
        assert refused.value.code == "CONSENT_WITHDRAWN"
        request = consent_request_for_service(
            service=self.service, request_id=self.consent.request_id
        )
        assert request is not None and request.citizen_erased_at is not None
        assert request.erased_consent.state == ConsentState.WITHDRAWN
        assert request.erased_consent.consent_id == self.consent.pk
        hinted = ConsentRequest.objects.get(pk=self.hinted.pk)
        assert hinted.state == RequestState.WITHDRAWN and hinted.citizen_hint_index == ""
        # nothing signs them in or writes for them
        assert CitizenOIDCBackend().get_user(self.citizen.pk) is None
        with pytest.raises(IssuedBeforeErasure):
            self.sign_in(self.before)
        with pytest.raises(CitizenClosed):
            records_upsert(citizen=self.citizen, source="youth", records=[])
        assert list(access_log_verify()) == []  # being erased is not a broken chain

    def assert_erased_at_rest(self) -> None:
        citizen_id = self.citizen.pk
        assert self.citizen_row() is None
        assert not CitizenKey.objects.filter(citizen_id=citizen_id).exists()
        for model in (Profile, DataRecord, AccessLogEntry, AccessLogHead, Consent):
            assert not model.objects.filter(citizen_id=citizen_id).exists(), model
        assert Erasure.objects.get(citizen_id=citizen_id).state == Erasure.State.COMPLETED
        tombstone = AccessLogTombstone.objects.get(citizen_id=citizen_id)
        assert tombstone.seq == self.reads and len(tombstone.mac) == 64
        self.assert_erased_for_everyone()


@pytest.fixture
def scene() -> Scene:
    return Scene()


# Each point of the erasure that can fail. Before the commit point the erasure raises and
# nothing has changed; after it, it reports `completed: False` and a rerun finishes it.


def _failing_app_callback(patch: pytest.MonkeyPatch) -> None:
    fail = _raiser(InjectedFault("an app's callback failed, after the consent app's had run"))
    patch.setattr(hooks, "_before_erasure", [*hooks._before_erasure, fail])


def _failing_tombstone(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(erasure, "_tombstone_write", _raiser(InjectedFault("tombstone")))


def _failing_journal(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(Erasure.objects, "create", _raiser(InjectedFault("journal")))


def _key_store_down(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(keys, "citizen_key_destroy", _raiser(OperationalError("key store down")))


def _failing_row_deletion(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(erasure, "_rows_delete", _raiser(OperationalError("data db down")))


def _failing_last_journal_update(patch: pytest.MonkeyPatch) -> None:
    real = erasure._state_move

    def move(erasure_row, state):
        if state == Erasure.State.COMPLETED:
            raise OperationalError("data db down")
        real(erasure_row, state)

    patch.setattr(erasure, "_state_move", move)


def _raiser(error: Exception) -> Callable[..., None]:
    def fail(*args, **kwargs):
        raise error

    return fail


BEFORE_THE_COMMIT_POINT = {
    "in step 1, after the apps' callbacks": _failing_app_callback,
    "in step 1, at the access-log tombstone": _failing_tombstone,
    "in step 1, at the erasure journal": _failing_journal,
}
AFTER_THE_COMMIT_POINT = {
    "between step 1 and step 2 (the key store)": (_key_store_down, Erasure.State.STARTED),
    "between step 2 and step 3 (the rows)": (_failing_row_deletion, Erasure.State.KEY_DESTROYED),
    "after step 3, before the journal says so": (
        _failing_last_journal_update,
        Erasure.State.KEY_DESTROYED,
    ),
}


@pytest.mark.parametrize("fault", BEFORE_THE_COMMIT_POINT.values(), ids=BEFORE_THE_COMMIT_POINT)
def test_a_failure_before_the_commit_point_leaves_the_citizen_fully_present(
    scene, monkeypatch, fault
):
    with monkeypatch.context() as patch:
        fault(patch)
        with pytest.raises(InjectedFault):
            citizen_erase(citizen=scene.citizen)

    scene.assert_fully_present()
    # and erasing again goes through
    assert citizen_erase(citizen=scene.citizen).completed
    scene.assert_erased_at_rest()


@pytest.mark.parametrize(
    ("fault", "stopped_at"), AFTER_THE_COMMIT_POINT.values(), ids=AFTER_THE_COMMIT_POINT
)
def test_a_failure_after_the_commit_point_leaves_the_citizen_erased_and_a_rerun_completes_it(
    scene, monkeypatch, fault, stopped_at
):
    with monkeypatch.context() as patch:
        fault(patch)
        result = citizen_erase(citizen=scene.citizen)

    assert not result.completed and result.apps["consents_withdrawn"] == 1
    journal = Erasure.objects.get(citizen_id=scene.citizen.pk)
    assert journal.state == stopped_at and journal.failure == "OperationalError"
    scene.assert_erased_for_everyone()

    sweep = erasures_complete()

    assert (sweep.completed, sweep.failed) == (1, 0)
    scene.assert_erased_at_rest()


def test_a_later_erase_call_or_the_next_sign_in_completes_a_stopped_erasure(monkeypatch):
    for finish in ("erase again", "sign in again"):
        scene = Scene()
        with monkeypatch.context() as patch:
            _key_store_down(patch)
            citizen_erase(citizen=scene.citizen)
        assert CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()

        if finish == "erase again":
            assert citizen_erase(citizen=Citizen.objects.get(pk=scene.citizen.pk)).completed
        else:
            erased_at = Erasure.objects.get(citizen_id=scene.citizen.pk).erased_at
            new, created = scene.sign_in(erased_at + timedelta(seconds=1))
            assert created and new.pk != scene.citizen.pk
            assert new.previous_wallet_erased_at == erased_at
            Citizen.objects.filter(pk=new.pk).delete()  # leave the scene as the check expects
        scene.assert_erased_at_rest()


def test_a_read_that_appends_after_the_commit_point_leaves_no_key_and_moves_the_tombstone(
    scene, monkeypatch
):
    # given an erasure stopped after it destroyed the key
    with monkeypatch.context() as patch:
        _failing_row_deletion(patch)
        citizen_erase(citizen=scene.citizen)
    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()
    # when a read that found the citizen before the commit point appends its entry now (it
    # makes a key of its own to seal it)
    stale = Citizen.objects.get(pk=scene.citizen.pk)
    seq = access_log_append(
        citizen=stale, service_id=scene.service.pk, consent_id=None, details={"late": True}
    )
    assert seq == scene.reads + 1
    assert CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()

    erasures_complete()

    # then that key went too, and the tombstone names the last entry
    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()
    assert AccessLogTombstone.objects.get(citizen_id=scene.citizen.pk).seq == scene.reads + 1


def test_a_read_that_appends_after_the_rows_went_appends_nothing_and_makes_no_key(scene):
    stale = Citizen.objects.get(pk=scene.citizen.pk)  # looked up before the erasure
    citizen_erase(citizen=scene.citizen)

    with pytest.raises(CitizenClosed):
        access_log_append(
            citizen=stale, service_id=scene.service.pk, consent_id=None, details={"late": True}
        )

    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()
    assert not AccessLogHead.objects.filter(citizen_id=scene.citizen.pk).exists()
    scene.assert_erased_at_rest()


def test_the_dry_run_runs_everything_and_changes_nothing(scene, erasure_hook):
    result = citizen_erase(citizen=scene.citizen, dry_run=True)

    assert result.dry_run and not result.completed
    assert result.apps == {"consents_withdrawn": 1, "requests_withdrawn": 1}
    scene.assert_fully_present()
    assert CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()

    # what would stop the erasure stops the dry run too
    erasure_hook(_raiser(InjectedFault("an app refuses")))
    with pytest.raises(InjectedFault):
        citizen_erase(citizen=scene.citizen, dry_run=True)
    scene.assert_fully_present()


def test_erasure_is_refused_inside_a_transaction_and_for_nobody(scene):
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError):
        citizen_erase(citizen=scene.citizen)
    with pytest.raises(Citizen.DoesNotExist):
        citizen_erase(citizen=Citizen(issuer="x", subject="y"))
    scene.assert_fully_present()


# Tokens and sign-ins around an erasure


ME = "{ me { previousWalletErasedAt profile { email lastName } consents { id } } }"
ERASE = "mutation { eraseMyData(confirm: true) { erased erasedAt signOutUrl errors { code } } }"


def _post(client: Client, token: str, query: str):
    return client.post(
        "/graphql/",
        {"query": query},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_token_from_before_the_erasure_brings_nobody_back(client, sandbox, settings):
    settings.WALLET_CITIZEN_CLIENT_IDS = [WALLET_CLI_CLIENT_ID]
    token = sandbox.password_token("sofia", scope="openid profile email wallet")["access_token"]
    first = _post(client, token, ME).json()["data"]["me"]
    assert first["profile"]["email"] == SOFIA.email and first["previousWalletErasedAt"] is None

    erased = _post(client, token, ERASE).json()["data"]["eraseMyData"]
    assert erased["erased"] and erased["signOutUrl"] is None and erased["errors"] == []

    # the issue's reproducer: the same, still valid token, the very next call
    again = _post(client, token, ME)
    assert again.status_code == 401
    assert 'error="invalid_token"' in again["WWW-Authenticate"]
    assert "erased" in again.json()["errors"][0]["message"]
    assert not Citizen.objects.filter(subject=str(SOFIA.sub)).exists()

    # a token the provider issues after the erasure starts a new, empty wallet that says so
    fresh = jwt.decode(
        sandbox.password_token("sofia")["access_token"], options={"verify_signature": False}
    )
    erased_at = Erasure.objects.get().erased_at
    issued = int(erased_at.timestamp()) + 1
    later = sandbox.sign_jwt({**fresh, "iat": issued, "exp": issued + 300})
    new = _post(client, later, ME).json()["data"]["me"]
    assert new["consents"] == []
    assert new["previousWalletErasedAt"] == erased_at.isoformat()
    # and the old token stays refused, also now that a wallet exists again
    assert _post(client, token, ME).status_code == 401
    assert Citizen.objects.filter(subject=str(SOFIA.sub)).count() == 1


def test_later_fields_of_the_erasing_request_find_nobody(client):
    citizen = _citizen()
    client.force_login(citizen)
    both = client.post(
        "/graphql/",
        {
            "query": "mutation { a: eraseMyData(confirm: true) { erased signOutUrl } "
            "b: eraseMyData(confirm: true) { erased } }"
        },
        content_type="application/json",
    ).json()
    assert both["data"]["a"]["erased"] is True
    assert (
        "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Ferased%2F"
        in (both["data"]["a"]["signOutUrl"])
    )
    assert both["data"]["b"] is None
    assert both["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# Sessions and pages


def test_every_session_of_the_citizen_dies_and_is_deleted(settings):
    citizen, other = _citizen(), _citizen()
    phone, laptop, neighbour = Client(), Client(), Client()
    for browser, who in ((phone, citizen), (laptop, citizen), (neighbour, other)):
        browser.force_login(who)
    assert CitizenSession.objects.filter(citizen_id=citizen.pk).count() == 2

    erased = phone.post(reverse("erase"), {"confirm": "on"}, HTTP_ACCEPT_LANGUAGE="en")

    assert erased.status_code == 302
    assert not CitizenSession.objects.filter(citizen_id=citizen.pk).exists()
    assert "Sign out" not in laptop.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert laptop.get(reverse("profile")).status_code == 302  # off to sign in
    assert "Sign out" in neighbour.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_erase_page_explains_asks_for_confirmation_and_signs_out_through_the_provider(
    client,
):
    citizen = _citizen()
    client.force_login(citizen)
    session = client.session
    session["oidc_id_token"] = "the-id-token"
    session.save()

    page = client.get(reverse("erase"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Every consent you have given is withdrawn" in page
    assert "cannot be undone" in page and "keep their own data" in page

    unconfirmed = client.post(reverse("erase"), {}, HTTP_ACCEPT_LANGUAGE="en")
    assert unconfirmed.status_code == 200
    assert "Tick the box to confirm" in unconfirmed.content.decode()
    assert Citizen.objects.get(pk=citizen.pk).is_active

    done = client.post(reverse("erase"), {"confirm": "on"})

    assert done.status_code == 302
    location = done["Location"]
    assert location.startswith(settings.OIDC_OP_END_SESSION_ENDPOINT)
    assert "id_token_hint=the-id-token" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Ferased%2F" in location
    assert not Citizen.objects.filter(pk=citizen.pk).exists()
    erased = client.get(reverse("erased"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "has been erased" in erased and "Sign out" not in erased


def test_the_erase_page_needs_its_csrf_token():
    citizen = _citizen()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    assert browser.post(reverse("erase"), {"confirm": "on"}).status_code == 403
    assert Citizen.objects.get(pk=citizen.pk).is_active


def test_a_failure_before_the_commit_point_is_explained_on_the_page(client, erasure_hook):
    citizen = _citizen()
    client.force_login(citizen)
    erasure_hook(_raiser(InjectedFault("an app refuses")))

    response = client.post(
        reverse("erase"), {"confirm": "on"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.redirect_chain == [(reverse("erase"), 302)]
    assert "could not be erased just now. Nothing was changed" in response.content.decode()
    assert Citizen.objects.get(pk=citizen.pk).is_active


# The access-log verifier


def test_the_verifier_tells_an_erased_citizen_from_a_tampered_chain(scene):
    living = _citizen()
    living_consent = _consent(living, scene.service)
    for _ in range(2):
        _read(scene.service, living_consent)

    citizen_erase(citizen=scene.citizen)

    out = StringIO()
    call_command("verify_access_log", stdout=out)
    assert "1 erased citizen(s)" in out.getvalue()
    out = StringIO()
    call_command(
        "verify_access_log",
        "--citizen",
        scene.citizen.subject,
        "--issuer",
        scene.citizen.issuer,
        stdout=out,
    )
    assert f"erased: citizen {scene.citizen.pk}: erased at" in out.getvalue()
    assert f"the chain ended at entry {scene.reads}" in out.getvalue()

    # a living citizen's deleted entry or head is still tampering
    AccessLogEntry.objects.filter(citizen=living, seq=2).delete()
    with pytest.raises(CommandError, match="1 access-log chain"):
        call_command("verify_access_log", stdout=StringIO(), stderr=StringIO())
    AccessLogHead.objects.filter(citizen=living).delete()
    [broken] = access_log_verify()
    assert broken.citizen_id == living.pk


def test_a_chain_being_erased_is_reported_as_such(scene, monkeypatch):
    with monkeypatch.context() as patch:
        _failing_row_deletion(patch)
        citizen_erase(citizen=scene.citizen)
    # the key is gone and the entries are still there: not "unreadable", but being erased
    assert list(access_log_verify()) == []
    [chain] = access_log_erased(citizen_ids=[scene.citizen.pk])
    assert chain.pending and chain.seq == scene.reads


# The markers' lifetime


def test_markers_are_forgotten_after_their_lifetime_and_tombstones_stay(scene, settings):
    citizen_erase(citizen=scene.citizen)
    recent = Scene()
    citizen_erase(citizen=recent.citizen)
    lifetime = timedelta(days=settings.WALLET_ERASURE_MARKER_DAYS)
    Erasure.objects.filter(citizen_id=scene.citizen.pk).update(
        erased_at=timezone.now() - lifetime - timedelta(minutes=1)
    )

    assert erasures_complete().markers_purged == 1

    assert list(Erasure.objects.values_list("citizen_id", flat=True)) == [recent.citizen.pk]
    assert AccessLogTombstone.objects.count() == 2
    assert erasure_markers_purge() == 0
    # forgotten: a new sign-in starts a wallet without the notice
    new, created = scene.sign_in(timezone.now())
    assert created and new.previous_wallet_erased_at is None


def test_an_incomplete_erasure_is_never_forgotten(scene, monkeypatch):
    with monkeypatch.context() as patch:
        _key_store_down(patch)
        citizen_erase(citizen=scene.citizen)
        Erasure.objects.update(erased_at=timezone.now() - timedelta(days=400))
        sweep = erasures_complete()
    assert (sweep.failed, sweep.markers_purged) == (1, 0)
    assert Erasure.objects.get().failure == "OperationalError"


def test_the_markers_must_outlive_every_token(settings):
    assert checks.erasure_markers_outlive_tokens() == []
    settings.WALLET_ERASURE_MARKER_DAYS = 1
    settings.WALLET_TOKEN_MAX_LIFETIME_SECONDS = 86400
    [error] = checks.erasure_markers_outlive_tokens()
    assert error.id == "wallet.E005"


def test_the_erase_command_dry_runs_erases_and_finishes_what_stopped(scene, monkeypatch):
    who = ["--citizen", scene.citizen.subject, "--issuer", scene.citizen.issuer]
    out = StringIO()
    call_command("erase_citizen", *who, "--dry-run", stdout=out)
    assert '"dry_run": true' in out.getvalue()
    scene.assert_fully_present()

    with monkeypatch.context() as patch:
        _failing_last_journal_update(patch)
        with pytest.raises(CommandError, match="erased for everyone"):
            call_command("erase_citizen", *who, stdout=StringIO())
    # the rows are gone; the command finds the erasure by its marker and finishes it
    out = StringIO()
    call_command("erase_citizen", *who, stdout=out)
    assert '"state": "completed"' in out.getvalue()
    scene.assert_erased_at_rest()


# Races: the erasure holds the citizen's lock; a sync or a consented read meets it


def _wait_for_a_lock_wait(timeout: float = 30) -> None:
    """Until some other connection of this database waits for a lock (bounded)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("nobody waited for the erasure's lock")


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # reported by the main thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_sync_waiting_for_the_erasures_lock_writes_nothing(postgres, scene, erasure_hook):
    holding, go = threading.Event(), threading.Event()

    def hold(citizen, erased_at):
        holding.set()
        assert go.wait(30)

    erasure_hook(hold)
    eraser, erased = _in_thread(lambda: citizen_erase(citizen=scene.citizen))
    assert holding.wait(30)
    record = UpstreamRecord(kind="membership", external_id="late", payload={"status": "ACTIVE"})
    syncer, synced = _in_thread(
        lambda: records_upsert(citizen=scene.citizen, source="youth", records=[record])
    )
    _wait_for_a_lock_wait()  # the sync waits for the citizen's row
    go.set()
    for thread in (eraser, syncer):
        thread.join(60)
        assert not thread.is_alive()

    assert "error" not in erased and erased["result"].completed
    assert isinstance(synced["error"], CitizenClosed)
    assert not DataRecord.objects.filter(citizen_id=scene.citizen.pk).exists()
    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()
    scene.assert_erased_at_rest()


def test_a_read_meeting_the_erasure_is_logged_before_the_tombstone_or_told_withdrawn(
    postgres, scene, erasure_hook
):
    holding, go = threading.Event(), threading.Event()

    def hold(citizen, erased_at):
        holding.set()
        assert go.wait(30)

    erasure_hook(hold)
    eraser, erased = _in_thread(lambda: citizen_erase(citizen=scene.citizen))
    assert holding.wait(30)
    # a read that found the citizen in force (its statement ran before the erasure's commit)
    # appends to the log: it waits for the head the erasure holds
    reader, read = _in_thread(
        lambda: access_log_append(
            citizen=Citizen.objects.get(pk=scene.citizen.pk),
            service_id=scene.service.pk,
            consent_id=scene.consent.pk,
            details={"request_id": "racing"},
        )
    )
    _wait_for_a_lock_wait()
    go.set()
    for thread in (eraser, reader):
        thread.join(60)
        assert not thread.is_alive()

    assert "error" not in erased, erased
    # the entry went in behind the erasure's commit point, before the rows went (the tombstone
    # names it as the chain's last), or found the rows gone (nothing to append to: the service
    # is told the consent was withdrawn). Nothing of the citizen is left either way, nor a key.
    tombstone = AccessLogTombstone.objects.get(citizen_id=scene.citizen.pk)
    if "error" in read:
        assert isinstance(read["error"], CitizenClosed)
        assert tombstone.seq == scene.reads
    else:
        assert read["result"] == tombstone.seq == scene.reads + 1
    assert scene.citizen_row() is None
    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()
    assert not AccessLogEntry.objects.filter(citizen_id=scene.citizen.pk).exists()
    with pytest.raises(ConsentError):
        scene.service_read()


def test_a_sync_after_the_commit_point_writes_nothing_and_makes_no_key(scene, monkeypatch):
    """The same on any database, in sequence: the erasure committed and stopped after the key."""
    with monkeypatch.context() as patch:
        _failing_row_deletion(patch)
        citizen_erase(citizen=scene.citizen)
    rows_before = DataRecord.objects.filter(citizen_id=scene.citizen.pk).count()
    record = UpstreamRecord(kind="membership", external_id="late", payload={"status": "ACTIVE"})

    with pytest.raises(CitizenClosed):
        records_upsert(citizen=scene.citizen, source="youth", records=[record])

    assert DataRecord.objects.filter(citizen_id=scene.citizen.pk).count() == rows_before
    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()


def test_a_sync_that_meets_an_erasure_skips_the_citizen_without_an_error(
    scene, monkeypatch, sandbox
):
    """A sync found the citizen in force (eligible), then the erasure committed while it
    fetched: the sync writes nothing, and counts neither a citizen nor a failure."""
    with monkeypatch.context() as patch:
        _failing_row_deletion(patch)
        citizen_erase(citizen=scene.citizen)
    outcome = sync_engine.Outcome()

    youth = connector_for("youth")
    with httpx.Client(timeout=10) as client:
        sync_engine._sync_one(
            connector=youth,
            citizen=scene.citizen,
            fetched=lambda: youth.fetch_citizen(citizen=scene.citizen, client=client),
            outcome=outcome,
        )

    assert (outcome.citizens, outcome.citizens_failed, outcome.errors) == (0, 0, [])
    assert not CitizenKey.objects.filter(citizen_id=scene.citizen.pk).exists()


def test_services_of_other_citizens_are_untouched(scene):
    other = _citizen()
    kept = _consent(other, scene.service)
    citizen_erase(citizen=scene.citizen)
    assert _read(scene.service, kept).granted_fields == FIELDS
    assert ConsentRequest.objects.get(pk=kept.request_id).citizen_id == other.pk
    assert not ErasedConsent.objects.filter(consent_id=kept.pk).exists()
    assert list(ErasedConsent.objects.values_list("consent_id", flat=True)) == [scene.consent.pk]
