"""Youth membership cards from the city's youth-membership service (GraphQL).

The service keys youth profiles on the citizen's Helsinki-profile UUID, which is the `sub` the
wallet knows; a profile is asked for by its Relay global id `YouthProfileNode:<uuid>`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from connectors import parsing
from connectors.base import CitizenFetch, GraphQLConnector, InvalidRecord, MeField, SourceInfo
from connectors.relay import to_global_id
from connectors.transport import GraphQLErrorConvention
from connectors.youth.catalogue import MEMBERSHIP
from wallet.catalogue import Labels
from wallet.models import Citizen
from wallet.services import UpstreamRecord

MEMBERSHIP_STATUSES = frozenset(MEMBERSHIP.field("status").choices)

# The youth-membership service types its errors under `extensions.code`.
YOUTH_ERRORS = GraphQLErrorConvention(
    key="code",
    token_expired=frozenset({"TOKEN_EXPIRED_ERROR"}),
    permanent=frozenset({"PERMISSION_DENIED_ERROR", "OBJECT_DOES_NOT_EXIST_ERROR"}),
    transient=frozenset({"GENERAL_ERROR"}),
)

YOUTH_PROFILE_QUERY = """
query WalletYouthProfile($id: ID!) {
  youthProfile(id: $id) {
    id
    membershipNumber
    membershipStatus
    expiration
    birthDate
    schoolName
    schoolClass
    languageAtHome
    photoUsageApproved
    approverFirstName
    approverLastName
    approverPhone
    approverEmail
    additionalContactPersons { edges { node { id firstName lastName phone email } } }
  }
}
"""


def youth_profile_global_id(subject: str) -> str:
    return to_global_id("YouthProfileNode", subject)


def parse_youth_profile(node: Any) -> UpstreamRecord:
    """Validate one YouthProfileNode against the contract and turn it into a wallet record."""
    if not isinstance(node, dict):
        raise InvalidRecord("youthProfile is not an object")
    status = parsing.text(node, "membershipStatus", required=True)
    if status not in MEMBERSHIP_STATUSES:
        raise InvalidRecord("membershipStatus is not a known status")
    photo = parsing.boolean(node, "photoUsageApproved")
    contacts = []
    for person in parsing.edges(node, "additionalContactPersons"):
        contacts.append(
            {
                key: parsing.text(person, camel)
                for key, camel in (
                    ("first_name", "firstName"),
                    ("last_name", "lastName"),
                    ("phone", "phone"),
                    ("email", "email"),
                )
            }
        )
    payload = {
        "membership_number": parsing.text(node, "membershipNumber", required=True),
        "status": status,
        "expiration": parsing.iso_date(node, "expiration"),
        "birth_date": parsing.iso_date(node, "birthDate"),
        "school_name": parsing.text(node, "schoolName"),
        "school_class": parsing.text(node, "schoolClass"),
        "language_at_home": parsing.text(node, "languageAtHome"),
        "photo_usage_approved": photo,
        "approver_first_name": parsing.text(node, "approverFirstName"),
        "approver_last_name": parsing.text(node, "approverLastName"),
        "approver_phone": parsing.text(node, "approverPhone"),
        "approver_email": parsing.text(node, "approverEmail"),
        "additional_contact_persons": contacts,
    }
    return UpstreamRecord(
        kind=MEMBERSHIP.kind or "membership",
        external_id=parsing.text(node, "id", required=True) or "",
        payload=payload,
    )


class YouthConnector(GraphQLConnector):
    """The service has no changed-since filter: full sweeps only (an incremental sweep of this
    source covers everyone)."""

    source = "youth"
    labels = Labels("Nuorisopalvelut", "Ungdomstjänster", "Youth services")
    kinds = (MEMBERSHIP,)
    me_fields = (MeField("youth_membership", MEMBERSHIP, "YouthMembership", many=False),)
    errors = YOUTH_ERRORS
    info = SourceInfo(
        controller=Labels(
            "Helsingin kaupunki, kulttuurin ja vapaa-ajan toimiala (nuorisopalvelut)",
            "Helsingfors stad, kultur- och fritidssektorn (ungdomstjänster)",
            "City of Helsinki, Culture and Leisure Division (youth services)",
        ),
        lawful_basis=Labels(
            "Sopimuksen täytäntöönpano (nuorisotalon jäsenyys), tietosuoja-asetuksen 6 artiklan "
            "1 kohdan b alakohta",
            "Fullgörande av avtal (medlemskap i ungdomsgård), dataskyddsförordningen artikel 6.1 b",
            "Performance of a contract (youth centre membership), GDPR art. 6(1)(b)",
        ),
        purpose=Labels(
            "Nuorisotalojen jäsenkortit ja huoltajan hyväksyntä",
            "Medlemskort för ungdomsgårdar och vårdnadshavarens godkännande",
            "Youth centre membership cards and guardian approval",
        ),
        # A year: memberships run by the season and are renewed yearly, so a membership the
        # service dropped stays visible through the next season's renewal (a member or their
        # guardian can still see what the card said), and no longer: it holds a minor's birth
        # date and school and their guardian's contacts, which the youth service has let go.
        retention=Labels(
            "{period} sen jälkeen, kun jäsenyys on poistunut nuorisopalvelujen rekisteristä",
            "{period} efter att medlemskapet har tagits bort ur ungdomstjänsternas register",
            "{period} after the membership has left the youth services' register",
        ),
        retention_after_end=timedelta(days=365),
        system=Labels(
            "Nuorisopalvelujen jäsenrekisteri",
            "Ungdomstjänsternas medlemsregister",
            "The youth services' membership register",
        ),
    )

    def fetch_citizen(self, *, citizen: Citizen, client: httpx.Client) -> CitizenFetch:
        data = self.transport().execute(
            client=client,
            query=YOUTH_PROFILE_QUERY,
            variables={"id": youth_profile_global_id(citizen.subject)},
        )
        fetch = CitizenFetch(complete_kinds={"membership"})
        node = data.get("youthProfile")
        if node is None:  # not a youth member (or no longer): the contract answers null
            return fetch
        try:
            fetch.records.append(parse_youth_profile(node))
        except InvalidRecord as exc:
            fetch.rejected.append(f"youth.membership: {exc}")
            fetch.complete_kinds.clear()  # what we could not read may still exist: end nothing
        return fetch
