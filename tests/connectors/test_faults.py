"""The fault matrix: every fault kind the simulators can inject, against every connector, for
one citizen's sync and for sweeps with many calls in flight (the library's in batches).

Whatever the fault, the earlier good data stays as it was, the run is recorded as failed or
partial with the reason, and once the fault clears the next run completes.
"""

import uuid

import pytest

from connectors import services
from connectors.library.services import library_card_link
from connectors.models import SyncRun
from sandbox.demo import AINO, EERO, EERO_LIBRARY, SOFIA, SOFIA_LIBRARY
from tests.connector_settings import connector_settings
from wallet.models import DataRecord
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]

KINDS = ["500", "429", "timeout", "malformed", "drift", "truncate", "duplicate"]
SOURCES = {"youth": AINO, "berths": EERO, "library": EERO}


@pytest.fixture
def fast_failures(settings):
    settings.CONNECTOR_READ_TIMEOUT = 1.0  # the simulator's timeout fault sleeps 3 s
    settings.CONNECTOR_MAX_ATTEMPTS = 2
    settings.CONNECTOR_BACKOFF_BASE_SECONDS = 0.01
    settings.CONNECTOR_BREAKER_THRESHOLD = 100


def _snapshot(citizen, source):
    return {
        row.external_key: (bytes(row.payload), row.state)
        for row in DataRecord.objects.filter(citizen=citizen, source=source)
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_fault_keeps_earlier_data_is_recorded_and_clears(sandbox, fast_failures, source, kind):
    citizen = citizen_get_or_create(issuer=sandbox.issuer, subject=str(SOURCES[source].sub))[0]
    if source == "library":
        library_card_link(citizen=citizen, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    [good] = services.citizen_sync(citizen=citizen, trigger="test", sources=[source])
    assert good.status == SyncRun.Status.SUCCEEDED, good.errors
    before = _snapshot(citizen, source)
    assert before and all(state == DataRecord.State.ACTIVE for _, state in before.values())

    sandbox.set_faults(f"{source}:{kind}:1.0")
    try:
        [faulty] = services.citizen_sync(citizen=citizen, trigger="test", sources=[source])
    finally:
        sandbox.clear_faults()

    assert faulty.status in (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL), (kind, faulty.errors)
    assert faulty.error_code and faulty.errors, "the reason is recorded"
    assert _snapshot(citizen, source) == before, "earlier good data must stay as it was"

    [recovered] = services.citizen_sync(citizen=citizen, trigger="test", sources=[source])
    assert recovered.status == SyncRun.Status.SUCCEEDED, recovered.errors
    assert (recovered.created, recovered.updated, recovered.ended) == (0, 0, 0)
    assert recovered.unchanged == len(before)


@pytest.fixture
def swept_citizens(sandbox):
    """Aino, eero and sofia (eero's and sofia's library cards linked), and five strangers the
    upstreams do not know: the youth and berth sweeps make eight calls, the library's two
    patrons' lists and one batch."""
    people = [
        citizen_get_or_create(issuer=sandbox.issuer, subject=str(p.sub))[0]
        for p in (AINO, EERO, SOFIA)
    ]
    for citizen, card in ((people[1], EERO_LIBRARY), (people[2], SOFIA_LIBRARY)):
        library_card_link(citizen=citizen, barcode=card.barcode, pin=card.pin)
    for _ in range(5):
        citizen_get_or_create(issuer=sandbox.issuer, subject=str(uuid.uuid4()))
    return people


def _all_records(source):
    return {
        row.pk: (bytes(row.payload), row.state) for row in DataRecord.objects.filter(source=source)
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_fault_in_a_concurrent_sweep_keeps_earlier_data_is_recorded_and_clears(
    sandbox, fast_failures, swept_citizens, settings, source, kind
):
    connector_settings(settings, source, MAX_IN_FLIGHT=4, MAX_CALLS_PER_SECOND=1000.0)
    good = services.sweep_start(source=source, incremental=False, trigger="test")
    assert good.status == SyncRun.Status.SUCCEEDED, good.errors
    before = _all_records(source)
    assert before

    sandbox.set_faults(f"{source}:{kind}:1.0")
    try:
        faulty = services.sweep_start(source=source, incremental=False, trigger="test")
    finally:
        sandbox.clear_faults()

    assert faulty.status in (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL), (kind, faulty.errors)
    assert faulty.error_code and faulty.errors, "the reason is recorded"
    assert faulty.citizens == good.citizens, "every citizen counted once"
    assert _all_records(source) == before, "earlier good data must stay as it was"

    recovered = services.sweep_start(source=source, incremental=False, trigger="test")
    assert recovered.status == SyncRun.Status.SUCCEEDED, recovered.errors
    assert (recovered.created, recovered.updated, recovered.ended) == (0, 0, 0)
    assert recovered.unchanged == len(before)


MIXED_FAULTS = ",".join(f"{system}:{kind}:0.15" for system in sorted(SOURCES) for kind in KINDS)


@pytest.fixture(scope="module")
def crowded_sandbox(django_db_blocker):
    """A sandbox of its own with 30 generated citizens upstream (the shared one has only the
    demo people)."""
    from django.conf import settings

    from sandbox.harness import start_sandbox

    with start_sandbox(
        wallet_client_secret=settings.OIDC_RP_CLIENT_SECRET,
        connector_client_secret=settings.CONNECTOR_CLIENT_SECRET,
        library_client_key=settings.CONNECTORS["library"]["CLIENT_KEY"],
        library_client_secret=settings.CONNECTORS["library"]["CLIENT_SECRET"],
        citizens=30,
        extra_env={"SANDBOX_FAULT_TIMEOUT_SECONDS": "3"},
    ) as running:
        yield running


def test_sweeps_under_mixed_faults_lose_nothing_and_complete_once_cleared(
    crowded_sandbox, fast_failures, settings
):
    from bench.seed_wallets import seed_wallets
    from tests.conftest import point_settings_at

    point_settings_at(settings, crowded_sandbox)
    settings.CONNECTOR_READ_TIMEOUT = 0.5
    for source in SOURCES:  # many calls in flight, the library's patrons in one batch
        connector_settings(settings, source, MAX_IN_FLIGHT=6, MAX_CALLS_PER_SECOND=1000.0)
    seed_wallets(count=30, citizen_seed=1, issuer=crowded_sandbox.issuer)
    sources = sorted(SOURCES)

    def sweep_all():
        return {
            s: services.sweep_start(source=s, incremental=False, trigger="test") for s in sources
        }

    first = sweep_all()
    assert all(run.status == SyncRun.Status.SUCCEEDED for run in first.values()), first
    assert all(run.created > 0 for run in first.values())
    before = {row.pk: (bytes(row.payload), row.state) for row in DataRecord.objects.all()}

    crowded_sandbox.set_faults(MIXED_FAULTS)
    try:
        faulty = sweep_all()
    finally:
        crowded_sandbox.clear_faults()
    for source, run in faulty.items():
        assert run.status in (SyncRun.Status.PARTIAL, SyncRun.Status.FAILED), (source, run.status)
        assert run.errors and run.error_code
    after = {row.pk: (bytes(row.payload), row.state) for row in DataRecord.objects.all()}
    assert after == before, "no record lost, changed or ended by faulty answers"

    cleared = sweep_all()
    for source, run in cleared.items():
        assert run.status == SyncRun.Status.SUCCEEDED, (source, run.errors)
        assert (run.created, run.updated, run.ended) == (0, 0, 0)
