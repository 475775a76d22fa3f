from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "network"
    verbose_name = _("Network")
    wbm_urls = (("network/", "network.urls"),)
    wbm_menu = "network.menu.MENU"
