"""What the MQTT bridge page stores: the remote broker and the topic forwarding rows."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from mqttbridge.choices import Direction


def new_device_id() -> str:
    """16 hex digits, as the manual's example ``d5ae6274053159d4``."""
    return secrets.token_hex(8)


class BridgeSettings(models.Model):
    """The remote broker: one row (pk 1); no host = the bridge is off. ``password`` is write-only:
    no page, API answer, export or audit record shows it (``as_dict``)."""

    SINGLETON_PK = 1

    host = models.CharField(_("Broker"), max_length=253, blank=True, default="")
    port = models.PositiveIntegerField(_("Broker Port"), default=1883)
    username = models.CharField(_("User"), max_length=128, blank=True, default="")
    password = models.CharField(_("Password"), max_length=128, blank=True, default="")
    prefix = models.CharField(_("Added Prefix"), max_length=64, blank=True, default="CHARX")
    station_name = models.CharField(_("Station Name"), max_length=64, blank=True, default="")
    location = models.CharField(_("Location"), max_length=64, blank=True, default="")
    ca_pem = models.TextField(_("Certificate"), blank=True, default="")
    ca_name = models.CharField(max_length=255, blank=True, default="")
    device_id = models.CharField(max_length=16, default=new_device_id)
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("MQTT bridge settings")

    def __str__(self) -> str:
        return f"MQTT bridge to {self.host or '(none)'}:{self.port}"

    def as_dict(self) -> dict[str, object]:
        """What the audit records: never the password, only whether there is one."""
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password_set": bool(self.password),
            "prefix": self.prefix,
            "station_name": self.station_name,
            "location": self.location,
            "ca_name": self.ca_name,
        }


class ForwardRow(models.Model):
    """One topic forwarding row, in the page's order."""

    position = models.PositiveIntegerField(default=0)
    local_topic = models.CharField(_("Local Topic"), max_length=200)
    remote_topic = models.CharField(_("Remote Topic"), max_length=200)
    direction = models.CharField(
        _("Forwarding direction"), max_length=4, choices=Direction.choices, default=Direction.OUT
    )

    class Meta:
        ordering = ("position", "pk")
        verbose_name = _("topic forwarding row")

    def __str__(self) -> str:
        return f"{self.local_topic} {self.direction} {self.remote_topic}"
