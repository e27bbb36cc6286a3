"""Library-only demo data: patrons the simulator seeds beside ``sandbox.demo.LIBRARY_PATRONS``
that belong to no demo citizen."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox.demo import LibraryPatron

# A card whose PIN has letters, for `patrons/validate` with and without `caseSensitivity`.
# Last updated before the sweeps' windows in the tests, so sweeps never list it.
LETTER_PIN_LIBRARY = LibraryPatron(
    patron_id=1000203,
    barcode="21000000000047",
    pin="Kirja7",
    last_name="Virtanen",
    first_name="Kaisa",
    expiration_date=date(2027, 6, 30),
    home_library_code="pasila",
    home_library_name="Pasilan kirjasto",
    created_date=datetime(2020, 2, 3, 10, 0, tzinfo=UTC),
    updated_date=datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
)
