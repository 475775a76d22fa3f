"""The load circuit of the charging park: its fuse, the higher-level measuring device and fuse,
the strategy and the charge points assigned to it (one row; absent = the defaults, nothing
assigned, so load management limits nothing)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from chargepoints.models import ChargePoint
from loadmgmt.choices import MeterConnection, Strategy, UpstreamMeterType

# Limits the manual leaves open (README "Load management").
FUSE_MAX_A = 630  # the largest low-voltage feed-in fuse in common use (NH 3, 630 A), per phase
THRESHOLD_MAX_A = 32  # a charge point's hardware maximum: a larger deviation cannot happen
DEFAULT_FUSE_A = 32
DEFAULT_THRESHOLD_A = 4  # the manual's example


class LoadCircuit(models.Model):
    """The load circuit (fuse B of the manual's figure 2-10) and its feed-in (fuse A).

    One row (pk 1); ``revision`` grows with every change: the API's ETag and the page's check
    that nobody saved in between. Every value is checked by ``loadmgmt.validation`` before
    the one service (``loadmgmt.services.load_circuit_update``) writes it."""

    SINGLETON_PK = 1

    park_name = models.CharField(_("charging park name"), max_length=80, blank=True)
    fuse_a = models.PositiveIntegerField(_("load circuit fuse (A)"), default=DEFAULT_FUSE_A)
    threshold_a = models.PositiveSmallIntegerField(_("threshold to current reduction (A)"), default=DEFAULT_THRESHOLD_A)
    meter_connection = models.CharField(
        _("higher-level measuring device"),
        max_length=10,
        choices=MeterConnection.choices,
        default=MeterConnection.NONE,
    )
    meter_ip = models.GenericIPAddressField(_("IP address"), protocol="IPv4", null=True, blank=True)
    meter_type = models.CharField(
        _("energy measuring device type"), max_length=20, choices=UpstreamMeterType.choices, blank=True
    )
    rs485_chargepoint = models.ForeignKey(
        ChargePoint,
        verbose_name=_("configured RS-485 controller"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    higher_fuse_a = models.PositiveIntegerField(_("higher-level fuse value (A)"), null=True, blank=True)
    strategy = models.CharField(_("load strategy"), max_length=10, choices=Strategy.choices, default=Strategy.EQUAL)
    chargepoints = models.ManyToManyField(
        ChargePoint, verbose_name=_("charging management charging points"), blank=True, related_name="+"
    )
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("load circuit")

    def __str__(self) -> str:
        return self.park_name or f"Load circuit (revision {self.revision})"
