"""Demo data of the sandbox: plain constants, importable without Django (tests use them).

Everyone's password is ``demo``. Only Aino is a youth member (15 years old on 2026-11-28). Eero
leases a boat berth and is a library patron; Sofia is a library patron.

Generated "bench" citizens (``seed --citizens N --citizen-seed S``) are described by the
``bench_*`` functions at the end, so the wallet side can tell who exists upstream, and link
their library cards, without importing the sandbox's models.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

DEMO_PASSWORD = "demo"

# Client ids of the applications ``seed`` registers.
WALLET_WEB_CLIENT_ID = "oma-wallet-web"
WALLET_CLI_CLIENT_ID = "wallet-cli"
CONNECTOR_CLIENT_ID = "oma-wallet-connector"
# The city's profile service, calling the wallet's GDPR API with a citizen's token that carries
# one of GDPR_SCOPES (only this client may ask for them). Sandbox only: a public client with the
# password grant, so the API can be tried from a shell; the city's own gets the citizen's token
# through its sign-in.
HELSINKI_PROFILE_CLIENT_ID = "helsinki-profile"
GDPR_QUERY_SCOPE = "omahelsinki.gdprquery"
GDPR_DELETE_SCOPE = "omahelsinki.gdprdelete"
GDPR_SCOPES = (GDPR_QUERY_SCOPE, GDPR_DELETE_SCOPE)


@dataclass(frozen=True)
class DemoService:
    """A partner service that asks citizens for consent and reads through the wallet.

    Sandbox only: the secrets are fixed so demos and scripts can use them as they are.
    """

    client_id: str
    secret: str
    name: str
    redirect_uri: str


DEMO_SERVICES = (
    DemoService(
        client_id="demo-service",
        secret="demo-service-secret",
        name="Demo service",
        redirect_uri="http://127.0.0.1:8200/consent/callback",
    ),
    DemoService(
        client_id="demo-service-2",
        secret="demo-service-2-secret",
        name="Second demo service",
        redirect_uri="http://127.0.0.1:8201/consent/callback",
    ),
)

# Access-token audiences, by the scope that asks for them.
WALLET_AUDIENCE = "oma-helsinki-wallet"
YOUTH_AUDIENCE = "youth-membership"
BERTHS_AUDIENCE = "berth-reservations"


@dataclass(frozen=True)
class DemoUser:
    username: str
    sub: uuid.UUID
    first_name: str
    last_name: str
    email: str
    loa: str
    roles: tuple[str, ...] = ()
    birth_date: date | None = None


AINO = DemoUser(
    username="aino",
    sub=uuid.UUID("0f9c6b7e-3a51-4c1d-9b7e-5a1e2d3c4b01"),
    first_name="Aino",
    last_name="Virtanen",
    email="aino.virtanen@example.com",
    loa="substantial",
    birth_date=date(2011, 5, 14),
)
EERO = DemoUser(  # boat owner and library patron (data for those come with their simulators)
    username="eero",
    sub=uuid.UUID("0f9c6b7e-3a51-4c1d-9b7e-5a1e2d3c4b02"),
    first_name="Eero",
    last_name="Laaksonen",
    email="eero.laaksonen@example.com",
    loa="high",
)
SOFIA = DemoUser(
    username="sofia",
    sub=uuid.UUID("0f9c6b7e-3a51-4c1d-9b7e-5a1e2d3c4b03"),
    first_name="Sofia",
    last_name="Lindqvist",
    email="sofia.lindqvist@example.com",
    loa="low",
)
ADMIN = DemoUser(
    username="admin",
    sub=uuid.UUID("0f9c6b7e-3a51-4c1d-9b7e-5a1e2d3c4b04"),
    first_name="Alma",
    last_name="Ylläpitäjä",
    email="admin@example.com",
    loa="substantial",
    roles=("wallet-admin",),
)

DEMO_USERS: tuple[DemoUser, ...] = (AINO, EERO, SOFIA, ADMIN)


@dataclass(frozen=True)
class ContactPerson:
    first_name: str
    last_name: str
    phone: str
    email: str


@dataclass(frozen=True)
class YouthCard:
    """One youth-membership record, with the real service's field names in snake_case."""

    citizen: uuid.UUID  # = the Helsinki profile UUID, and the YouthProfileNode id
    membership_number: str  # the real service: a sequence number zero-padded to 6 digits
    membership_status: str  # ACTIVE / PENDING / RENEWING / EXPIRED
    expiration: date  # memberships end with the season, on 31 August
    birth_date: date
    school_name: str
    school_class: str
    language_at_home: str  # FINNISH, SWEDISH, ENGLISH, SOMALI, ARABIC, ESTONIAN, RUSSIAN, FRENCH
    photo_usage_approved: bool | None
    approver_first_name: str
    approver_last_name: str
    approver_phone: str
    approver_email: str
    approved_time: datetime | None
    additional_contact_persons: tuple[ContactPerson, ...] = field(default=())


AINO_YOUTH_CARD = YouthCard(
    citizen=AINO.sub,
    membership_number="004213",
    membership_status="ACTIVE",
    expiration=date(2027, 8, 31),
    birth_date=date(2011, 5, 14),
    school_name="Kallion yhteiskoulu",
    school_class="9B",
    language_at_home="FINNISH",
    photo_usage_approved=True,
    approver_first_name="Minna",
    approver_last_name="Virtanen",
    approver_phone="+358 40 123 4567",
    approver_email="minna.virtanen@example.com",
    approved_time=datetime(2026, 9, 2, 7, 30, tzinfo=UTC),
    additional_contact_persons=(
        ContactPerson(
            first_name="Juha",
            last_name="Virtanen",
            phone="+358 50 765 4321",
            email="juha.virtanen@example.com",
        ),
    ),
)

YOUTH_CARDS: tuple[YouthCard, ...] = (AINO_YOUTH_CARD,)


def youth_profile_node_id(citizen: uuid.UUID | str) -> str:
    """The Relay global id the youth service uses for a citizen's card."""
    return base64.b64encode(f"YouthProfileNode:{citizen}".encode()).decode()


def berth_profile_node_id(citizen: uuid.UUID | str) -> str:
    """The Relay global id the berth service uses for a citizen's customer profile."""
    return base64.b64encode(f"ProfileNode:{citizen}".encode()).decode()


def berth_lease_node_id(lease: uuid.UUID | str) -> str:
    return base64.b64encode(f"BerthLeaseNode:{lease}".encode()).decode()


# Boat berths, with the berth-reservations service's field names in snake_case. Like the real
# service, berth dimensions are Floats in the API, boat dimensions and prices are Decimals
# (strings in JSON); ids of leases, boats and orders are UUIDs.


@dataclass(frozen=True)
class Boat:
    citizen: uuid.UUID  # the owner's profile UUID (= the ProfileNode id)
    id: uuid.UUID
    registration_number: str
    name: str
    boat_type: str  # a BoatType name, as the service lists them (Finnish)
    length: Decimal  # metres
    width: Decimal
    draught: Decimal | None
    modified_at: datetime


@dataclass(frozen=True)
class BerthLease:
    citizen: uuid.UUID
    id: uuid.UUID
    status: str  # LeaseStatus: DRAFTED OFFERED REFUSED EXPIRED ERROR PAID TERMINATED
    start_date: date  # the season runs from 10 June to 14 September
    end_date: date
    # The real service derives this from status and today's date; the simulator stores it so
    # that the demo data does not change meaning as time passes.
    is_active: bool
    created_at: datetime
    modified_at: datetime
    harbor: str
    pier_identifier: str
    berth_number: str
    berth_width: Decimal
    berth_length: Decimal
    berth_depth: Decimal | None
    order_number: str
    order_status: str  # OrderStatus: DRAFTED OFFERED PAID PAID_MANUALLY REJECTED EXPIRED ...
    price: Decimal
    total_price: Decimal
    due_date: date
    paid_at: datetime | None


EERO_BOAT = Boat(
    citizen=EERO.sub,
    id=uuid.UUID("3b1e7c1a-5d2f-4f0e-9a61-0c5b2e8d4a11"),
    registration_number="B-47715",
    name="Ulpukka",
    boat_type="Purjevene / moottoripursi",
    length=Decimal("8.20"),
    width=Decimal("2.75"),
    draught=Decimal("1.40"),
    modified_at=datetime(2026, 3, 14, 12, 5, tzinfo=UTC),
)

EERO_LEASE = BerthLease(
    citizen=EERO.sub,
    id=uuid.UUID("7c4d2e9b-1f3a-4b5c-8d6e-2a1b3c4d5e61"),
    status="PAID",
    start_date=date(2027, 6, 10),
    end_date=date(2027, 9, 14),
    is_active=True,  # before the season, a paid lease starting on its first day is active
    created_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    modified_at=datetime(2026, 11, 20, 10, 15, tzinfo=UTC),
    harbor="Pursiseuran venesatama",
    pier_identifier="B",
    berth_number="14",
    berth_width=Decimal("3.00"),
    berth_length=Decimal("10.00"),
    berth_depth=Decimal("2.00"),
    order_number="BL2611024213",
    order_status="PAID",
    price=Decimal("412.00"),
    total_price=Decimal("412.00"),
    due_date=date(2026, 12, 4),
    paid_at=datetime(2026, 11, 20, 10, 15, tzinfo=UTC),
)

BOATS: tuple[Boat, ...] = (EERO_BOAT,)
BERTH_LEASES: tuple[BerthLease, ...] = (EERO_LEASE,)


# The library (Sierra ILS). Patrons are keyed on the library's own numeric ids, not on citizens:
# ``citizen`` below only records whose card it is, for tests; the library never sees it. Ids of
# checkouts, holds and fines appear in the API as URLs ending in these numbers.


@dataclass(frozen=True)
class LibraryCheckout:
    id: int
    item_id: int
    barcode: str  # the item's barcode
    call_number: str
    due_date: datetime
    number_of_renewals: int
    out_date: datetime


@dataclass(frozen=True)
class LibraryHold:
    id: int
    record_id: int  # the bib record held
    placed: date
    not_needed_after_date: date
    pickup_by_date: datetime | None  # set once the hold is ready for pickup
    status_code: str  # Sierra: "0" on hold, "i"/"b" ready for pickup, "t" in transit
    status_name: str
    pickup_location_code: str
    pickup_location_name: str
    frozen: bool = False


@dataclass(frozen=True)
class LibraryFine:
    id: int
    item_id: int | None
    assessed_date: datetime
    charge_type_code: str  # Sierra charge codes: "2" Overdue, "3" Replacement, ...
    charge_type_display: str
    item_charge: Decimal
    processing_fee: Decimal
    billing_fee: Decimal
    paid_amount: Decimal
    description: str = ""

    @property
    def amount_owed(self) -> Decimal:
        return self.item_charge + self.processing_fee + self.billing_fee - self.paid_amount


@dataclass(frozen=True)
class LibraryPatron:
    patron_id: int
    barcode: str
    pin: str
    last_name: str
    first_name: str
    expiration_date: date
    home_library_code: str
    home_library_name: str
    created_date: datetime
    updated_date: datetime
    citizen: uuid.UUID | None = None  # demo bookkeeping only (see above)
    checkouts: tuple[LibraryCheckout, ...] = ()
    holds: tuple[LibraryHold, ...] = ()
    fines: tuple[LibraryFine, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (f"{self.last_name.upper()}, {self.first_name}",)

    @property
    def money_owed(self) -> Decimal:
        return sum((fine.amount_owed for fine in self.fines), Decimal("0.00"))


EERO_LIBRARY = LibraryPatron(
    patron_id=1000201,
    barcode="21000000000021",
    pin="1234",
    last_name="Laaksonen",
    first_name="Eero",
    expiration_date=date(2028, 3, 31),
    home_library_code="oodi",
    home_library_name="Keskustakirjasto Oodi",
    created_date=datetime(2019, 4, 2, 9, 30, tzinfo=UTC),
    updated_date=datetime(2026, 11, 18, 14, 2, tzinfo=UTC),
    citizen=EERO.sub,
    checkouts=(
        LibraryCheckout(
            id=3100451,
            item_id=4300871,
            barcode="31000012345678",
            call_number="84.2 TOL",
            due_date=datetime(2026, 12, 9, 21, 59, tzinfo=UTC),
            number_of_renewals=1,
            out_date=datetime(2026, 10, 21, 15, 12, tzinfo=UTC),
        ),
        LibraryCheckout(
            id=3100452,
            item_id=4300872,
            barcode="31000087654321",
            call_number="79.2 PUR",
            due_date=datetime(2026, 12, 16, 21, 59, tzinfo=UTC),
            number_of_renewals=0,
            out_date=datetime(2026, 11, 18, 14, 2, tzinfo=UTC),
        ),
    ),
    holds=(
        LibraryHold(
            id=3200117,
            record_id=1500934,
            placed=date(2026, 11, 10),
            not_needed_after_date=date(2027, 5, 10),
            pickup_by_date=datetime(2026, 12, 1, 21, 59, tzinfo=UTC),
            status_code="b",
            status_name="Bib hold ready for pickup.",
            pickup_location_code="kallio",
            pickup_location_name="Kallion kirjasto",
        ),
    ),
    fines=(
        LibraryFine(
            id=3300058,
            item_id=4300655,
            assessed_date=datetime(2026, 9, 30, 8, 0, tzinfo=UTC),
            charge_type_code="2",
            charge_type_display="Overdue",
            item_charge=Decimal("2.40"),
            processing_fee=Decimal("0.00"),
            billing_fee=Decimal("0.00"),
            paid_amount=Decimal("0.00"),
            description="Overdue: Purjehtijan käsikirja",
        ),
    ),
)

SOFIA_LIBRARY = LibraryPatron(
    patron_id=1000202,
    barcode="21000000000039",
    pin="4321",
    last_name="Lindqvist",
    first_name="Sofia",
    expiration_date=date(2027, 1, 31),
    home_library_code="kallio",
    home_library_name="Kallion kirjasto",
    created_date=datetime(2021, 8, 16, 12, 0, tzinfo=UTC),
    updated_date=datetime(2026, 11, 3, 10, 44, tzinfo=UTC),
    citizen=SOFIA.sub,
    checkouts=(
        LibraryCheckout(
            id=3100460,
            item_id=4300901,
            barcode="31000011112222",
            call_number="N LIN",
            due_date=datetime(2026, 11, 24, 21, 59, tzinfo=UTC),
            number_of_renewals=2,
            out_date=datetime(2026, 10, 6, 16, 30, tzinfo=UTC),
        ),
    ),
)

LIBRARY_PATRONS: tuple[LibraryPatron, ...] = (EERO_LIBRARY, SOFIA_LIBRARY)


@dataclass(frozen=True)
class DeletedPatron:
    patron_id: int
    deleted_date: date


# Patrons removed from the library: ``GET patrons?deleted=true&deletedDate=[...]`` lists them.
DELETED_LIBRARY_PATRONS: tuple[DeletedPatron, ...] = (
    DeletedPatron(patron_id=1000098, deleted_date=date(2026, 10, 15)),
    DeletedPatron(patron_id=1000099, deleted_date=date(2026, 11, 2)),
)


# Bench citizens: ``seed --citizens N --citizen-seed S`` makes citizens 0..N-1 with
#   - every citizen a youth member, membership number ``bench_membership_number(index)``;
#   - every second one (even index) a berth customer with one lease and one boat;
#   - every third one (index divisible by 3) a library patron, ``bench_patron_id(index)``,
#     with the card ``bench_patron_barcode(index)`` / ``bench_patron_pin(index)``.
# Records of citizen ``index`` were last modified at ``bench_modified_at(index)`` (spread over
# 2025-2026 so that incremental sweeps have something to select).

BENCH_CITIZEN_NAMESPACE = uuid.UUID("6d1f3c52-7a0e-4e59-8f1b-2c9d4b7a1e00")
BENCH_FIRST_MEMBERSHIP_NUMBER = 100_000
BENCH_FIRST_PATRON_ID = 2_000_000
BENCH_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
BENCH_MAX_CITIZENS = 100_000


def bench_citizen(seed: int, index: int) -> uuid.UUID:
    """The citizen UUID (Helsinki profile id) of bench citizen ``index`` made with ``seed``."""
    return uuid.uuid5(BENCH_CITIZEN_NAMESPACE, f"{seed}/{index}")


def bench_membership_number(index: int) -> str:
    return f"{BENCH_FIRST_MEMBERSHIP_NUMBER + index:06d}"


def bench_has_berth(index: int) -> bool:
    return index % 2 == 0


def bench_is_patron(index: int) -> bool:
    return index % 3 == 0


def bench_patron_id(index: int) -> int:
    """The library's patron record id of bench citizen ``index`` (when ``bench_is_patron``)."""
    return BENCH_FIRST_PATRON_ID + index


def bench_patron_barcode(index: int) -> str:
    return f"2200{index:010d}"  # 14 digits like the demo cards, but never one of theirs


def bench_patron_pin(index: int) -> str:
    return f"{(index * 7919 + 4321) % 10_000:04d}"


def bench_modified_at(index: int) -> datetime:
    """When bench citizen ``index``'s upstream records last changed: 5 minutes apart."""
    return BENCH_EPOCH + timedelta(minutes=5 * index)


# Earlier names, kept for callers of ``seed --youth-extra N --youth-seed S``.
EXTRA_YOUTH_NAMESPACE = BENCH_CITIZEN_NAMESPACE
EXTRA_YOUTH_FIRST_NUMBER = BENCH_FIRST_MEMBERSHIP_NUMBER


def extra_youth_citizen(*, seed: int, index: int) -> uuid.UUID:
    """The citizen UUID of the ``index``-th generated youth member made with ``seed``."""
    return bench_citizen(seed, index)
