from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")

app = Celery("wbm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _require_database(**kwargs: Any) -> None:
    """A worker that cannot reach its database does not start (one line, exit status 3)."""
    from wbm.startup import require_database

    require_database("celery worker")
