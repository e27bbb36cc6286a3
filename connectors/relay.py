"""Relay global ids, as the city's GraphQL services use them: base64("<Type>:<id>")."""

import base64
import binascii


def to_global_id(type_name: str, value: str) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def from_global_id(global_id: str) -> tuple[str, str]:
    """(type, id); ("", "") for something that is not a global id."""
    try:
        decoded = base64.b64decode(global_id, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "", ""
    type_name, sep, value = decoded.partition(":")
    return (type_name, value) if sep else ("", "")
