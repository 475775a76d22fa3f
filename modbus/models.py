"""What the Modbus page stores: the start address of each charge point's register block and
whether the restart registers may be written.

A charge point without a ``ModbusStartAddress`` row is automatic (-1), as the manual's default.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from chargepoints.models import ChargePoint

AUTOMATIC = -1  # the manual's "-1": assigned automatically at the Modbus server's (re)start


class ModbusStartAddress(models.Model):
    """The start address X of one charge point's register block (X100 … X308): -1 (automatic)
    or a multiple of 1000 from 1000 to 48000 (``modbus.addressing.validate``)."""

    chargepoint = models.OneToOneField(
        ChargePoint, on_delete=models.CASCADE, primary_key=True, related_name="modbus_start"
    )
    start_address = models.IntegerField(_("Modbus start address"), default=AUTOMATIC)

    class Meta:
        verbose_name = _("Modbus start address")

    def __str__(self) -> str:
        return f"{self.chargepoint_id}: {self.start_address}"


class ModbusSettings(models.Model):
    """The Modbus server's settings: one row (pk 1); absent = the defaults.

    ``revision`` grows with every change of the Modbus page (start addresses included): the
    API's ETag and the page's check that nobody saved in between."""

    SINGLETON_PK = 1

    allow_restart = models.BooleanField(_("allow restart registers"), default=False)
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Modbus settings")

    def __str__(self) -> str:
        return f"Modbus settings (revision {self.revision})"
