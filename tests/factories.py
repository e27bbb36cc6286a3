import factory

from wallet.models import Citizen


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    issuer = "http://127.0.0.1:8100/idp"
    subject = factory.Faker("uuid4")
    password = "!unusable"
