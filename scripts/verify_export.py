"""Verify an Oma.Helsinki wallet data export offline (docs/export.md).

    python verify_export.py EXPORT.json JWKS.json [--previous OLDER-EXPORT.json]

EXPORT.json is the file the wallet's "Download your data" gave (or the string `exportMyData`
returned, saved as is); JWKS.json is the wallet's public keys, from its /.well-known/jwks.json.
It checks:

1. the signature: `signature` is a JWS made by a key in the JWKS, and its claims name this
   document's SHA-256 (of its canonical JSON without `signature`), citizen and export time;
2. the access log's hash chain: every entry's `chainHash` recomputed from its chained members,
   each naming the one before, the head naming the last;
3. each consent's receipt: a JWS by a key in the JWKS, for that consent and pairwise id;
4. with --previous: the older export verifies too, is the same citizen's, and the newer
   export's access log extends it (its chain passes through the older export's head).

Needs only the standard library and PyJWT with cryptography. Exit status: 0 when everything
verifies, 1 when something does not (each problem is printed), 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import jwt

FORMAT = "oma-helsinki-wallet-export"
VERSION = 1
ALGORITHMS = ("ES256", "RS256")
# The members of an access-log entry that its chainHash covers (format version 1).
CHAINED_MEMBERS = (
    "seq",
    "at",
    "service",
    "consentId",
    "consentIds",
    "fields",
    "withheldFields",
    "purposes",
    "requestId",
    "recordCount",
    "previousChainHash",
)


# A signature states what the wallet said when it signed; this machine's clock has no say in it.
_OPTIONS = {"verify_aud": False, "verify_iat": False, "verify_exp": False, "verify_nbf": False}


class Unusable(Exception):
    """The input cannot be verified at all (not JSON, another format, no keys)."""


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no whitespace, UTF-8: RFC 8785 for the export's values."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unusable(f"{path}: not a readable JSON file ({exc})") from None


def load_keys(jwks: Any) -> dict[str, jwt.PyJWK]:
    """The JWKS's signing keys by `kid`."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise Unusable("the JWKS file has no `keys` list")
    keys = {}
    for jwk in jwks["keys"]:
        if isinstance(jwk, dict) and jwk.get("alg") in ALGORITHMS and jwk.get("kid"):
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=jwk["alg"])
    if not keys:
        raise Unusable("the JWKS file has no ES256 or RS256 key")
    return keys


def jws_claims(token: Any, keys: dict[str, jwt.PyJWK]) -> dict[str, Any]:
    """The claims of a JWS made by one of `keys`; ValueError saying why not otherwise. The key
    is chosen by `kid`, and the token's `alg` must be that key's."""
    if not isinstance(token, str):
        raise ValueError("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise ValueError("not a compact JWS") from None
    key = keys.get(header.get("kid"))
    if key is None:
        raise ValueError("signed by a key that is not in the JWKS")
    if header.get("alg") != key.algorithm_name:
        raise ValueError("its algorithm is not its key's")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=[key.algorithm_name], options=_OPTIONS
        )
    except jwt.InvalidSignatureError:
        raise ValueError("the signature does not verify") from None
    except jwt.InvalidTokenError as exc:
        raise ValueError(f"rejected ({type(exc).__name__})") from None
    return claims


class Report:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []
        self.passed: list[str] = []

    def check(self, ok: bool, passed: str, problem: str) -> None:
        (self.passed if ok else self.problems).append(passed if ok else problem)

    def fail(self, problem: str) -> None:
        self.problems.append(problem)


def _check_signature(document: dict[str, Any], keys: dict[str, jwt.PyJWK], report: Report) -> None:
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    try:
        claims = jws_claims(document.get("signature"), keys)
    except ValueError as exc:
        report.fail(f"signature: {exc}")
        return
    digest = sha256_hex(canonical_json(unsigned))
    report.check(
        claims.get("documentSha256") == digest,
        "signature: by the wallet's key, over this very document",
        "signature: valid, but made for another document (the file was changed)",
    )
    citizen_id = (document.get("citizen") or {}).get("id")
    report.check(
        claims.get("sub") == citizen_id and claims.get("exportedAt") == document.get("exportedAt"),
        "signature: names this citizen and export time",
        "signature: names another citizen or export time",
    )
    head = (document.get("accessLog") or {}).get("head") or {}
    report.check(
        claims.get("accessLogHead") == {"seq": head.get("seq"), "chainHash": head.get("chainHash")},
        "signature: names the access log's head",
        "signature: names another access-log head",
    )


def _check_chain(document: dict[str, Any], report: Report) -> None:
    log = document.get("accessLog") or {}
    entries = log.get("entries") or []
    previous_hash, previous_mac, broken = "", "", None
    for number, entry in enumerate(entries, start=1):
        try:
            chained = {member: entry[member] for member in CHAINED_MEMBERS}
        except (KeyError, TypeError):
            broken = f"entry {number} lacks a chained member"
            break
        if entry.get("seq") != number:
            broken = f"entry {number} is numbered {entry.get('seq')} (one is missing or moved)"
        elif entry["previousChainHash"] != previous_hash:
            broken = f"entry {number} does not name the entry before it"
        elif entry.get("chainHash") != sha256_hex(canonical_json(chained)):
            broken = f"entry {number} was changed (its chainHash does not match)"
        elif entry.get("previousMac") != previous_mac:
            broken = f"entry {number} does not name the previous entry's mac"
        if broken:
            break
        previous_hash, previous_mac = entry["chainHash"], entry.get("mac")
    if broken:
        report.fail(f"access log: {broken}")
        return
    head = log.get("head") or {}
    report.check(
        head == {"seq": len(entries), "mac": previous_mac, "chainHash": previous_hash},
        f"access log: {len(entries)} entries, chained end to end up to the head",
        "access log: the head does not name the last entry (an entry is missing at the end)",
    )


def _check_receipts(document: dict[str, Any], keys: dict[str, jwt.PyJWK], report: Report) -> None:
    consents = document.get("consents") or []
    bad = []
    for consent in consents:
        try:
            claims = jws_claims(consent.get("receipt"), keys)
        except ValueError as exc:
            bad.append(f"consent {consent.get('id')}: receipt {exc}")
            continue
        if (claims.get("consentReceiptID"), claims.get("piiPrincipalId")) != (
            consent.get("receiptId"),
            consent.get("pairwiseId"),
        ):
            bad.append(f"consent {consent.get('id')}: the receipt is another consent's")
    for problem in bad:
        report.fail(problem)
    if not bad:
        report.passed.append(f"consents: {len(consents)} receipt(s) signed by the wallet")


def verify(document: Any, keys: dict[str, jwt.PyJWK], name: str = "export") -> Report:
    if not isinstance(document, dict):
        raise Unusable(f"{name}: not a JSON object")
    if (document.get("format"), document.get("version")) != (FORMAT, VERSION):
        raise Unusable(f"{name}: not a version {VERSION} Oma.Helsinki wallet export")
    report = Report(name)
    _check_signature(document, keys, report)
    _check_chain(document, report)
    _check_receipts(document, keys, report)
    return report


def check_extends(newer: dict[str, Any], older: dict[str, Any], report: Report) -> None:
    """The newer export's access log passes through the older export's head."""
    if (newer.get("citizen") or {}).get("id") != (older.get("citizen") or {}).get("id"):
        report.fail("--previous: the exports are of different citizens")
        return
    old_head = (older.get("accessLog") or {}).get("head") or {}
    entries = (newer.get("accessLog") or {}).get("entries") or []
    seq = old_head.get("seq")
    if not isinstance(seq, int) or seq < 0:
        report.fail("--previous: the older export's access-log head has no sequence number")
        return
    extends = seq == 0 or (
        seq <= len(entries) and entries[seq - 1].get("chainHash") == old_head.get("chainHash")
    )
    report.check(
        extends,
        f"--previous: this export's access log extends the older one's (entry {seq})",
        f"--previous: the access log does not extend the older export's (at entry {seq}): "
        "entries were changed or removed in between",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="the export file (JSON)")
    parser.add_argument("jwks", help="the wallet's JWKS (from /.well-known/jwks.json)")
    parser.add_argument("--previous", help="an earlier export of the same citizen")
    args = parser.parse_args(argv)
    try:
        keys = load_keys(load_json(args.jwks))
        document = load_json(args.export)
        reports = [verify(document, keys, args.export)]
        if args.previous:
            older = load_json(args.previous)
            reports.append(verify(older, keys, args.previous))
            check_extends(document, older, reports[0])
    except Unusable as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    failed = False
    for report in reports:
        print(report.name)
        for line in report.passed:
            print(f"  ok      {line}")
        for line in report.problems:
            print(f"  FAILED  {line}")
        failed = failed or bool(report.problems)
    print("FAILED" if failed else "verified")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
