"""What the OCPP backend stores on the controller: the local authorization list (OCPP 1.6
SendLocalList / GetLocalListVersion). Filled by the OCPP agent; the whitelist page shows it
read-only beside the local whitelist. Release mode "By OCPP" uses it, the local whitelist never."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

ID_TAG_MAX = 20  # OCPP 1.6 IdToken: CiString20Type


class AuthorizationStatus(models.TextChoices):
    """OCPP 1.6 AuthorizationStatus."""

    ACCEPTED = "Accepted", _("Accepted")
    BLOCKED = "Blocked", _("Blocked")
    EXPIRED = "Expired", _("Expired")
    INVALID = "Invalid", _("Invalid")
    CONCURRENT_TX = "ConcurrentTx", _("Concurrent transaction")


class LocalAuthList(models.Model):
    """The one local authorization list of the controller (a singleton, pk 1): its version as
    the backend sent it; 0 = no list received."""

    version = models.IntegerField(_("list version"), default=0)
    updated_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("local authorization list")

    def __str__(self) -> str:
        return f"local authorization list v{self.version}"

    @classmethod
    def load(cls) -> LocalAuthList:
        """The list (version 0 when nothing was received), without writing it."""
        return cls.objects.filter(pk=1).first() or cls(pk=1, version=0)


class LocalAuthEntry(models.Model):
    """One idTag of the local authorization list with its IdTagInfo."""

    id_tag = models.CharField(_("idTag"), max_length=ID_TAG_MAX, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AuthorizationStatus.choices, default=AuthorizationStatus.ACCEPTED
    )
    expiry_date = models.DateTimeField(_("expiry date"), null=True, blank=True)
    parent_id_tag = models.CharField(_("parent idTag"), max_length=ID_TAG_MAX, blank=True)

    class Meta:
        ordering = ["id_tag"]
        verbose_name = _("local authorization list entry")

    def __str__(self) -> str:
        return self.id_tag
