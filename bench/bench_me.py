"""`me` over GraphQL against a hand-written Django JSON view returning the same decrypted data.

Both go through the same client, middleware, session and decryption; the difference is what the
GraphQL layer (parsing, validation, resolvers, permission checks) costs.
"""

from __future__ import annotations

import json
from typing import Any

ME_QUERY = """{ me {
  profile { firstName lastName nickname email phone address preferredLanguage }
  youthMembership {
    membershipNumber status expiration birthDate schoolName schoolClass languageAtHome
    photoUsageApproved approverFirstName approverLastName approverPhone approverEmail
    additionalContactPersons { firstName lastName phone email }
  }
} }"""


def plain_me_view(request: Any) -> Any:
    """The baseline: the same data, decrypted the same way, as a hand-written JSON view."""
    from django.http import JsonResponse

    from wallet.keys import cipher_from_key
    from wallet.models import CitizenKey, DataRecord, Profile
    from wallet.services import PROFILE_TABLE, RECORD_TABLE

    citizen = request.user
    cipher = cipher_from_key(
        CitizenKey.objects.get(citizen_id=citizen.pk), generation=citizen.data_key_generation
    )
    profile_row = Profile.objects.get(citizen=citizen)
    profile = cipher.open_json(
        table=PROFILE_TABLE, row_id=citizen.pk, field="payload", ciphertext=profile_row.payload
    )
    card = None
    for row in DataRecord.objects.filter(
        citizen=citizen, source="youth", kind="membership", state="active"
    ):
        card = cipher.open_json(
            table=RECORD_TABLE, row_id=row.pk, field="payload", ciphertext=row.payload
        )
    return JsonResponse(
        {"me": {"profile": {k: v["value"] for k, v in profile.items()}, "youthMembership": card}}
    )


def _count_queries(connection: Any, fn: Any) -> int:
    # The test Client resets Django's query log at each request, so count at the cursor instead.
    count = 0

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count


def run(*, rounds: int, calls: int) -> dict[str, Any]:
    from bench.setup import compare, wallet_with_sandbox
    from sandbox.demo import AINO

    with wallet_with_sandbox() as sandbox:
        from django.db import connection
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
        [run] = citizen_sync(citizen=citizen, trigger="bench")
        assert run.status == "succeeded", run.errors

        client = Client()
        client.force_login(citizen)
        session = client.session
        session["wallet_loa"] = AINO.loa
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
        graphql_queries, plain_queries = (
            _count_queries(connection, graphql_me),
            _count_queries(connection, plain_me),
        )

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
