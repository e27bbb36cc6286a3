from wallet.catalogue import CatalogueField, Labels, RecordKind, ValueType

LEASE = RecordKind(
    source="berths",
    kind="lease",
    labels=Labels("Venepaikan vuokrasopimus", "Båtplatsavtal", "Boat berth lease"),
    fields=(
        CatalogueField("harbor", Labels("Satama", "Hamn", "Harbour")),
        CatalogueField("pier", Labels("Laituri", "Brygga", "Pier")),
        CatalogueField("berth_number", Labels("Paikan numero", "Platsnummer", "Berth number")),
        CatalogueField(
            "berth_width",
            Labels("Paikan leveys", "Platsens bredd", "Berth width"),
            ValueType.DECIMAL,
        ),
        CatalogueField(
            "berth_length",
            Labels("Paikan pituus", "Platsens längd", "Berth length"),
            ValueType.DECIMAL,
        ),
        CatalogueField(
            "berth_depth",
            Labels("Paikan syvyys", "Platsens djup", "Berth depth"),
            ValueType.DECIMAL,
        ),
        CatalogueField("status", Labels("Tila", "Status", "Status")),
        CatalogueField("start_date", Labels("Alkaa", "Börjar", "Start date"), ValueType.DATE),
        CatalogueField("end_date", Labels("Päättyy", "Slutar", "End date"), ValueType.DATE),
        CatalogueField("is_active", Labels("Voimassa", "Giltig", "Active"), ValueType.BOOLEAN),
        CatalogueField("price", Labels("Hinta", "Pris", "Price"), ValueType.DECIMAL),
        CatalogueField("paid_at", Labels("Maksettu", "Betald", "Paid at"), ValueType.DATETIME),
    ),
)

BOAT = RecordKind(
    source="berths",
    kind="boat",
    labels=Labels("Vene", "Båt", "Boat"),
    fields=(
        CatalogueField(
            "registration_number",
            Labels("Rekisterinumero", "Registreringsnummer", "Registration number"),
        ),
        CatalogueField("name", Labels("Nimi", "Namn", "Name")),
        CatalogueField("boat_type", Labels("Tyyppi", "Typ", "Type")),
        CatalogueField("length", Labels("Pituus", "Längd", "Length"), ValueType.DECIMAL),
        CatalogueField("width", Labels("Leveys", "Bredd", "Width"), ValueType.DECIMAL),
        CatalogueField("draught", Labels("Syväys", "Djupgående", "Draught"), ValueType.DECIMAL),
    ),
)
