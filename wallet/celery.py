"""The Celery app. Composition root (with wallet.settings, wallet.urls, wallet.schema,
wallet.wsgi): it finds the apps' tasks (`autodiscover_tasks`). The rest of `wallet` is the core
and imports no app (pyproject.toml, [tool.importlinter])."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")

app = Celery("wallet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
