"""Compile every app's message catalogues (locale/*/LC_MESSAGES/django.po) to .mo files.

Django's `compilemessages` needs GNU gettext's msgfmt; this needs only polib, so `make venv`
works on a machine without gettext. A .mo is rewritten only when its .po is newer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
APPS = ("wallet", "consent", "connectors")


def main() -> int:
    compiled = 0
    for app in APPS:
        for po_path in sorted((ROOT / app / "locale").glob("*/LC_MESSAGES/django.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            compiled += 1
    if compiled:
        print(f"compiled {compiled} message catalogue(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
