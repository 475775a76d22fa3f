"""What the ledger keeps besides the sessions themselves (``chargepoints.ChargingSession``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# At most this many samples per session. At WBM_SESSION_SAMPLE_S = 60 s that is a day at full
# resolution; a longer plug-in has every second of its older samples dropped whenever it reaches
# the limit (ledger.services.session_samples_thin), so the chart keeps the whole plug-in at half
# the resolution, then a quarter, ...: between 720 and 1440 samples per session, however long.
MAX_SAMPLES_PER_SESSION = 1440


class SessionSample(models.Model):
    """The power and the session's energy at one moment of a running session (the chart)."""

    session = models.ForeignKey(
        "chargepoints.ChargingSession", on_delete=models.CASCADE, related_name="samples", verbose_name=_("session")
    )
    at = models.DateTimeField(_("time"))
    power_w = models.FloatField(_("power (W)"))
    energy_wh = models.FloatField(_("energy of the session (Wh)"))

    class Meta:
        ordering = ["session", "at"]
        indexes = [models.Index(fields=["session", "at"], name="sample_session_at_idx")]
        verbose_name = _("session sample")

    def __str__(self) -> str:
        return f"{self.session_id} {self.at:%Y-%m-%d %H:%M:%S}"
