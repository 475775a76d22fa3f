from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "whitelist"
    verbose_name = _("Whitelist")
    wbm_urls = (("whitelist/", "whitelist.urls"),)
    wbm_api_urls = "whitelist.api.urls"
    wbm_menu = "whitelist.menu.MENU"
