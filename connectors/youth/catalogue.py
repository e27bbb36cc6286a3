from wallet.catalogue import CatalogueField, Labels, RecordKind, ValueType

MEMBERSHIP = RecordKind(
    source="youth",
    kind="membership",
    labels=Labels("Nuorisojäsenyys", "Ungdomsmedlemskap", "Youth membership"),
    fields=(
        CatalogueField(
            "membership_number", Labels("Jäsennumero", "Medlemsnummer", "Membership number")
        ),
        CatalogueField(
            "status",
            Labels("Tila", "Status", "Status"),
            ValueType.ENUM,
            choices=("ACTIVE", "PENDING", "RENEWING", "EXPIRED"),
            choice_labels=(
                Labels("Voimassa", "Giltigt", "Active"),
                Labels("Odottaa hyväksyntää", "Väntar på godkännande", "Waiting for approval"),
                Labels("Uusittavana", "Förnyas", "Being renewed"),
                Labels("Päättynyt", "Utgånget", "Expired"),
            ),
        ),
        CatalogueField(
            "expiration", Labels("Voimassa asti", "Giltig till", "Valid until"), ValueType.DATE
        ),
        CatalogueField(
            "birth_date",
            Labels("Syntymäaika", "Födelsedatum", "Birth date"),
            ValueType.DATE,
            sensitive=True,
        ),
        CatalogueField("school_name", Labels("Koulu", "Skola", "School")),
        CatalogueField("school_class", Labels("Luokka", "Klass", "Class")),
        CatalogueField("language_at_home", Labels("Kotikieli", "Hemspråk", "Language at home")),
        CatalogueField(
            "photo_usage_approved",
            Labels("Kuvauslupa", "Fotograferingstillstånd", "Photo usage approved"),
            ValueType.BOOLEAN,
        ),
        CatalogueField(
            "approver_first_name",
            Labels("Huoltajan etunimi", "Vårdnadshavarens förnamn", "Guardian's first name"),
            sensitive=True,
        ),
        CatalogueField(
            "approver_last_name",
            Labels("Huoltajan sukunimi", "Vårdnadshavarens efternamn", "Guardian's last name"),
            sensitive=True,
        ),
        CatalogueField(
            "approver_phone",
            Labels("Huoltajan puhelin", "Vårdnadshavarens telefon", "Guardian's phone"),
            sensitive=True,
        ),
        CatalogueField(
            "approver_email",
            Labels("Huoltajan sähköposti", "Vårdnadshavarens e-post", "Guardian's email"),
            sensitive=True,
        ),
        CatalogueField(
            "additional_contact_persons",
            Labels("Muut yhteyshenkilöt", "Andra kontaktpersoner", "Additional contact persons"),
            ValueType.OBJECT_LIST,
            sensitive=True,
            type_name="ContactPerson",
            sub_fields=(
                CatalogueField("first_name", Labels("Etunimi", "Förnamn", "First name")),
                CatalogueField("last_name", Labels("Sukunimi", "Efternamn", "Last name")),
                CatalogueField("phone", Labels("Puhelin", "Telefon", "Phone")),
                CatalogueField("email", Labels("Sähköposti", "E-post", "Email")),
            ),
        ),
    ),
)
