"""The Sierra ILS REST API v6 (the libraries' patron system): its endpoints and answers only.

Calls go through the shared transport (connectors/transport.py: retries, breaker, the token
cache, one renewal on 401); this module adds Sierra's token endpoint as a token source (HTTP Basic
client key:secret, client credentials, an hour's token) and reads Sierra's errors, `{code,
specificCode, httpStatus, name, description}`: 404 is "record not found" (code 107, also an
empty date range), 400 code 108 an invalid parameter (or, on `patrons/validate`, a wrong card
number or PIN); a code the wallet does not know is an UnknownUpstreamError.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.config import EffectiveConfig, effective_config
from connectors.errors import (
    UnknownUpstreamError,
    UpstreamError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTruncated,
)
from connectors.transport import (
    AccessToken,
    ServiceTokens,
    Transport,
    json_object,
    oauth2_token,
    send_with_retries,
)

SYSTEM = "library"
SWEEP_LIMIT = 2000
LIST_LIMIT = 100
# Patrons asked for in one `GET patrons?id=...` (Sierra's default page size; the ids stay well
# within a URL's length).
PATRON_BATCH = 50
# `homeLibrary` is the home library as `{code, name}` (`homeLibraryCode` would be the code only).
PATRON_FIELDS = "id,names,barcodes,expirationDate,homeLibrary,moneyOwed,updatedDate,deleted"
# Sierra's error codes the client knows, besides 107 (record not found, always a 404): the
# request is wrong (108, invalid parameter), or the token is (123, unauthorized: renewed once).
REJECTED_CODES = frozenset({108, 123})
RECORD_NOT_FOUND = 107


def sierra_token_url(base_url: str) -> str:
    """Sierra's token endpoint is `token` under its API root: wherever the API is, so is it."""
    return base_url.rstrip("/") + "/token"


@dataclass(frozen=True)
class SierraToken:
    """Sierra's own token endpoint (`POST token`): HTTP Basic client key:secret,
    `grant_type=client_credentials`, no scope."""

    config: EffectiveConfig = field(repr=False)

    @property
    def cache_key(self) -> Hashable:
        secret_hash = hashlib.sha256(self.config.client_secret.encode()).hexdigest()
        return ("sierra", self.config.token_url, self.config.client_id, secret_hash)

    def fetch(self, client: httpx.Client) -> AccessToken:
        response = send_with_retries(
            functools.partial(
                client.post,
                self.config.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self.config.client_id, self.config.client_secret),
            ),
            system=SYSTEM,
        )
        return oauth2_token(response, system=SYSTEM)


# Sierra's tokens, in a cache of their own (tests/conftest.py clears it between tests).
tokens = ServiceTokens()


def sierra_error(response: httpx.Response) -> UpstreamError:
    """The typed error for a Sierra answer that is neither success nor "not found"."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("code") is None:
        # Not Sierra's error shape (a proxy's page, say): the status says it all.
        return UpstreamRejected(f"library refused the request (HTTP {status})")
    code, specific = body.get("code"), body.get("specificCode")
    detail = f"{code}/{specific}" if specific is not None else f"{code}"
    if isinstance(code, int) and not isinstance(code, bool) and code in REJECTED_CODES:
        return UpstreamRejected(f"library refused the request (HTTP {status}, code {detail})")
    return UnknownUpstreamError(SYSTEM, detail)


def _is_record_not_found(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    code = body.get("code") if isinstance(body, dict) else None
    return code == RECORD_NOT_FOUND and not isinstance(code, bool)


class SierraClient:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.config = effective_config(SYSTEM)
        self.base_url = self.config.base_url.rstrip("/") + "/"
        self.transport = Transport(
            system=SYSTEM, client=client, token_source=SierraToken(self.config), tokens=tokens
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.transport.request(method, f"{self.base_url}{path}", **kwargs)

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON body, or None for "record not found" (404 with Sierra's code 107). A 404
        without it (a wrong base URL, a proxy's page) is an error, not an absence: it must not
        end the citizen's records."""
        response = self._request("GET", path, params=params)
        if response.status_code == 404 and _is_record_not_found(response):
            return None
        if response.status_code != 200:
            raise sierra_error(response)
        return json_object(response, system=SYSTEM)

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
        raise sierra_error(response)

    def find_by_barcode(self, barcode: str) -> dict[str, Any] | None:
        return self._get_json(
            "patrons/find",
            {"varFieldTag": "b", "varFieldContent": barcode, "fields": PATRON_FIELDS},
        )

    def patron(self, patron_id: str) -> dict[str, Any] | None:
        return self._get_json(f"patrons/{patron_id}", {"fields": PATRON_FIELDS})

    def patrons(self, patron_ids: list[str]) -> dict[str, list[Any]]:
        """Many patrons in one call (`GET patrons?id=1,2,3`), as the entries that came for each
        id (a deleted patron as `{id, deleted: true}`; an id with none is not a patron). An
        upstream that sent an id twice is not hidden: both entries are given. A list shorter
        than its `total` was cut, and fails rather than make patrons look gone."""
        if not patron_ids:
            return {}
        if len(patron_ids) > SWEEP_LIMIT:
            raise ValueError(f"at most {SWEEP_LIMIT} patrons a call")
        body = self._get_json(
            "patrons",
            {"id": ",".join(patron_ids), "fields": PATRON_FIELDS, "limit": len(patron_ids)},
        )
        found: dict[str, list[Any]] = {patron_id: [] for patron_id in patron_ids}
        if body is None:  # code 107: none of them is a patron
            return found
        entries = body.get("entries")
        if not isinstance(entries, list):
            raise UpstreamMalformed("library answered a list without entries")
        total = body.get("total")
        if isinstance(total, int) and not isinstance(total, bool) and len(entries) < total:
            raise UpstreamTruncated("library answered a truncated list")
        for entry in entries:
            patron_id = entry.get("id") if isinstance(entry, dict) else None
            key = str(patron_id) if isinstance(patron_id, int | str) else None
            if key not in found:
                # An entry without one of the ids asked for cannot be placed: it may be a
                # patron whose records must not end, so the whole answer is unusable.
                raise UpstreamMalformed("library answered a patron it was not asked for")
            found[key].append(entry)
        return found

    def entries(self, path: str) -> list[dict[str, Any]]:
        """Every entry of a `{total, start, entries}` list, page by page."""
        result: list[dict[str, Any]] = []
        while True:
            body = self._get_json(path, {"limit": LIST_LIMIT, "offset": len(result)})
            if body is None:
                return result
            page = body.get("entries")
            if not isinstance(page, list):
                raise UpstreamMalformed("library answered a list without entries")
            result.extend(page)
            total = body.get("total")
            if isinstance(total, int) and len(result) >= total:
                return result
            if len(page) < LIST_LIMIT:
                if isinstance(total, int):
                    # A short page before `total` was reached: the list was cut. Ending the
                    # records that did not come would lose data, so this fetch fails instead.
                    raise UpstreamTruncated("library answered a truncated list")
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
                    raise UpstreamMalformed("library answered a list without entries")
                for entry in page:
                    if isinstance(entry, dict) and entry.get("id") is not None:
                        yield str(entry["id"])
                offset += len(page)
                if len(page) < SWEEP_LIMIT:
                    break
