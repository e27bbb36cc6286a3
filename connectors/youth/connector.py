"""Youth membership cards from the city's youth-membership service (GraphQL).

The service keys youth profiles on the citizen's Helsinki-profile UUID, which is the `sub` the
wallet knows; a profile is asked for by its Relay global id `YouthProfileNode:<uuid>`.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import httpx
from django.conf import settings

from connectors.base import CitizenFetch, Connector, InvalidRecord, SourceInfo
from connectors.transport import GraphQLTransport
from connectors.youth.catalogue import MEMBERSHIP
from wallet.models import Citizen
from wallet.services import UpstreamRecord

MEMBERSHIP_STATUSES = {"ACTIVE", "PENDING", "RENEWING", "EXPIRED"}

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
    additionalContactPersons { edges { node { firstName lastName phone email } } }
  }
}
"""


def youth_profile_global_id(subject: str) -> str:
    return base64.b64encode(f"YouthProfileNode:{subject}".encode()).decode()


def _text(node: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = node.get(key)
    if value is None or value == "":
        if required:
            raise InvalidRecord(f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} is not a string")
    return value


def _date(node: dict[str, Any], key: str) -> str | None:
    value = _text(node, key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidRecord(f"{key} is not a date") from None


def parse_youth_profile(node: Any) -> UpstreamRecord:
    """Validate one YouthProfileNode against the contract and turn it into a wallet record."""
    if not isinstance(node, dict):
        raise InvalidRecord("youthProfile is not an object")
    status = _text(node, "membershipStatus", required=True)
    if status not in MEMBERSHIP_STATUSES:
        raise InvalidRecord("membershipStatus is not a known status")
    photo = node.get("photoUsageApproved")
    if photo is not None and not isinstance(photo, bool):
        raise InvalidRecord("photoUsageApproved is not a boolean")
    contacts = []
    for edge in (node.get("additionalContactPersons") or {}).get("edges") or []:
        person = (edge or {}).get("node") if isinstance(edge, dict) else None
        if not isinstance(person, dict):
            raise InvalidRecord("additionalContactPersons holds a malformed entry")
        contacts.append(
            {
                key: _text(person, camel)
                for key, camel in (
                    ("first_name", "firstName"),
                    ("last_name", "lastName"),
                    ("phone", "phone"),
                    ("email", "email"),
                )
            }
        )
    payload = {
        "membership_number": _text(node, "membershipNumber", required=True),
        "status": status,
        "expiration": _date(node, "expiration"),
        "birth_date": _date(node, "birthDate"),
        "school_name": _text(node, "schoolName"),
        "school_class": _text(node, "schoolClass"),
        "language_at_home": _text(node, "languageAtHome"),
        "photo_usage_approved": photo,
        "approver_first_name": _text(node, "approverFirstName"),
        "approver_last_name": _text(node, "approverLastName"),
        "approver_phone": _text(node, "approverPhone"),
        "approver_email": _text(node, "approverEmail"),
        "additional_contact_persons": contacts,
    }
    return UpstreamRecord(
        kind=MEMBERSHIP.kind or "membership",
        external_id=_text(node, "id", required=True) or "",
        payload=payload,
    )


class YouthConnector(Connector):
    source = "youth"
    kinds = (MEMBERSHIP,)
    info = SourceInfo(
        controller="City of Helsinki, Culture and Leisure Division (youth services)",
        lawful_basis="Performance of a contract (youth centre membership), GDPR art. 6(1)(b)",
        purpose="Youth centre membership cards and guardian approval",
        retention="Until the membership has expired for two years",
    )

    def transport(self) -> GraphQLTransport:
        return GraphQLTransport(
            system="youth", url=settings.YOUTH_API_URL, scope=settings.YOUTH_API_SCOPE
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
