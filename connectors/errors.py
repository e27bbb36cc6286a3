"""Typed errors from upstream systems: each class carries its stable code and whether it is
permanent (retrying cannot help: bad credentials, a rejected request, an error the wallet does
not know) or transient (timeouts, connection errors, 429, 5xx, a malformed or cut answer).

The sync engine records `code` and the message; messages are safe to record: they never carry
personal data or secrets. An upstream's own error code is recorded as it is only when the
connector knows it (a fixed set per upstream); any other code becomes `UnknownUpstreamError`, so
nothing an upstream invents reaches a record unchecked, and nothing fails with a KeyError.
"""

from __future__ import annotations

import re


class UpstreamError(Exception):
    code: str = "UPSTREAM_ERROR"
    permanent: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class TransientUpstreamError(UpstreamError):
    """Worth another try later (the next attempt, or the next run)."""

    permanent = False


class PermanentUpstreamError(UpstreamError):
    """No retry can fix it: the configuration or the request must change first."""

    permanent = True


# --- Transient --------------------------------------------------------------------------------


class UpstreamTimeout(TransientUpstreamError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamUnreachable(TransientUpstreamError):
    code = "UPSTREAM_UNREACHABLE"


class UpstreamRateLimited(TransientUpstreamError):
    code = "UPSTREAM_RATE_LIMITED"


class UpstreamUnavailable(TransientUpstreamError):
    """HTTP 5xx."""

    code = "UPSTREAM_UNAVAILABLE"


class UpstreamCircuitOpen(TransientUpstreamError):
    code = "UPSTREAM_CIRCUIT_OPEN"


class UpstreamMalformed(TransientUpstreamError):
    """Not JSON, or JSON without the shape the contract promises."""

    code = "UPSTREAM_MALFORMED"


class UpstreamTruncated(TransientUpstreamError):
    """A list that stopped before its announced total."""

    code = "UPSTREAM_TRUNCATED"


class UpstreamFailed(TransientUpstreamError):
    """The upstream reported a failure of its own (e.g. GENERAL_ERROR); `code` is its known
    code."""

    code = "UPSTREAM_FAILED"


# --- Permanent --------------------------------------------------------------------------------


class UpstreamAuthFailed(PermanentUpstreamError):
    """The token endpoint refused the wallet's client, or the upstream keeps refusing its
    token after one renewal."""

    code = "UPSTREAM_AUTH_FAILED"


class UpstreamRejected(PermanentUpstreamError):
    """The upstream refused the request (an HTTP 4xx, or a known permanent error code, which is
    then the `code`)."""

    code = "UPSTREAM_REJECTED"


class UnknownUpstreamError(PermanentUpstreamError):
    """An error code the connector does not know: recorded under one stable code, with the
    upstream's code (sanitised, shortened) in the message."""

    code = "UPSTREAM_UNKNOWN_ERROR"

    def __init__(self, system: str, upstream_code: object) -> None:
        super().__init__(
            f"{system} answered an error the wallet does not know ({safe_code(upstream_code)})"
        )
        self.upstream_code = safe_code(upstream_code)


_UNSAFE = re.compile(r"[^A-Za-z0-9_./\-]")
MAX_CODE_LENGTH = 40


def safe_code(value: object) -> str:
    """An upstream's error code as it may be recorded: letters, digits, `_./-`, at most 40."""
    text = _UNSAFE.sub("", str(value))[:MAX_CODE_LENGTH]
    return text or "?"
