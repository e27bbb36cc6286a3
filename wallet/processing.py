"""The record of processing activities (GDPR article 30), generated from what the code declares,
never written by hand: served at /processing/ (wallet.views.processing_record_view).

Three kinds of activity, each naming its controller, purposes, lawful basis, the data (field
catalogue ids, and anything outside the catalogue in words), its origin and its retention:

- the wallet itself, declared here (its controller is the `WALLET_CONTROLLER` setting);
- each source (a connector), registered by the connectors app;
- each registered service, registered by the consent app.

The core imports neither app: they register providers through wallet.hooks
(`processing_activities_register`). What no single app knows is worked out here: the field
labels and sensitivity (the catalogue), and the recipients of what the wallet and each source
hold: the citizen, and every service that may ask for one of its fields.

Public: it describes processing, never a person's data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings

from wallet import catalogue, hooks
from wallet.catalogue import Labels


class ActivityKind(StrEnum):
    WALLET = "wallet"
    SOURCE = "source"  # one of the city's systems the wallet copies records from
    SERVICE = "service"  # an application that reads, with the citizen's consent


@dataclass(frozen=True)
class Controller:
    name: Labels
    address: str = ""
    email: str = ""
    phone: str = ""
    contact: str = ""  # a person or team, or how to reach the controller in words


@dataclass(frozen=True)
class Purpose:
    description: Labels
    code: str = ""  # a service's purpose code, as it names the purpose when it asks
    category: str = ""  # its purpose category (Kantara Consent Receipt v1.1)
    category_labels: Labels | None = None
    third_party_disclosure: bool = False


@dataclass(frozen=True)
class Retention:
    text: Labels
    days: int | None = None  # deleted this many days after it ended; None: the text says when


@dataclass(frozen=True)
class ProcessingActivity:
    """One activity as an app declares it. `field_ids` are catalogue ids: what it holds (the
    wallet, a source) or what it may ask for (a service)."""

    kind: ActivityKind
    key: str  # the source's name, the service's slug, "wallet"
    name: Labels
    controller: Controller
    purposes: tuple[Purpose, ...]
    lawful_basis: Labels
    retention: Retention
    field_ids: tuple[str, ...] = ()
    other_data: tuple[Labels, ...] = ()  # what it processes outside the field catalogue
    origin: Labels | None = None  # where the data comes from (a source's upstream system)
    description: Labels | None = None
    privacy_policy_url: str = ""


@dataclass(frozen=True)
class FieldShown:
    id: str
    labels: Labels
    sensitive: bool


@dataclass(frozen=True)
class DataCategory:
    """A kind of record and those of its fields an activity processes."""

    kind_id: str
    labels: Labels
    fields: tuple[FieldShown, ...]


@dataclass(frozen=True)
class Recipient:
    kind: str  # "citizen" or a service
    key: str
    name: Labels


@dataclass(frozen=True)
class ActivityRecord:
    activity: ProcessingActivity
    categories: tuple[DataCategory, ...]
    recipients: tuple[Recipient, ...]  # of what it holds; a service's own are in its policy


@dataclass(frozen=True)
class ProcessingRecord:
    wallet: ActivityRecord
    sources: list[ActivityRecord]
    services: list[ActivityRecord]


THE_CITIZEN = Recipient(
    kind="citizen",
    key="citizen",
    name=Labels("Asukas itse", "Invånaren själv", "The citizen themselves"),
)


def wallet_activity() -> ProcessingActivity:
    """The wallet's own processing: the profile, the citizen's identifier, the access log and
    the consent records."""
    controller = settings.WALLET_CONTROLLER
    return ProcessingActivity(
        kind=ActivityKind.WALLET,
        key="wallet",
        name=Labels("Oma.Helsinki-lompakko", "Oma.Helsinki-plånboken", "The Oma.Helsinki wallet"),
        controller=Controller(
            name=Labels(controller["NAME_FI"], controller["NAME_SV"], controller["NAME_EN"]),
            contact=controller["CONTACT"],
        ),
        purposes=(
            Purpose(
                Labels(
                    "Asukkaan tiedot kaupungin järjestelmistä yhteen paikkaan, jossa asukas näkee "
                    "ne ja päättää, mitkä palvelut saavat lukea niitä",
                    "Invånarens uppgifter från stadens system på ett ställe, där invånaren ser "
                    "dem och bestämmer vilka tjänster som får läsa dem",
                    "A citizen's data from the city's systems in one place, where they see it "
                    "and decide which services may read it",
                )
            ),
            Purpose(
                Labels(
                    "Kirjanpito siitä, mikä palvelu luki mitä, milloin ja minkä suostumuksen "
                    "perusteella, asukkaan nähtäväksi",
                    "Bokföring av vilken tjänst som läste vad, när och med vilket samtycke, för "
                    "invånaren att se",
                    "A record of which service read what, when and under which consent, for the "
                    "citizen to see",
                )
            ),
        ),
        lawful_basis=Labels(
            "Suostumus: asukas ottaa lompakon käyttöön kirjautumalla ja voi poistaa sen "
            "milloin tahansa, tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta",
            "Samtycke: invånaren tar plånboken i bruk genom att logga in och kan radera den när "
            "som helst, dataskyddsförordningen artikel 6.1 a",
            "Consent: the citizen starts using the wallet by signing in and may erase it at any "
            "time, GDPR art. 6(1)(a)",
        ),
        retention=Retention(
            Labels(
                "Niin kauan kuin asukkaalla on lompakko. Kun asukas poistaa tietonsa, hänen "
                "salausavaimensa tuhotaan ensin ja sitten kaikki hänen tietonsa, myös "
                "käyttöloki ja suostumukset.",
                "Så länge invånaren har plånboken. När invånaren raderar sina uppgifter förstörs "
                "först hens krypteringsnyckel och sedan alla hens uppgifter, även "
                "användningsloggen och samtyckena.",
                "As long as the citizen keeps the wallet. When they erase their data, their "
                "encryption key is destroyed first, then everything of theirs, the access log "
                "and consents included.",
            )
        ),
        field_ids=tuple(catalogue.PROFILE.field_id(f.key) for f in catalogue.PROFILE.fields),
        other_data=(
            Labels(
                "Tunniste kaupungin tunnistautumispalvelussa (issuer ja sub), ei henkilötunnusta",
                "Identifierare i stadens inloggningstjänst (issuer och sub), inte "
                "personbeteckningen",
                "The identifier at the city's login service (issuer and sub), not the personal "
                "identity code",
            ),
            Labels(
                "Käyttöloki: mikä palvelu luki mitkä tiedot, milloin ja minkä suostumuksen "
                "perusteella",
                "Användningslogg: vilken tjänst som läste vilka uppgifter, när och med vilket "
                "samtycke",
                "The access log: which service read which fields, when and under which consent",
            ),
            Labels(
                "Suostumuspyynnöt, suostumukset, niiden historia ja allekirjoitetut "
                "suostumuskuitit",
                "Samtyckesbegäranden, samtycken, deras historik och undertecknade samtyckeskvitton",
                "Consent requests, consents, their history and the signed consent receipts",
            ),
            Labels("Sivujen kieli", "Sidornas språk", "The language chosen for the pages"),
        ),
        origin=Labels(
            "Helsinki-profiili (kaupungin tunnistautumispalvelu) ja asukkaan itse antamat tiedot",
            "Helsingforsprofilen (stadens inloggningstjänst) och uppgifter som invånaren själv "
            "har gett",
            "The Helsinki profile (the city's login service) and what the citizen enters",
        ),
        privacy_policy_url=controller["PRIVACY_POLICY_URL"],
    )


def _categories(field_ids: Iterable[str]) -> tuple[DataCategory, ...]:
    """The fields by kind, in the order given. An id the catalogue does not know (a service's
    field of a source since removed) shows as itself and counts as sensitive."""
    by_kind: dict[str, tuple[Labels, list[FieldShown]]] = {}
    for field_id in field_ids:
        try:
            kind, key = catalogue.kind_and_key(field_id)
            field = kind.field(key)
        except KeyError:
            kind_id = field_id.rpartition(".")[0]
            labels = Labels(kind_id, kind_id, kind_id)
            by_kind.setdefault(kind_id, (labels, []))[1].append(
                FieldShown(field_id, Labels(field_id, field_id, field_id), True)
            )
            continue
        by_kind.setdefault(kind.id, (kind.labels, []))[1].append(
            FieldShown(field_id, field.labels, field.sensitive)
        )
    return tuple(
        DataCategory(kind_id, labels, tuple(fields))
        for kind_id, (labels, fields) in by_kind.items()
    )


def processing_record() -> ProcessingRecord:
    """The record: the wallet, then every registered source and service. Its queries are the
    providers' (the consent app's: two, however many services)."""
    activities = [wallet_activity(), *hooks.processing_activities()]
    services = [a for a in activities if a.kind == ActivityKind.SERVICE]

    def recipients(holder: ProcessingActivity) -> tuple[Recipient, ...]:
        held = set(holder.field_ids)
        readers = [
            Recipient(kind=ActivityKind.SERVICE, key=service.key, name=service.name)
            for service in services
            if held & set(service.field_ids)
        ]
        return (THE_CITIZEN, *readers)

    def record(activity: ProcessingActivity) -> ActivityRecord:
        return ActivityRecord(
            activity=activity,
            categories=_categories(activity.field_ids),
            recipients=() if activity.kind == ActivityKind.SERVICE else recipients(activity),
        )

    return ProcessingRecord(
        wallet=record(activities[0]),
        sources=[record(a) for a in activities if a.kind == ActivityKind.SOURCE],
        services=[record(a) for a in services],
    )


# --- As JSON ----------------------------------------------------------------------------------


def _labels(labels: Labels | None) -> dict[str, str] | None:
    return None if labels is None else {"fi": labels.fi, "sv": labels.sv, "en": labels.en}


def _activity_json(record: ActivityRecord) -> dict[str, Any]:
    activity = record.activity
    controller = activity.controller
    return {
        "kind": str(activity.kind),
        "key": activity.key,
        "name": _labels(activity.name),
        "description": _labels(activity.description),
        "controller": {
            "name": _labels(controller.name),
            "address": controller.address,
            "email": controller.email,
            "phone": controller.phone,
            "contact": controller.contact,
        },
        "purposes": [
            {
                "code": purpose.code,
                "description": _labels(purpose.description),
                "category": purpose.category,
                "category_label": _labels(purpose.category_labels),
                "third_party_disclosure": purpose.third_party_disclosure,
            }
            for purpose in activity.purposes
        ],
        "lawful_basis": _labels(activity.lawful_basis),
        "categories": [
            {
                "kind": category.kind_id,
                "name": _labels(category.labels),
                "fields": [
                    {"id": f.id, "name": _labels(f.labels), "sensitive": f.sensitive}
                    for f in category.fields
                ],
            }
            for category in record.categories
        ],
        "other_data": [_labels(labels) for labels in activity.other_data],
        "origin": _labels(activity.origin),
        "recipients": [
            {"kind": str(r.kind), "key": r.key, "name": _labels(r.name)} for r in record.recipients
        ],
        "retention": {
            "text": _labels(activity.retention.text),
            "days": activity.retention.days,
        },
        "privacy_policy_url": activity.privacy_policy_url or None,
    }


def processing_record_json(record: ProcessingRecord) -> dict[str, Any]:
    """The record for machines: every text in Finnish, Swedish and English."""
    return {
        "wallet": _activity_json(record.wallet),
        "sources": [_activity_json(r) for r in record.sources],
        "services": [_activity_json(r) for r in record.services],
    }
