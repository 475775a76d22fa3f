"""Values of the live state that the shell itself shows (the dashboard's park summary)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DashboardStatus(models.TextChoices):
    """The manual's dashboard status of a charge point."""

    AVAILABLE = "available", _("Available")
    OCCUPIED = "occupied", _("Occupied")
    CHARGING = "charging", _("Charging")
    RESERVED = "reserved", _("Reserved")
    ERROR = "error", _("Error")
