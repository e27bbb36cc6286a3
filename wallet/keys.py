"""Data-key lifecycle: create on first use, unwrap for one request or task."""

from django.db import IntegrityError, transaction

from wallet import crypto
from wallet.models import Citizen, CitizenKey


def citizen_key_create(*, citizen: Citizen) -> crypto.CitizenCipher:
    data_key = crypto.data_key_generate()
    kek_version, wrapped = crypto.data_key_wrap(
        data_key=data_key, citizen_id=citizen.pk, generation=1
    )
    try:
        with transaction.atomic():
            CitizenKey.objects.create(
                citizen=citizen, generation=1, kek_version=kek_version, wrapped_key=wrapped
            )
    except IntegrityError:
        # Another request created it first; theirs is the key.
        return citizen_cipher(citizen=citizen, create=False)
    return crypto.CitizenCipher(citizen_id=citizen.pk, generation=1, data_key=data_key)


def cipher_from_key(key: CitizenKey) -> crypto.CitizenCipher:
    data_key = crypto.data_key_unwrap(
        wrapped=bytes(key.wrapped_key),
        kek_version=key.kek_version,
        citizen_id=key.citizen_id,
        generation=key.generation,
    )
    return crypto.CitizenCipher(
        citizen_id=key.citizen_id, generation=key.generation, data_key=data_key
    )


def citizen_cipher(*, citizen: Citizen, create: bool = True) -> crypto.CitizenCipher:
    """The citizen's unwrapped data key. Keep it no longer than the request or task at hand."""
    key = CitizenKey.objects.filter(citizen=citizen).first()
    if key is None:
        if not create:
            raise crypto.MissingKeyError("the citizen has no data key")
        return citizen_key_create(citizen=citizen)
    return cipher_from_key(key)
