"""Seeding of the provider: demo users and the registered clients (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from oauth2_provider.models import Application

from sandbox.demo import (
    CONNECTOR_CLIENT_ID,
    DEMO_PASSWORD,
    DEMO_SERVICES,
    DEMO_USERS,
    HELSINKI_PROFILE_CLIENT_ID,
    WALLET_CLI_CLIENT_ID,
    WALLET_WEB_CLIENT_ID,
)
from sandbox.idp.models import User

WALLET_REDIRECT_URIS = (
    "http://127.0.0.1:8000/oidc/callback/",
    "http://localhost:8000/oidc/callback/",
)
# The front page (sign-out) and the "data erased" page (sign-out after an erasure).
WALLET_POST_LOGOUT_URIS = (
    "http://127.0.0.1:8000/",
    "http://localhost:8000/",
    "http://127.0.0.1:8000/erased/",
    "http://localhost:8000/erased/",
)


@transaction.atomic
def demo_users_seed() -> None:
    for demo in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            pk=demo.sub,
            defaults={
                "username": demo.username,
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": demo.email,
                "loa": demo.loa,
                "roles": list(demo.roles),
                "birth_date": demo.birth_date,
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])


def _unique(uris: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(uri for uri in uris if uri))


def _application_upsert(*, client_id: str, secret: str | None = None, **fields: object) -> None:
    application = Application.objects.filter(client_id=client_id).first() or Application(
        client_id=client_id
    )
    for name, value in fields.items():
        setattr(application, name, value)
    application.algorithm = Application.RS256_ALGORITHM
    if secret is not None:
        # Assign the plain secret: DOT's ClientSecretField hashes it on save, so the value in
        # the environment keeps working and a re-seed with a new one replaces the old hash.
        application.hash_client_secret = True
        application.client_secret = secret
    application.save()


@transaction.atomic
def clients_seed(
    *,
    wallet_client_secret: str,
    connector_client_secret: str,
    extra_redirect_uris: Iterable[str] = (),
    extra_post_logout_uris: Iterable[str] = (),
) -> None:
    _application_upsert(
        client_id=WALLET_WEB_CLIENT_ID,
        secret=wallet_client_secret,
        name="Oma.Helsinki wallet (web)",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        skip_authorization=True,
        redirect_uris=_unique([*WALLET_REDIRECT_URIS, *extra_redirect_uris]),
        post_logout_redirect_uris=_unique([*WALLET_POST_LOGOUT_URIS, *extra_post_logout_uris]),
    )
    # Sandbox only: lets scripts, tests and benchmarks get real citizen tokens.
    _application_upsert(
        client_id=WALLET_CLI_CLIENT_ID,
        name="Wallet command line (sandbox only)",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
        skip_authorization=True,
        redirect_uris="",
        post_logout_redirect_uris="",
    )
    _application_upsert(
        client_id=HELSINKI_PROFILE_CLIENT_ID,
        name="Helsinki profile (sandbox only): the wallet's GDPR API",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
        skip_authorization=True,
        redirect_uris="",
        post_logout_redirect_uris="",
    )
    _application_upsert(
        client_id=CONNECTOR_CLIENT_ID,
        secret=connector_client_secret,
        name="Oma.Helsinki wallet connectors",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        skip_authorization=True,
        redirect_uris="",
        post_logout_redirect_uris="",
    )
    for service in DEMO_SERVICES:
        # Partner services: client-credentials tokens (scope `wallet`) to call the wallet's API.
        _application_upsert(
            client_id=service.client_id,
            secret=service.secret,
            name=f"{service.name} (sandbox only)",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            skip_authorization=True,
            redirect_uris="",
            post_logout_redirect_uris="",
        )
