"""Levels of assurance (the `loa` claim): sensitive catalogue fields need `substantial` or more."""

from wallet.catalogue import CatalogueField

LOA_ORDER = {"low": 0, "substantial": 1, "high": 2}
SENSITIVE_MIN_LOA = "substantial"


def loa_at_least(loa: str | None, level: str) -> bool:
    return LOA_ORDER.get(loa or "", -1) >= LOA_ORDER[level]


def field_visible(field: CatalogueField, loa: str | None) -> bool:
    return not field.sensitive or loa_at_least(loa, SENSITIVE_MIN_LOA)
