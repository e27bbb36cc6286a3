"""One real sandbox per test module, talked to over HTTP (no Django settings in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.harness import Sandbox, start_sandbox

GraphQLQuery = Callable[..., httpx.Response]
YouthQuery = GraphQLQuery


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(
        # Registered on top of the default :8000 URIs, to prove the harness passes them on.
        redirect_uris=["http://127.0.0.1:65001/oidc/callback/"],
        post_logout_uris=["http://127.0.0.1:65001/"],
        # Bench citizens besides the demo users, so that sweeps span several pages: all 23 are
        # youth members, 12 (even indexes) berth customers, 8 (multiples of 3) library patrons.
        citizens=23,
        citizen_seed=7,
    ) as running:
        yield running


def graphql_poster(url: str) -> GraphQLQuery:
    """POST a GraphQL query to ``url``, with a bearer token when given."""

    def post(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = 10,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(
            url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=timeout,
        )

    return post


@pytest.fixture
def youth_query(sandbox: Sandbox) -> YouthQuery:
    return graphql_poster(sandbox.youth_graphql_url)


@pytest.fixture
def berths_query(sandbox: Sandbox) -> GraphQLQuery:
    return graphql_poster(sandbox.berths_graphql_url)
