from wallet.catalogue import CatalogueField, Labels, RecordKind, ValueType

ACCOUNT = RecordKind(
    source="library",
    kind="account",
    labels=Labels("Kirjastokortti", "Bibliotekskort", "Library account"),
    fields=(
        CatalogueField(
            "barcode", Labels("Kortin numero", "Kortnummer", "Card number"), sensitive=True
        ),
        CatalogueField("home_library", Labels("Kotikirjasto", "Hembibliotek", "Home library")),
        CatalogueField(
            "expiration_date", Labels("Voimassa asti", "Giltig till", "Valid until"), ValueType.DATE
        ),
        CatalogueField(
            "money_owed", Labels("Maksamatta", "Obetalt", "Money owed"), ValueType.DECIMAL
        ),
    ),
)
LOAN = RecordKind(
    source="library",
    kind="loan",
    labels=Labels("Laina", "Lån", "Loan"),
    fields=(
        CatalogueField(
            "call_number", Labels("Nimeke / luokka", "Titel / signum", "Title / call number")
        ),
        CatalogueField("due_date", Labels("Eräpäivä", "Förfallodag", "Due date"), ValueType.DATE),
        CatalogueField(
            "renewals", Labels("Uusintoja", "Förnyelser", "Renewals"), ValueType.INTEGER
        ),
    ),
)
HOLD = RecordKind(
    source="library",
    kind="hold",
    labels=Labels("Varaus", "Reservation", "Hold"),
    fields=(
        CatalogueField("status", Labels("Tila", "Status", "Status")),
        CatalogueField(
            "pickup_location", Labels("Noutopaikka", "Avhämtningsställe", "Pickup location")
        ),
        CatalogueField(
            "pickup_by_date",
            Labels("Noudettava viimeistään", "Hämtas senast", "Pick up by"),
            ValueType.DATE,
        ),
    ),
)
FINE = RecordKind(
    source="library",
    kind="fine",
    labels=Labels("Maksu", "Avgift", "Fine"),
    fields=(
        CatalogueField("charge_type", Labels("Maksun laji", "Avgiftstyp", "Charge type")),
        CatalogueField("amount_owed", Labels("Summa", "Belopp", "Amount owed"), ValueType.DECIMAL),
        CatalogueField("assessed_date", Labels("Päivätty", "Daterad", "Assessed"), ValueType.DATE),
    ),
)
