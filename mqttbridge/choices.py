from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    """Forwarding direction of a row (the manual's arrow)."""

    OUT = "out", _("Local → remote")
    IN = "in", _("Remote → local")
    BOTH = "both", _("Both directions")
