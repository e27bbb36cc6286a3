"""Boat-berth leases and boats from the city's berth-reservations service (GraphQL).

Customers are keyed on the citizen's Helsinki-profile UUID (`ProfileNode:<uuid>`). The service
has no changed-since filter: an incremental sweep pages through leases and keeps those whose
`modifiedAt` is newer than the last sweep (a change to a boat alone shows in the next full sweep).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from django.conf import settings

from connectors import parsing
from connectors.base import (
    CitizenFetch,
    GraphQLConnector,
    InvalidRecord,
    MeField,
    SourceInfo,
    SweepMode,
)
from connectors.berths.catalogue import BOAT, LEASE
from connectors.relay import from_global_id, to_global_id
from connectors.transport import GraphQLErrorConvention
from wallet.catalogue import Labels
from wallet.models import Citizen
from wallet.services import UpstreamRecord

LEASE_STATUSES = {"DRAFTED", "OFFERED", "REFUSED", "EXPIRED", "ERROR", "PAID", "TERMINATED"}
SWEEP_PAGE_SIZE = 100

# `extensions.type`: VENEPAIKKA_ERROR is the service's own "the request is wrong"; the rest are
# typed as the simulator types them (sandbox/berths/graphql/errors.py). Any other type is an
# error the wallet does not know (recorded as UPSTREAM_UNKNOWN_ERROR).
BERTHS_ERRORS = GraphQLErrorConvention(
    key="type",
    token_expired=frozenset({"TOKEN_EXPIRED", "TOKEN_EXPIRED_ERROR"}),
    permanent=frozenset(
        {"PERMISSION_DENIED", "NOT_AUTHENTICATED", "VALIDATION_ERROR", "VENEPAIKKA_ERROR"}
    ),
    transient=frozenset({"GENERAL_ERROR"}),
)

BERTH_PROFILE_QUERY = """
query WalletBerthProfile($id: ID!) {
  berthProfile(id: $id) {
    id
    boats {
      pageInfo { hasNextPage }
      edges { node { id registrationNumber name boatType { name } length width draught } }
    }
    berthLeases {
      pageInfo { hasNextPage }
      edges {
        node {
          id status startDate endDate isActive createdAt modifiedAt
          berth {
            number width length depth
            pier { properties { identifier harbor { properties { name } } } }
          }
          order { orderNumber status price totalPrice dueDate paidAt }
        }
      }
    }
  }
}
"""

LEASE_SWEEP_QUERY = """
query WalletLeaseSweep($first: Int!, $after: String) {
  berthLeases(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id modifiedAt customer { id } } }
  }
}
"""


def parse_lease(node: dict[str, Any]) -> UpstreamRecord:
    status = parsing.text(node, "status", required=True)
    if status not in LEASE_STATUSES:
        raise InvalidRecord("status is not a known lease status")
    berth = parsing.obj(node, "berth")
    pier = parsing.obj(parsing.obj(berth, "pier"), "properties")
    harbor = parsing.obj(parsing.obj(pier, "harbor"), "properties")
    order = parsing.obj(node, "order")
    payload = {
        "harbor": parsing.text(harbor, "name"),
        "pier": parsing.text(pier, "identifier"),
        "berth_number": _text_or_number(berth, "number"),
        "berth_width": parsing.decimal(berth, "width"),
        "berth_length": parsing.decimal(berth, "length"),
        "berth_depth": parsing.decimal(berth, "depth"),
        "status": status,
        "start_date": parsing.iso_date(node, "startDate", required=True),
        "end_date": parsing.iso_date(node, "endDate"),
        "is_active": parsing.boolean(node, "isActive"),
        "price": parsing.decimal(order, "totalPrice") or parsing.decimal(order, "price"),
        "paid_at": parsing.iso_datetime(order, "paidAt"),
    }
    modified = parsing.iso_datetime(node, "modifiedAt")
    return UpstreamRecord(
        kind=LEASE.kind or "lease",
        external_id=parsing.text(node, "id", required=True) or "",
        payload=payload,
        upstream_modified_at=datetime.fromisoformat(modified) if modified else None,
    )


def parse_boat(node: dict[str, Any]) -> UpstreamRecord:
    payload = {
        "registration_number": parsing.text(node, "registrationNumber"),
        "name": parsing.text(node, "name"),
        "boat_type": parsing.text(parsing.obj(node, "boatType"), "name"),
        "length": parsing.decimal(node, "length"),
        "width": parsing.decimal(node, "width"),
        "draught": parsing.decimal(node, "draught"),
    }
    return UpstreamRecord(
        kind=BOAT.kind or "boat",
        external_id=parsing.text(node, "id", required=True) or "",
        payload=payload,
    )


def _text_or_number(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return parsing.text(node, key)


class BerthsConnector(GraphQLConnector):
    source = "berths"
    labels = Labels("Venepaikat", "Båtplatser", "Boat berths")
    kinds = (LEASE, BOAT)
    me_fields = (
        MeField("berth_leases", LEASE, "BerthLease"),
        MeField("boats", BOAT, "Boat"),
    )
    sweep_modes = frozenset({SweepMode.FULL, SweepMode.INCREMENTAL})
    errors = BERTHS_ERRORS
    info = SourceInfo(
        controller=Labels(
            "Helsingin kaupunki, kulttuurin ja vapaa-ajan toimiala (liikuntapalvelut)",
            "Helsingfors stad, kultur- och fritidssektorn (idrottstjänster)",
            "City of Helsinki, Culture and Leisure Division (sports services)",
        ),
        lawful_basis=Labels(
            "Sopimuksen täytäntöönpano (venepaikan vuokrasopimus), tietosuoja-asetuksen "
            "6 artiklan 1 kohdan b alakohta",
            "Fullgörande av avtal (hyresavtal för båtplats), dataskyddsförordningen artikel 6.1 b",
            "Performance of a contract (berth lease), GDPR art. 6(1)(b)",
        ),
        purpose=Labels(
            "Venepaikkojen vuokraus, laskutus ja satamien toiminta",
            "Uthyrning av båtplatser, fakturering och hamnverksamhet",
            "Boat berth leases, invoicing and harbour operations",
        ),
        # Three years: a lease is a contract with invoices, and a citizen may need to check a
        # past lease, its price and when it was paid for as long as a claim about it can still
        # come up: the general limitation period of debts (laki velan vanhentumisesta 728/2003,
        # 4 §). The six years of the Accounting Act bind the berth system's books, not the
        # wallet's copy, which keeps nothing the books need.
        retention=Labels(
            "{period} sen jälkeen, kun vuokrasopimus tai vene on poistunut "
            "venepaikkajärjestelmästä",
            "{period} efter att hyresavtalet eller båten har tagits bort ur båtplatssystemet",
            "{period} after the lease or the boat has left the berth-reservation system",
        ),
        retention_after_end=timedelta(days=3 * 365),
        system=Labels(
            "Venepaikkojen varausjärjestelmä",
            "Bokningssystemet för båtplatser",
            "The berth-reservation system",
        ),
    )

    def fetch_citizen(self, *, citizen: Citizen, client: httpx.Client) -> CitizenFetch:
        data = self.transport().execute(
            client=client,
            query=BERTH_PROFILE_QUERY,
            variables={"id": to_global_id("ProfileNode", citizen.subject)},
        )
        fetch = CitizenFetch(complete_kinds={"lease", "boat"})
        profile = data.get("berthProfile")
        if profile is None:  # not a customer (any more)
            return fetch
        if not isinstance(profile, dict):
            fetch.rejected.append("berths.profile: not an object")
            fetch.complete_kinds.clear()
            return fetch
        for kind, key, parse in (
            ("lease", "berthLeases", parse_lease),
            ("boat", "boats", parse_boat),
        ):
            try:
                nodes = parsing.edges(profile, key)
                if parsing.obj(parsing.obj(profile, key), "pageInfo").get("hasNextPage"):
                    raise InvalidRecord(f"{key} came truncated (more pages than one)")
            except InvalidRecord as exc:
                fetch.rejected.append(f"berths.{kind}: {exc}")
                fetch.complete_kinds.discard(kind)
                continue
            for node in nodes:
                try:
                    fetch.records.append(parse(node))
                except InvalidRecord as exc:
                    fetch.rejected.append(f"berths.{kind}: {exc}")
                    fetch.complete_kinds.discard(kind)  # it may still exist: end nothing
        return fetch

    def changed_citizens(self, *, since: datetime, client: httpx.Client) -> set[UUID] | None:
        subjects: set[str] = set()
        after: str | None = None
        transport = self.transport()
        while True:
            data = transport.execute(
                client=client,
                query=LEASE_SWEEP_QUERY,
                variables={"first": SWEEP_PAGE_SIZE, "after": after},
            )
            page = parsing.obj(data, "berthLeases")
            for node in parsing.edges(data, "berthLeases"):
                modified = parsing.iso_datetime(node, "modifiedAt")
                if modified is None or datetime.fromisoformat(modified) >= since:
                    _, subject = from_global_id(
                        parsing.text(parsing.obj(node, "customer"), "id") or ""
                    )
                    if subject:
                        subjects.add(subject)
            info = parsing.obj(page, "pageInfo")
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            after = str(info["endCursor"])
        return set(
            Citizen.objects.filter(issuer=settings.OIDC_ISSUER, subject__in=subjects).values_list(
                "pk", flat=True
            )
        )
