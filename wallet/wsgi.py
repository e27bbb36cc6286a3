"""The WSGI entry point. Composition root (with wallet.settings, wallet.urls, wallet.schema,
wallet.celery): it loads the settings, which name the apps. The rest of `wallet` is the core and
imports no app (pyproject.toml, [tool.importlinter])."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")

application = get_wsgi_application()
