"""WSGI entry point of the sandbox, for gunicorn (the harness and `make run` serve it so)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")

application = get_wsgi_application()
