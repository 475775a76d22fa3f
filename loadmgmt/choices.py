"""Choices of the load management configuration (the manual's lists)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MeterConnection(models.TextChoices):
    """How the higher-level measuring device is connected."""

    NONE = "none", _("None")
    TCP = "tcp", _("TCP/IP connection")
    RS485 = "rs485", _("RS-485 connection")


class UpstreamMeterType(models.TextChoices):
    """The energy measuring devices the manual lists for a TCP/IP connection."""

    EEM_EM377 = "eem_em377", _("Phoenix Contact EEM377 (EEM-EM377, 2908590)")
    EEM_MA370_R = "eem_ma370_r", _("Phoenix Contact MA370 (EEM-MA370-R, 2907980)")
    EEM_MA370_24DC = "eem_ma370_24dc", _("Phoenix Contact MA370 (EEM-MA370-24DC, 1127059)")
    EEM_MA370 = "eem_ma370", _("Phoenix Contact MA370 (EEM-MA370, 2907983)")


class Strategy(models.TextChoices):
    EQUAL = "equal", _("Equal distribution")
