from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    """Charging sessions: the Sessions page, its API and CSV export, and the agent that samples
    the power of running sessions for their chart."""

    name = "ledger"
    verbose_name = _("Charging sessions")
    wbm_agents = ("ledger.agent.SessionRecorder",)
    wbm_urls = (("sessions/", "ledger.urls"),)
    wbm_api_urls = "ledger.api.urls"
    wbm_menu = "ledger.menu.MENU"
