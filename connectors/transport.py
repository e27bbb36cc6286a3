"""HTTP toward upstream systems: the one transport every connector uses.

It owns explicit timeouts, bounded retries with exponential backoff and jitter (timeouts,
connection errors, 429 honouring Retry-After, 5xx), each upstream's budget of calls in flight
and calls per second (connectors.throttle), a circuit breaker per upstream, and bearer tokens:
cached per token source, renewed once when the upstream refuses one. Where a token comes
from is pluggable (`TokenSource`): OIDC client credentials for the GraphQL services, Sierra's own
token endpoint for the library (connectors/library/client.py). Errors are the typed ones of
connectors/errors.py, which say whether they are permanent.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from django.conf import settings

from connectors.errors import (
    PermanentUpstreamError,
    TransientUpstreamError,
    UnknownUpstreamError,
    UpstreamAuthFailed,
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamFailed,
    UpstreamMalformed,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from connectors.throttle import limits

if TYPE_CHECKING:
    from connectors.config import EffectiveConfig

# Re-exported: callers outside the connectors' HTTP code catch these from here.
__all__ = [
    "PermanentUpstreamError",
    "TransientUpstreamError",
    "UpstreamError",
]

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 30.0


def client_timeout() -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.CONNECTOR_CONNECT_TIMEOUT,
        read=settings.CONNECTOR_READ_TIMEOUT,
        write=settings.CONNECTOR_READ_TIMEOUT,
        pool=settings.CONNECTOR_CONNECT_TIMEOUT,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client (httpx's default: certifi's CAs, or SSL_CERT_FILE /
    SSL_CERT_DIR): making one loads the CA bundle, some 40 ms of CPU, more than a citizen's
    whole sync costs the wallet otherwise."""
    return httpx.create_ssl_context()


def upstream_client(*, max_in_flight: int = 1) -> httpx.Client:
    """A client toward the upstreams, with a kept connection for each call in flight (and one
    for a token). It keeps no cookies: an API call carries its token and nothing an earlier
    answer set (graphene-django's views set a CSRF cookie on every answer)."""
    return httpx.Client(
        timeout=client_timeout(),
        verify=_tls_context(),
        limits=httpx.Limits(
            max_connections=max_in_flight + 1, max_keepalive_connections=max_in_flight + 1
        ),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
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
    through as a trial (the others still fail at once), and its outcome closes or re-opens the
    circuit. A trial that never reports (its thread died) lets another through a cooldown
    later. Per worker process, shared by all its threads."""

    def __init__(self) -> None:
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        self._trials: set[str] = set()
        self._lock = threading.Lock()

    def check(self, system: str) -> None:
        with self._lock:
            until = self._open_until.get(system)
            if until is None:
                return
            now = time.monotonic()
            if now < until:
                raise UpstreamCircuitOpen(f"{system} is failing; calls paused")
            # Half-open: this call is the trial; the rest wait until it reports.
            self._open_until[system] = now + settings.CONNECTOR_BREAKER_COOLDOWN_SECONDS
            self._trials.add(system)

    def record(self, system: str, *, ok: bool) -> None:
        with self._lock:
            trial = system in self._trials
            self._trials.discard(system)
            if ok:
                self._failures.pop(system, None)
                if trial:
                    del self._open_until[system]
                return
            failures = self._failures.get(system, 0) + 1
            if trial or failures >= settings.CONNECTOR_BREAKER_THRESHOLD:
                self._open_until[system] = (
                    time.monotonic() + settings.CONNECTOR_BREAKER_COOLDOWN_SECONDS
                )
                self._failures[system] = 0
                logger.warning("%s: circuit opened after %d failures", system, failures)
            else:
                self._failures[system] = failures

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._open_until.clear()
            self._trials.clear()

    def seconds_open(self, system: str) -> float:
        """How long calls to `system` stay paused (0: the circuit is closed or half-open);
        read-only, for the admin's dashboard."""
        with self._lock:
            until = self._open_until.get(system)
        return max(until - time.monotonic(), 0.0) if until is not None else 0.0


breaker = CircuitBreaker()


def send_with_retries(
    send: Callable[[], httpx.Response],
    *,
    system: str,
    max_attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Call `send` until it answers something other than a transient failure, at most N times.

    Each attempt takes its turn in the upstream's budget (connectors.throttle) and then asks
    the breaker, so a call that waited for its turn while the circuit opened never goes out. A
    429's Retry-After pauses every call to that upstream in this process, not only this one.
    """
    attempts = max_attempts or settings.CONNECTOR_MAX_ATTEMPTS
    base = settings.CONNECTOR_BACKOFF_BASE_SECONDS
    limit = limits.for_system(system)
    last_error: UpstreamError | None = None
    for attempt in range(1, attempts + 1):
        retry_after: float | None = None
        with limit.call() if limit is not None else contextlib.nullcontext():
            breaker.check(system)
            try:
                response = send()
            except httpx.TimeoutException:
                last_error = UpstreamTimeout(f"{system} timed out")
            except httpx.TransportError:
                last_error = UpstreamUnreachable(f"{system} is unreachable")
            else:
                if response.status_code == 429:
                    retry_after = _retry_after_seconds(response)
                    last_error = UpstreamRateLimited(f"{system} is rate limiting")
                elif response.status_code >= 500:
                    last_error = UpstreamUnavailable(
                        f"{system} answered HTTP {response.status_code}"
                    )
                else:
                    breaker.record(system, ok=True)
                    return response
        breaker.record(system, ok=False)
        if retry_after is not None and limit is not None:
            limit.pause(retry_after)
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


# --- Tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    lifetime: float  # seconds, as the token endpoint said


class TokenSource(Protocol):
    """Where an upstream's bearer tokens come from."""

    @property
    def cache_key(self) -> Hashable:
        """Differs whenever the credentials differ (a replaced secret gets a new token)."""

    def fetch(self, client: httpx.Client) -> AccessToken:
        """A new token; raises UpstreamError."""


def oauth2_token(response: httpx.Response, *, system: str) -> AccessToken:
    """An OAuth2 token endpoint's answer `{access_token, expires_in}` (RFC 6749, 5.1)."""
    if response.status_code != 200:
        raise UpstreamAuthFailed(
            f"{system} refused the wallet's client (HTTP {response.status_code})"
        )
    body = _json(response, system=system)
    token = body.get("access_token") if isinstance(body, dict) else None
    expires_in = body.get("expires_in", 300) if isinstance(body, dict) else None
    if not isinstance(token, str) or not isinstance(expires_in, int | float):
        raise UpstreamMalformed(f"{system} answered without a token")
    return AccessToken(token, float(expires_in))


@dataclass(frozen=True)
class ClientCredentials:
    """OIDC client credentials (RFC 6749, 4.4) at the city's provider, for the GraphQL
    services: HTTP Basic client id:secret, an optional scope."""

    config: EffectiveConfig = field(repr=False)
    scope: str = ""

    @property
    def system(self) -> str:
        return f"{self.config.source} token endpoint"

    @property
    def cache_key(self) -> Hashable:
        secret_hash = hashlib.sha256(self.config.client_secret.encode()).hexdigest()
        return ("oidc", self.config.token_url, self.config.client_id, secret_hash, self.scope)

    def fetch(self, client: httpx.Client) -> AccessToken:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        response = send_with_retries(
            functools.partial(
                client.post,
                self.config.token_url,
                data=data,
                auth=(self.config.client_id, self.config.client_secret),
            ),
            system=self.system,
        )
        return oauth2_token(response, system=self.system)


@dataclass
class _CachedToken:
    value: str
    expires_at: float


class ServiceTokens:
    """Bearer tokens cached per token source (its `cache_key`), renewed ahead of expiry."""

    # Renew this long before expiry so a token does not lapse mid-sweep.
    EXPIRY_MARGIN_SECONDS = 60

    def __init__(self) -> None:
        self._tokens: dict[Hashable, _CachedToken] = {}
        self._lock = threading.Lock()

    def get(self, *, source: TokenSource, client: httpx.Client, force_new: bool = False) -> str:
        key = source.cache_key
        with self._lock:
            cached = self._tokens.get(key)
            if cached and not force_new and cached.expires_at > time.monotonic():
                return cached.value
            token = self._fetch(source=source, client=client)
            self._tokens[key] = token
            return token.value

    def _fetch(self, *, source: TokenSource, client: httpx.Client) -> _CachedToken:
        token = source.fetch(client)
        lifetime = max(token.lifetime - self.EXPIRY_MARGIN_SECONDS, 1.0)
        return _CachedToken(token.value, time.monotonic() + lifetime)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


service_tokens = ServiceTokens()


def _json(response: httpx.Response, *, system: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise UpstreamMalformed(f"{system} answered malformed JSON") from None


def json_object(response: httpx.Response, *, system: str) -> dict[str, Any]:
    body = _json(response, system=system)
    if not isinstance(body, dict):
        raise UpstreamMalformed(f"{system} answered malformed JSON")
    return body


# --- The transport ----------------------------------------------------------------------------


class Transport:
    """One upstream behind a bearer token: every call goes through the retries and the breaker,
    with a cached token that is renewed once when the upstream answers one of `renew_on`
    statuses; still refused after that, the call fails with UpstreamAuthFailed."""

    def __init__(
        self,
        *,
        system: str,
        client: httpx.Client,
        token_source: TokenSource,
        tokens: ServiceTokens | None = None,
        renew_on: frozenset[int] = frozenset({401}),
    ) -> None:
        self.system = system
        self.client = client
        self.token_source = token_source
        self._tokens = tokens
        self.renew_on = renew_on

    @property
    def tokens(self) -> ServiceTokens:
        # Looked up per call, so that replacing the module's cache (tests do) takes effect.
        return self._tokens if self._tokens is not None else service_tokens

    def request(
        self,
        method: str,
        url: str,
        *,
        renew_if: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The upstream's answer to one call. `renew_if` says which other answers (a GraphQL
        error meaning "token expired") also mean "renew the token and try once more"."""
        for renewed in (False, True):
            token = self.tokens.get(source=self.token_source, client=self.client, force_new=renewed)
            response = send_with_retries(
                functools.partial(
                    self.client.request,
                    method,
                    url,
                    headers={"Authorization": f"Bearer {token}"},
                    **kwargs,
                ),
                system=self.system,
            )
            refused = response.status_code in self.renew_on or (
                renew_if is not None and renew_if(response)
            )
            if not refused:
                return response
            if not renewed:
                logger.info("%s refused the token; renewing it once", self.system)
        raise UpstreamAuthFailed(f"{self.system} keeps refusing the wallet's token")


# --- GraphQL ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQLErrorConvention:
    """How a GraphQL service types its errors: under which `extensions` key, which values mean
    "renew the token", which no retry can fix and which a later run may. Any other value is an
    error the wallet does not know (UnknownUpstreamError, permanent)."""

    key: str
    token_expired: frozenset[str]
    permanent: frozenset[str]
    transient: frozenset[str] = frozenset()

    def error_codes(self, body: dict[str, Any], *, system: str) -> list[object]:
        errors = body.get("errors") or []
        if not isinstance(errors, list):
            raise UpstreamMalformed(f"{system} answered errors that are not a list")
        codes: list[object] = []
        for error in errors:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            value = extensions.get(self.key) if isinstance(extensions, dict) else None
            # An error without a type is the service's "something went wrong".
            codes.append(value if value is not None else "GENERAL_ERROR")
        return codes

    def error(self, system: str, code: object) -> UpstreamError:
        """The typed error for one upstream error code; never a KeyError."""
        if isinstance(code, str) and code in self.permanent:
            return UpstreamRejected(f"{system} answered {code}", code=code)
        if isinstance(code, str) and code in self.transient:
            return UpstreamFailed(f"{system} answered {code}", code=code)
        if isinstance(code, str) and code in self.token_expired:
            return UpstreamAuthFailed(f"{system} keeps refusing the wallet's token")
        return UnknownUpstreamError(system, code)


class GraphQLTransport:
    """A GraphQL API behind a client-credentials bearer token (the youth and berth services);
    each connector declares its service's error convention (connectors.base.GraphQLConnector).

    Errors arrive as HTTP 200 with a typed `errors[].extensions` entry; an expired token (HTTP
    401/403, or the convention's "token expired" code) is renewed once.
    """

    def __init__(
        self,
        *,
        config: EffectiveConfig,
        scope: str,
        errors: GraphQLErrorConvention,
    ) -> None:
        self.system = config.source
        self.config = config
        self.url = config.base_url
        self.scope = scope
        self.errors = errors

    def _token_expired(self, response: httpx.Response) -> bool:
        if response.status_code != 200 or not self.errors.token_expired:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        return bool(
            self.errors.token_expired
            & {c for c in self.errors.error_codes(body, system=self.system) if isinstance(c, str)}
        )

    def execute(
        self, *, client: httpx.Client, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        transport = Transport(
            system=self.system,
            client=client,
            token_source=ClientCredentials(self.config, self.scope),
            renew_on=frozenset({401, 403}),
        )
        response = transport.request(
            "POST",
            self.url,
            json={"query": query, "variables": variables},
            renew_if=self._token_expired,
        )
        if response.status_code != 200:
            raise UpstreamRejected(
                f"{self.system} refused the request (HTTP {response.status_code})"
            )
        body = json_object(response, system=self.system)
        codes = self.errors.error_codes(body, system=self.system)
        if codes:
            raise self.errors.error(self.system, codes[0])
        data = body.get("data")
        if not isinstance(data, dict):
            raise UpstreamMalformed(f"{self.system} answered without data")
        return data
