from django.core.management.base import BaseCommand

from consent.demo import demo_services_seed


class Command(BaseCommand):
    help = "Register the demo services that match the sandbox provider's demo clients."

    def handle(self, *args: object, **options: object) -> None:
        services = demo_services_seed()
        self.stdout.write(f"Demo services: {', '.join(s.slug for s in services)}")
