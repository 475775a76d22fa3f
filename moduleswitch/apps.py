from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModuleSwitchConfig(AppConfig):
    """System Control / Module Switch: prepare this controller to run as a client module."""

    name = "moduleswitch"
    verbose_name = _("Module Switch")
    default_auto_field = "django.db.models.BigAutoField"
    wbm_urls = (("system/module-switch/", "moduleswitch.urls"),)
    wbm_api_urls = "moduleswitch.api"
    wbm_menu = "moduleswitch.menu.MENU"
    wbm_menu_hidden = "moduleswitch.services.hidden_sections"
