"""The consent app's settings: one entry, `settings.CONSENT`, read here and checked at start-up
(consent/checks.py). Each key, its type, its default and the environment variable
`wallet.settings` fills it from are listed once, below."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class ConsentSetting:
    key: str
    type: type
    default: Any
    env: str
    minimum: float | None = None


DECLARED = (
    ConsentSetting("REQUEST_TTL_HOURS", int, 72, "WALLET_CONSENT_REQUEST_TTL_HOURS", minimum=1),
    ConsentSetting("MAX_DAYS", int, 730, "WALLET_CONSENT_MAX_DAYS", minimum=1),
    ConsentSetting("JURISDICTION", str, "FI", "WALLET_CONSENT_JURISDICTION"),
    ConsentSetting("SERVICE_CACHE_SECONDS", float, 10.0, "WALLET_SERVICE_CACHE_SECONDS", minimum=0),
    ConsentSetting(
        "MAX_PENDING_PER_CITIZEN", int, 5, "WALLET_CONSENT_MAX_PENDING_PER_CITIZEN", minimum=1
    ),
    ConsentSetting(
        "MAX_PENDING_PER_SERVICE", int, 10_000, "WALLET_CONSENT_MAX_PENDING_PER_SERVICE", minimum=1
    ),
)
BY_KEY = {declared.key: declared for declared in DECLARED}


def consent_setting(key: str) -> Any:
    """`settings.CONSENT[key]`, or its declared default when the entry leaves it out."""
    return getattr(settings, "CONSENT", {}).get(key, BY_KEY[key].default)


def problems(entry: Any) -> list[str]:
    """What is wrong with a CONSENT entry, in words that name the environment variable."""
    if not isinstance(entry, dict):
        return ["CONSENT must be a dict"]
    found = [f"CONSENT has no setting {key!r}" for key in sorted(set(entry) - set(BY_KEY))]
    for key, value in entry.items():
        declared = BY_KEY.get(key)
        if declared is None:
            continue
        # an int does for a float; a bool is never a number here
        accepted = (int, float) if declared.type is float else declared.type
        if isinstance(value, bool) or not isinstance(value, accepted):
            found.append(f"CONSENT[{key!r}] ({declared.env}) must be {declared.type.__name__}")
        elif (
            isinstance(value, int | float)
            and declared.minimum is not None
            and value < declared.minimum
        ):
            found.append(f"CONSENT[{key!r}] ({declared.env}) must be at least {declared.minimum}")
    jurisdiction = entry.get("JURISDICTION")
    if isinstance(jurisdiction, str) and not jurisdiction.strip():
        found.append("CONSENT['JURISDICTION'] (WALLET_CONSENT_JURISDICTION) must not be empty")
    elif isinstance(jurisdiction, str) and not re.fullmatch(r"[A-Z]{2}", jurisdiction):
        # the consent records name it as a DPV location, and those are named by these codes
        found.append(
            "CONSENT['JURISDICTION'] (WALLET_CONSENT_JURISDICTION) must be a two-letter "
            "ISO 3166-1 code such as FI"
        )
    return found
