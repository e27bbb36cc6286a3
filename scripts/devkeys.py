"""Make the dev-only receipt-signing key that var/dev.env names, if it is not there yet.

Runs with the virtual environment's Python after scripts/devinit.py (which is standard library
only, so it can only name the file): an EC P-256 private key, PEM, mode 0600. An existing key is
never replaced.
"""

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
SETTING = "WALLET_SIGNING_KEY_FILE"


def _configured_path(env_file: Path) -> Path | None:
    if not env_file.is_file():
        return None
    for line in env_file.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == SETTING and value.strip():
            return Path(value.strip())
    return None


def create_key(path: Path) -> bool:
    """Write a fresh key to `path` unless a file is there; True if this call wrote it.

    The key goes to a temporary file first and is hard-linked into place, which fails if
    another process got there first, so a key once written is never swapped.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    return True


def main() -> int:
    path = _configured_path(ROOT / "var" / "dev.env")
    if path is None:
        return 0  # not named in var/dev.env: configured some other way
    if create_key(path):
        print(f"wrote a dev-only receipt-signing key to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
