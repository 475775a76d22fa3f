from __future__ import annotations

from django.apps import AppConfig


class WbmConfig(AppConfig):
    name = "wbm"
    verbose_name = "WBM"
