"""Write var/dev.env with fresh dev-only keys and secrets (and the sandbox's client ids), once.

Standard library only: it runs before the virtual environment exists. The file is git-ignored and
read by both the wallet's and the sandbox's settings; nothing here is ever committed.
"""

import base64
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def main() -> int:
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    env_file = var / "dev.env"
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SANDBOX_SECRET_KEY": secrets.token_urlsafe(50),
        # key-encryption keys, "version:base64" entries; the highest version wraps
        "WALLET_KEKS": f"1:{_key()}",
        "WALLET_INDEX_KEY": _key(),
        "WALLET_OIDC_CLIENT_SECRET": secrets.token_urlsafe(32),
        "WALLET_CONNECTOR_CLIENT_SECRET": secrets.token_urlsafe(32),
        "LIBRARY_CLIENT_KEY": f"wallet-{secrets.token_hex(4)}",
        "LIBRARY_CLIENT_SECRET": secrets.token_urlsafe(32),
        # the receipt-signing key itself needs `cryptography`: scripts/devkeys.py makes it there
        "WALLET_SIGNING_KEY_FILE": str(var / "receipt-signing-key.pem"),
        # Not a secret: the sandbox clients whose bearer tokens act for citizens. Only the
        # command-line client (sandbox/demo.py); the web client signs citizens in to a session.
        "WALLET_CITIZEN_CLIENT_IDS": "wallet-cli",
    }
    existing = {}
    if (
        env_file.exists()
    ):  # keep what is there (keys must not change), add what a newer version needs
        for line in env_file.read_text().splitlines():
            name, _, value = line.partition("=")
            existing[name] = value
        if set(values) <= set(existing):
            return 0
    values.update(existing)
    tmp = env_file.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    tmp.chmod(0o600)
    tmp.replace(env_file)
    print(f"wrote dev-only keys and secrets to {env_file.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
