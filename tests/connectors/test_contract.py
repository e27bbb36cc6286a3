"""The connector contract stays closed: outside a source's own package (and its one entry in
the settings), no code names a source. tests/connectors/test_fourth_source.py shows that a new
source needs nothing more."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("youth", "berths", "library")
SOURCE_NAME = re.compile(rf"""["'](?:{"|".join(SOURCES)})["']""")


def _code_outside_the_sources() -> list[Path]:
    files = []
    for app in ("wallet", "connectors", "consent"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:  # history: the rows the first sources got
                continue
            if relative.parts[:2] in {("connectors", source) for source in SOURCES}:
                continue
            if relative == Path("wallet/settings.py"):  # the one entry per source
                continue
            files.append(path)
    return files


def test_no_code_outside_a_source_s_package_names_the_source():
    named = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _code_outside_the_sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SOURCE_NAME.search(line) and not line.lstrip().startswith("#")
    ]
    assert named == []


def test_the_settings_name_each_source_once():
    settings_text = (ROOT / "wallet/settings.py").read_text()
    for source in SOURCES:
        assert len(re.findall(rf'"{source}": connectors_conf\.entry_from_env', settings_text)) == 1
