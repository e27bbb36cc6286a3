"""`me { accessLog }`: who read what of the citizen's data, newest first."""

from __future__ import annotations

import base64
from typing import Any

import graphene

from wallet.access_log import MAX_PAGE_SIZE, AccessLogItem, access_log_page
from wallet.graphql.errors import ApiError, ErrorCode

_CURSOR_PREFIX = "accesslog:"


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode()


def _seq_from_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError
        return int(text.removeprefix(_CURSOR_PREFIX))
    except (ValueError, UnicodeDecodeError):
        raise ApiError("The `after` cursor is not valid.", ErrorCode.BAD_USER_INPUT) from None


class AccessReader(graphene.ObjectType):
    """The service that read, as it was registered at the time."""

    id = graphene.String(required=True)
    name = graphene.String(required=True)


class AccessLogEntryType(graphene.ObjectType):
    class Meta:
        name = "AccessLogEntry"

    at = graphene.DateTime(required=True)
    service = graphene.Field(AccessReader, required=True)
    fields = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Field ids it received."
    )
    withheld_fields = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Field ids it asked for and did not get (no consent in force).",
    )
    purposes = graphene.List(graphene.NonNull(graphene.String), required=True)
    request_id = graphene.String(required=True)
    consent_id = graphene.ID(
        description="The first of `consentIds`, or null if the read rested on no consent.",
        deprecation_reason="A read can rest on several consents: use `consentIds`.",
    )
    consent_ids = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description=(
            "The consents in force that covered what the service received, oldest first; "
            "empty when it received nothing."
        ),
    )

    @staticmethod
    def resolve_at(root: AccessLogItem, info: Any) -> Any:
        return root.created_at

    @staticmethod
    def resolve_service(root: AccessLogItem, info: Any) -> dict[str, str]:
        service = root.details["service"]
        return {"id": service["slug"], "name": service["name"]}

    @staticmethod
    def resolve_fields(root: AccessLogItem, info: Any) -> list[str]:
        return list(root.details["fields"])

    @staticmethod
    def resolve_withheld_fields(root: AccessLogItem, info: Any) -> list[str]:
        return list(root.details["withheld"])

    @staticmethod
    def resolve_purposes(root: AccessLogItem, info: Any) -> list[str]:
        return list(root.details["purposes"])

    @staticmethod
    def resolve_request_id(root: AccessLogItem, info: Any) -> str:
        return str(root.details["request_id"])

    @staticmethod
    def resolve_consent_ids(root: AccessLogItem, info: Any) -> list[Any]:
        return root.consent_ids


class AccessLogEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(AccessLogEntryType, required=True)


class AccessLogPageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()


class AccessLogConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(AccessLogEdge), required=True)
    page_info = graphene.Field(AccessLogPageInfo, required=True)


def access_log_field() -> graphene.Field:
    return graphene.Field(
        AccessLogConnection,
        required=True,
        first=graphene.Int(default_value=20, description=f"At most {MAX_PAGE_SIZE}."),
        after=graphene.String(),
        description="Every read of your data by a service, newest first. Tamper-evident.",
    )


def resolve_access_log(
    root: Any, info: Any, first: int | None = 20, after: str | None = None
) -> Any:
    if first is None:  # an explicit null: the default page
        first = 20
    if first < 0 or first > MAX_PAGE_SIZE:
        raise ApiError(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", ErrorCode.BAD_USER_INPUT)
    before_seq = _seq_from_cursor(after) if after else None
    page = access_log_page(citizen=root.wallet.citizen, first=first, before_seq=before_seq)
    edges = [{"cursor": _cursor(item.seq), "node": item} for item in page.items]
    return {
        "edges": edges,
        "page_info": {
            "has_next_page": page.has_next_page,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
    }
