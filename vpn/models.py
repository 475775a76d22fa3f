"""What the OpenVPN page stores. An imported configuration's content is kept only in the rendered
file (``<state>/system/openvpn/client.conf``, 0600); the database keeps its name and digest."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vpn.choices import Activation, Source


class VpnSettings(models.Model):
    """The OpenVPN client configuration: one row (pk 1); absent = no configuration."""

    SINGLETON_PK = 1

    source = models.CharField(_("configuration"), max_length=10, choices=Source.choices, blank=True, default="")
    pasted = models.TextField(_("configuration text"), blank=True, default="")  # source "paste" only
    import_name = models.CharField(_("imported file"), max_length=255, blank=True, default="")
    import_sha256 = models.CharField(max_length=64, blank=True, default="")
    activation = models.CharField(
        _("activation mode"), max_length=12, choices=Activation.choices, default=Activation.DEACTIVATED
    )
    server_ip = models.CharField(max_length=45, blank=True, default="")  # from "remote", IP only
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("OpenVPN settings")

    def __str__(self) -> str:
        return f"OpenVPN ({self.source or 'none'}, {self.activation})"

    def as_dict(self) -> dict[str, object]:
        """What the audit records: never the configuration's content (it holds keys)."""
        return {
            "source": self.source,
            "import_name": self.import_name,
            "activation": self.activation,
            "pasted_chars": len(self.pasted),
        }
