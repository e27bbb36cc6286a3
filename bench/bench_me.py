"""`me` over GraphQL against a hand-written Django JSON view returning the same decrypted data.

Both go through the same client, middleware and session, and load and decrypt through the same
selector (`citizen_wallet`: the data key, then the profile and every record in one statement);
the difference is what the GraphQL layer (parsing, validation, resolvers, permission checks)
costs. The baseline writes the same fields the query asks for, withholding the sensitive ones
below their level of assurance as the GraphQL types do.
"""

from __future__ import annotations

import json
import time
from typing import Any

ME_QUERY = """{ me {
  profile { firstName lastName nickname email phone address preferredLanguage }
  youthMembership {
    membershipNumber status expiration birthDate schoolName schoolClass languageAtHome
    photoUsageApproved approverFirstName approverLastName approverPhone approverEmail
    additionalContactPersons { firstName lastName phone email }
  }
} }"""

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "nickname",
    "email",
    "phone",
    "address",
    "preferred_language",
)
CARD_FIELDS = (
    "membership_number",
    "status",
    "expiration",
    "birth_date",
    "school_name",
    "school_class",
    "language_at_home",
    "photo_usage_approved",
    "approver_first_name",
    "approver_last_name",
    "approver_phone",
    "approver_email",
    "additional_contact_persons",
)


def plain_me_view(request: Any) -> Any:
    """The baseline: the same data through the same selector, as a hand-written JSON view."""
    from django.http import JsonResponse

    from wallet import catalogue
    from wallet.assurance import loa_at_least
    from wallet.selectors import citizen_wallet

    wallet = citizen_wallet(citizen=request.user)
    strong = loa_at_least(request.session.get("wallet_loa"), "substantial")
    profile = wallet.profile
    cards = wallet.records(source="youth", kind="membership")
    card = None
    if cards:
        payload = cards[-1].payload
        card = {
            key: payload.get(key)
            if strong or not catalogue.field_by_id(f"youth.membership.{key}").sensitive
            else None
            for key in CARD_FIELDS
        }
    return JsonResponse(
        {
            "me": {
                "profile": {
                    key: profile[key].value if key in profile else None for key in PROFILE_FIELDS
                },
                "youthMembership": card,
            }
        }
    )


def _count_queries(fn: Any) -> dict[str, int]:
    """Statements on each database (the test Client resets Django's query log at each request,
    so count at the cursor instead)."""
    from django.db import connections

    counts = {alias: 0 for alias in connections}

    def counter_for(alias: str) -> Any:
        def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            counts[alias] += 1
            return execute(sql, params, many, context)

        return counter

    from contextlib import ExitStack

    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(counter_for(alias)))
        fn()
    return counts


def run(*, rounds: int, calls: int) -> dict[str, Any]:
    from bench.setup import compare, wallet_with_sandbox
    from sandbox.demo import AINO

    with wallet_with_sandbox() as sandbox:
        from django.test import Client
        from django.urls import clear_url_caches, path

        import wallet.urls
        from connectors.services import citizen_sync
        from wallet.services import citizen_get_or_create, profile_update_from_claims

        wallet.urls.urlpatterns.append(path("bench/plain-me/", plain_me_view))
        clear_url_caches()

        citizen, _ = citizen_get_or_create(issuer=sandbox.issuer, subject=str(AINO.sub))
        profile_update_from_claims(
            citizen=citizen,
            claims={
                "given_name": AINO.first_name,
                "family_name": AINO.last_name,
                "email": AINO.email,
            },
        )
        runs = citizen_sync(citizen=citizen, trigger="bench")
        youth = [run for run in runs if run.source == "youth"]
        assert youth and youth[0].status == "succeeded", [(r.source, r.errors) for r in runs]

        client = Client()
        client.force_login(citizen)
        session = client.session
        session["wallet_loa"] = AINO.loa
        # as a provider sign-in leaves it: the ID token's time, so no silent renewal redirects
        session["oidc_id_token_expiration"] = time.time() + 3600
        session.save()

        def graphql_me() -> None:
            response = client.post(
                "/graphql/", {"query": ME_QUERY}, content_type="application/json"
            )
            assert response.status_code == 200 and b'"membershipNumber"' in response.content

        def plain_me() -> None:
            response = client.get("/bench/plain-me/")
            assert response.status_code == 200 and b'"membership_number"' in response.content

        graphql_body = json.loads(
            client.post("/graphql/", {"query": ME_QUERY}, content_type="application/json").content
        )
        assert "errors" not in graphql_body, graphql_body
        plain_body = json.loads(client.get("/bench/plain-me/").content)
        # like with like: the same values, under the GraphQL names
        assert (
            plain_body["me"]["youthMembership"]["membership_number"]
            == (graphql_body["data"]["me"]["youthMembership"]["membershipNumber"])
        )
        assert (
            plain_body["me"]["profile"]["email"] == graphql_body["data"]["me"]["profile"]["email"]
        )
        graphql_queries, plain_queries = _count_queries(graphql_me), _count_queries(plain_me)

        result = compare("me", graphql_me, plain_me, rounds=rounds, calls=calls)
        return {
            "benchmark": "me query: GraphQL vs plain Django JSON view",
            "graphql_per_second": round(result.subject_per_second, 1),
            "plain_view_per_second": round(result.baseline_per_second, 1),
            "ratio_graphql_to_plain": round(result.ratio, 3),
            "sql_queries_graphql": graphql_queries,
            "sql_queries_plain_view": plain_queries,
            "rounds": rounds,
            "calls_per_round": calls,
        }
