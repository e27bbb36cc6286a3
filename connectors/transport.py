"""HTTP toward upstream systems: explicit timeouts, bounded retries, cached service tokens.

Errors say whether they are permanent (retrying cannot help: bad credentials, a rejected query, a
malformed answer) or transient (timeouts, connection errors, 429, 5xx: retried with exponential
backoff and jitter). Messages are safe to record: they never carry personal data or secrets.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

if TYPE_CHECKING:
    from connectors.config import EffectiveConfig

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 30.0


class UpstreamError(Exception):
    permanent = False

    def __init__(self, message: str, *, code: str = "UPSTREAM_ERROR") -> None:
        super().__init__(message)
        self.code = code


class TransientUpstreamError(UpstreamError):
    permanent = False


class PermanentUpstreamError(UpstreamError):
    permanent = True


def client_timeout() -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.CONNECTOR_CONNECT_TIMEOUT,
        read=settings.CONNECTOR_READ_TIMEOUT,
        write=settings.CONNECTOR_READ_TIMEOUT,
        pool=settings.CONNECTOR_CONNECT_TIMEOUT,
    )


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        pass
    try:
        delay = parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
    return min(max(delay, 0.0), MAX_RETRY_AFTER_SECONDS)


class CircuitBreaker:
    """Per upstream: after `threshold` transient failures in a row, calls fail at once for
    `cooldown` seconds instead of piling onto a system that is down; then one call is let
    through, and its outcome closes or re-opens the circuit. Per worker process."""

    def __init__(self) -> None:
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, system: str) -> None:
        with self._lock:
            until = self._open_until.get(system)
            if until is None:
                return
            if time.monotonic() < until:
                raise TransientUpstreamError(
                    f"{system} is failing; calls paused", code="UPSTREAM_CIRCUIT_OPEN"
                )
            del self._open_until[system]  # half-open: this call is the trial

    def record(self, system: str, *, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures.pop(system, None)
                return
            failures = self._failures.get(system, 0) + 1
            self._failures[system] = failures
            if failures >= settings.CONNECTOR_BREAKER_THRESHOLD:
                self._open_until[system] = (
                    time.monotonic() + settings.CONNECTOR_BREAKER_COOLDOWN_SECONDS
                )
                self._failures[system] = 0
                logger.warning("%s: circuit opened after %d failures", system, failures)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._open_until.clear()


breaker = CircuitBreaker()


def send_with_retries(
    send: Callable[[], httpx.Response],
    *,
    system: str,
    max_attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Call `send` until it answers something other than a transient failure, at most N times."""
    attempts = max_attempts or settings.CONNECTOR_MAX_ATTEMPTS
    base = settings.CONNECTOR_BACKOFF_BASE_SECONDS
    last_error: UpstreamError | None = None
    for attempt in range(1, attempts + 1):
        retry_after: float | None = None
        breaker.check(system)
        try:
            response = send()
        except httpx.TimeoutException:
            last_error = TransientUpstreamError(f"{system} timed out", code="UPSTREAM_TIMEOUT")
        except httpx.TransportError:
            last_error = TransientUpstreamError(
                f"{system} is unreachable", code="UPSTREAM_UNREACHABLE"
            )
        else:
            if response.status_code == 429:
                retry_after = _retry_after_seconds(response)
                last_error = TransientUpstreamError(
                    f"{system} is rate limiting", code="UPSTREAM_RATE_LIMITED"
                )
            elif response.status_code >= 500:
                last_error = TransientUpstreamError(
                    f"{system} answered HTTP {response.status_code}", code="UPSTREAM_UNAVAILABLE"
                )
            else:
                breaker.record(system, ok=True)
                return response
        breaker.record(system, ok=False)
        if attempt < attempts:
            # Full jitter: spread retries so that many workers do not hit the upstream in step.
            delay = (
                retry_after
                if retry_after is not None
                else random.uniform(0, base * 2 ** (attempt - 1))  # noqa: S311 - jitter, not crypto
            )
            logger.info(
                "%s: attempt %d failed (%s); retrying in %.2fs",
                system,
                attempt,
                last_error.code,
                delay,
            )
            sleep(delay)
    assert last_error is not None
    raise last_error


@dataclass
class _CachedToken:
    value: str
    expires_at: float


class ServiceTokens:
    """Client-credentials access tokens for a connector's client, cached per client and scope."""

    # Renew this long before expiry so a token does not lapse mid-sweep.
    EXPIRY_MARGIN_SECONDS = 60

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str, str], _CachedToken] = {}
        self._lock = threading.Lock()

    def get(
        self, *, config: EffectiveConfig, scope: str, client: httpx.Client, force_new: bool = False
    ) -> str:
        # A changed secret (an admin replaced it) must not keep using the old client's token.
        secret_hash = hashlib.sha256(config.client_secret.encode()).hexdigest()
        key = (config.token_url, config.client_id, secret_hash, scope)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and not force_new and cached.expires_at > time.monotonic():
                return cached.value
            token = self._fetch(config=config, scope=scope, client=client)
            self._tokens[key] = token
            return token.value

    def _fetch(self, *, config: EffectiveConfig, scope: str, client: httpx.Client) -> _CachedToken:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        response = send_with_retries(
            functools.partial(
                client.post,
                config.token_url,
                data=data,
                auth=(config.client_id, config.client_secret),
            ),
            system=f"{config.source} token endpoint",
        )
        if response.status_code != 200:
            raise PermanentUpstreamError(
                f"{config.source} token endpoint refused the wallet's client "
                f"(HTTP {response.status_code})",
                code="UPSTREAM_AUTH_FAILED",
            )
        body = _json(response, system=f"{config.source} token endpoint")
        token, expires_in = body.get("access_token"), body.get("expires_in", 300)
        if not isinstance(token, str) or not isinstance(expires_in, int | float):
            raise TransientUpstreamError(
                f"{config.source} token endpoint answered without a token",
                code="UPSTREAM_MALFORMED",
            )
        lifetime = max(float(expires_in) - self.EXPIRY_MARGIN_SECONDS, 1.0)
        return _CachedToken(token, time.monotonic() + lifetime)


service_tokens = ServiceTokens()


def _json(response: httpx.Response, *, system: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientUpstreamError(
            f"{system} answered malformed JSON", code="UPSTREAM_MALFORMED"
        ) from None


@dataclass(frozen=True)
class GraphQLErrorConvention:
    """How a GraphQL service types its errors: under which `extensions` key, which value means
    "renew the token", and which values no retry can fix."""

    key: str
    token_expired: frozenset[str]
    permanent: frozenset[str]


# The youth-membership service: `extensions.code`.
YOUTH_ERRORS = GraphQLErrorConvention(
    key="code",
    token_expired=frozenset({"TOKEN_EXPIRED_ERROR"}),
    permanent=frozenset({"PERMISSION_DENIED_ERROR", "OBJECT_DOES_NOT_EXIST_ERROR"}),
)


class GraphQLTransport:
    """A GraphQL API behind a client-credentials bearer token (the youth and berth services).

    Errors arrive as HTTP 200 with a typed `errors[].extensions` entry; an expired token is
    renewed once.
    """

    def __init__(
        self,
        *,
        config: EffectiveConfig,
        scope: str,
        errors: GraphQLErrorConvention = YOUTH_ERRORS,
    ) -> None:
        self.system = config.source
        self.config = config
        self.url = config.base_url
        self.scope = scope
        self.errors = errors

    def execute(
        self, *, client: httpx.Client, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        for renewed in (False, True):
            token = service_tokens.get(
                config=self.config, scope=self.scope, client=client, force_new=renewed
            )
            headers = {"Authorization": f"Bearer {token}"}
            response = send_with_retries(
                functools.partial(
                    client.post,
                    self.url,
                    json={"query": query, "variables": variables},
                    headers=headers,
                ),
                system=self.system,
            )
            if response.status_code in (401, 403) and not renewed:
                continue
            if response.status_code != 200:
                raise PermanentUpstreamError(
                    f"{self.system} refused the request (HTTP {response.status_code})",
                    code="UPSTREAM_REJECTED",
                )
            body = _json(response, system=self.system)
            if not isinstance(body, dict):
                raise TransientUpstreamError(
                    f"{self.system} answered malformed JSON", code="UPSTREAM_MALFORMED"
                )
            codes = [
                str((error.get("extensions") or {}).get(self.errors.key, "GENERAL_ERROR"))
                for error in body.get("errors") or []
                if isinstance(error, dict)
            ]
            if self.errors.token_expired & set(codes) and not renewed:
                continue
            if codes:
                code = codes[0]
                error_class = (
                    PermanentUpstreamError
                    if code in self.errors.permanent
                    else TransientUpstreamError
                )
                raise error_class(f"{self.system} answered {code}", code=code)
            data = body.get("data")
            if not isinstance(data, dict):
                raise TransientUpstreamError(
                    f"{self.system} answered without data", code="UPSTREAM_MALFORMED"
                )
            return data
        raise PermanentUpstreamError(
            f"{self.system} keeps refusing the connector's token", code="UPSTREAM_AUTH_FAILED"
        )
