"""The park's local whitelist: RFID tags and EVCC IDs allowed to charge (manual: WBM – Whitelist)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whitelist import tags

MAX_ENTRIES = 500  # whitelist limit of CHARX SEC-3xxx charging parks
NAME_MAX = 60
# "For permanent use, you can select an expiry date in the distant future": the date offered as
# one click. Far enough for any card, near enough that every database and time zone holds it.
PERMANENT_EXPIRY = datetime(2099, 12, 31, 23, 59, tzinfo=UTC)


class EntryType(models.TextChoices):
    RFID = tags.RFID, _("RFID card")
    EVCC_ID = tags.EVCC_ID, _("EVCC ID")


def tag_problem_message(kind: str, tag: str) -> str | None:
    """The translated reason a normalised tag is not valid, or None."""
    code = tags.problem(kind, tag)
    if code is None:
        return None
    messages = {
        "required": gettext("Enter the RFID tag or EVCC ID."),
        "not_hex": gettext("Use hexadecimal digits only (0–9, A–F); “:”, “-” and spaces are ignored."),
        "rfid_length": gettext("An RFID tag has %(min)d to %(max)d hexadecimal digits.")
        % {"min": tags.RFID_MIN_HEX, "max": tags.RFID_MAX_HEX},
        "evcc_length": gettext("An EVCC ID has %(n)d hexadecimal digits (the vehicle's MAC address).")
        % {"n": tags.EVCC_ID_HEX},
    }
    return messages[code]


class WhitelistEntry(models.Model):
    """One charging authorization. ``tag`` is stored normalised (``whitelist.tags.normalize``:
    upper-case hexadecimal without separators), unique per type; it grants charging while
    ``allow_charging`` is set and ``expires_at`` lies in the future."""

    type = models.CharField(_("type"), max_length=10, choices=EntryType.choices, default=EntryType.RFID)
    tag = models.CharField(_("RFID tag / EVCC ID"), max_length=40)
    name = models.CharField(_("name"), max_length=NAME_MAX, blank=True)
    allow_charging = models.BooleanField(_("allow charging"), default=True)
    expires_at = models.DateTimeField(_("expiry date and time"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tag"]
        verbose_name = _("whitelist entry")
        constraints = [models.UniqueConstraint(fields=["type", "tag"], name="whitelist_unique_type_tag")]

    def __str__(self) -> str:
        return self.name or self.tag

    def clean(self) -> None:
        self.tag = tags.normalize(self.tag)
        message = tag_problem_message(self.type, self.tag)
        if message:
            raise ValidationError({"tag": message})
        duplicate = WhitelistEntry.objects.filter(type=self.type, tag=self.tag).exclude(pk=self.pk)
        if duplicate.exists():
            raise ValidationError({"tag": gettext("This RFID tag or EVCC ID is already on the whitelist.")})

    def validate_constraints(self, exclude: Any = None) -> None:
        """The unique constraint is checked by ``clean`` with a clearer message."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "tag": self.tag,
            "name": self.name,
            "allow_charging": self.allow_charging,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


class WhitelistRevision(models.Model):
    """One row counting the whitelist's changes. Every write locks it first, so writers take
    turns (the 500-entry limit holds with concurrent writers on any database) and an import
    preview knows whether the list changed before it is applied."""

    revision = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"whitelist revision {self.revision}"

    @classmethod
    def current(cls) -> int:
        return cls.objects.filter(pk=1).values_list("revision", flat=True).first() or 0
