from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "wbm.dashboard"
    label = "wbm_dashboard"
    wbm_websocket_urls = "wbm.dashboard.routing"
