from __future__ import annotations

import logging

from django.apps import AppConfig
from django.conf import settings


class WbmConfig(AppConfig):
    name = "wbm"
    verbose_name = "WBM"

    def ready(self) -> None:
        if "*" in settings.ALLOWED_HOSTS:
            logging.getLogger("wbm.security").warning(
                "WBM_ALLOWED_HOSTS contains '*': any Host header is accepted, so a web page can "
                "reach this WBM through DNS rebinding. List the names instead."
            )
