"""The park's local whitelist: RFID tags and EVCC IDs allowed to charge (manual: WBM – Whitelist)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_ENTRIES = 500  # whitelist limit of CHARX SEC-3xxx charging parks


class EntryType(models.TextChoices):
    RFID = "rfid", _("RFID card")
    EVCC_ID = "evccid", _("EVCC ID")


class WhitelistEntry(models.Model):
    type = models.CharField(_("type"), max_length=10, choices=EntryType.choices, default=EntryType.RFID)
    tag = models.CharField(_("RFID tag / EVCC ID"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    allow_charging = models.BooleanField(_("allow charging"), default=True)
    expires_at = models.DateTimeField(_("expiry date and time"))

    class Meta:
        ordering = ["tag"]
        verbose_name = _("whitelist entry")

    def __str__(self) -> str:
        return self.name or self.tag
