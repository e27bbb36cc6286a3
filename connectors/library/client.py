"""The Sierra ILS REST API v6 (the libraries' patron system).

Its own OAuth2 token endpoint (HTTP Basic client key:secret, client credentials, an hour's
token), renewed once on a 401. Errors are `{code, specificCode, httpStatus, name,
description}`; an empty date range may answer 404 with code 107.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from connectors.config import EffectiveConfig, effective_config
from connectors.transport import (
    PermanentUpstreamError,
    TransientUpstreamError,
    send_with_retries,
)

SYSTEM = "library"
RECORD_NOT_FOUND = 107
SWEEP_LIMIT = 2000
LIST_LIMIT = 100
# `homeLibrary` is the home library as `{code, name}` (`homeLibraryCode` would be the code only).
PATRON_FIELDS = "id,names,barcodes,expirationDate,homeLibrary,moneyOwed,updatedDate,deleted"


class _TokenCache:
    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, client: httpx.Client, config: EffectiveConfig, *, force_new: bool = False) -> str:
        secret_hash = hashlib.sha256(config.client_secret.encode()).hexdigest()
        key = (config.token_url, config.client_id, secret_hash)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and not force_new and cached[1] > time.monotonic():
                return cached[0]
            response = send_with_retries(
                functools.partial(
                    client.post,
                    config.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(config.client_id, config.client_secret),
                ),
                system=SYSTEM,
            )
            if response.status_code != 200:
                raise PermanentUpstreamError(
                    f"library refused the wallet's client key (HTTP {response.status_code})",
                    code="UPSTREAM_AUTH_FAILED",
                )
            body = _json(response)
            token, expires_in = body.get("access_token"), body.get("expires_in", 300)
            if not isinstance(token, str) or not isinstance(expires_in, int | float):
                raise TransientUpstreamError(
                    "library answered without a token", code="UPSTREAM_MALFORMED"
                )
            self._tokens[key] = (token, time.monotonic() + max(float(expires_in) - 60, 1.0))
            return token

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


tokens = _TokenCache()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransientUpstreamError(
            "library answered malformed JSON", code="UPSTREAM_MALFORMED"
        ) from None
    if not isinstance(body, dict):
        raise TransientUpstreamError("library answered malformed JSON", code="UPSTREAM_MALFORMED")
    return body


def _sierra_code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


class SierraClient:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.config = effective_config(SYSTEM)
        self.base_url = self.config.base_url.rstrip("/") + "/"

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for renewed in (False, True):
            token = tokens.get(self.client, self.config, force_new=renewed)
            response = send_with_retries(
                functools.partial(
                    self.client.request,
                    method,
                    f"{self.base_url}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                    **kwargs,
                ),
                system=SYSTEM,
            )
            if response.status_code == 401 and not renewed:
                continue  # the token expired or was revoked: renew it once
            return response
        raise PermanentUpstreamError(
            "library keeps refusing the wallet's token", code="UPSTREAM_AUTH_FAILED"
        )

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON body, or None for "record not found" (404 / code 107)."""
        response = self._request("GET", path, params=params)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            status, code = response.status_code, _sierra_code(response)
            raise PermanentUpstreamError(
                f"library refused the request (HTTP {status}, code {code})",
                code="UPSTREAM_REJECTED",
            )
        return _json(response)

    def validate(self, *, barcode: str, pin: str) -> bool:
        """Whether the PIN is the card's, compared as the library is configured to (the
        connector's `pin_case_sensitive`, sent as Sierra's `caseSensitivity`)."""
        response = self._request(
            "POST",
            "patrons/validate",
            json={
                "barcode": barcode,
                "pin": pin,
                "caseSensitivity": self.config.pin_case_sensitive,
            },
        )
        if response.status_code == 204:
            return True
        if response.status_code == 400:
            return False
        raise PermanentUpstreamError(
            f"library could not check the card (HTTP {response.status_code})",
            code="UPSTREAM_REJECTED",
        )

    def find_by_barcode(self, barcode: str) -> dict[str, Any] | None:
        return self._get_json(
            "patrons/find",
            {"varFieldTag": "b", "varFieldContent": barcode, "fields": PATRON_FIELDS},
        )

    def patron(self, patron_id: str) -> dict[str, Any] | None:
        return self._get_json(f"patrons/{patron_id}", {"fields": PATRON_FIELDS})

    def entries(self, path: str) -> list[dict[str, Any]]:
        """Every entry of a `{total, start, entries}` list, page by page."""
        result: list[dict[str, Any]] = []
        while True:
            body = self._get_json(path, {"limit": LIST_LIMIT, "offset": len(result)})
            if body is None:
                return result
            page = body.get("entries")
            if not isinstance(page, list):
                raise TransientUpstreamError(
                    "library answered a list without entries", code="UPSTREAM_MALFORMED"
                )
            result.extend(page)
            total = body.get("total")
            if isinstance(total, int) and len(result) >= total:
                return result
            if len(page) < LIST_LIMIT:
                if isinstance(total, int):
                    # A short page before `total` was reached: the list was cut. Ending the
                    # records that did not come would lose data, so this fetch fails instead.
                    raise TransientUpstreamError(
                        "library answered a truncated list", code="UPSTREAM_TRUNCATED"
                    )
                return result

    def changed_patron_ids(self, *, since: str) -> Iterator[str]:
        """Ids of patrons updated, and of patrons deleted, since an ISO timestamp."""
        for params in (
            {"updatedDate": f"[{since},]", "fields": "id"},
            {"deleted": "true", "deletedDate": f"[{since[:10]},]", "fields": "id"},
        ):
            offset = 0
            while True:
                body = self._get_json("patrons", {**params, "limit": SWEEP_LIMIT, "offset": offset})
                if body is None:  # code 107: nothing in the range
                    break
                page = body.get("entries")
                if not isinstance(page, list):
                    raise TransientUpstreamError(
                        "library answered a list without entries", code="UPSTREAM_MALFORMED"
                    )
                for entry in page:
                    if isinstance(entry, dict) and entry.get("id") is not None:
                        yield str(entry["id"])
                offset += len(page)
                if len(page) < SWEEP_LIMIT:
                    break
