"""One real sandbox per test module, talked to over HTTP (no Django settings in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.harness import Sandbox, start_sandbox

YouthQuery = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(
        # Registered on top of the default :8000 URIs, to prove the harness passes them on.
        redirect_uris=["http://127.0.0.1:65001/oidc/callback/"],
        post_logout_uris=["http://127.0.0.1:65001/"],
        # Generated youth members besides Aino, so that a sweep spans several pages.
        youth_extra=23,
        youth_seed=7,
    ) as running:
        yield running


@pytest.fixture
def youth_query(sandbox: Sandbox) -> YouthQuery:
    """POST a GraphQL query to the youth simulator, with a bearer token when given."""

    def post(
        query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(
            sandbox.youth_graphql_url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=10,
        )

    return post
