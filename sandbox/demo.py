"""Demo data of the sandbox: plain constants, importable without Django (tests use them).

Everyone's password is ``demo``. Only Aino is a youth member (15 years old on 2026-11-28).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

DEMO_PASSWORD = "demo"

# Client ids of the applications ``seed`` registers.
WALLET_WEB_CLIENT_ID = "oma-wallet-web"
WALLET_CLI_CLIENT_ID = "wallet-cli"
CONNECTOR_CLIENT_ID = "oma-wallet-connector"

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


# Members made by ``seed --youth-extra N --youth-seed S`` get these citizen UUIDs, and the
# membership numbers 100000, 100001, ... in order of their index.
EXTRA_YOUTH_NAMESPACE = uuid.UUID("6d1f3c52-7a0e-4e59-8f1b-2c9d4b7a1e00")
EXTRA_YOUTH_FIRST_NUMBER = 100_000


def extra_youth_citizen(*, seed: int, index: int) -> uuid.UUID:
    """The citizen UUID of the ``index``-th generated youth member made with ``seed``."""
    return uuid.uuid5(EXTRA_YOUTH_NAMESPACE, f"{seed}/{index}")
