"""The Celery app. Composition root (with wallet.settings, wallet.urls, wallet.schema,
wallet.wsgi): it finds the apps' tasks (`autodiscover_tasks`). The rest of `wallet` is the core
and imports no app (pyproject.toml, [tool.importlinter])."""

import os
from contextlib import ExitStack

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")

app = Celery("wallet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Each task is one key scope (wallet.vault): a citizen's key is unwrapped at most once in it.
_task_scopes: dict[str, ExitStack] = {}


@task_prerun.connect
def _key_scope_enter(task_id: str, **kwargs: object) -> None:
    from wallet.vault import key_scope

    stack = ExitStack()
    stack.enter_context(key_scope())
    _task_scopes[task_id] = stack


@task_postrun.connect
def _key_scope_leave(task_id: str, **kwargs: object) -> None:
    stack = _task_scopes.pop(task_id, None)
    if stack is not None:
        stack.close()
