"""Start-up checks: key configuration mistakes stop the wallet before it serves a request."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from wallet import crypto, signing


@checks.register(checks.Tags.security)
def key_configuration(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        crypto.kek_provider()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="wallet.E001"))
    try:
        crypto.blind_index(purpose="startup-check", value="x")
    except (ImproperlyConfigured, ValueError) as exc:
        errors.append(checks.Error(f"WALLET_INDEX_KEY: {exc}", id="wallet.E002"))
    try:
        signing.current_key()  # signs consent receipts
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="wallet.E004"))
    try:
        signing.retired_keys()  # still published, so older receipts keep verifying
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="wallet.E004"))
    return errors


@checks.register(checks.Tags.security)
def keys_in_use_are_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A retired KEK that still wraps data keys is a start-up error, not a surprise at read time.

    It reads the key store (two scans of it, a few tenths of a second at a million keys: no
    index on the KEK versions, which every rotation rewrites), so it runs on `runserver`,
    `check` and `migrate`; deployments run `manage.py check --deploy` before starting the web
    workers.
    """
    from wallet.models import CitizenKey

    try:
        configured = set(crypto.kek_provider().versions())
    except ImproperlyConfigured:
        return []  # reported by key_configuration
    try:
        versions = CitizenKey.objects.values_list("kek_version", "pending_kek_version").distinct()
        in_use = {v for pair in versions for v in pair if v is not None}
        pending = CitizenKey.objects.filter(pending_generation__isnull=False).count()
    except DatabaseError:
        return []  # not migrated yet
    messages: list[checks.CheckMessage] = []
    missing = sorted(in_use - configured)
    if missing:
        messages.append(
            checks.Error(
                f"data keys are wrapped under KEK versions {missing}, which are not configured",
                hint="Configure those versions again and run `manage.py rotate_kek` "
                "before retiring them.",
                id="wallet.E003",
            )
        )
    if pending:
        messages.append(
            checks.Warning(
                f"{pending} data-key rotations were interrupted",
                hint="Run `manage.py rotate_data_key --citizen SUB` again for each to finish it.",
                id="wallet.W001",
            )
        )
    return messages


@checks.register(checks.Tags.security)
def citizen_clients_are_listed(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Without DEBUG an empty list stops the settings from loading; with it, this says why no
    bearer token acts for a citizen (browser sessions still do)."""
    from django.conf import settings

    if settings.WALLET_CITIZEN_CLIENT_IDS:
        return []
    return [
        checks.Warning(
            "WALLET_CITIZEN_CLIENT_IDS is empty: no client's bearer token acts for citizens.",
            hint="List the client ids of the wallet's own apps (`make venv` lists the sandbox's).",
            id="wallet.W002",
        )
    ]


@checks.register(checks.Tags.security)
def erasure_markers_outlive_tokens(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """An erasure's marker refuses the tokens issued before it: once it is forgotten, every
    such token must have expired."""
    from django.conf import settings

    marker_seconds = settings.WALLET_ERASURE_MARKER_DAYS * 86400
    token_seconds = (
        settings.WALLET_TOKEN_MAX_LIFETIME_SECONDS + settings.WALLET_TOKEN_LEEWAY_SECONDS
    )
    if marker_seconds > token_seconds:
        return []
    return [
        checks.Error(
            "WALLET_ERASURE_MARKER_DAYS is shorter than the longest token lifetime "
            "(WALLET_TOKEN_MAX_LIFETIME_SECONDS + WALLET_TOKEN_LEEWAY_SECONDS): a token issued "
            "before an erasure would outlive its marker and start a new wallet.",
            hint="Keep the markers longer (docs/erasure.md).",
            id="wallet.E005",
        )
    ]
