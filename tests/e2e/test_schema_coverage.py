"""Every field of the schema resolves: a query built from the schema itself selects every field
reachable from the root, and runs as each demo citizen, a service and the admin, against the
sandbox's real provider and upstreams. No answer may carry INTERNAL_ERROR.

The query is generated, not written: a field added to the schema is asked for here without
anyone remembering to. Fields with required arguments get real values (a pairwise id, a
request id, a consent id) made by the flow below; the test fails if any reachable field was
never selected, so nothing is skipped silently.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from sandbox.demo import AINO
from tests.consent.conftest import (  # noqa: F401 (fixtures)
    ACCESS_LOG,
    CITIZEN_DATA,
    api,
    demo_services,
    grant,
    tokens,
)
from wallet.schema import schema

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]

SYNC = "mutation { syncMyData { sources { source status errorCode } } }"
LINK = (
    'mutation { linkLibraryCard(barcode: "21000000000021", pin: "1234") '
    "{ linked errors { code } } }"
)


def _arguments(values: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{name}: {json.dumps(value)}" for name, value in values.items()) + ")"


class QueryBuilder:
    """Selects every field of a type, recursively; a type already on the path is not entered
    again (its fields are selected where it was first met). Records what it selected."""

    def __init__(self, arguments: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.arguments = arguments
        self.selected: set[tuple[str, str]] = set()

    def selection(self, type_: GraphQLNamedType, path: tuple[str, ...] = ()) -> str:
        if isinstance(type_, GraphQLUnionType | GraphQLInterfaceType):
            possible = schema.graphql_schema.get_possible_types(type_)
            return "__typename " + " ".join(
                f"... on {t.name} {{ {self.selection(t, path)} }}" for t in possible
            )
        assert isinstance(type_, GraphQLObjectType)
        parts = []
        for name, field in type_.fields.items():
            selected = self.field(type_, name, field, path)
            if selected:
                parts.append(selected)
        return " ".join(parts) or "__typename"

    def field(
        self, parent: GraphQLObjectType, name: str, field: GraphQLField, path: tuple[str, ...]
    ) -> str | None:
        arguments = self.arguments.get((parent.name, name), {})
        required = {n for n, a in field.args.items() if is_required_argument(a)}
        if not required <= arguments.keys():
            return None
        named = get_named_type(field.type)
        call = f"{name}{_arguments(arguments) if arguments else ''}"
        if is_leaf_type(named):
            self.selected.add((parent.name, name))
            return call
        if named.name in path:
            return None
        self.selected.add((parent.name, name))
        return f"{call} {{ {self.selection(named, (*path, parent.name))} }}"


def reachable_fields() -> set[tuple[str, str]]:
    """Every (type, field) reachable from Query."""
    found: set[tuple[str, str]] = set()
    pending: list[GraphQLNamedType] = [schema.graphql_schema.query_type]  # type: ignore[list-item]
    seen: set[str] = set()
    while pending:
        type_ = pending.pop()
        if type_.name in seen:
            continue
        seen.add(type_.name)
        if isinstance(type_, GraphQLUnionType | GraphQLInterfaceType):
            pending.extend(schema.graphql_schema.get_possible_types(type_))
            continue
        if not isinstance(type_, GraphQLObjectType):
            continue
        for name, field in type_.fields.items():
            found.add((type_.name, name))
            pending.append(get_named_type(field.type))
    return found


def _no_internal_errors(body: dict[str, Any], who: str) -> None:
    internal = [
        e for e in body.get("errors", []) if e.get("extensions", {}).get("code") == "INTERNAL_ERROR"
    ]
    assert not internal, f"{who}: {internal}"


def test_every_field_resolves_for_citizens_a_service_and_the_admin(
    api,  # noqa: F811
    tokens,  # noqa: F811
    demo_services,  # noqa: F811
    settings,
    sandbox,
):
    # The point is every field at once, not the cost limits, which have tests of their own.
    settings.GRAPHQL_MAX_COST = settings.GRAPHQL_MAX_DEPTH = 10**6
    settings.GRAPHQL_MAX_ALIASES = 10**6

    # Given: every demo citizen's data synced (eero with his library card linked) ...
    for citizen in ("aino", "eero", "sofia", "admin"):
        token = tokens.citizen(citizen)
        if citizen == "eero":
            assert api(LINK, token)["data"]["linkLibraryCard"]["linked"] is True
        synced = api(SYNC, token)["data"]["syncMyData"]["sources"]
        assert synced and all(s["status"] == "SUCCEEDED" for s in synced), synced
    # ... and aino has given a consent, which the service has used, so the log has an entry.
    granted = grant(
        api,
        tokens,
        service="demo-service",
        citizen="aino",
        fields=["profile.email", "youth.membership.status"],
        hint=str(AINO.sub),
    )
    read = api(CITIZEN_DATA, tokens.service("demo-service"), id=granted["citizenId"])
    assert read["data"]["citizenData"]["grantedFields"], read
    assert api(ACCESS_LOG, tokens.citizen("aino"), first=5)["data"]["me"]["accessLog"]["edges"]

    builder = QueryBuilder(
        {
            ("Query", "citizenData"): {"citizenId": granted["citizenId"]},
            ("Query", "consentRequest"): {"id": granted["id"]},
            ("Query", "consentReceipt"): {"id": granted["consentId"]},
        }
    )
    root = schema.graphql_schema.query_type
    assert root is not None
    # One query per root field: a non-null root field refused to one principal would null the
    # whole answer and hide the others.
    queries = {
        name: f"{{ {builder.field(root, name, field, ())} }}" for name, field in root.fields.items()
    }
    assert not reachable_fields() - builder.selected, "fields the query never selected"

    # When: each query runs as each principal. Then: no field fails on our side, and each
    # principal gets whole answers to the fields that are for it.
    principals = {
        "aino": tokens.citizen("aino"),
        "eero": tokens.citizen("eero"),
        "sofia": tokens.citizen("sofia"),
        "admin": tokens.citizen("admin"),
        "demo-service": tokens.service("demo-service"),
    }
    theirs = {
        "aino": {"me", "consentReceipt", "consentRequest"},
        "eero": {"me"},
        "sofia": {"me"},
        "admin": {"me", "connectors", "syncRuns"},
        "demo-service": {"citizenData", "consentRequest"},
    }
    answers: dict[tuple[str, str], Any] = {}
    for who, token in principals.items():
        for root_field, query in queries.items():
            body = api(query, token)
            _no_internal_errors(body, f"{who} asking {root_field}")
            if root_field in theirs[who]:
                assert not body.get("errors"), (who, root_field, body["errors"])
                answers[who, root_field] = body["data"][root_field]
            else:
                codes = {e["extensions"]["code"] for e in body.get("errors", [])}
                assert codes <= {"PERMISSION_DENIED", "NOT_FOUND"}, (who, root_field, codes)

    # And the data is really there: each part answered for the principal it is for.
    aino = answers["aino", "me"]
    assert aino["profile"]["sources"] and aino["youthMembership"]["membershipNumber"]
    assert all(source["updatedAt"] for source in aino["profile"]["sources"])
    assert aino["consents"] and aino["accessLog"]["edges"]
    assert answers["aino", "consentReceipt"]
    eero = answers["eero", "me"]
    assert eero["berthLeases"] and eero["boats"] and eero["libraryAccount"]["loans"]
    assert answers["admin", "connectors"] and answers["admin", "syncRuns"]["edges"]
    assert answers["demo-service", "citizenData"]["grantedFields"]
    assert answers["demo-service", "consentRequest"]["state"] == "GIVEN"
