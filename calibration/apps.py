from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalibrationConfig(AppConfig):
    """System Control / Calibration Law: the settings calibration law cares about, checked
    against rules, and the Calibration Law Agent (runs only while calibration law is on)."""

    name = "calibration"
    verbose_name = _("Calibration Law")
    default_auto_field = "django.db.models.BigAutoField"
    wbm_agents = ("calibration.agent.CalibrationLawAgent",)
    wbm_urls = (("system/calibration-law/", "calibration.urls"),)
    wbm_api_urls = "calibration.api"
    wbm_menu = "calibration.menu.MENU"
